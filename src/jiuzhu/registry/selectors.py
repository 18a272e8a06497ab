"""Reads of the registry. Everything personal goes through accounts.scoping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Q, QuerySet, When

from jiuzhu.accounts.scoping import get_scoped_or_404, scoped
from jiuzhu.core.idnumbers import InvalidIdNumber
from jiuzhu.registry.choices import Relationship
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


def household_search(*, user: Any, query: HouseholdSearch) -> QuerySet[Household]:
    qs = households_visible_to(user).select_related("region")
    if query.id_number:
        try:
            index = id_number_index(query.id_number)
        except InvalidIdNumber as exc:
            raise InvalidSearch(str(exc)) from exc
        qs = qs.filter(members__id_number_index=index)
    if query.text:
        text = query.text.strip()
        qs = qs.filter(
            Q(head_name__startswith=text)
            | Q(number__startswith=text)
            | Q(pk__in=Person.objects.filter(name__startswith=text).values("household_id"))
        )
    if query.region_code:
        qs = qs.filter(region__code__startswith=query.region_code)
    if query.category:
        qs = qs.filter(
            pk__in=Enrolment.objects.filter(category=query.category, status="active").values(
                "household_id"
            )
        )
    return qs.order_by("number")


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


@dataclass(frozen=True)
class RegistryOverview:
    households: int
    persons: int
    enrolments_by_category: list[tuple[str, str, int]]  # (code, label, count)


def registry_overview(*, user: Any) -> RegistryOverview:
    from django.db.models import Count

    from jiuzhu.registry.choices import Category

    households = households_visible_to(user)
    labels = dict(Category.choices)
    rows = (
        scoped(user, Enrolment.objects.filter(status="active"))
        .values("category")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    return RegistryOverview(
        households=households.count(),
        persons=scoped(user, Person.objects.all()).count(),
        enrolments_by_category=[
            (r["category"], str(labels.get(r["category"], r["category"])), r["n"]) for r in rows
        ],
    )
