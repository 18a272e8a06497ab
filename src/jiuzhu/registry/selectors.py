"""Reads of the registry. Everything personal goes through accounts.scoping."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Case, Count, QuerySet, When

from jiuzhu.accounts.scoping import get_scoped_or_404, scoped
from jiuzhu.core.idnumbers import InvalidIdNumber
from jiuzhu.registry.choices import Category, EnrolmentStatus, Relationship
from jiuzhu.registry.models import (
    Asset,
    Enrolment,
    Expenditure,
    Household,
    Income,
    Person,
    TimelineEvent,
)
from jiuzhu.registry.protected import id_number_index


def households_visible_to(user: Any) -> QuerySet[Household]:
    return scoped(user, Household.objects.all())


@dataclass(frozen=True)
class HouseholdSearch:
    text: str = ""  # head's or a member's name (exact or prefix), or household number
    id_number: str = ""  # exact, through the blind index
    region_code: str = ""  # narrows within the user's own scope
    category: str = ""  # active enrolment in this category


class InvalidSearch(ValueError):
    pass


# A name prefix can match tens of thousands of people in a county ("王"); the list stops
# here and asks for a fuller name rather than counting them all on every keystroke.
SEARCH_CAP = 1000
HOUSEHOLD_NUMBER = re.compile(r"^[0-9-]+$")


@dataclass(frozen=True)
class HouseholdSearchResult:
    households: QuerySet[Household]
    truncated: bool  # more than SEARCH_CAP households matched the name


def household_search(*, user: Any, query: HouseholdSearch) -> HouseholdSearchResult:
    qs = households_visible_to(user).select_related("region")
    truncated = False
    if query.id_number:
        try:
            index = id_number_index(query.id_number)
        except InvalidIdNumber as exc:
            raise InvalidSearch(str(exc)) from exc
        qs = qs.filter(pk__in=Person.objects.filter(id_number_index=index).values("household_id"))
    text = query.text.strip()
    if text and HOUSEHOLD_NUMBER.match(text):
        qs = qs.filter(number__startswith=text)
    elif text:
        # Persons carry their region, so this walks the (name, region) index alone; the
        # household ids are then few enough to fetch by primary key.
        persons = scoped(user, Person.objects.filter(name__startswith=text))
        if query.region_code:
            persons = persons.filter(region__code__startswith=query.region_code)
        ids = list(
            dict.fromkeys(
                persons.order_by("name").values_list("household_id", flat=True)[: SEARCH_CAP * 4]
            )
        )
        truncated = len(ids) > SEARCH_CAP
        qs = qs.filter(pk__in=ids[:SEARCH_CAP])
    if query.region_code:
        qs = qs.filter(region__code__startswith=query.region_code)
    if query.category:
        qs = qs.filter(
            pk__in=Enrolment.objects.filter(category=query.category, status="active").values(
                "household_id"
            )
        )
    return HouseholdSearchResult(households=qs.order_by("number"), truncated=truncated)


@dataclass(frozen=True)
class HouseholdFile:
    household: Household
    members: list[Person]
    enrolments: list[Enrolment]
    incomes: list[Income]
    assets: list[Asset]
    expenditures: list[Expenditure]
    timeline: list[TimelineEvent]

    @property
    def annual_income(self) -> float:
        latest = max((i.year for i in self.incomes), default=None)
        return float(sum(i.annual_amount for i in self.incomes if i.year == latest))

    @property
    def monthly_income_per_capita(self) -> float:
        members = max(1, len([m for m in self.members if not m.is_deceased]))
        return round(self.annual_income / 12 / members, 2)


def household_file_get(*, user: Any, household_id: int) -> HouseholdFile:
    """The whole household file (一户一档); 404 when missing or out of scope."""
    household = get_scoped_or_404(user, Household.objects.select_related("region"), pk=household_id)
    return _household_file(household)


def household_file_for_system(*, household_id: int) -> HouseholdFile:
    """The household file for work the system does itself (scheduled reviews, silent
    certification): no user, so no scope; never for anything shown to a person."""
    return _household_file(Household.objects.select_related("region").get(pk=household_id))


def _household_file(household: Household) -> HouseholdFile:
    members = list(
        Person.objects.filter(household=household)
        .prefetch_related("illnesses")
        .order_by(Case(When(relationship=Relationship.HEAD, then=0), default=1), "birth_date")
    )
    return HouseholdFile(
        household=household,
        members=members,
        enrolments=list(
            Enrolment.objects.filter(household=household)
            .select_related("person")
            .order_by("-start_date", "-id")
        ),
        incomes=list(Income.objects.filter(household=household).order_by("-year", "kind")),
        assets=list(Asset.objects.filter(household=household).order_by("kind")),
        expenditures=list(
            Expenditure.objects.filter(household=household).order_by("-year", "kind")
        ),
        timeline=list(
            TimelineEvent.objects.filter(household=household)
            .select_related("actor")
            .order_by("-occurred_at", "-id")
        ),
    )


def person_get_scoped(*, user: Any, person_id: int) -> Person:
    return get_scoped_or_404(user, Person.objects.select_related("household"), pk=person_id)


OVERVIEW_SECONDS = 300


@dataclass(frozen=True)
class RegistryOverview:
    households: int
    persons: int
    enrolments_by_category: list[tuple[str, str, int]]  # (code, label, count)


def registry_overview(*, user: Any) -> RegistryOverview:
    """Counts for the home page, cached for a few minutes per user: over a county of
    hundreds of thousands of households they take a second, and need not be live."""
    key = f"registry_overview:{user.pk}:{user.region_id}"
    cached: RegistryOverview | None = cache.get(key)
    if cached is not None:
        return cached
    labels = dict(Category.choices)
    rows = (
        scoped(user, Enrolment.objects.filter(status=EnrolmentStatus.ACTIVE))
        .values("category")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    overview = RegistryOverview(
        households=households_visible_to(user).count(),
        persons=scoped(user, Person.objects.filter(is_deceased=False)).count(),
        enrolments_by_category=[
            (r["category"], str(labels.get(r["category"], r["category"])), r["n"]) for r in rows
        ],
    )
    cache.set(key, overview, OVERVIEW_SECONDS)
    return overview


def household_members(*, household_id: int) -> list[Person]:
    """A household's members, head first (the cheap part of the household file), for the
    system's own work and for callers that have checked scope already."""
    return list(
        Person.objects.filter(household_id=household_id).order_by(
            Case(When(relationship=Relationship.HEAD, then=0), default=1), "birth_date"
        )
    )


def enrolments_in_area(*, region_code: str) -> QuerySet[Enrolment]:
    """Every enrolment of households in an area, for aggregate ledgers; the caller checks
    that the area is in the user's scope and shows no personal data."""
    return Enrolment.objects.filter(household__region__code__startswith=region_code)


def living_members_of(*, household_ids: Sequence[int]) -> dict[int, int]:
    """Person id → household id of the living members of these households, for the
    system's own rounds (re-checks); the caller shows no personal data."""
    return dict(
        Person.objects.filter(household_id__in=list(household_ids), is_deceased=False).values_list(
            "id", "household_id"
        )
    )
