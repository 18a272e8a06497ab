"""What the services app's writes share: permission checks, parsing of typed figures,
and the revision rows that keep the configuration's history."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.services.models import ConfigRevision


def require_config_perm(actor: User | None, perm: Perm, region_code: str | None) -> None:
    """Configuration of a region (a county's own item or rule): the admin's area must cover
    it. Defaults (no region) are shared by the whole installation: any admin with the right
    may edit them (docs/services.md)."""
    if actor is None or not user_has_perm(actor, perm):
        raise PermissionDenied(_("You may not change this configuration."))
    if region_code and not (actor.region_id and region_code.startswith(actor.region_id)):
        raise PermissionDenied(_("You may not change this configuration."))


def decimal_in(
    value: Any,
    field: str,
    *,
    low: Decimal,
    high: Decimal,
    low_inclusive: bool = True,
    places: int = 2,
) -> Decimal:
    """A typed number checked against its range; the message says what is wrong."""
    text = str(value).strip().replace(",", "").replace("，", "")
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValidationError({field: _("Enter a number.")}) from exc
    if not number.is_finite():
        raise ValidationError({field: _("Enter a number.")})
    if number < 0 and low >= 0:
        raise ValidationError({field: _("The figure cannot be negative.")})
    if number < low or (number == low and not low_inclusive) or number > high:
        if low_inclusive:
            message = _("Enter a figure between %(low)s and %(high)s.")
        else:
            message = _("Enter a figure above %(low)s and at most %(high)s.")
        raise ValidationError({field: message % {"low": low, "high": high}})
    if -number.as_tuple().exponent > places:  # type: ignore[operator]
        raise ValidationError({field: _("At most %(places)s decimal places.") % {"places": places}})
    return number


def revision_add(
    *,
    kind: str,
    object_id: int,
    number: int,
    data: dict[str, Any],
    changes: dict[str, Any],
    reason: str,
    actor: User | None,
) -> ConfigRevision:
    return ConfigRevision.objects.create(
        kind=kind,
        object_id=object_id,
        number=number,
        data=data,
        changes=changes,
        reason=reason.strip()[:200],
        changed_by=actor if actor is not None and actor.pk else None,
    )


def change_record(
    *,
    actor: User | None,
    kind: str,
    object_type: str,
    obj: Any,
    data: dict[str, Any],
    changes: dict[str, Any],
    reason: str,
    action: str,
) -> None:
    """A change of a catalogue item or an entitlement rule (``obj``: code, region_id,
    revision): its revision row with the whole new state, and the audit entry."""
    revision_add(
        kind=kind,
        object_id=obj.pk,
        number=obj.revision,
        data=data,
        changes=changes,
        reason=reason,
        actor=actor,
    )
    audit_record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=obj.pk,
        region_code=obj.region_id or "",
        detail={"code": obj.code, "revision": obj.revision, "changes": changes},
    )


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """field → [old, new] for every field that differs."""
    return {key: [old.get(key), value] for key, value in new.items() if old.get(key) != value}
