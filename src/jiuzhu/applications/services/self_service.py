"""The applicant's own mobile form (自助申请) and its handling by the village.

Nothing the applicant sends is stored in clear: name, ID and phone numbers are encrypted
like the registry's (each in its own column, so a ciphertext cannot be moved), and only
masked forms are shown in lists. The reply is the same whether or not the person is in
the registry."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.applications.models import Application, SelfApplication
from jiuzhu.applications.selectors import kinds_available
from jiuzhu.applications.services.common import (
    application_timeline,
    audit_application,
    require_perm,
)
from jiuzhu.applications.services.intake import application_row_create
from jiuzhu.core.crypto import field_cipher
from jiuzhu.core.idnumbers import InvalidIdNumber, normalise_phone, parse_id_number
from jiuzhu.core.masking import mask_id_number, mask_name, mask_phone
from jiuzhu.regions.models import Region
from jiuzhu.registry.models import Person
from jiuzhu.registry.protected import id_number_index

COLUMN = "applications.self_application"
# Submissions from one address in an hour: a family applies once; more is a script.
PER_ADDRESS_PER_HOUR = 5
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _reference() -> str:
    return "ZZ" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def _village(region_code: str) -> Region:
    region = Region.objects.filter(code=region_code).first()
    if region is None or len(region.code) != 12:
        raise ValidationError({"village": _("Choose your village or community.")})
    return region


@transaction.atomic
def self_application_receive(
    *,
    village_code: str,
    name: str,
    id_number: str,
    phone: str,
    kinds: Sequence[str],
    reason: str,
    consent: bool,
    client_address: str,
) -> SelfApplication:
    """Record an applicant's own form; start a draft for their household when the ID
    number and name match a living registry member of that village's county."""
    errors: dict[str, str] = {}
    village: Region | None = None
    try:
        village = _village(village_code)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    name = name.strip()
    if not 2 <= len(name) <= 30:
        errors["name"] = _("Enter your name as on your ID card.")
    number = ""
    try:
        number = parse_id_number(id_number).number
    except (InvalidIdNumber, ValueError):
        errors["id_number"] = _("Enter a valid 18-digit ID number.")
    clean_phone = ""
    try:
        clean_phone = normalise_phone(phone)
    except (ValueError, ValidationError):
        errors["phone"] = _("Enter a phone number we can call you on.")
    if not clean_phone:
        errors["phone"] = _("Enter a phone number we can call you on.")
    offered = {k.code for k in kinds_available(village.code)} if village else set()
    chosen = [k for k in dict.fromkeys(kinds) if k in offered]
    if not chosen:
        errors["kinds"] = _("Choose at least one kind of help.")
    if not reason.strip():
        errors["reason"] = _("Tell us briefly why you need help.")
    if not consent:
        errors["consent"] = _(
            "We can only contact you and check your situation with your agreement."
        )
    cipher = field_cipher()
    client_index = cipher.blind_index(client_address or "-", column=f"{COLUMN}.client")
    recent = SelfApplication.objects.filter(
        client_index=client_index,
        received_at__gte=timezone.now() - datetime.timedelta(hours=1),
    ).count()
    if recent >= PER_ADDRESS_PER_HOUR:
        errors["__all__"] = _("Too many forms from this connection; please try again later.")
    if errors:
        raise ValidationError(errors)
    assert village is not None
    received = SelfApplication.objects.create(
        reference=_reference(),
        region=village,
        name_masked=mask_name(name),
        name_encrypted=cipher.encrypt(name, column=f"{COLUMN}.name"),
        id_number_encrypted=cipher.encrypt(number, column=f"{COLUMN}.id_number"),
        id_number_masked=mask_id_number(number),
        phone_encrypted=cipher.encrypt(clean_phone, column=f"{COLUMN}.phone"),
        phone_masked=mask_phone(clean_phone),
        kinds=chosen,
        reason=reason.strip()[:2000],
        client_index=client_index,
    )
    person = (
        Person.objects.select_related("household")
        .filter(
            id_number_index=id_number_index(number),
            name=name,
            is_deceased=False,
            region__code__startswith=village.code[:6],
        )
        .first()
    )
    if person is not None:
        received.application = _draft(person, chosen, received)
        received.save(update_fields=["application"])
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        object_type="applications.self_application",
        object_id=received.pk,
        region_code=village.code,
        detail={"kinds": chosen, "matched": person is not None},
    )
    return received


def _draft(person: Person, kinds: list[str], received: SelfApplication) -> Application:
    household = person.household
    offered = {k.code: k for k in kinds_available(household.region_id)}
    application = application_row_create(
        household=household,
        applicant=person,
        kinds=[offered[code] for code in kinds if code in offered],
        channel=Application.Channel.SELF,
        reason=received.reason,
        entered_by=None,
    )
    audit_application(None, application, AuditAction.CREATE, kinds=kinds, channel="self")
    application_timeline(
        application,
        "applications.started",
        _("Application %(number)s sent by the applicant online (%(reference)s)")
        % {"number": application.number, "reference": received.reference},
        None,
    )
    return application


@transaction.atomic
def self_application_close(*, actor: User, received: SelfApplication, note: str) -> None:
    """The village contacted the applicant and says what was done (application entered,
    household registered, not in need…)."""
    received = SelfApplication.objects.select_for_update().get(pk=received.pk)
    require_perm(actor, Perm.ENTER_APPLICATIONS, received.region_id)
    if received.status == SelfApplication.Status.CLOSED:
        raise ValidationError(_("This form was handled already."))
    if not note.strip():
        raise ValidationError({"note": _("Say what was done.")})
    received.status = SelfApplication.Status.CLOSED
    received.handled_by = actor
    received.handled_at = timezone.now()
    received.handling_note = note.strip()
    received.save(update_fields=["status", "handled_by", "handled_at", "handling_note"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="applications.self_application",
        object_id=received.pk,
        region_code=received.region_id,
        detail={"status": "closed"},
    )


def self_application_phone(*, actor: User, received: SelfApplication) -> str:
    """The full phone number, to call the applicant back; audited."""
    require_perm(actor, Perm.UNMASK, received.region_id)
    audit_record(
        actor=actor,
        action=AuditAction.UNMASK,
        object_type="applications.self_application",
        object_id=received.pk,
        region_code=received.region_id,
        detail={"field": "phone"},
    )
    return field_cipher().decrypt(received.phone_encrypted, column=f"{COLUMN}.phone")
