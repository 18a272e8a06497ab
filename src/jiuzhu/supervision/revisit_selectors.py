"""Reads of revisits, batches and complaints, scoped to the user's area
(``accounts.scoping``: the region code prefix, and households assigned to them).
Anything outside answers 404, like something that does not exist."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.http import Http404

from jiuzhu.accounts.scoping import scoped
from jiuzhu.regions.selectors import region_prefixes
from jiuzhu.registry.models import Person
from jiuzhu.registry.selectors import household_members
from jiuzhu.services.models import Provider
from jiuzhu.supervision import choices as c
from jiuzhu.supervision.models import Complaint, Revisit, RevisitBatch
from jiuzhu.supervision.services.revisits import completed_orders

REVISIT_RELATED = (
    "order__item",
    "order__worker",
    "order__person",
    "household",
    "region",
    "provider",
    "assigned_to",
    "batch",
)
LOW_SATISFACTION = 2


def revisits_visible(user: Any) -> QuerySet[Revisit]:
    return scoped(user, Revisit.objects.select_related(*REVISIT_RELATED))


def revisit_queue(
    user: Any, *, method: str = "", status: str = c.RevisitStatus.PENDING, mine: bool = False
) -> QuerySet[Revisit]:
    """The revisits of the user's area: assigned to the user first, then the others
    (unassigned ones before a colleague's), earliest due first."""
    revisits = revisits_visible(user)
    if status in c.RevisitStatus.values:
        revisits = revisits.filter(status=status)
    if method in c.RevisitMethod.values:
        revisits = revisits.filter(method=method)
    if mine:
        revisits = revisits.filter(assigned_to=user)
    return revisits.annotate(
        is_mine=Case(
            When(assigned_to=user, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        is_free=Case(
            When(assigned_to__isnull=True, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    ).order_by("-is_mine", "-is_free", "due_date", "id")


def revisit_for_user(user: Any, revisit_id: int) -> Revisit:
    revisit = revisits_visible(user).filter(pk=revisit_id).first()
    if revisit is None:
        raise Http404("Not found")
    return revisit


def contacts(revisit: Revisit) -> list[Person]:
    """Whom to phone: the person served first, then the household's living members with
    a phone on file (masked; the reveal is the registry's audited one)."""
    people: list[Person] = []
    if revisit.order.person is not None and revisit.order.person.phone_masked:
        people.append(revisit.order.person)
    for person in household_members(household_id=revisit.household_id):
        if person.phone_masked and not person.is_deceased and person not in people:
            people.append(person)
    return people


def offers_complaint(revisit: Revisit) -> bool:
    """A failed revisit or a low satisfaction (≤ 2) offers to record a complaint."""
    return revisit.status == c.RevisitStatus.DONE and (
        revisit.passed is False
        or (revisit.satisfaction is not None and revisit.satisfaction <= LOW_SATISFACTION)
    )


# --- batches ------------------------------------------------------------------------------


def batches_visible(user: Any) -> QuerySet[RevisitBatch]:
    """Batches of the user's county (or of counties within the user's area). Their
    figures are counts, not personal data; the revisits in them stay scoped."""
    code = str(getattr(user, "region_id", "") or "")
    if not code:
        return RevisitBatch.objects.none()
    return RevisitBatch.objects.select_related("region", "drawn_by").filter(
        Q(region_id__in=region_prefixes(code)) | Q(region__code__startswith=code)
    )


def batch_for_user(user: Any, batch_id: int) -> RevisitBatch:
    batch = batches_visible(user).filter(pk=batch_id).first()
    if batch is None:
        raise Http404("Not found")
    return batch


@dataclass(frozen=True)
class ProviderDraw:
    provider: Provider | None
    provider_id: int
    completed: int
    home: int
    phone: int


def batch_figures(batch: RevisitBatch) -> list[ProviderDraw]:
    """Per provider: the month's completed orders and how many were drawn, at home and by
    phone (completed orders counted again from the orders, as the draw counted them)."""
    completed = Counter(o.provider_id for o in completed_orders(batch.region_id, batch.period))
    home: Counter[int] = Counter()
    phone: Counter[int] = Counter()
    for provider_id, method in Revisit.objects.filter(batch=batch).values_list(
        "provider_id", "method"
    ):
        (home if method == c.RevisitMethod.HOME else phone)[provider_id] += 1
    ids = sorted(set(completed) | set(home) | set(phone))
    providers = Provider.objects.in_bulk(ids)
    return [ProviderDraw(providers.get(pk), pk, completed[pk], home[pk], phone[pk]) for pk in ids]


def batch_progress(user: Any, batch: RevisitBatch) -> dict[str, int]:
    """How far the batch's revisits have got (those in the user's area)."""
    counts = Counter(revisits_visible(user).filter(batch=batch).values_list("status", flat=True))
    failed = revisits_visible(user).filter(batch=batch, passed=False).count()
    return {
        "pending": counts[c.RevisitStatus.PENDING],
        "done": counts[c.RevisitStatus.DONE],
        "unreachable": counts[c.RevisitStatus.UNREACHABLE],
        "failed": failed,
        "total": sum(counts.values()),
    }


# --- complaints ---------------------------------------------------------------------------


def complaints_visible(user: Any) -> QuerySet[Complaint]:
    return scoped(
        user,
        Complaint.objects.select_related(
            "provider", "order__item", "household", "region", "received_by", "handled_by"
        ),
    )


def complaints_filtered(
    user: Any, *, status: str = "", provider: int | None = None
) -> QuerySet[Complaint]:
    complaints = complaints_visible(user)
    if status in c.ComplaintStatus.values:
        complaints = complaints.filter(status=status)
    if provider:
        complaints = complaints.filter(provider_id=provider)
    return complaints.order_by("-received_at", "-id")


def complaint_for_user(user: Any, complaint_id: int) -> Complaint:
    complaint = complaints_visible(user).filter(pk=complaint_id).first()
    if complaint is None:
        raise Http404("Not found")
    return complaint
