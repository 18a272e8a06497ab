"""Configuration a county keeps: dated standards and the kinds of help it adds.

Standards are never edited (a new value is a new row from a date), so every past check
still reads the figures it used; kinds are added and switched off, never deleted, since
applications and enrolments point at them. Every change is audited.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.applications.models import AssistanceKind, Document, Standard
from jiuzhu.applications.services.common import require_perm
from jiuzhu.regions.models import Region
from jiuzhu.registry.choices import AreaType, Category

# Upper bounds that catch a slipped digit; no real standard comes near them.
STANDARD_MAXIMA: dict[str, Decimal] = {
    Standard.Name.DIBAO_MONTHLY: Decimal(10_000),
    Standard.Name.MARGINAL_FACTOR: Decimal(5),
    Standard.Name.DISPOSABLE_INCOME: Decimal(1_000_000),
    Standard.Name.RIGID_SHARE: Decimal(5),
    Standard.Name.DEPOSIT_MONTHS: Decimal(600),
    Standard.Name.VEHICLE_LIMIT: Decimal(10_000_000),
    Standard.Name.BUSINESS_LIMIT: Decimal(100_000_000),
    Standard.Name.HOUSING_LIMIT: Decimal(20),
}


def _decimal(text: Any, field: str) -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation as exc:
        raise ValidationError({field: _("Enter a number.")}) from exc
    if not value.is_finite():
        raise ValidationError({field: _("Enter a number.")})
    return value


def _region(code: str) -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise ValidationError({"region": _("No such region.")})
    return region


@transaction.atomic
def standard_add(
    *,
    actor: User,
    name: str,
    region_code: str,
    area_type: str,
    value: Any,
    valid_from: datetime.date,
    reason: str,
) -> Standard:
    """A new value of a standard for an area from a date. The previous rows stay."""
    region = _region(region_code)
    require_perm(actor, Perm.MANAGE_STANDARDS, region.code)
    errors: dict[str, str] = {}
    if name not in Standard.Name.values:
        errors["name"] = _("Choose a standard.")
    if area_type not in ("", *AreaType.values):
        errors["area_type"] = _("Choose urban, rural or both.")
    if not reason.strip():
        errors["reason"] = _("Say where the new value comes from (the document that sets it).")
    if errors:
        raise ValidationError(errors)
    amount = _decimal(value, "value")
    if amount < 0 or amount > STANDARD_MAXIMA[name]:
        raise ValidationError(
            {
                "value": _("The value must be between 0 and %(max)s.")
                % {"max": STANDARD_MAXIMA[name]}
            }
        )
    standard = Standard.objects.create(
        name=name,
        region=region,
        area_type=area_type,
        value=amount,
        valid_from=valid_from,
        reason=reason.strip()[:200],
        set_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="applications.standard",
        object_id=standard.pk,
        region_code=region.code,
        detail={
            "name": name,
            "area_type": area_type,
            "value": format(amount, "f"),
            "valid_from": valid_from.isoformat(),
            "reason": standard.reason,
        },
    )
    return standard


@transaction.atomic
def assistance_kind_add(
    *,
    actor: User,
    region_code: str,
    code: str,
    name_zh: str,
    name_en: str,
    category: str,
    income_test: str,
    amount_rule: str,
    amount_parameters: dict[str, Any],
    required_documents: Sequence[str] = (),
    review_months: int = 12,
    decision_days: int = 30,
    disclosure_days: int = 7,
) -> AssistanceKind:
    """A kind of help a county (or city) adds, e.g. 困难残疾人生活补贴: offered from then on
    in its area only."""
    region = _region(region_code)
    require_perm(actor, Perm.MANAGE_STANDARDS, region.code)
    errors: dict[str, str] = {}
    code = code.strip().lower()
    if not code or not code.replace("_", "").isalnum() or not code.isascii():
        errors["code"] = _("Use lower-case letters, digits and underscores.")
    elif AssistanceKind.objects.filter(code=code).exists():
        errors["code"] = _("A kind with this code exists already.")
    if not name_zh.strip():
        errors["name_zh"] = _("Enter the Chinese name.")
    if category not in Category.values:
        errors["category"] = _("Choose a category.")
    if income_test not in AssistanceKind.IncomeTest.values:
        errors["income_test"] = _("Choose an economic test.")
    if amount_rule not in AssistanceKind.AmountRule.values:
        errors["amount_rule"] = _("Choose an amount rule.")
    unknown = [d for d in required_documents if d not in Document.Kind.values]
    if unknown:
        errors["required_documents"] = _("Unknown document kinds: %(kinds)s") % {
            "kinds": ", ".join(unknown)
        }
    for field, number, low, high in (
        ("review_months", review_months, 1, 60),
        ("decision_days", decision_days, 1, 90),
        ("disclosure_days", disclosure_days, 0, 30),
    ):
        if not low <= number <= high:
            errors[field] = _("Between %(low)s and %(high)s.") % {"low": low, "high": high}
    parameters = _amount_parameters(amount_rule, amount_parameters, errors)
    if errors:
        raise ValidationError(errors)
    kind = AssistanceKind.objects.create(
        code=code,
        name_zh=name_zh.strip()[:50],
        name_en=(name_en.strip() or code)[:80],
        category=category,
        income_test=income_test,
        amount_rule=amount_rule,
        amount_parameters=parameters,
        required_documents=list(dict.fromkeys(required_documents)),
        review_months=review_months,
        review_months_with_workers=min(review_months, 6),
        decision_days=decision_days,
        disclosure_days=disclosure_days,
        region=region,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="applications.assistance_kind",
        object_id=kind.pk,
        region_code=region.code,
        detail={"code": code, "amount_rule": amount_rule, "parameters": parameters},
    )
    return kind


# Which parameter each amount rule needs.
RULE_PARAMETER = {
    AssistanceKind.AmountRule.GAP_TO_STANDARD: "floor",
    AssistanceKind.AmountRule.FACTOR_OF_STANDARD: "factor",
    AssistanceKind.AmountRule.FIXED_MONTHLY: "monthly",
    AssistanceKind.AmountRule.ONE_OFF: "max",
}


def _amount_parameters(rule: str, given: dict[str, Any], errors: dict[str, str]) -> dict[str, str]:
    key = RULE_PARAMETER.get(rule)  # type: ignore[call-overload]
    if key is None:
        return {}
    raw = str(given.get(key, "")).strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors["amount_parameters"] = _("Enter the amount rule's figure.")
        return {}
    if not value.is_finite() or value < 0 or value > 100_000:
        errors["amount_parameters"] = _("Enter the amount rule's figure.")
        return {}
    return {key: format(value, "f")}


@transaction.atomic
def assistance_kind_set_active(*, actor: User, kind: AssistanceKind, active: bool) -> None:
    """Stop (or resume) offering a county's own kind; built-in kinds stay."""
    if kind.is_builtin or kind.region_id is None:
        raise ValidationError(_("National kinds of help cannot be switched off."))
    require_perm(actor, Perm.MANAGE_STANDARDS, kind.region_id)
    kind.is_active = active
    kind.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="applications.assistance_kind",
        object_id=kind.pk,
        region_code=kind.region_id,
        detail={"active": active},
    )
