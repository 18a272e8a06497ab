"""Needs (需求 / 微心愿): creation from every source, consent, publishing.

``need_create`` is the one way any part (plans, warnings, visits, the one-key call, staff
pages) makes a need. It copies the village, the place and the clocks; the public face is
written separately and published only with consent (need_publish).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import scoped, user_has_perm
from jiuzhu.registry.models import Household, Person
from jiuzhu.registry.timeline import timeline_add
from jiuzhu.services import choices as c
from jiuzhu.services import clocks
from jiuzhu.services.models import Need, PlanItem, ServiceItem


def require_need_perm(actor: User | None, household: Household) -> None:
    """Staff with MANAGE_NEEDS whose area covers the household. ``actor=None`` is the
    platform itself (the one-key call webhook, a scheduled pass)."""
    if actor is None:
        return
    if (
        not user_has_perm(actor, Perm.MANAGE_NEEDS)
        or not scoped(actor, Household.objects.filter(pk=household.pk)).exists()
    ):
        raise PermissionDenied(_("You may not do this for this household."))


@transaction.atomic
def need_create(
    *,
    actor: User | None,
    household: Household,
    source: str,
    route: str,
    funding: str,
    title: str,
    person: Person | None = None,
    item: ServiceItem | None = None,
    plan_item: PlanItem | None = None,
    quantity: Decimal = Decimal(1),
    details: str = "",
    urgency: str = c.Urgency.NORMAL,
    window_start: datetime.datetime | None = None,
    window_end: datetime.datetime | None = None,
    estimated_value: Decimal | None = None,
    source_ref: str = "",
    lat: Decimal | None = None,
    lon: Decimal | None = None,
    now: datetime.datetime | None = None,
) -> Need:
    require_need_perm(actor, household)
    now = now or timezone.now()
    errors: dict[str, Any] = {}
    title = title.strip()
    if not title and item is not None:
        title = item.name_zh
    if not title:
        errors["title"] = _("Say what is needed.")
    if source not in c.NeedSource.values:
        errors["source"] = _("Choose where the need comes from.")
    if route not in c.Route.values:
        errors["route"] = _("Choose claiming or dispatch.")
    if funding not in c.Funding.values:
        errors["funding"] = _("Choose who pays.")
    if urgency not in c.Urgency.values:
        errors["urgency"] = _("Choose the urgency.")
    if person is not None and person.household_id != household.pk:
        errors["person"] = _("Choose a member of this household.")
    if route == c.Route.DISPATCH and item is None:
        errors["item"] = _("A dispatched service needs a catalogue item.")
    if funding == c.Funding.VOUCHER:
        if plan_item is None or plan_item.removed_at is not None:
            errors["plan_item"] = _("A voucher-funded need comes from an item of the plan.")
        elif plan_item.plan.household_id != household.pk:
            errors["plan_item"] = _("Choose an item of this household's plan.")
        elif item is not None and plan_item.item_id != item.pk:
            errors["plan_item"] = _("The plan item is for another service.")
    if window_start and window_end and window_end < window_start:
        errors["window_end"] = _("The end cannot be before the start.")
    if quantity <= 0:
        errors["quantity"] = _("Enter a quantity above 0.")
    if errors:
        raise ValidationError(errors)
    if item is None and plan_item is not None:
        item = plan_item.item
    if lat is None or lon is None:
        # No precise place: the village's seat stands in (its public face is coarse anyway).
        lat, lon = household.region.lat, household.region.lon
    due = clocks.clocks_for(urgency=urgency, since=now)
    need = Need.objects.create(
        household=household,
        person=person,
        region=household.region,
        source=source,
        source_ref=str(source_ref)[:40],
        route=route,
        funding=funding,
        item=item,
        plan_item=plan_item,
        quantity=quantity,
        title=title[:100],
        details=details,
        urgency=urgency,
        window_start=window_start,
        window_end=window_end,
        estimated_value=estimated_value,
        lat=lat,  # type: ignore[misc]
        lon=lon,
        assign_due_at=due.assign_due_at,
        start_due_at=due.start_due_at,
        finish_due_at=due.finish_due_at,
        created_by=actor,
    )
    timeline_add(
        household_id=household.pk,
        kind="services.need_created",
        summary=_("Need recorded: %(title)s (%(source)s)")
        % {"title": need.title, "source": need.get_source_display()},
        occurred_at=now,
        detail={"urgency": urgency, "route": route, "funding": funding},
        object_type="services.need",
        object_id=need.pk,
        actor=actor,
    )
    return need


# --- Status changes the order part calls for dispatched needs -------------------------


def need_mark_dispatching(*, need: Need) -> Need:
    """An order was placed for the need (点单): it waits for a provider."""
    if need.status in (c.NeedStatus.DRAFT, c.NeedStatus.DISPATCHING):
        need.status = c.NeedStatus.DISPATCHING
        need.save(update_fields=["status", "updated_at"])
    return need


def need_mark_in_service(*, need: Need) -> Need:
    if need.status in (c.NeedStatus.DISPATCHING, c.NeedStatus.CLAIMED):
        need.status = c.NeedStatus.IN_SERVICE
        need.save(update_fields=["status", "updated_at"])
    return need


def need_mark_fulfilled(
    *, need: Need, confirmed_by: str, actor: User | None, now: datetime.datetime | None = None
) -> Need:
    """The service was done and confirmed (by the beneficiary's rating or by staff)."""
    if need.status in (c.NeedStatus.FULFILLED, c.NeedStatus.CANCELLED):
        return need
    now = now or timezone.now()
    need.status = c.NeedStatus.FULFILLED
    need.fulfilled_at = now
    need.confirmed_by = confirmed_by
    need.confirmed_by_user = actor if actor is not None and actor.pk else None
    need.save(
        update_fields=["status", "fulfilled_at", "confirmed_by", "confirmed_by_user", "updated_at"]
    )
    timeline_add(
        household_id=need.household_id,
        kind="services.need_fulfilled",
        summary=_("Need fulfilled: %(title)s") % {"title": need.title},
        occurred_at=now,
        detail={"confirmed_by": confirmed_by},
        object_type="services.need",
        object_id=need.pk,
        actor=actor,
    )
    return need
