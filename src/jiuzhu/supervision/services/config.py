"""A county's supervision settings: the traffic-light thresholds, the minimum volume to
judge, the revisit sampling rate and minimums, and the days a provider has to rectify.

Only ``DECIDE_LIGHTS`` (the county administrator) changes them; every change is audited
with each changed value as [old, new]."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.services import audit_record
from jiuzhu.regions.models import Level, Region
from jiuzhu.supervision import light_selectors as sel
from jiuzhu.supervision.lights import DEFAULT_THRESHOLDS
from jiuzhu.supervision.models import SupervisionConfig

MAX_MINIMUM = 100_000
MAX_RECTIFICATION_DAYS = 365


@dataclass
class ConfigFields:
    """The settings as typed. ``bounds`` maps a figure to its (green, red) bounds."""

    min_volume: Any = ""
    bounds: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    revisit_rate: Any = ""
    revisit_minimum: Any = ""
    phone_minimum: Any = ""
    rectification_days: Any = ""


def plain(number: Decimal) -> str:
    """0.90 → "0.9", 5.0 → "5": the same bound always written the same way."""
    return format(number.normalize(), "f")


def config_snapshot(config: SupervisionConfig) -> dict[str, Any]:
    """The settings as plain values (bounds merged over the defaults), for audits and
    forms."""
    thresholds = sel.thresholds_of(config)
    snapshot: dict[str, Any] = {
        "min_volume": config.min_volume,
        "revisit_rate": str(Decimal(config.revisit_rate).quantize(Decimal("0.0001"))),
        "revisit_minimum": config.revisit_minimum,
        "phone_minimum": config.phone_minimum,
        "rectification_days": config.rectification_days,
    }
    for name, bound in thresholds.bounds.items():
        snapshot[f"{name}_green"] = plain(bound.green)
        snapshot[f"{name}_red"] = plain(bound.red)
    return snapshot


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _whole(value: Any, errors: dict[str, list[str]], name: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        errors.setdefault(name, []).append(_("Enter a whole number."))
        return 0
    if not low <= number <= high:
        errors.setdefault(name, []).append(
            _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}
        )
    return number


def _bounds_clean(
    given: Mapping[str, tuple[Any, Any]], errors: dict[str, list[str]]
) -> dict[str, dict[str, str]]:
    cleaned: dict[str, dict[str, str]] = {}
    for name, default in DEFAULT_THRESHOLDS.bounds.items():
        green_text, red_text = given.get(name, (default.green, default.red))
        green, red = _decimal(green_text), _decimal(red_text)
        if green is None:
            errors.setdefault(f"{name}_green", []).append(_("Enter a number."))
        if red is None:
            errors.setdefault(f"{name}_red", []).append(_("Enter a number."))
        if green is None or red is None:
            continue
        low, high = (Decimal(1), Decimal(5)) if name == "satisfaction" else (Decimal(0), Decimal(1))
        bad_range = False
        for key, value in ((f"{name}_green", green), (f"{name}_red", red)):
            if not low <= value <= high:
                bad_range = True
                errors.setdefault(key, []).append(
                    _("Satisfaction bounds are from 1 to 5.")
                    if name == "satisfaction"
                    else _("Rates are from 0 to 1 (0.9 is 90 %).")
                )
        if bad_range:
            continue
        better = green > red if default.higher_is_better else green < red
        if not better:
            errors.setdefault(f"{name}_green", []).append(
                _("The green bound must be better than the red bound (higher).")
                if default.higher_is_better
                else _("The green bound must be better than the red bound (lower).")
            )
            continue
        cleaned[name] = {"green": plain(green), "red": plain(red)}
    return cleaned


@transaction.atomic
def config_update(*, actor: User, county_code: str, fields: ConfigFields) -> SupervisionConfig:
    """Store the county's settings; refused with a message per field when a value is out
    of range or a green bound is not better than its red bound."""
    if not sel.may_decide_county(actor, county_code):
        raise PermissionDenied(_("You may not change the supervision settings of this county."))
    county = Region.objects.filter(code=county_code, level=Level.COUNTY).first()
    if county is None:
        raise ValidationError({"county": _("Choose a county.")})
    errors: dict[str, list[str]] = {}
    min_volume = _whole(fields.min_volume, errors, "min_volume", 1, MAX_MINIMUM)
    bounds = _bounds_clean(fields.bounds, errors)
    revisit_rate = _decimal(fields.revisit_rate)
    if revisit_rate is None:
        errors.setdefault("revisit_rate", []).append(_("Enter a number."))
    elif not Decimal(0) < revisit_rate <= Decimal(1):
        errors.setdefault("revisit_rate", []).append(
            _("The revisit rate is more than 0 and at most 1 (0.05 is 5 %).")
        )
    elif revisit_rate != revisit_rate.quantize(Decimal("0.0001")):
        errors.setdefault("revisit_rate", []).append(_("At most four decimal places."))
    revisit_minimum = _whole(fields.revisit_minimum, errors, "revisit_minimum", 0, MAX_MINIMUM)
    phone_minimum = _whole(fields.phone_minimum, errors, "phone_minimum", 0, MAX_MINIMUM)
    days = _whole(
        fields.rectification_days, errors, "rectification_days", 1, MAX_RECTIFICATION_DAYS
    )
    if errors:
        raise ValidationError(errors)
    config = SupervisionConfig.objects.select_for_update().filter(region=county).first()
    created = config is None
    if config is None:
        config = SupervisionConfig(region=county)
    before = config_snapshot(config)
    config.min_volume = min_volume
    config.bounds = bounds
    config.revisit_rate = revisit_rate  # type: ignore[assignment]
    config.revisit_minimum = revisit_minimum
    config.phone_minimum = phone_minimum
    config.rectification_days = days
    config.updated_by = actor
    after = config_snapshot(config)
    changes = {key: [before[key], value] for key, value in after.items() if before[key] != value}
    if not changes and not created:
        raise ValidationError(_("Nothing was changed."))
    config.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        object_type="supervision.config",
        object_id=config.pk,
        region_code=county.code,
        detail={"changes": changes},
    )
    return config
