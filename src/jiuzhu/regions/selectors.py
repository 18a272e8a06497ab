from __future__ import annotations

from django.db.models import QuerySet

from jiuzhu.regions.models import Level, Region


def region_get(*, code: str) -> Region | None:
    return Region.objects.filter(code=code).first()


def region_path(*, code: str) -> list[Region]:
    """The region and its ancestors, province first (for breadcrumbs and full names)."""
    prefixes = [code[:n] for n in (2, 4, 6, 9, 12) if n <= len(code)]
    by_code = {r.code: r for r in Region.objects.filter(code__in=prefixes)}
    return [by_code[p] for p in prefixes if p in by_code]


def region_full_name(*, code: str) -> str:
    return "".join(r.name for r in region_path(code=code) if r.name != "市辖区")


def regions_within(*, code: str, level: Level | None = None) -> QuerySet[Region]:
    """Every region under ``code`` (inclusive), optionally only one level."""
    qs = Region.objects.filter(code__startswith=code)
    if level is not None:
        qs = qs.filter(level=level)
    return qs


def region_children(*, code: str | None) -> QuerySet[Region]:
    if code is None:
        return Region.objects.filter(parent__isnull=True)
    return Region.objects.filter(parent_id=code)
