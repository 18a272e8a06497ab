from __future__ import annotations

from django.db.models import Q, QuerySet

from jiuzhu.regions.models import CODE_LENGTHS, Level, Region


def region_prefixes(code: str) -> list[str]:
    """The codes of a region and every region above it (360823100201 → 36, 3608,
    360823, 360823100, 360823100201)."""
    return [code[:n] for n in sorted(CODE_LENGTHS.values()) if len(code) >= n]


def national_or_above(code: str) -> Q:
    """Rows of configuration (a ``region`` foreign key) that apply in region ``code``:
    national ones (no region) and those of the region or any region above it."""
    return Q(region__isnull=True) | Q(region_id__in=region_prefixes(code))


def region_get(*, code: str) -> Region | None:
    return Region.objects.filter(code=code).first()


def region_path(*, code: str) -> list[Region]:
    """The region and its ancestors, province first (for breadcrumbs and full names)."""
    prefixes = region_prefixes(code)
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
