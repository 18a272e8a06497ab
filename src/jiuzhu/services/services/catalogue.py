"""Writes of the service catalogue: items a county admin adds, edits, retires; the default
catalogue's installation. Every version is a ConfigRevision row and an audit row."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.regions.models import Region
from jiuzhu.services import choices as c
from jiuzhu.services.defaults import install
from jiuzhu.services.models import ConfigRevision, EntitlementRule, ServiceItem
from jiuzhu.services.services.common import (
    change_record,
    decimal_in,
    diff,
    require_config_perm,
    revision_add,
)

CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
MAX_STEPS = 20
PRICE_MAX = Decimal(100_000)


@dataclass
class ItemFields:
    """What a county admin types for an item (raw: the service validates it)."""

    name_zh: str = ""
    name_en: str = ""
    category: str = ""
    tier: str = ""
    unit: str = ""
    price: Any = ""
    hours_per_unit: Any = "1"
    description: str = ""
    target_groups: Sequence[str] = ()
    indicators: Sequence[str] = ()
    steps: Sequence[tuple[str, str]] = field(default_factory=list)


def steps_from_text(text: str) -> list[tuple[str, str]]:
    """One step a line: ``action | requirement`` (also ``｜`` or the first ``：``)."""
    steps = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        for separator in ("|", "｜", "：", ":"):
            if separator in line:
                action, requirement = line.split(separator, 1)
                break
        else:
            action, requirement = line, ""
        steps.append((action.strip(), requirement.strip()))
    return steps


def steps_to_text(steps: Sequence[dict[str, str]]) -> str:
    return "\n".join(
        f"{s['action']} | {s['requirement']}" if s.get("requirement") else s["action"]
        for s in steps
    )


def known_indicators() -> set[str]:
    """Indicator codes an item may name: the assessment contract's and any indicator of
    an instrument a county has defined (read through the assessment app's selectors)."""
    from jiuzhu.services.selectors import indicator_catalogue

    return set(indicator_catalogue())


def _clean(fields: ItemFields) -> dict[str, Any]:
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    data["name_zh"] = fields.name_zh.strip()[:60]
    if not data["name_zh"]:
        errors["name_zh"] = _("Enter the Chinese name.")
    data["name_en"] = fields.name_en.strip()[:100]
    for name, choices, message in (
        ("category", c.Category, _("Choose a category.")),
        ("tier", c.Tier, _("Choose a tier.")),
        ("unit", c.Unit, _("Choose a unit.")),
    ):
        value = getattr(fields, name)
        if value not in choices.values:
            errors[name] = message
        data[name] = value
    for name, low, high, inclusive in (
        ("price", Decimal(0), PRICE_MAX, True),
        ("hours_per_unit", Decimal(0), Decimal(24), False),
    ):
        try:
            data[name] = format(
                decimal_in(
                    getattr(fields, name), name, low=low, high=high, low_inclusive=inclusive
                ),
                "f",
            )
        except ValidationError as exc:
            errors[name] = exc.message_dict[name][0]
    data["description"] = fields.description.strip()[:2000]
    groups = list(dict.fromkeys(fields.target_groups))
    unknown_groups = [g for g in groups if g not in c.TargetGroup.values]
    if unknown_groups:
        errors["target_groups"] = _("Unknown groups: %(codes)s") % {
            "codes": ", ".join(unknown_groups)
        }
    data["target_groups"] = groups
    indicators = list(dict.fromkeys(fields.indicators))
    if not indicators:
        errors["indicators"] = _("Choose at least one indicator the item helps with.")
    else:
        unknown = sorted(set(indicators) - known_indicators())
        if unknown:
            errors["indicators"] = _("Unknown indicators: %(codes)s") % {
                "codes": ", ".join(unknown)
            }
    data["indicators"] = indicators
    steps = [{"action": a.strip()[:100], "requirement": r.strip()[:300]} for a, r in fields.steps]
    if not steps:
        errors["steps"] = _("Write the standard procedure: at least one step.")
    elif len(steps) > MAX_STEPS:
        errors["steps"] = _("At most %(n)s steps.") % {"n": MAX_STEPS}
    elif any(not s["action"] for s in steps):
        errors["steps"] = _("Every step needs what to do.")
    data["steps"] = steps
    if errors:
        raise ValidationError(errors)
    return data


def item_snapshot(item: ServiceItem) -> dict[str, Any]:
    return {
        "code": item.code,
        "name_zh": item.name_zh,
        "name_en": item.name_en,
        "category": item.category,
        "tier": item.tier,
        "unit": item.unit,
        "price": format(Decimal(item.price).quantize(Decimal("0.01")), "f"),
        "hours_per_unit": format(Decimal(item.hours_per_unit).quantize(Decimal("0.01")), "f"),
        "description": item.description,
        "target_groups": list(item.target_groups),
        "indicators": list(item.indicators),
        "steps": list(item.steps),
        "region": item.region_id,
        "is_active": item.is_active,
    }


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    for name in ("price", "hours_per_unit"):
        data[name] = format(Decimal(data[name]).quantize(Decimal("0.01")), "f")
    return data


@transaction.atomic
def service_item_create(
    *, actor: User, region_code: str, code: str, fields: ItemFields, reason: str = ""
) -> ServiceItem:
    """A county's own item (offered in that county only)."""
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        raise ValidationError({"region": _("No such region.")})
    require_config_perm(actor, Perm.MANAGE_CATALOGUE, region.code)
    code = code.strip().lower()
    errors: dict[str, Any] = {}
    if not CODE.match(code):
        errors["code"] = _(
            "Use 2–40 lower-case letters, digits and underscores, starting with a letter."
        )
    elif ServiceItem.objects.filter(code=code).exists():
        errors["code"] = _("An item with this code exists already.")
    try:
        data = _normalise(_clean(fields))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    item = ServiceItem.objects.create(code=code, region=region, **data)
    revision_add(
        kind=ConfigRevision.Kind.ITEM,
        object_id=item.pk,
        number=1,
        data=item_snapshot(item),
        changes={},
        reason=reason or _("created"),
        actor=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="services.service_item",
        object_id=item.pk,
        region_code=region.code,
        detail={"code": code, "price": data["price"], "unit": data["unit"]},
    )
    return item


@transaction.atomic
def service_item_update(
    *, actor: User, item: ServiceItem, fields: ItemFields, reason: str
) -> ServiceItem:
    """A new version of an item. Plans already made keep the price they were made with."""
    require_config_perm(actor, Perm.MANAGE_CATALOGUE, item.region_id)
    item = ServiceItem.objects.select_for_update().get(pk=item.pk)
    data = _normalise(_clean(fields))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the item changes.")})
    before = item_snapshot(item)
    changes = diff(before, data)
    if not changes:
        raise ValidationError(_("Nothing was changed."))
    for name, value in data.items():
        setattr(item, name, value)
    item.revision += 1
    item.save()
    _record(actor, item, changes, reason, AuditAction.UPDATE)
    return item


@transaction.atomic
def service_item_set_active(
    *, actor: User, item: ServiceItem, active: bool, reason: str
) -> ServiceItem:
    """Retire an item (no longer offered for new choices) or offer it again. Items are
    never deleted once a plan used them; plans that chose it keep it."""
    require_config_perm(actor, Perm.MANAGE_CATALOGUE, item.region_id)
    item = ServiceItem.objects.select_for_update().get(pk=item.pk)
    if item.is_active == active:
        raise ValidationError(_("Nothing was changed."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why.")})
    item.is_active = active
    item.revision += 1
    item.save(update_fields=["is_active", "revision", "updated_at"])
    _record(actor, item, {"is_active": [not active, active]}, reason, AuditAction.UPDATE)
    return item


@transaction.atomic
def service_item_delete(*, actor: User, item: ServiceItem) -> None:
    """Delete a county's own item that no plan has used (a mistake); anything else can
    only be retired."""
    from jiuzhu.services.models import PlanItem

    require_config_perm(actor, Perm.MANAGE_CATALOGUE, item.region_id)
    if item.is_builtin or item.region_id is None:
        raise ValidationError(_("Default items cannot be deleted; retire them instead."))
    if PlanItem.objects.filter(item=item).exists():
        raise ValidationError(_("A plan has used this item: retire it instead."))
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        object_type="services.service_item",
        object_id=item.pk,
        region_code=item.region_id or "",
        detail={"code": item.code, "last": item_snapshot(item)},
    )
    item.delete()


def _record(
    actor: User | None, item: ServiceItem, changes: dict[str, Any], reason: str, action: str
) -> None:
    change_record(
        actor=actor,
        kind=ConfigRevision.Kind.ITEM,
        object_type="services.service_item",
        obj=item,
        data=item_snapshot(item),
        changes=changes,
        reason=reason,
        action=action,
    )


@transaction.atomic
def defaults_install() -> int:
    """Add every default item and entitlement rule that is missing (by code); never
    changes an existing one. Returns how many were added."""
    return install(ServiceItem, EntitlementRule, ConfigRevision)
