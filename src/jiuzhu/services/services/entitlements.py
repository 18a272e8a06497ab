"""Writes of entitlement rules (configuration, not code): what a household may choose
within, by tier, per period, in stages. Each version is a ConfigRevision and an audit row;
plans copy the terms they were made with, so an edit only affects new plans."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.regions.models import Region
from jiuzhu.services import choices as c
from jiuzhu.services.models import ConfigRevision, EntitlementRule
from jiuzhu.services.services.common import (
    change_record,
    decimal_in,
    diff,
    require_config_perm,
)

CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
TIER_CODE = re.compile(r"^(\*|[a-z][a-z0-9_]{0,31})$")
AMOUNT_MAX = {c.EntitlementUnit.YUAN: Decimal(1_000_000), c.EntitlementUnit.HOURS: Decimal(744)}
MAX_STAGES = 12


@dataclass
class RuleFields:
    """What a county admin types for a rule (raw: the service validates it)."""

    name_zh: str = ""
    name_en: str = ""
    unit: str = ""
    period: str = ""
    amounts: Mapping[str, Any] = field(default_factory=dict)  # tier code or "*" → amount
    shares: Sequence[Any] = ()  # percent per stage
    opening: str = c.Opening.MONTHS
    open_after_months: Sequence[Any] = ()
    instruments: Sequence[str] = ()
    target_groups: Sequence[str] = ()
    valid_from: datetime.date | None = None
    valid_to: datetime.date | None = None
    note: str = ""


def amounts_from_text(text: str) -> dict[str, str]:
    """``high = 60`` one a line (``* = 1000`` for every tier)."""
    amounts: dict[str, str] = {}
    for raw in text.replace("；", "\n").replace(";", "\n").splitlines():
        line = raw.strip()
        if not line:
            continue
        for separator in ("=", "＝", ":", "："):
            if separator in line:
                tier, amount = line.split(separator, 1)
                break
        else:
            tier, amount = c.ANY_TIER, line
        amounts[tier.strip().lower()] = amount.strip()
    return amounts


def amounts_to_text(amounts: Mapping[str, Any]) -> str:
    return "\n".join(f"{tier} = {amount}" for tier, amount in amounts.items())


def numbers_from_text(text: str) -> list[str]:
    """``40/40/20`` (also commas, spaces, %)."""
    return [part for part in re.split(r"[\s/,，、%％]+", text.strip()) if part]


def _whole(value: Any, field_name: str, low: int, high: int) -> int:
    text = str(value).strip()
    if not re.fullmatch(r"-?\d+", text):
        raise ValidationError({field_name: _("Enter whole numbers.")})
    number = int(text)
    if number < 0:
        raise ValidationError({field_name: _("The figure cannot be negative.")})
    if not low <= number <= high:
        raise ValidationError(
            {
                field_name: _("Enter whole numbers between %(low)s and %(high)s.")
                % {"low": low, "high": high}
            }
        )
    return number


def _clean(fields: RuleFields) -> dict[str, Any]:
    errors: dict[str, str] = {}
    data: dict[str, Any] = {
        "name_zh": fields.name_zh.strip()[:80],
        "name_en": fields.name_en.strip()[:120],
        "note": fields.note.strip()[:2000],
    }
    if not data["name_zh"]:
        errors["name_zh"] = _("Enter the Chinese name.")
    if fields.unit not in c.EntitlementUnit.values:
        errors["unit"] = _("Choose yuan or hours.")
    if fields.period not in c.Period.values:
        errors["period"] = _("Choose a year or a month.")
    data["unit"], data["period"] = fields.unit, fields.period
    amounts: dict[str, str] = {}
    high = AMOUNT_MAX.get(fields.unit, Decimal(1_000_000))  # type: ignore[call-overload]
    for tier, raw in fields.amounts.items():
        tier = str(tier).strip().lower()
        if not TIER_CODE.match(tier):
            errors["amounts"] = _("A tier is a code such as high or medium, or * for every tier.")
            break
        try:
            amount = decimal_in(raw, "amounts", low=Decimal(0), high=high, low_inclusive=False)
        except ValidationError as exc:
            errors["amounts"] = f"{tier}: {exc.message_dict['amounts'][0]}"
            break
        amounts[tier] = format(amount, "f")
    if not amounts and "amounts" not in errors:
        errors["amounts"] = _("Enter the amount for at least one tier (or * for every tier).")
    data["amounts"] = amounts
    shares: list[int] = []
    try:
        shares = [_whole(s, "shares", 0, 100) for s in fields.shares]
        if not shares:
            errors["shares"] = _("Enter the stages' shares, e.g. 40/40/20 (or 100 for one stage).")
        elif len(shares) > MAX_STAGES:
            errors["shares"] = _("At most %(n)s stages.") % {"n": MAX_STAGES}
        elif any(s == 0 for s in shares):
            errors["shares"] = _("Every stage needs a share above 0.")
        elif sum(shares) != 100:
            errors["shares"] = _(
                "The stages' shares must add up to 100 %% (they add up to %(sum)s %%)."
            ) % {"sum": sum(shares)}
    except ValidationError as exc:
        errors["shares"] = exc.message_dict["shares"][0]
    data["shares"] = shares
    if fields.opening not in c.Opening.values:
        errors["opening"] = _("Choose how a stage opens.")
    data["opening"] = fields.opening
    months: list[int] = []
    if fields.opening == c.Opening.MONTHS and shares:
        try:
            months = [_whole(m, "open_after_months", 0, 120) for m in fields.open_after_months]
            if not months:
                months = [0] * len(shares)
            if len(months) != len(shares):
                errors["open_after_months"] = _(
                    "Give the months after the start for each stage (%(n)s figures)."
                ) % {"n": len(shares)}
            elif months[0] != 0:
                errors["open_after_months"] = _("The first stage opens at the start (0).")
            elif months != sorted(months):
                errors["open_after_months"] = _("A stage cannot open before the one before it.")
        except ValidationError as exc:
            errors["open_after_months"] = exc.message_dict["open_after_months"][0]
    else:
        months = [0] * len(shares)
    data["open_after_months"] = months
    data["instruments"] = [i.strip() for i in dict.fromkeys(fields.instruments) if i.strip()]
    groups = list(dict.fromkeys(fields.target_groups))
    unknown = [g for g in groups if g not in c.TargetGroup.values]
    if unknown:
        errors["target_groups"] = _("Unknown groups: %(codes)s") % {"codes": ", ".join(unknown)}
    data["target_groups"] = groups
    if fields.valid_from is None:
        errors["valid_from"] = _("Enter the date it applies from.")
    elif fields.valid_to is not None and fields.valid_to < fields.valid_from:
        errors["valid_to"] = _("The end cannot be before the start.")
    data["valid_from"] = fields.valid_from.isoformat() if fields.valid_from else None
    data["valid_to"] = fields.valid_to.isoformat() if fields.valid_to else None
    if errors:
        raise ValidationError(errors)
    return data


def rule_snapshot(rule: EntitlementRule) -> dict[str, Any]:
    def iso(day: Any) -> str | None:
        if day is None:
            return None
        return day if isinstance(day, str) else day.isoformat()

    return {
        "code": rule.code,
        "name_zh": rule.name_zh,
        "name_en": rule.name_en,
        "unit": rule.unit,
        "period": rule.period,
        "amounts": dict(rule.amounts),
        "shares": list(rule.shares),
        "opening": rule.opening,
        "open_after_months": list(rule.open_after_months),
        "instruments": list(rule.instruments),
        "target_groups": list(rule.target_groups),
        "valid_from": iso(rule.valid_from),
        "valid_to": iso(rule.valid_to),
        "note": rule.note,
        "region": rule.region_id,
        "is_active": rule.is_active,
    }


def _apply(rule: EntitlementRule, data: dict[str, Any]) -> None:
    for name, value in data.items():
        if name in ("valid_from", "valid_to"):
            value = datetime.date.fromisoformat(value) if value else None
        setattr(rule, name, value)


@transaction.atomic
def entitlement_rule_create(
    *, actor: User, region_code: str, code: str, fields: RuleFields, reason: str = ""
) -> EntitlementRule:
    """A county's own rule (it applies to households of that county only)."""
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        raise ValidationError({"region": _("No such region.")})
    require_config_perm(actor, Perm.MANAGE_INSTRUMENTS, region.code)
    code = code.strip().lower()
    errors: dict[str, Any] = {}
    if not CODE.match(code):
        errors["code"] = _(
            "Use 2–40 lower-case letters, digits and underscores, starting with a letter."
        )
    elif EntitlementRule.objects.filter(code=code).exists():
        errors["code"] = _("A rule with this code exists already.")
    try:
        data = _clean(fields)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    rule = EntitlementRule(code=code, region=region)
    _apply(rule, data)
    rule.save()
    _record(actor, rule, {}, reason or _("created"), AuditAction.CREATE)
    return rule


@transaction.atomic
def entitlement_rule_update(
    *, actor: User, rule: EntitlementRule, fields: RuleFields, reason: str
) -> EntitlementRule:
    """A new version of a rule. Plans already made keep the terms they were made with."""
    require_config_perm(actor, Perm.MANAGE_INSTRUMENTS, rule.region_id)
    rule = EntitlementRule.objects.select_for_update().get(pk=rule.pk)
    data = _clean(fields)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the rule changes.")})
    changes = diff(rule_snapshot(rule), data)
    if not changes:
        raise ValidationError(_("Nothing was changed."))
    _apply(rule, data)
    rule.revision += 1
    rule.save()
    _record(actor, rule, changes, reason, AuditAction.UPDATE)
    return rule


@transaction.atomic
def entitlement_rule_set_active(
    *, actor: User, rule: EntitlementRule, active: bool, reason: str
) -> EntitlementRule:
    """Stop offering a rule for new plans (or offer it again); plans made keep it."""
    require_config_perm(actor, Perm.MANAGE_INSTRUMENTS, rule.region_id)
    rule = EntitlementRule.objects.select_for_update().get(pk=rule.pk)
    if rule.is_active == active:
        raise ValidationError(_("Nothing was changed."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why.")})
    rule.is_active = active
    rule.revision += 1
    rule.save(update_fields=["is_active", "revision", "updated_at"])
    _record(actor, rule, {"is_active": [not active, active]}, reason, AuditAction.UPDATE)
    return rule


def _record(
    actor: User | None, rule: EntitlementRule, changes: dict[str, Any], reason: str, action: str
) -> None:
    change_record(
        actor=actor,
        kind=ConfigRevision.Kind.RULE,
        object_type="services.entitlement_rule",
        obj=rule,
        data=rule_snapshot(rule),
        changes=changes,
        reason=reason,
        action=action,
    )
