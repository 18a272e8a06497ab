"""Reads of the assessment app: instruments in force for a place, assessments in scope.

Assessments are personal data: every read for a person goes through
``accounts.scoping`` (outside the user's area = 404). Instruments are configuration and
readable by anyone who may see assessments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import get_scoped_or_404, scoped, user_has_perm
from jiuzhu.assessment.definition import Definition, Tier, validate
from jiuzhu.assessment.models import Assessment, Instrument, InstrumentVersion
from jiuzhu.regions.selectors import national_or_above, region_prefixes

# --- instruments -------------------------------------------------------------------------


def parsed(version: InstrumentVersion) -> Definition:
    """The version's definition, validated (once per loaded object: versions never
    change)."""
    cached: Definition | None = getattr(version, "_parsed", None)
    if cached is None:
        cached = validate(version.definition)
        version._parsed = cached  # type: ignore[attr-defined]
    return cached


def indicator_labels(version: InstrumentVersion) -> dict[str, tuple[str, str]]:
    """Indicator code → (dimension label, indicator label), in instrument order."""
    definition = parsed(version)
    dimensions = {d.code: d.label for d in definition.dimensions}
    return {i.code: (dimensions[i.dimension], i.label) for i in definition.indicators}


def tier_of(version: InstrumentVersion, code: str) -> Tier | None:
    return parsed(version).tier(code)


def latest_version(instrument: Instrument) -> InstrumentVersion | None:
    return instrument.versions.order_by("-number").first()


def instruments_for_region(region_code: str) -> list[Instrument]:
    """The instruments in use for a household of ``region_code``: per code, the one of the
    nearest region (a county's copy replaces the national instrument there)."""
    rows = Instrument.objects.filter(national_or_above(region_code), is_active=True).order_by(
        "code"
    )
    best: dict[str, Instrument] = {}
    for row in rows:
        current = best.get(row.code)
        if current is None or len(row.region_id or "") > len(current.region_id or ""):
            best[row.code] = row
    return list(best.values())


def instrument_for(*, code: str, region_code: str) -> Instrument | None:
    return next((i for i in instruments_for_region(region_code) if i.code == code), None)


def instruments_visible(user: Any) -> QuerySet[Instrument]:
    """National instruments, those of the regions above the user, and those within the
    user's area."""
    if not user_has_perm(user, Perm.VIEW_PERSONAL_DATA):
        return Instrument.objects.none()
    region = user.region_id or ""
    condition = Q(region__isnull=True)
    if region:
        condition |= Q(region_id__in=region_prefixes(region)) | Q(region__code__startswith=region)
    return Instrument.objects.filter(condition).select_related("region", "copied_from")


def instrument_get(*, user: Any, instrument_id: int) -> Instrument:
    try:
        return instruments_visible(user).get(pk=instrument_id)
    except (Instrument.DoesNotExist, ValueError) as exc:
        raise Http404("Not found") from exc


def instrument_versions(instrument: Instrument) -> list[InstrumentVersion]:
    return list(instrument.versions.select_related("created_by").order_by("-number"))


def may_edit_instrument(user: Any, instrument: Instrument) -> bool:
    """A county's own instrument: its administrators (or those above). A national one:
    only a superuser (the platform's operator); a county copies it instead."""
    if not user_has_perm(user, Perm.MANAGE_INSTRUMENTS):
        return False
    if instrument.region_id is None or getattr(user, "is_superuser", False):
        return bool(getattr(user, "is_superuser", False))
    return bool(user.region_id) and instrument.region_id.startswith(user.region_id)


# --- assessments -------------------------------------------------------------------------


def assessments_visible(user: Any) -> QuerySet[Assessment]:
    return scoped(
        user,
        Assessment.objects.select_related(
            "household", "person", "instrument_version__instrument", "assessed_by", "region"
        ),
    )


def assessment_get(*, user: Any, assessment_id: int) -> Assessment:
    """404 when missing or out of the user's area."""
    return get_scoped_or_404(
        user,
        Assessment.objects.select_related(
            "household",
            "person",
            "instrument_version__instrument",
            "assessed_by",
            "region",
            "warning",
            "previous__instrument_version__instrument",
        ),
        pk=assessment_id,
    )


def assessments_of_household(*, user: Any, household_id: int) -> QuerySet[Assessment]:
    """A household's assessments the user may see, newest first."""
    return (
        assessments_visible(user).filter(household_id=household_id).order_by("-assessed_at", "-id")
    )


def latest_assessment(
    *, household_id: int, instrument_code: str | None = None, person_id: int | None = None
) -> Assessment | None:
    """The household's newest assessment (of one instrument, of one person). No scope: for
    services that have checked it already."""
    queryset = Assessment.objects.filter(household_id=household_id).select_related(
        "instrument_version__instrument", "person"
    )
    if instrument_code:
        queryset = queryset.filter(instrument_version__instrument__code=instrument_code)
    if person_id is not None:
        queryset = queryset.filter(person_id=person_id)
    return queryset.order_by("-assessed_at", "-id").first()


@dataclass(frozen=True)
class PanelRow:
    """The newest assessment of one instrument (and person) on the household file."""

    assessment: Assessment
    tier: Tier | None
    previous_tier: Tier | None  # when the tier changed since the one before


def household_panel(*, user: Any, household_id: int) -> list[PanelRow]:
    rows: list[PanelRow] = []
    seen: set[tuple[str, int | None]] = set()
    for assessment in assessments_of_household(user=user, household_id=household_id).select_related(
        "previous__instrument_version"
    ):
        key = (assessment.instrument_version.instrument.code, assessment.person_id)
        if key in seen:
            continue
        seen.add(key)
        previous = assessment.previous
        rows.append(
            PanelRow(
                assessment=assessment,
                tier=tier_of(assessment.instrument_version, assessment.tier),
                previous_tier=tier_of(previous.instrument_version, previous.tier)
                if previous is not None and previous.tier != assessment.tier
                else None,
            )
        )
    return rows
