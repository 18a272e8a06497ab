"""Writes of the directory (issue 6, part 1): providers, their contracts and staff
accounts; volunteers and donors who register themselves and are verified by the bureau.

Every change is audited (``accounts.services.audit_record``) with what changed; a person's
name, ID number or phone never goes into the audit detail, only the field's name.
Who may do what:

- the bureau (``Perm.MANAGE_PROVIDERS``) for providers registered in its area: create and
  edit providers and contracts, create and deactivate staff accounts, verify and
  suspend volunteers of its area;
- a provider's own manager: add and deactivate care workers of that provider;
- anyone, without signing in: register as a volunteer or donor (pending until verified).
"""

from __future__ import annotations

import datetime
import re
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from stdnum.cn import uscc

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm, Role
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.accounts.services import audit_record, client_ip, user_create
from jiuzhu.core.crypto import field_cipher
from jiuzhu.core.idnumbers import InvalidIdNumber, normalise_phone, parse_id_number
from jiuzhu.regions.models import Level, Region
from jiuzhu.registry.protected import (
    id_number_index,
    protect_id_number,
    protect_phone,
    reveal_id_number,
    reveal_phone,
)
from jiuzhu.services import choices as c
from jiuzhu.services.directory_selectors import (
    may_manage_region,
    member_of_user,
)
from jiuzhu.services.models import (
    ContractItem,
    Provider,
    ProviderContract,
    ProviderMember,
    ServiceItem,
    Volunteer,
)
from jiuzhu.services.selectors import available_in
from jiuzhu.services.services.common import decimal_in

# GB 32100: registering authority (1–9, A, N, Y), entity type, the six-digit region, the
# nine-character organisation code, the check character. I, O, Z, S and V never occur.
USCC_PATTERN = re.compile(r"[1-9ANY][1-9][0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")
PRICE_MAX = Decimal(100_000)
CAPACITY_MAX = 10_000
TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
# Registration attempts from one connection in an hour: a person registers once; more is
# a script guessing ID numbers (a refusal says a number is registered already).
REGISTER_ATTEMPTS_PER_HOUR = 10


def _require_bureau(actor: User | None, region_code: str) -> User:
    if actor is None or not may_manage_region(actor, region_code):
        raise PermissionDenied(_("You may not manage providers of this area."))
    return actor


def _audit(
    actor: User | None,
    action: str,
    object_type: str,
    object_id: Any,
    region_code: str,
    detail: dict[str, Any],
    request: HttpRequest | None = None,
) -> None:
    audit_record(
        actor=actor,
        action=action,
        request=request,
        object_type=object_type,
        object_id=object_id,
        region_code=region_code,
        detail=detail,
    )


def _changes(before: dict[str, Any], after: dict[str, Any], private: set[str]) -> dict[str, Any]:
    """field → [old, new]; for a person's data only that it changed."""
    changed = {}
    for key, value in after.items():
        if before.get(key) != value:
            changed[key] = "changed" if key in private else [before.get(key), value]
    return changed


# --- checks shared by the forms --------------------------------------------------------------


def credit_code_clean(value: str) -> str:
    """A unified social credit code (统一社会信用代码) typed by a user: '' or the 18
    characters, upper case, with a correct check character (GB 32100)."""
    code = uscc.compact(value or "")
    if not code:
        return ""
    if len(code) != 18:
        raise ValidationError(
            {"credit_code": _("The unified social credit code has 18 characters.")}
        )
    if not USCC_PATTERN.fullmatch(code):
        raise ValidationError(
            {"credit_code": _("This is not a unified social credit code (wrong characters).")}
        )
    if code[17] != uscc.calc_check_digit(code):
        raise ValidationError(
            {"credit_code": _("The check character of the unified social credit code is wrong.")}
        )
    return code


def coordinates_clean(lat: Any, lon: Any) -> tuple[Decimal | None, Decimal | None]:
    """Both or neither, WGS-84 degrees, kept to six places (about 0.1 m)."""
    texts = [str(v if v is not None else "").strip() for v in (lat, lon)]
    if not any(texts):
        return None, None
    if not all(texts):
        raise ValidationError({"lat": _("Give both latitude and longitude, or neither.")})
    values: list[Decimal] = []
    for name, text, limit in (("lat", texts[0], 90), ("lon", texts[1], 180)):
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise ValidationError({name: _("Enter the coordinate in degrees.")}) from exc
        if not number.is_finite() or not -limit <= number <= limit:
            raise ValidationError(
                {
                    name: _("A coordinate between -%(limit)s and %(limit)s degrees.")
                    % {"limit": limit}
                }
            )
        values.append(number.quantize(Decimal("0.000001")))
    return values[0], values[1]


def _region(code: str, levels: Sequence[Level], field_name: str) -> Region:
    region = Region.objects.filter(code=(code or "").strip()).first()
    if region is None or region.level not in levels:
        raise ValidationError({field_name: _("Choose an area from the list.")})
    return region


def _phone(value: str, field_name: str, *, required: bool) -> str:
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationError({field_name: _("Enter a phone number.")})
        return ""
    try:
        normalise_phone(text)
    except ValueError as exc:
        raise ValidationError({field_name: _("Enter a valid phone number.")}) from exc
    return text


def _collect(errors: dict[str, list[str]], exc: ValidationError) -> None:
    for key, messages in exc.message_dict.items():
        errors.setdefault(key, []).extend(messages)


# --- providers -------------------------------------------------------------------------------


@dataclass
class ProviderFields:
    """What the bureau types for a provider (raw: the service checks it)."""

    name: str = ""
    kind: str = ""
    region_code: str = ""
    credit_code: str = ""
    description: str = ""
    contact_name: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    address: str = ""
    lat: Any = ""
    lon: Any = ""


PROVIDER_PRIVATE = {"contact_name"}  # a person's name: audited as "changed" only


def _provider_clean(fields: ProviderFields) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {}
    data["name"] = fields.name.strip()[:100]
    if len(data["name"]) < 2:
        errors["name"] = [_("Enter the organisation's registered name.")]
    if fields.kind not in c.ProviderKind.values:
        errors["kind"] = [_("Choose the kind of organisation.")]
    data["kind"] = fields.kind
    checks = [
        ("credit_code", lambda: credit_code_clean(fields.credit_code)),
        ("phone", lambda: _phone(fields.phone, "phone", required=False)),
        (
            "region_id",
            lambda: _region(fields.region_code, (Level.COUNTY, Level.TOWN), "region").code,
        ),
    ]
    for name, check in checks:
        try:
            data[name] = check()
        except ValidationError as exc:
            _collect(errors, exc)
    data["email"] = fields.email.strip()[:254]
    if data["email"]:
        try:
            validate_email(data["email"])
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
    data["website"] = fields.website.strip()[:200]
    if data["website"]:
        try:
            URLValidator(schemes=["http", "https"])(data["website"])
        except ValidationError:
            errors["website"] = [_("Enter the website's address, starting with https://.")]
    try:
        data["lat"], data["lon"] = coordinates_clean(fields.lat, fields.lon)
    except ValidationError as exc:
        _collect(errors, exc)
    data["description"] = fields.description.strip()[:4000]
    data["contact_name"] = fields.contact_name.strip()[:50]
    data["address"] = fields.address.strip()[:200]
    if errors:
        raise ValidationError(errors)
    return data


def provider_snapshot(provider: Provider) -> dict[str, Any]:
    return {
        "name": provider.name,
        "kind": provider.kind,
        "region_id": provider.region_id,
        "credit_code": provider.credit_code,
        "description": provider.description,
        "contact_name": provider.contact_name,
        "phone": provider.phone,
        "email": provider.email,
        "website": provider.website,
        "address": provider.address,
        "lat": None if provider.lat is None else format(Decimal(provider.lat), "f"),
        "lon": None if provider.lon is None else format(Decimal(provider.lon), "f"),
    }


def _comparable(data: dict[str, Any]) -> dict[str, Any]:
    return {
        **data,
        "lat": None if data["lat"] is None else format(data["lat"], "f"),
        "lon": None if data["lon"] is None else format(data["lon"], "f"),
    }


def _credit_code_taken(code: str, exclude: int | None = None) -> bool:
    if not code:
        return False
    others = Provider.objects.filter(credit_code=code)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    return others.exists()


CREDIT_CODE_TAKEN = gettext_noop(
    "A provider with this unified social credit code is registered already."
)


@transaction.atomic
def provider_create(*, actor: User, fields: ProviderFields) -> Provider:
    data = _provider_clean(fields)
    _require_bureau(actor, data["region_id"])
    if _credit_code_taken(data["credit_code"]):
        raise ValidationError({"credit_code": _(CREDIT_CODE_TAKEN)})
    try:
        with transaction.atomic():
            provider = Provider.objects.create(created_by=actor, **data)
    except IntegrityError as exc:  # the same code registered at the same moment
        raise ValidationError({"credit_code": _(CREDIT_CODE_TAKEN)}) from exc
    _audit(
        actor,
        AuditAction.CREATE,
        "services.provider",
        provider.pk,
        provider.region_id,
        {"name": provider.name, "kind": provider.kind, "credit_code": provider.credit_code},
    )
    return provider


@transaction.atomic
def provider_update(*, actor: User, provider: Provider, fields: ProviderFields) -> Provider:
    """Edit a provider; moving it to another region needs both in the actor's area. The
    traffic light and the rating are not edited here (supervision and ratings own them)."""
    _require_bureau(actor, provider.region_id)
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    data = _provider_clean(fields)
    _require_bureau(actor, data["region_id"])
    if _credit_code_taken(data["credit_code"], exclude=provider.pk):
        raise ValidationError({"credit_code": _(CREDIT_CODE_TAKEN)})
    changes = _changes(provider_snapshot(provider), _comparable(data), PROVIDER_PRIVATE)
    if not changes:
        raise ValidationError(_("Nothing was changed."))
    for name, value in data.items():
        setattr(provider, name, value)
    try:
        with transaction.atomic():
            provider.save()
    except IntegrityError as exc:
        raise ValidationError({"credit_code": _(CREDIT_CODE_TAKEN)}) from exc
    _audit(
        actor,
        AuditAction.UPDATE,
        "services.provider",
        provider.pk,
        provider.region_id,
        {"changes": changes},
    )
    return provider


@transaction.atomic
def provider_set_active(*, actor: User, provider: Provider, active: bool, reason: str) -> Provider:
    """An inactive provider receives no orders and disappears from the public directory;
    its contracts and history stay."""
    _require_bureau(actor, provider.region_id)
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    if provider.is_active == active:
        raise ValidationError(_("Nothing was changed."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why.")})
    provider.is_active = active
    provider.save(update_fields=["is_active", "updated_at"])
    _audit(
        actor,
        AuditAction.UPDATE,
        "services.provider",
        provider.pk,
        provider.region_id,
        {"changes": {"is_active": [not active, active]}, "reason": reason.strip()[:200]},
    )
    return provider


@transaction.atomic
def provider_set_light(
    *, provider: Provider, light: str, reason: str, actor: User | None = None
) -> Provider:
    """Copy the light supervision decided (supervision keeps the decision and its
    history; this is the one column dispatch reads). ``actor`` None: the monthly
    scorecard run decided it."""
    if light not in c.Light.values:
        raise ValidationError({"light": _("Unknown traffic light.")})
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    if provider.light == light:
        return provider
    before = provider.light
    provider.light = light
    provider.save(update_fields=["light", "updated_at"])
    _audit(
        actor,
        AuditAction.UPDATE,
        "services.provider",
        provider.pk,
        provider.region_id,
        {"changes": {"light": [before, light]}, "reason": reason.strip()[:200]},
    )
    return provider


# --- contracts -------------------------------------------------------------------------------


@dataclass
class ContractFields:
    """A contract as typed: ``items`` maps a catalogue item's id to its price ("" for the
    catalogue's price)."""

    number: str = ""
    capacity_per_day: Any = ""
    valid_from: datetime.date | None = None
    valid_to: datetime.date | None = None
    budget: Any = ""
    note: str = ""
    areas: Sequence[str] = ()
    items: Mapping[int, Any] = field(default_factory=dict)


def contract_items_offered(provider: Provider) -> list[ServiceItem]:
    """Items a contract of this provider may include: the active catalogue of its region."""
    return list(
        ServiceItem.objects.filter(available_in(provider.region_id), is_active=True).order_by(
            "category", "tier", "code"
        )
    )


def _contract_clean(
    actor: User, provider: Provider, fields: ContractFields, keep: set[int]
) -> dict[str, Any]:
    """``keep``: items already under the contract, which may stay even if retired since."""
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {"number": fields.number.strip()[:40]}
    if not data["number"]:
        errors["number"] = [_("Enter the contract number.")]
    text = str(fields.capacity_per_day).strip()
    if not text.isdigit() or not 1 <= int(text) <= CAPACITY_MAX:
        errors["capacity_per_day"] = [
            _("Orders per day: a whole number from 1 to %(max)s.") % {"max": CAPACITY_MAX}
        ]
    else:
        data["capacity_per_day"] = int(text)
    if fields.valid_from is None:
        errors["valid_from"] = [_("Enter the first day of the contract.")]
    if fields.valid_to is None:
        errors["valid_to"] = [_("Enter the last day of the contract.")]
    if fields.valid_from and fields.valid_to and fields.valid_to < fields.valid_from:
        errors["valid_to"] = [_("The contract cannot end before it starts.")]
    data["valid_from"], data["valid_to"] = fields.valid_from, fields.valid_to
    data["budget"] = None
    if str(fields.budget or "").strip():
        try:
            data["budget"] = decimal_in(
                fields.budget, "budget", low=Decimal(0), high=Decimal(10) ** 9
            )
        except ValidationError as exc:
            _collect(errors, exc)
    data["note"] = fields.note.strip()[:2000]
    area = str(actor.region_id or "")
    codes = list(dict.fromkeys(code.strip() for code in fields.areas if code.strip()))
    regions = list(Region.objects.filter(code__in=codes, level__gte=Level.COUNTY))
    if not codes:
        errors["areas"] = [_("Choose at least one area the contract serves.")]
    elif len(regions) != len(codes) or any(not r.code.startswith(area) for r in regions):
        errors["areas"] = [_("Choose areas within your own area.")]
    data["areas"] = regions
    offered = {i.pk: i for i in contract_items_offered(provider)}
    if keep:
        offered.update({i.pk: i for i in ServiceItem.objects.filter(pk__in=keep)})
    items: list[tuple[ServiceItem, Decimal]] = []
    for item_id, raw_price in fields.items.items():
        item = offered.get(int(item_id)) if str(item_id).isdigit() else None
        if item is None:
            errors.setdefault("items", []).append(_("Choose items from the active catalogue."))
            continue
        try:
            price = (
                Decimal(item.price)
                if not str(raw_price or "").strip()
                else decimal_in(raw_price, "items", low=Decimal(0), high=PRICE_MAX)
            )
        except ValidationError as exc:
            errors.setdefault("items", []).append(f"{item.name_zh}: {exc.message_dict['items'][0]}")
            continue
        items.append((item, price))
    if not fields.items:
        errors["items"] = [_("Choose at least one service item.")]
    data["items"] = items
    if errors:
        raise ValidationError({k: list(dict.fromkeys(v)) for k, v in errors.items()})
    return data


def contract_snapshot(contract: ProviderContract) -> dict[str, Any]:
    return {
        "number": contract.number,
        "capacity_per_day": contract.capacity_per_day,
        "valid_from": contract.valid_from.isoformat(),
        "valid_to": contract.valid_to.isoformat(),
        "budget": None if contract.budget is None else format(Decimal(contract.budget), "f"),
        "note": contract.note,
        "areas": sorted(contract.areas.values_list("code", flat=True)),
        "items": {
            ci.item.code: format(Decimal(ci.price).quantize(Decimal("0.01")), "f")
            for ci in contract.items.select_related("item").order_by("item__code")
        },
    }


def _data_snapshot(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": data["number"],
        "capacity_per_day": data["capacity_per_day"],
        "valid_from": data["valid_from"].isoformat(),
        "valid_to": data["valid_to"].isoformat(),
        "budget": None if data["budget"] is None else format(data["budget"], "f"),
        "note": data["note"],
        "areas": sorted(r.code for r in data["areas"]),
        "items": {
            item.code: format(price.quantize(Decimal("0.01")), "f")
            for item, price in sorted(data["items"], key=lambda pair: pair[0].code)
        },
    }


NUMBER_TAKEN = gettext_noop("This provider has a contract with this number already.")


def _save_contract(contract: ProviderContract, data: dict[str, Any]) -> None:
    for name in ("number", "capacity_per_day", "valid_from", "valid_to", "budget", "note"):
        setattr(contract, name, data[name])
    try:
        with transaction.atomic():
            contract.save()
    except IntegrityError as exc:
        raise ValidationError({"number": _(NUMBER_TAKEN)}) from exc
    contract.areas.set(data["areas"])
    wanted = {item.pk: price for item, price in data["items"]}
    contract.items.exclude(item_id__in=wanted).delete()
    existing = {ci.item_id: ci for ci in contract.items.all()}
    for item_id, price in wanted.items():
        row = existing.get(item_id)
        if row is None:
            ContractItem.objects.create(contract=contract, item_id=item_id, price=price)
        elif row.price != price:
            row.price = price
            row.save(update_fields=["price"])


@transaction.atomic
def contract_create(*, actor: User, provider: Provider, fields: ContractFields) -> ProviderContract:
    _require_bureau(actor, provider.region_id)
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    if not provider.is_active:
        raise ValidationError(_("The provider is inactive: reactivate it first."))
    data = _contract_clean(actor, provider, fields, keep=set())
    if ProviderContract.objects.filter(provider=provider, number=data["number"]).exists():
        raise ValidationError({"number": _(NUMBER_TAKEN)})
    contract = ProviderContract(provider=provider, created_by=actor)
    _save_contract(contract, data)
    _audit(
        actor,
        AuditAction.CREATE,
        "services.provider_contract",
        contract.pk,
        provider.region_id,
        {"provider": provider.pk, **contract_snapshot(contract)},
    )
    return contract


@transaction.atomic
def contract_update(
    *, actor: User, contract: ProviderContract, fields: ContractFields, reason: str = ""
) -> ProviderContract:
    """Change a contract in force or suspended; an ended contract is history."""
    _require_bureau(actor, contract.provider.region_id)
    contract = ProviderContract.objects.select_for_update().get(pk=contract.pk)
    if contract.status == c.ContractStatus.ENDED:
        raise ValidationError(_("An ended contract cannot be changed."))
    keep = set(contract.items.values_list("item_id", flat=True))
    data = _contract_clean(actor, contract.provider, fields, keep=keep)
    if (
        ProviderContract.objects.filter(provider_id=contract.provider_id, number=data["number"])
        .exclude(pk=contract.pk)
        .exists()
    ):
        raise ValidationError({"number": _(NUMBER_TAKEN)})
    before = contract_snapshot(contract)
    changes = _changes(before, _data_snapshot(data), set())
    if not changes:
        raise ValidationError(_("Nothing was changed."))
    _save_contract(contract, data)
    _audit(
        actor,
        AuditAction.UPDATE,
        "services.provider_contract",
        contract.pk,
        contract.provider.region_id,
        {"changes": changes, "reason": reason.strip()[:200]},
    )
    return contract


# Which status a contract may move to from which.
CONTRACT_MOVES: dict[str, set[str]] = {
    c.ContractStatus.ACTIVE: {c.ContractStatus.SUSPENDED, c.ContractStatus.ENDED},
    c.ContractStatus.SUSPENDED: {c.ContractStatus.ACTIVE, c.ContractStatus.ENDED},
    c.ContractStatus.ENDED: set(),
}


@transaction.atomic
def contract_set_status(
    *, actor: User, contract: ProviderContract, status: str, reason: str
) -> ProviderContract:
    """Suspend (no new orders until resumed), resume, or end (final) a contract."""
    _require_bureau(actor, contract.provider.region_id)
    contract = ProviderContract.objects.select_for_update().get(pk=contract.pk)
    if status not in CONTRACT_MOVES.get(contract.status, set()):
        raise ValidationError(_("A contract cannot go from this status to that one."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why.")})
    before = contract.status
    contract.status = status
    contract.save(update_fields=["status", "updated_at"])
    _audit(
        actor,
        AuditAction.UPDATE,
        "services.provider_contract",
        contract.pk,
        contract.provider.region_id,
        {"changes": {"status": [before, status]}, "reason": reason.strip()[:200]},
    )
    return contract


def contract_suspend(*, actor: User, contract: ProviderContract, reason: str) -> ProviderContract:
    return contract_set_status(
        actor=actor, contract=contract, status=c.ContractStatus.SUSPENDED, reason=reason
    )


def contract_resume(*, actor: User, contract: ProviderContract, reason: str) -> ProviderContract:
    return contract_set_status(
        actor=actor, contract=contract, status=c.ContractStatus.ACTIVE, reason=reason
    )


def contract_end(*, actor: User, contract: ProviderContract, reason: str) -> ProviderContract:
    return contract_set_status(
        actor=actor, contract=contract, status=c.ContractStatus.ENDED, reason=reason
    )


# --- provider staff --------------------------------------------------------------------------


def one_time_password() -> str:
    """16 characters from all four classes (the password validators' rules), shown once
    to whoever creates the account, never stored in clear."""
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{secrets.choice(string.ascii_uppercase)}{core}{secrets.randbelow(10)}-a"


def _may_manage_staff(actor: User, provider: Provider, *, manager: bool) -> bool:
    """The bureau for anyone; the provider's own manager for its care workers."""
    if may_manage_region(actor, provider.region_id):
        return True
    member = member_of_user(actor)
    return bool(not manager and member and member.is_manager and member.provider_id == provider.pk)


@transaction.atomic
def provider_member_create(
    *,
    actor: User,
    provider: Provider,
    username: str,
    display_name: str,
    is_manager: bool,
) -> tuple[ProviderMember, str]:
    """A staff account (role provider_staff, region: the provider's) and its membership.
    Returns the membership and the one-time password to hand over."""
    if not _may_manage_staff(actor, provider, manager=is_manager):
        raise PermissionDenied(_("You may not add staff to this provider."))
    if not provider.is_active:
        raise ValidationError(_("The provider is inactive: reactivate it first."))
    display_name = display_name.strip()[:50]
    if not display_name:
        raise ValidationError({"display_name": _("Enter the person's name.")})
    password = one_time_password()
    user = user_create(
        username=username.strip(),
        password=password,
        role=Role.PROVIDER_STAFF,
        region_code=provider.region_id,
        display_name=display_name,
        created_by=actor,
    )
    member = ProviderMember.objects.create(provider=provider, user=user, is_manager=is_manager)
    _audit(
        actor,
        AuditAction.CREATE,
        "services.provider_member",
        member.pk,
        provider.region_id,
        {"provider": provider.pk, "username": user.username, "manager": is_manager},
    )
    return member, password


@transaction.atomic
def provider_member_set_active(
    *, actor: User, member: ProviderMember, active: bool
) -> ProviderMember:
    """Deactivating a member also locks the account (no sign-in); reactivating opens it."""
    if not _may_manage_staff(actor, member.provider, manager=member.is_manager):
        raise PermissionDenied(_("You may not change this provider's staff."))
    if member.user_id == actor.pk:
        raise ValidationError(_("You cannot deactivate your own account."))
    member = ProviderMember.objects.select_for_update().select_related("user").get(pk=member.pk)
    if member.is_active == active:
        raise ValidationError(_("Nothing was changed."))
    member.is_active = active
    member.save(update_fields=["is_active"])
    member.user.is_active = active
    member.user.save(update_fields=["is_active"])
    _audit(
        actor,
        AuditAction.UPDATE,
        "services.provider_member",
        member.pk,
        member.provider.region_id,
        {"username": member.user.username, "changes": {"is_active": [not active, active]}},
    )
    return member


# --- volunteers and donors -------------------------------------------------------------------


@dataclass
class VolunteerFields:
    """What a volunteer types about themselves (raw)."""

    phone: str = ""
    region_code: str = ""
    skills: Sequence[str] = ()
    weekdays: Sequence[Any] = ()
    time_from: str = ""
    time_to: str = ""
    lat: Any = ""
    lon: Any = ""


@dataclass
class Registration:
    """The public registration form: who, the account, and the profile."""

    kind: str = c.VolunteerKind.VOLUNTEER
    name: str = ""
    id_number: str = ""
    username: str = ""
    password: str = ""
    consent: bool = False
    profile: VolunteerFields = field(default_factory=VolunteerFields)


def availability_clean(weekdays: Sequence[Any], time_from: str, time_to: str) -> dict[str, Any]:
    """``{"weekdays": [1..7], "from": "HH:MM", "to": "HH:MM"}``, each part optional;
    empty: any time."""
    result: dict[str, Any] = {}
    days = sorted({int(d) for d in weekdays if str(d).isdigit() and 1 <= int(d) <= 7})
    if len(days) != len(set(map(str, weekdays))):
        raise ValidationError({"weekdays": _("Choose days from Monday to Sunday.")})
    if days and len(days) < 7:
        result["weekdays"] = days
    start, end = (time_from or "").strip(), (time_to or "").strip()
    if start or end:
        if not (TIME.match(start) and TIME.match(end)):
            raise ValidationError({"time_from": _("Give both times as hours:minutes, e.g. 09:00.")})
        if start >= end:
            raise ValidationError({"time_to": _("The end time must be after the start time.")})
        result["from"], result["to"] = start, end
    return result


def _profile_clean(profile: VolunteerFields, county_code: str) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {}
    checks = [
        ("phone", lambda: _phone(profile.phone, "phone", required=True)),
        ("region", lambda: _region(profile.region_code, (Level.TOWN, Level.VILLAGE), "region")),
        (
            "availability",
            lambda: availability_clean(profile.weekdays, profile.time_from, profile.time_to),
        ),
        ("coordinates", lambda: coordinates_clean(profile.lat, profile.lon)),
    ]
    for name, check in checks:
        try:
            data[name] = check()
        except ValidationError as exc:
            _collect(errors, exc)
    region = data.get("region")
    if region is not None and not region.code.startswith(county_code):
        errors["region"] = [_("Choose an area from the list.")]
    skills = list(dict.fromkeys(profile.skills))
    if any(s not in c.Skill.values for s in skills):
        errors["skills"] = [_("Choose skills from the list.")]
    data["skills"] = skills
    if errors:
        raise ValidationError(errors)
    return data


def _throttled(request: HttpRequest | None) -> bool:
    """Count an attempt from this connection; True once the hour's allowance is spent.
    The address is kept only as a keyed hash, for an hour, in the cache."""
    address = client_ip(request) or "-"
    key = "jiuzhu:volunteer-register:" + field_cipher().blind_index(
        address, column="services.volunteer.client"
    )
    cache.add(key, 0, 3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, 3600)
        count = 1
    return count > REGISTER_ATTEMPTS_PER_HOUR


DUPLICATE_ID = gettext_noop(
    "This ID number is registered already. Sign in with your account, or ask the "
    "civil-affairs office to help."
)


@transaction.atomic
def volunteer_register(
    *, county_code: str, form: Registration, request: HttpRequest | None = None
) -> Volunteer:
    """A volunteer or donor registers themselves: a user account (role volunteer or
    donor, region: the area they chose) and a pending record the bureau verifies against
    the ID card. One record per ID number (blind index)."""
    if _throttled(request):
        raise ValidationError(
            {"__all__": [_("Too many attempts from this connection; please try again later.")]}
        )
    errors: dict[str, list[str]] = {}
    if form.kind not in c.VolunteerKind.values:
        errors["kind"] = [_("Choose volunteer or donor.")]
    name = form.name.strip()
    if not 2 <= len(name) <= 30:
        errors["name"] = [_("Enter your name as on your ID card.")]
    number = ""
    try:
        number = parse_id_number(form.id_number).number
    except (InvalidIdNumber, ValueError):
        errors["id_number"] = [_("Enter a valid 18-digit ID number.")]
    if number and Volunteer.objects.filter(id_number_index=id_number_index(number)).exists():
        errors["id_number"] = [_(DUPLICATE_ID)]
    data: dict[str, Any] = {}
    try:
        data = _profile_clean(form.profile, county_code)
    except ValidationError as exc:
        _collect(errors, exc)
    username = form.username.strip()
    if not username:
        errors["username"] = [_("Choose a user name to sign in with.")]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("This user name is taken; choose another.")]
    role = Role.DONOR if form.kind == c.VolunteerKind.DONOR else Role.VOLUNTEER
    try:
        validate_password(form.password, User(username=username, role=role))
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if not form.consent:
        errors["consent"] = [
            _("We can only keep your details and pass your needs to you with your agreement.")
        ]
    if errors:
        raise ValidationError(errors)
    region = data["region"]
    try:
        user = user_create(
            username=username,
            password=form.password,
            role=role,
            region_code=region.code,
            display_name=name[:50],
            validate=False,  # checked above, with the messages under "password"
        )
    except ValidationError as exc:
        raise ValidationError({"username": exc.messages}) from exc
    protected_id = protect_id_number(number)
    protected_phone = protect_phone(data["phone"])
    lat, lon = data["coordinates"]
    try:
        with transaction.atomic():
            volunteer = Volunteer.objects.create(
                user=user,
                kind=form.kind,
                name=name,
                id_number_encrypted=protected_id.encrypted,
                id_number_index=protected_id.index,
                id_number_masked=protected_id.masked,
                phone_encrypted=protected_phone.encrypted,
                phone_index=protected_phone.index,
                phone_masked=protected_phone.masked,
                region=region,
                lat=lat,
                lon=lon,
                skills=data["skills"],
                availability=data["availability"],
                status=c.VolunteerStatus.PENDING,
            )
    except IntegrityError as exc:  # the same ID registered at the same moment
        raise ValidationError({"id_number": [_(DUPLICATE_ID)]}) from exc
    _audit(
        user,
        AuditAction.CREATE,
        "services.volunteer",
        volunteer.pk,
        region.code,
        {"kind": form.kind, "id_number": protected_id.masked, "self_registered": True},
        request=request,
    )
    return volunteer


def _volunteer_snapshot(volunteer: Volunteer) -> dict[str, Any]:
    return {
        "phone": volunteer.phone_index,
        "region": volunteer.region_id,
        "skills": list(volunteer.skills),
        "availability": dict(volunteer.availability),
        "lat": None if volunteer.lat is None else format(Decimal(volunteer.lat), "f"),
        "lon": None if volunteer.lon is None else format(Decimal(volunteer.lon), "f"),
    }


@transaction.atomic
def volunteer_update_own(
    *, actor: User, volunteer: Volunteer, profile: VolunteerFields
) -> Volunteer:
    """A volunteer edits their own contact, area, skills, availability and place (an
    empty phone keeps the number on file). Name and ID number are what the bureau
    verified: changing them means registering anew."""
    if volunteer.user_id != actor.pk:
        raise PermissionDenied(_("You may only change your own profile."))
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    if not profile.phone.strip():
        # An empty box keeps the number on file: it is never shown in full to fill it in.
        profile = replace(profile, phone=reveal_phone(volunteer.phone_encrypted))
    data = _profile_clean(profile, volunteer.region_id[:6])
    before = _volunteer_snapshot(volunteer)
    protected_phone = protect_phone(data["phone"])
    volunteer.phone_encrypted = protected_phone.encrypted
    volunteer.phone_index = protected_phone.index
    volunteer.phone_masked = protected_phone.masked
    volunteer.region = data["region"]
    volunteer.skills = data["skills"]
    volunteer.availability = data["availability"]
    volunteer.lat, volunteer.lon = data["coordinates"]
    changes = _changes(before, _volunteer_snapshot(volunteer), {"phone", "lat", "lon"})
    if not changes:
        raise ValidationError(_("Nothing was changed."))
    volunteer.save()
    if volunteer.user.region_id != volunteer.region_id:
        volunteer.user.region = volunteer.region
        volunteer.user.save(update_fields=["region"])
    _audit(
        actor,
        AuditAction.UPDATE,
        "services.volunteer",
        volunteer.pk,
        volunteer.region_id,
        {"changes": changes},
    )
    return volunteer


VOLUNTEER_MOVES: dict[str, set[str]] = {
    c.VolunteerStatus.PENDING: {c.VolunteerStatus.VERIFIED, c.VolunteerStatus.SUSPENDED},
    c.VolunteerStatus.VERIFIED: {c.VolunteerStatus.SUSPENDED},
    c.VolunteerStatus.SUSPENDED: {c.VolunteerStatus.VERIFIED},
}


@transaction.atomic
def volunteer_set_status(
    *, actor: User, volunteer: Volunteer, status: str, reason: str = ""
) -> Volunteer:
    """Verify (the ID card was checked in person; records who and when), suspend (with a
    reason), or reinstate a suspended volunteer (verified again)."""
    _require_bureau(actor, volunteer.region_id)
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    if status not in VOLUNTEER_MOVES.get(volunteer.status, set()):
        raise ValidationError(_("A volunteer cannot go from this status to that one."))
    if status == c.VolunteerStatus.SUSPENDED and not reason.strip():
        raise ValidationError({"reason": _("Say why.")})
    before = volunteer.status
    volunteer.status = status
    fields = ["status", "updated_at"]
    if status == c.VolunteerStatus.VERIFIED:
        volunteer.verified_at = timezone.now()
        volunteer.verified_by = actor
        fields += ["verified_at", "verified_by"]
    volunteer.save(update_fields=fields)
    _audit(
        actor,
        AuditAction.UPDATE,
        "services.volunteer",
        volunteer.pk,
        volunteer.region_id,
        {"changes": {"status": [before, status]}, "reason": reason.strip()[:200]},
    )
    return volunteer


def volunteer_verify(*, actor: User, volunteer: Volunteer, reason: str = "") -> Volunteer:
    return volunteer_set_status(
        actor=actor, volunteer=volunteer, status=c.VolunteerStatus.VERIFIED, reason=reason
    )


def volunteer_suspend(*, actor: User, volunteer: Volunteer, reason: str) -> Volunteer:
    return volunteer_set_status(
        actor=actor, volunteer=volunteer, status=c.VolunteerStatus.SUSPENDED, reason=reason
    )


def volunteer_reveal(
    *, actor: User, volunteer: Volunteer, field_name: str, request: HttpRequest | None = None
) -> str:
    """A volunteer's ID or phone number in full: the unmask right, the bureau's area,
    and an audit row, as for a registry person."""
    if not (user_has_perm(actor, Perm.UNMASK) and may_manage_region(actor, volunteer.region_id)):
        raise PermissionDenied
    if field_name == "id_number":
        value = reveal_id_number(volunteer.id_number_encrypted)
    elif field_name == "phone":
        value = reveal_phone(volunteer.phone_encrypted)
    else:
        raise ValueError(field_name)
    _audit(
        actor,
        AuditAction.UNMASK,
        "services.volunteer",
        volunteer.pk,
        volunteer.region_id,
        {"field": field_name},
        request=request,
    )
    return value
