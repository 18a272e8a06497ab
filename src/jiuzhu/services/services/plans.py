"""Writes of service plans (一户一策): a plan made from an assessment within an entitlement,
items chosen by the worker and the beneficiary stage by stage, the beneficiary's agreement,
closing. No stage can be exceeded and no stage that is not open can be used: every
allocation locks the plan row (``select_for_update``) and re-reads what its stages hold
inside the same transaction, so two workers choosing at the same moment cannot together
go over a cap on PostgreSQL (SQLite serialises writers anyway)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.assessment.models import Assessment
from jiuzhu.core.dates import add_months
from jiuzhu.registry.models import Household, Person
from jiuzhu.registry.selectors import households_visible_to
from jiuzhu.registry.timeline import timeline_add
from jiuzhu.services import choices as c
from jiuzhu.services import stages
from jiuzhu.services.groups import fits
from jiuzhu.services.models import EntitlementRule, PlanItem, ServiceItem, ServicePlan
from jiuzhu.services.selectors import available_in, household_groups_of

CENT = Decimal("0.01")
QUANTITY_MAX = Decimal(1000)


def figure(value: Decimal) -> str:
    """400.00 → 400, 12.50 → 12.5: figures as people write them."""
    text = format(Decimal(value).quantize(CENT), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def unit_label(unit: str) -> str:
    return _("hours") if unit == c.EntitlementUnit.HOURS else _("yuan")


def require_plan_perm(actor: User | None, household_id: int) -> None:
    """Plans: the right to assess needs, for a household the actor may see."""
    if (
        actor is None
        or not user_has_perm(actor, Perm.ASSESS_NEEDS)
        or not households_visible_to(actor).filter(pk=household_id).exists()
    ):
        raise PermissionDenied(_("You may not do this for this household."))


def rule_amount(rule: EntitlementRule, tier: str) -> Decimal | None:
    """The entitlement for an assessed tier: its own amount, else the any-tier amount."""
    raw = rule.amounts.get(tier, rule.amounts.get(c.ANY_TIER))
    return None if raw in (None, "") else Decimal(str(raw))


def rule_refusal(
    rule: EntitlementRule,
    *,
    assessment: Assessment,
    groups: set[str],
    day: datetime.date,
) -> str | None:
    """Why ``rule`` cannot be the entitlement of a plan from ``assessment`` (None: it can)."""
    region = assessment.region_id
    if not rule.is_active:
        return _("This entitlement is no longer in use.")
    if rule.region_id and not region.startswith(rule.region_id):
        return _("This entitlement does not apply here.")
    if rule.valid_from > day or (rule.valid_to is not None and rule.valid_to < day):
        return _("This entitlement is not valid on %(day)s.") % {"day": day.isoformat()}
    instrument = assessment.instrument_version.instrument.code
    if rule.instruments and instrument not in rule.instruments:
        return _("This entitlement does not apply to assessments with this instrument.")
    if rule_amount(rule, assessment.tier) is None:
        return _("This entitlement gives nothing to the assessed tier.")
    if not fits(rule.target_groups, groups):
        return _("This household is not among those the entitlement is for.")
    return None


def _timeline(
    plan: ServicePlan, kind: str, summary: str, actor: User | None, **detail: Any
) -> None:
    timeline_add(
        household_id=plan.household_id,
        kind=kind,
        summary=summary,
        detail={"plan": plan.pk, **detail},
        object_type="services.plan",
        object_id=plan.pk,
        actor=actor,
    )


def _audit(actor: User | None, plan: ServicePlan, action: str, **detail: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="services.plan",
        object_id=plan.pk,
        region_code=plan.region_id,
        detail=detail,
    )


@transaction.atomic
def plan_create(
    *,
    actor: User,
    assessment: Assessment,
    rule: EntitlementRule,
    period_start: datetime.date,
    period_end: datetime.date | None = None,
    note: str = "",
) -> ServicePlan:
    """A draft plan for the assessed household, within ``rule``'s entitlement for the
    assessed tier. A household has one current plan: close the old one first."""
    household = Household.objects.get(pk=assessment.household_id)
    require_plan_perm(actor, household.pk)
    rule = EntitlementRule.objects.get(pk=rule.pk)  # as it is now, not as the caller read it
    if period_end is None:
        period_end = add_months(period_start, 12) - datetime.timedelta(days=1)
    if period_end < period_start:
        raise ValidationError({"period_end": _("The end cannot be before the start.")})
    if period_end > add_months(period_start, 36):
        raise ValidationError({"period_end": _("A plan covers at most three years.")})
    groups = household_groups_of(household.pk, day=period_start)
    refusal = rule_refusal(rule, assessment=assessment, groups=groups, day=period_start)
    if refusal:
        raise ValidationError({"rule": refusal})
    if ServicePlan.objects.filter(household=household).exclude(status=c.PlanStatus.CLOSED).exists():
        raise ValidationError(
            _("This household has a current plan: close it before making a new one.")
        )
    total = rule_amount(rule, assessment.tier)
    assert total is not None  # rule_refusal checked it
    try:
        with transaction.atomic():
            plan = ServicePlan.objects.create(
                household=household,
                region_id=household.region_id,
                assessment=assessment,
                rule=rule,
                tier=assessment.tier,
                colour=assessment.colour,
                unit=rule.unit,
                period=rule.period,
                total=total,
                shares=list(rule.shares),
                opening=rule.opening,
                open_after_months=list(rule.open_after_months),
                period_start=period_start,
                period_end=period_end,
                note=note.strip()[:2000],
                created_by=actor,
            )
    except IntegrityError as exc:  # another worker made one at the same moment
        raise ValidationError(
            _("This household has a current plan: close it before making a new one.")
        ) from exc
    per = (
        pgettext("period", "a year")
        if rule.period == c.Period.YEAR
        else pgettext("period", "a month")
    )
    _timeline(
        plan,
        "services.plan_created",
        _("Service plan made: %(rule)s, %(total)s %(unit)s %(per)s")
        % {"rule": rule.name_zh, "total": figure(total), "unit": unit_label(rule.unit), "per": per},
        actor,
        rule=rule.code,
        total=figure(total),
        unit=rule.unit,
        assessment=assessment.pk,
    )
    _audit(
        actor,
        plan,
        AuditAction.CREATE,
        rule=rule.code,
        rule_revision=rule.revision,
        tier=assessment.tier,
        total=figure(total),
        assessment=assessment.pk,
        period=[period_start.isoformat(), period_end.isoformat()],
    )
    return plan


def _locked(plan: ServicePlan) -> ServicePlan:
    return ServicePlan.objects.select_for_update().get(pk=plan.pk)


def allocated_by_stage(plan: ServicePlan) -> list[Decimal]:
    """What each stage of the plan holds now (removed items do not count)."""
    sums = dict(
        PlanItem.objects.filter(plan=plan, removed_at__isnull=True)
        .values_list("stage")
        .annotate(total=Sum("charge"))
        .values_list("stage", "total")
    )
    return [Decimal(sums.get(n, 0) or 0) for n in range(1, len(plan.shares) + 1)]


def plan_stage_states(plan: ServicePlan, day: datetime.date) -> list[stages.StageState]:
    return stages.stage_states(
        total=Decimal(plan.total),
        shares=plan.shares,
        opening=plan.opening,
        open_after_months=plan.open_after_months,
        start=plan.period_start,
        day=day,
        allocated=allocated_by_stage(plan),
    )


def refusal_message(refusal: stages.Refusal, plan: ServicePlan) -> str:
    unit = unit_label(plan.unit)
    if refusal.reason == stages.Reason.NOT_POSITIVE:
        return _("Enter a quantity above 0.")
    if refusal.reason == stages.Reason.NO_SUCH_STAGE:
        return _("This plan has no stage %(stage)s.") % {"stage": refusal.stage}
    if refusal.reason == stages.Reason.NOT_OPEN:
        if refusal.opens_on is not None:
            return _("Stage %(stage)s is not open yet: it opens on %(day)s.") % {
                "stage": refusal.stage,
                "day": refusal.opens_on.isoformat(),
            }
        return _(
            "Stage %(stage)s is not open yet: it opens when stage %(previous)s is fully chosen."
        ) % {"stage": refusal.stage, "previous": refusal.stage - 1}
    return _(
        "This exceeds the allowance of stage %(stage)s (%(cap)s %(unit)s): "
        "%(remaining)s %(unit)s remain, this choice needs %(amount)s %(unit)s."
    ) % {
        "stage": refusal.stage,
        "cap": figure(refusal.cap),
        "remaining": figure(refusal.remaining),
        "amount": figure(refusal.amount),
        "unit": unit,
    }


def _quantity(value: Any, item: ServiceItem) -> Decimal:
    text = str(value).strip()
    try:
        quantity = Decimal(text)
    except ArithmeticError as exc:
        raise ValidationError({"quantity": _("Enter a number.")}) from exc
    if not quantity.is_finite() or quantity <= 0:
        raise ValidationError({"quantity": _("Enter a quantity above 0.")})
    if quantity > QUANTITY_MAX:
        raise ValidationError({"quantity": _("At most %(n)s.") % {"n": QUANTITY_MAX}})
    if item.unit != c.Unit.HOUR and quantity != quantity.to_integral_value():
        raise ValidationError({"quantity": _("Enter a whole number of times, visits or pieces.")})
    if quantity != quantity.quantize(CENT):
        raise ValidationError({"quantity": _("At most two decimal places.")})
    return quantity


def charge_of(plan: ServicePlan, item: ServiceItem, quantity: Decimal) -> tuple[Decimal, Decimal]:
    """(amount in yuan, what it uses of the entitlement in the plan's unit)."""
    amount = (quantity * Decimal(item.price)).quantize(CENT)
    if plan.unit == c.EntitlementUnit.HOURS:
        return amount, (quantity * Decimal(item.hours_per_unit)).quantize(CENT)
    return amount, amount


def plan_item_add(
    *,
    actor: User,
    plan: ServicePlan,
    item: ServiceItem,
    quantity: Any,
    stage: int | None = None,
    indicator: str = "",
    chosen_by: str = c.ChosenBy.WORKER,
    note: str = "",
    today: datetime.date | None = None,
) -> PlanItem:
    """Choose ``quantity`` of ``item`` in ``stage`` (the first open stage with room when
    not given). Refused when the stage is not open or the choice would take it over its
    cap — checked with the plan row locked."""
    require_plan_perm(actor, plan.household_id)
    day = today or timezone.localdate()
    with transaction.atomic():
        plan = _locked(plan)
        if plan.status == c.PlanStatus.CLOSED:
            raise ValidationError(_("This plan is closed."))
        if day > plan.period_end:
            raise ValidationError(
                _("The plan's period ended on %(day)s.") % {"day": plan.period_end.isoformat()}
            )
        errors: dict[str, str] = {}
        if chosen_by not in c.ChosenBy.values:
            errors["chosen_by"] = _("Say who chose it.")
        offered = ServiceItem.objects.filter(available_in(plan.region_id), pk=item.pk).first()
        if offered is None or not offered.is_active:
            errors["item"] = _("This item is not offered (any more).")
        else:
            item = offered
            groups = household_groups_of(plan.household_id, day=day)
            if not fits(item.target_groups, groups):
                errors["item"] = _("This item is not for this household's groups (%(groups)s).") % {
                    "groups": "、".join(str(c.TargetGroup(g).label) for g in item.target_groups)
                }
        if indicator and indicator not in item.indicators:
            errors["indicator"] = _("This item does not address that indicator.")
        if not indicator:  # the first need of the assessment the item answers
            needs = plan.assessment.needs
            indicator = next((code for code in item.indicators if code in needs), "")
        if errors:
            raise ValidationError(errors)
        number = _quantity(quantity, item)
        amount, charge = charge_of(plan, item, number)
        states = plan_stage_states(plan, day)
        if stage is None:
            stage = stages.first_open_stage_with_room(states) or 1
        refusal = stages.allocation_refusal(states, stage=stage, amount=charge)
        if refusal is not None:
            raise ValidationError({"stage": refusal_message(refusal, plan)})
        chosen = PlanItem.objects.create(
            plan=plan,
            item=item,
            indicator=indicator,
            quantity=number,
            unit_price=item.price,
            amount=amount,
            charge=charge,
            stage=stage,
            chosen_by=chosen_by,
            note=note.strip()[:200],
            added_by=actor,
        )
        plan.save(update_fields=["updated_at"])
        _audit(
            actor,
            plan,
            AuditAction.UPDATE,
            added={
                "plan_item": chosen.pk,
                "item": item.code,
                "quantity": figure(number),
                "unit_price": figure(Decimal(item.price)),
                "amount": figure(amount),
                "charge": figure(charge),
                "stage": stage,
                "chosen_by": chosen_by,
            },
        )
        _timeline(
            plan,
            "services.plan_changed",
            _("Service plan: %(item)s × %(quantity)s added, stage %(stage)s, %(charge)s %(unit)s")
            % {
                "item": item.name_zh,
                "quantity": figure(number),
                "stage": stage,
                "charge": figure(charge),
                "unit": unit_label(plan.unit),
            },
            actor,
            item=item.code,
            stage=stage,
        )
    return chosen


@transaction.atomic
def plan_item_remove(*, actor: User, plan_item: PlanItem, reason: str) -> PlanItem:
    """Take a choice out of a plan that is not closed (the row stays, marked removed)."""
    require_plan_perm(actor, plan_item.plan.household_id)
    plan = _locked(plan_item.plan)
    plan_item = PlanItem.objects.select_for_update().get(pk=plan_item.pk)
    if plan.status == c.PlanStatus.CLOSED:
        raise ValidationError(_("This plan is closed."))
    if plan_item.removed_at is not None:
        raise ValidationError(_("This choice was removed already."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why it is removed.")})
    plan_item.removed_at = timezone.now()
    plan_item.removed_by = actor
    plan_item.removal_reason = reason.strip()[:200]
    plan_item.save(update_fields=["removed_at", "removed_by", "removal_reason"])
    plan.save(update_fields=["updated_at"])
    _audit(
        actor,
        plan,
        AuditAction.UPDATE,
        removed={"plan_item": plan_item.pk, "item": plan_item.item.code, "reason": reason[:200]},
    )
    _timeline(
        plan,
        "services.plan_changed",
        _("Service plan: %(item)s removed from stage %(stage)s")
        % {"item": plan_item.item.name_zh, "stage": plan_item.stage},
        actor,
        item=plan_item.item.code,
        stage=plan_item.stage,
    )
    return plan_item


@transaction.atomic
def plan_agree(
    *,
    actor: User,
    plan: ServicePlan,
    person: Person,
    how: str,
    agreed_at: datetime.datetime | None = None,
) -> ServicePlan:
    """Record the beneficiary's agreement (who, how, when): the draft becomes agreed."""
    require_plan_perm(actor, plan.household_id)
    plan = _locked(plan)
    if plan.status != c.PlanStatus.DRAFT:
        raise ValidationError(_("Only a draft plan can be agreed."))
    errors: dict[str, str] = {}
    if person.household_id != plan.household_id or person.is_deceased:
        errors["person"] = _("Choose the member of the household who agreed.")
    if how not in c.AgreedHow.values:
        errors["how"] = _("Say how they agreed: in person or by phone.")
    when = agreed_at or timezone.now()
    if when > timezone.now() + datetime.timedelta(minutes=5):
        errors["agreed_at"] = _("The agreement cannot be in the future.")
    if not PlanItem.objects.filter(plan=plan, removed_at__isnull=True).exists():
        errors["items"] = _("Choose at least one service before the plan is agreed.")
    if errors:
        raise ValidationError(errors)
    plan.status = c.PlanStatus.AGREED
    plan.agreed_by = person
    plan.agreed_how = how
    plan.agreed_at = when
    plan.agreement_recorded_by = actor
    plan.save(
        update_fields=[
            "status",
            "agreed_by",
            "agreed_how",
            "agreed_at",
            "agreement_recorded_by",
            "updated_at",
        ]
    )
    _audit(
        actor,
        plan,
        AuditAction.UPDATE,
        status=[c.PlanStatus.DRAFT, c.PlanStatus.AGREED],
        agreed_by=person.pk,
        how=how,
        agreed_at=when.isoformat(),
    )
    _timeline(
        plan,
        "services.plan_agreed",
        _("Service plan agreed by %(name)s (%(how)s)")
        % {"name": person.name_masked, "how": c.AgreedHow(how).label},
        actor,
        how=how,
    )
    return plan


@transaction.atomic
def plan_close(*, actor: User, plan: ServicePlan, reason: str) -> ServicePlan:
    """Close a plan (its period ended, the household moved, a new assessment…)."""
    require_plan_perm(actor, plan.household_id)
    plan = _locked(plan)
    if plan.status == c.PlanStatus.CLOSED:
        raise ValidationError(_("This plan is closed."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the plan is closed.")})
    before = plan.status
    plan.status = c.PlanStatus.CLOSED
    plan.closed_at = timezone.now()
    plan.closed_by = actor
    plan.close_reason = reason.strip()[:200]
    plan.save(update_fields=["status", "closed_at", "closed_by", "close_reason", "updated_at"])
    _audit(actor, plan, AuditAction.UPDATE, status=[before, plan.status], reason=plan.close_reason)
    _timeline(
        plan,
        "services.plan_closed",
        _("Service plan closed: %(reason)s") % {"reason": plan.close_reason},
        actor,
    )
    return plan
