"""Reads of the applications app: standards in force, kinds on offer, applications in
scope."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from jiuzhu.accounts.scoping import get_scoped_or_404, region_in_scope, scoped
from jiuzhu.applications.models import (
    Application,
    AssistanceKind,
    CheckAuthorisation,
    Decision,
    DeclaredFigure,
    Disclosure,
    Document,
    EconomicCheck,
    Objection,
    PaymentList,
    RequestedKind,
    Review,
    Standard,
    UrgentRelief,
)
from jiuzhu.core.dates import first_of_next_month, years_between
from jiuzhu.regions.models import Region
from jiuzhu.regions.selectors import national_or_above
from jiuzhu.registry.choices import Category, Relationship
from jiuzhu.registry.models import Person
from jiuzhu.registry.selectors import enrolments_in_area, household_members


class StandardMissing(LookupError):
    """No row of a standard applies; ``args`` are (message, standard name)."""


@dataclass(frozen=True)
class StandardInForce:
    name: str
    value: Decimal
    region: str  # "" = national default
    area_type: str  # "" = both
    valid_from: datetime.date
    row_id: int

    def as_json(self) -> dict[str, Any]:
        return {
            "value": format(self.value.normalize(), "f"),
            "region": self.region,
            "area_type": self.area_type,
            "valid_from": self.valid_from.isoformat(),
            "id": self.row_id,
        }


def standard_best(rows: Iterable[Standard], *, region_code: str, area_type: str) -> Standard | None:
    """Of dated rows of one standard already in force, the one that applies to a household
    of ``region_code`` and ``area_type``: longest region prefix first, then the
    household's own urban/rural row before one for both, then the latest ``valid_from``.
    Rows for other regions or the other area type are ignored."""
    fitting = [
        r
        for r in rows
        if (r.region_id is None or region_code.startswith(r.region_id))
        and r.area_type in (area_type, "")
    ]
    return max(
        fitting,
        key=lambda r: (len(r.region_id or ""), r.area_type == area_type, r.valid_from, r.pk),
        default=None,
    )


def standard_in_force(
    name: str, *, region_code: str, area_type: str, on: datetime.date
) -> StandardInForce:
    """The value of a standard for a household of ``region_code`` and ``area_type`` on
    day ``on``: longest region prefix first, then the household's own urban/rural row
    before one for both, then the latest ``valid_from``."""
    rows = Standard.objects.filter(national_or_above(region_code), name=name, valid_from__lte=on)
    best = standard_best(rows, region_code=region_code, area_type=area_type)
    if best is None:
        raise StandardMissing(f"no {name} standard for {region_code} ({area_type}) on {on}", name)
    return StandardInForce(
        name=name,
        value=best.value,
        region=best.region_id or "",
        area_type=best.area_type,
        valid_from=best.valid_from,
        row_id=best.pk,
    )


def kinds_available(region_code: str) -> QuerySet[AssistanceKind]:
    """Built-in kinds and those a county (or town) above this region added."""
    return AssistanceKind.objects.filter(national_or_above(region_code), is_active=True)


def applications_visible(user: Any) -> QuerySet[Application]:
    return scoped(user, Application.objects.select_related("household", "applicant"))


def application_get(*, user: Any, application_id: int) -> Application:
    """404 when missing or out of the user's area."""
    return get_scoped_or_404(
        user,
        Application.objects.select_related("household", "applicant", "region"),
        pk=application_id,
    )


@dataclass(frozen=True)
class LedgerRow:
    category: str  # the national category's label
    area: str  # the town or village (or the area itself)
    households: int  # enrolled during the month
    monthly_amount: Decimal  # the month's amounts of those enrolments
    added: int  # enrolments that started in the month
    exited: int  # enrolments that ended in the month


def ledger(*, user: Any, region_code: str, month: datetime.date) -> list[LedgerRow]:
    """The month's ledger (台账) of an area: per national category and per area one level
    down, households enrolled, the month's amount, additions and exits. Counts only: no
    person appears in it."""
    if not region_in_scope(user, region_code):
        raise PermissionDenied(_("This area is outside yours."))
    month = month.replace(day=1)
    end = first_of_next_month(month)
    down = {6: 9, 9: 12}.get(len(region_code), len(region_code))
    enrolments = enrolments_in_area(region_code=region_code).filter(start_date__lt=end)
    running = enrolments.filter(Q(end_date__isnull=True) | Q(end_date__gte=month))
    labels = dict(Category.choices)
    names = dict(Region.objects.filter(code__startswith=region_code).values_list("code", "name"))
    cells: dict[tuple[str, str], dict[str, Any]] = {}

    def cell(category: str, region: str) -> dict[str, Any]:
        key = (category, region[:down])
        return cells.setdefault(
            key, {"households": set(), "amount": Decimal(0), "added": 0, "exited": 0}
        )

    for category, region, household, amount, start, stop in running.values_list(
        "category",
        "household__region_id",
        "household_id",
        "monthly_amount",
        "start_date",
        "end_date",
    ):
        entry = cell(category, region)
        entry["households"].add(household)
        entry["amount"] += amount or Decimal(0)
        if start >= month:
            entry["added"] += 1
        if stop is not None and month <= stop < end:
            entry["exited"] += 1
    return [
        LedgerRow(
            category=str(labels.get(category, category)),
            area=names.get(area, area),
            households=len(entry["households"]),
            monthly_amount=entry["amount"],
            added=entry["added"],
            exited=entry["exited"],
        )
        for (category, area), entry in sorted(cells.items())
    ]


def ledger_rows(rows: list[LedgerRow]) -> list[list[Any]]:
    """The ledger as a sheet: header, rows, total."""
    sheet: list[list[Any]] = [
        ["救助类别", "地区", "在保户数", "月发放金额（元）", "本月新增", "本月退出"]
    ]
    for row in rows:
        sheet.append(
            [row.category, row.area, row.households, row.monthly_amount, row.added, row.exited]
        )
    sheet.append(
        [
            "合计",
            "",
            sum(r.households for r in rows),
            sum((r.monthly_amount for r in rows), Decimal(0)),
            sum(r.added for r in rows),
            sum(r.exited for r in rows),
        ]
    )
    return sheet


# Reads for the API (api.py): one application's whole file, worklists with filters, and
# the objects an action names, each scoped like the application it belongs to.


@dataclass(frozen=True)
class ApplicationFile:
    """Everything recorded on one application, for its detail page and API resource."""

    application: Application
    requested: list[RequestedKind]
    declared: list[DeclaredFigure]
    documents: list[Document]
    authorisation: CheckAuthorisation | None
    latest_check: EconomicCheck | None
    decisions: list[Decision]
    urgent_relief: UrgentRelief | None
    disclosures: list[Disclosure]  # objections prefetched
    reviews: list[Review]


def application_file_get(*, user: Any, application_id: int) -> ApplicationFile:
    """The application and all that hangs on it; 404 when missing or out of scope."""
    application = application_get(user=user, application_id=application_id)
    return ApplicationFile(
        application=application,
        requested=list(application.kinds.select_related("kind").order_by("id")),
        declared=list(application.declared.order_by("item", "detail")),
        documents=list(application.documents.order_by("uploaded_at", "id")),
        authorisation=CheckAuthorisation.objects.filter(application=application).first(),
        latest_check=application.checks.select_related("run_by").first(),
        decisions=list(
            application.decisions.select_related(
                "requested__kind", "made_by", "second_approver"
            ).order_by("made_at", "id")
        ),
        urgent_relief=UrgentRelief.objects.filter(application=application)
        .select_related("paid_by")
        .first(),
        disclosures=list(
            application.disclosures.prefetch_related(
                Prefetch("objections", queryset=Objection.objects.order_by("received_at", "id"))
            )
        ),
        reviews=list(
            Review.objects.filter(decision__application=application)
            .select_related("decision__requested__kind")
            .order_by("due_on", "id")
        ),
    )


def applications_filtered(
    *, user: Any, status: str = "", region_code: str = ""
) -> QuerySet[Application]:
    """The applications a user may see, optionally of one status and below one area,
    newest first, with the kinds asked for prefetched (a worklist page or API list)."""
    qs = applications_visible(user).prefetch_related(
        Prefetch("kinds", queryset=RequestedKind.objects.select_related("kind").order_by("id"))
    )
    if status:
        qs = qs.filter(status=status)
    if region_code:
        qs = qs.filter(region__code__startswith=region_code)
    return qs.order_by("-created_at", "-id")


def adult_members(members: Iterable[Person], on: datetime.date) -> list[Person]:
    """The living members aged 18 or more on the day: who must sign the authorisation."""
    return [m for m in members if not m.is_deceased and years_between(m.birth_date, on) >= 18]


def household_head(*, household_id: int) -> Person | None:
    """Who applies when nobody else is named: the living head, else the first living
    member; None when nobody in the household is alive."""
    living = [m for m in household_members(household_id=household_id) if not m.is_deceased]
    heads = [m for m in living if m.relationship == Relationship.HEAD]
    return next(iter(heads or living), None)


M = TypeVar("M", bound=Model)


def _of_visible_application(user: Any, queryset: QuerySet[M], path: str, pk: int) -> M:
    """An object of an application the user may see; 404 like a missing one otherwise."""
    visible = applications_visible(user).values("pk")
    found = queryset.filter(**{f"{path}__in": visible, "pk": pk}).first()
    if found is None:
        raise Http404("Not found")
    return found


def document_get(*, user: Any, document_id: int) -> Document:
    return _of_visible_application(user, Document.objects.all(), "application", document_id)


def decision_get(*, user: Any, decision_id: int) -> Decision:
    return _of_visible_application(
        user, Decision.objects.select_related("application"), "application", decision_id
    )


def disclosure_get(*, user: Any, disclosure_id: int) -> Disclosure:
    return _of_visible_application(
        user, Disclosure.objects.select_related("application"), "application", disclosure_id
    )


def objection_get(*, user: Any, objection_id: int) -> Objection:
    return _of_visible_application(
        user,
        Objection.objects.select_related("disclosure__application"),
        "disclosure__application",
        objection_id,
    )


def payment_list_get(*, user: Any, payment_list_id: int) -> PaymentList:
    """A payment list of an area within the user's; 404 otherwise."""
    return get_scoped_or_404(
        user, PaymentList.objects.select_related("region", "built_by"), pk=payment_list_id
    )


def reviews_visible(*, user: Any, settled: bool = False) -> QuerySet[Review]:
    """Reviews in the user's area: open ones soonest due first, or settled ones newest
    first."""
    queryset = scoped(
        user,
        Review.objects.select_related(
            "decision__application__applicant",
            "decision__application__household",
            "decision__requested__kind",
            "done_by",
        ),
    )
    if settled:
        return queryset.exclude(outcome="").order_by("-done_at", "-id")
    return queryset.filter(outcome="").order_by("due_on", "id")


def review_get(*, user: Any, review_id: int) -> Review:
    return get_scoped_or_404(user, Review.objects.all(), pk=review_id)
