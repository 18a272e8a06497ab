"""Service vouchers: what orders use of a plan's entitlement (服务类救助, 一户一策).

A plan's **allocation** is what the household chose with the worker: plan items, each in a
stage, each with its charge in the plan's unit (yuan or hours). Choosing is bounded by the
stages (``services/plans.py``: a stage's cap, and a stage opens by the plan's configured
rule). The **debits** are what orders have used of those choices: every voucher-funded
order writes one ``EntitlementDebit`` when it is placed, and at most one release
(a negative entry) when it is cancelled, nobody was there, or a dispute found it was not
served. The ledger is append-only; the balance is the sum of its entries.

An order may only use what was chosen: its charge must fit what is left of its plan item,
of the plan item's stage and of the plan's total, the plan must be agreed and not closed,
the service date inside the plan's period and the stage open on that date. Every debit
locks the plan row (``select_for_update``, as ``plan_item_add`` does) and re-reads the
ledger inside the same transaction, so concurrent orders can never overspend a voucher on
PostgreSQL (tests/services/test_voucher_race.py); SQLite serialises writers anyway.

For a monthly entitlement (Licang's 45 or 60 hours a month) the choices are a monthly
package: the balance and the limits apply to the month of the plan the service date falls
in (months counted from the plan's start).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.services import audit_record
from jiuzhu.core.dates import add_months
from jiuzhu.services import choices as c
from jiuzhu.services.models import EntitlementDebit, PlanItem, ServiceOrder, ServicePlan
from jiuzhu.services.services.plans import figure, plan_stage_states, unit_label

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def _cents(value: Any) -> Decimal:
    """Sums come back as 20 on SQLite and 20.00 on PostgreSQL: always two places."""
    return Decimal(value or 0).quantize(CENT)


@dataclass(frozen=True)
class StageBalance:
    """One stage of the voucher: its cap and what orders used of it. Has the attributes
    the plan's stage bar (``services/_stages.html``) reads, with ``allocated`` = used."""

    number: int
    share: int
    cap: Decimal
    debited: Decimal  # net: debits minus releases
    is_open: bool
    opens_on: datetime.date | None

    @property
    def allocated(self) -> Decimal:
        return self.debited

    @property
    def remaining(self) -> Decimal:
        return self.cap - self.debited

    @property
    def is_full(self) -> bool:
        return self.debited >= self.cap

    @property
    def percent_used(self) -> int:
        if self.cap <= 0:
            return 100
        return max(0, min(100, int(self.debited * 100 / self.cap)))


@dataclass(frozen=True)
class ItemBalance:
    """One choice of the plan: what was chosen (charge) and what orders used of it."""

    plan_item_id: int
    item_code: str
    item_name: str
    stage: int
    charge: Decimal
    debited: Decimal  # net
    removed: bool

    @property
    def remaining(self) -> Decimal:
        return ZERO if self.removed else self.charge - self.debited


@dataclass(frozen=True)
class VoucherBalance:
    plan_id: int
    unit: str
    total: Decimal
    debited: Decimal  # all debits (gross)
    released: Decimal  # all releases, as a positive figure
    # A monthly entitlement: the month of the plan the balance is for; None for a year.
    window: tuple[datetime.date, datetime.date] | None
    stages: list[StageBalance]
    items: list[ItemBalance]

    @property
    def used(self) -> Decimal:
        return self.debited - self.released

    @property
    def remaining(self) -> Decimal:
        return self.total - self.used

    @property
    def unit_label(self) -> str:
        return unit_label(self.unit)


def month_window(plan: ServicePlan, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The plan's month ``day`` falls in: [start, end), months counted from the start."""
    start = plan.period_start
    months = (day.year - start.year) * 12 + day.month - start.month
    if add_months(start, months) > day:
        months -= 1
    return add_months(start, months), add_months(start, months + 1)


def _window(plan: ServicePlan, day: datetime.date) -> tuple[datetime.date, datetime.date] | None:
    return month_window(plan, day) if plan.period == c.Period.MONTH else None


def _entries(
    plan: ServicePlan, window: tuple[datetime.date, datetime.date] | None
) -> QuerySet[EntitlementDebit]:
    entries = EntitlementDebit.objects.filter(plan=plan)
    if window is not None:
        entries = entries.filter(
            order__service_date__gte=window[0], order__service_date__lt=window[1]
        )
    return entries


def _sums(entries: QuerySet[EntitlementDebit], key: str) -> dict[Any, Decimal]:
    return {
        value: _cents(total)
        for value, total in entries.values_list(key)
        .annotate(total=Sum("amount"))
        .values_list(key, "total")
    }


def voucher_balance(plan: ServicePlan, *, on: datetime.date | None = None) -> VoucherBalance:
    """The voucher of ``plan``: total, debits, releases, what remains, per stage and per
    plan item (for a monthly entitlement: in the month of ``on``, today by default)."""
    day = on or timezone.localdate()
    window = _window(plan, day)
    entries = _entries(plan, window)
    gross = entries.aggregate(
        debited=Sum("amount", filter=Q(kind=c.DebitKind.DEBIT)),
        released=Sum("amount", filter=Q(kind=c.DebitKind.RELEASE)),
    )
    by_stage = _sums(entries, "stage")
    by_item = _sums(entries, "plan_item")
    states = plan_stage_states(plan, day)
    stage_rows = [
        StageBalance(
            number=state.number,
            share=state.share,
            cap=state.cap,
            debited=by_stage.get(state.number, ZERO),
            is_open=state.is_open,
            opens_on=state.opens_on,
        )
        for state in states
    ]
    item_rows = [
        ItemBalance(
            plan_item_id=chosen.pk,
            item_code=chosen.item.code,
            item_name=chosen.item.name_zh,
            stage=chosen.stage,
            charge=_cents(chosen.charge),
            debited=by_item.get(chosen.pk, ZERO),
            removed=chosen.removed_at is not None,
        )
        for chosen in PlanItem.objects.filter(plan=plan)
        .select_related("item")
        .order_by("stage", "added_at", "id")
    ]
    return VoucherBalance(
        plan_id=plan.pk,
        unit=plan.unit,
        total=_cents(plan.total),
        debited=_cents(gross["debited"]),
        released=abs(_cents(gross["released"])),
        window=window,
        stages=stage_rows,
        items=item_rows,
    )


def _over(what: str, remaining: Decimal, charge: Decimal, unit: str) -> str:
    return _(
        "This order needs %(charge)s %(unit)s but only %(remaining)s %(unit)s remain of %(what)s."
    ) % {
        "charge": figure(charge),
        "remaining": figure(max(remaining, ZERO)),
        "unit": unit_label(unit),
        "what": what,
    }


def debit_refusal(plan: ServicePlan, plan_item: PlanItem, order: ServiceOrder) -> dict[str, str]:
    """Why ``order`` cannot be debited to ``plan_item`` (empty: it can). The caller holds
    the plan row's lock, so what this reads stays true until it writes."""
    if plan.status == c.PlanStatus.CLOSED:
        return {"plan": _("The service plan is closed.")}
    if plan.status != c.PlanStatus.AGREED:
        return {"plan": _("The household has not agreed the service plan yet.")}
    if plan_item.plan_id != plan.pk:
        return {"plan_item": _("The plan item is not in this plan.")}
    if plan_item.removed_at is not None:
        return {"plan_item": _("This service was removed from the plan.")}
    day = order.service_date
    if not plan.period_start <= day <= plan.period_end:
        return {
            "service_date": _(
                "The service date is outside the plan's period (%(start)s – %(end)s)."
            )
            % {"start": plan.period_start.isoformat(), "end": plan.period_end.isoformat()}
        }
    charge = Decimal(order.charge)
    if charge <= 0:
        return {"quantity": _("This order uses nothing of the voucher.")}
    states = plan_stage_states(plan, day)
    if not 1 <= plan_item.stage <= len(states):
        return {"plan_item": _("This plan has no stage %(stage)s.") % {"stage": plan_item.stage}}
    state = states[plan_item.stage - 1]
    if not state.is_open:
        if state.opens_on is not None:
            message = _("Stage %(stage)s is not open on %(day)s: it opens on %(opens)s.") % {
                "stage": state.number,
                "day": day.isoformat(),
                "opens": state.opens_on.isoformat(),
            }
        else:
            message = _(
                "Stage %(stage)s is not open yet: it opens when stage %(previous)s is fully chosen."
            ) % {"stage": state.number, "previous": state.number - 1}
        return {"service_date": message}
    window = _window(plan, day)
    entries = _entries(plan, window)
    item_used = entries.filter(plan_item=plan_item).aggregate(t=Sum("amount"))["t"] or ZERO
    stage_used = entries.filter(stage=plan_item.stage).aggregate(t=Sum("amount"))["t"] or ZERO
    plan_used = entries.aggregate(t=Sum("amount"))["t"] or ZERO
    item_left = Decimal(plan_item.charge) - item_used
    if charge > item_left:
        what = _("%(item)s in the plan") % {"item": plan_item.item.name_zh}
        return {"voucher": _over(what, item_left, charge, plan.unit)}
    stage_left = state.cap - stage_used
    if charge > stage_left:
        what = _("stage %(stage)s") % {"stage": state.number}
        return {"voucher": _over(what, stage_left, charge, plan.unit)}
    plan_left = Decimal(plan.total) - plan_used
    if charge > plan_left:
        return {"voucher": _over(_("the plan's entitlement"), plan_left, charge, plan.unit)}
    return {}


def _audit(actor: User | None, plan: ServicePlan, entry: EntitlementDebit, **detail: Any) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="services.entitlement_debit",
        object_id=entry.pk,
        region_code=plan.region_id,
        detail={
            "plan": plan.pk,
            "order": entry.order_id,
            "kind": entry.kind,
            "amount": figure(entry.amount),
            "stage": entry.stage,
            **detail,
        },
    )


def voucher_debit(*, actor: User | None, order: ServiceOrder) -> EntitlementDebit:
    """Debit a voucher-funded order's charge to its plan item, or refuse with why (a
    ``ValidationError`` naming what remains). Called by ``order_create`` inside its
    transaction, which has checked who may order."""
    with transaction.atomic():
        if (
            order.funding != c.Funding.VOUCHER
            or order.plan_id is None
            or order.plan_item_id is None
        ):
            raise ValidationError({"funding": _("This order is not paid by a service voucher.")})
        plan = ServicePlan.objects.select_for_update().get(pk=order.plan_id)
        if EntitlementDebit.objects.filter(order=order, kind=c.DebitKind.DEBIT).exists():
            raise ValidationError(_("This order has been debited already."))
        plan_item = PlanItem.objects.select_related("item").get(pk=order.plan_item_id)
        refusal = debit_refusal(plan, plan_item, order)
        if refusal:
            raise ValidationError(refusal)
        entry = EntitlementDebit.objects.create(
            plan=plan,
            plan_item=plan_item,
            order=order,
            stage=plan_item.stage,
            kind=c.DebitKind.DEBIT,
            amount=Decimal(order.charge),
            created_by=actor if actor is not None and actor.pk else None,
        )
        _audit(actor, plan, entry)
    return entry


def voucher_release(
    *, actor: User | None, order: ServiceOrder, reason: str
) -> EntitlementDebit | None:
    """Give back what an order debited (cancelled, nobody there, a dispute found it not
    served): one negative entry, written once; None when there was nothing to release.
    Called by the order services, which decide who may end an order."""
    with transaction.atomic():
        if order.plan_id is None:
            return None
        status = ServiceOrder.objects.filter(pk=order.pk).values_list("status", flat=True).first()
        if status in c.OPEN_ORDER_STATUSES:
            raise ValidationError(_("An open order holds its voucher: end the order first."))
        plan = ServicePlan.objects.select_for_update().get(pk=order.plan_id)
        debit = EntitlementDebit.objects.filter(order=order, kind=c.DebitKind.DEBIT).first()
        if debit is None:
            return None
        released = EntitlementDebit.objects.filter(order=order, kind=c.DebitKind.RELEASE).first()
        if released is not None:
            return released
        entry = EntitlementDebit.objects.create(
            plan=plan,
            plan_item_id=debit.plan_item_id,
            order=order,
            stage=debit.stage,
            kind=c.DebitKind.RELEASE,
            amount=-Decimal(debit.amount),
            created_by=actor if actor is not None and actor.pk else None,
        )
        _audit(actor, plan, entry, reason=reason.strip()[:200])
    return entry
