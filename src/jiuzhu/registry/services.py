"""Writes to the registry. Every change is audited (who, when, old → new) and every
step a person would care about goes onto the household timeline."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import region_in_scope, user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.core.idnumbers import parse_id_number
from jiuzhu.core.masking import mask_id_number
from jiuzhu.regions.models import Level, Region
from jiuzhu.registry import choices as c
from jiuzhu.registry.models import Enrolment, Household, Person
from jiuzhu.registry.protected import (
    protect_id_number,
    protect_phone,
    reveal_id_number,
    reveal_phone,
)
from jiuzhu.registry.timeline import timeline_add

PERSON_EDITABLE_FIELDS = Person.ATTRIBUTE_FIELDS


def _require(actor: User | None, perm: Perm) -> None:
    # None is the system itself (imports run by an operator on the command line).
    if actor is not None and not user_has_perm(actor, perm):
        raise PermissionDenied


def _require_region(actor: User | None, region_code: str) -> None:
    if actor is not None and not region_in_scope(actor, region_code):
        raise PermissionDenied


def household_number_next(*, region_code: str) -> str:
    """Household numbers are the village code plus a running number: 360823100201-00017."""
    prefix = f"{region_code}-"
    last = (
        Household.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{seq:05d}"


@transaction.atomic
def household_create(
    *,
    actor: User | None,
    region_code: str,
    address: str = "",
    area_type: str = c.AreaType.RURAL,
    number: str | None = None,
    source: str = "manual",
) -> Household:
    _require(actor, Perm.EDIT_REGISTRY)
    _require_region(actor, region_code)
    region = Region.objects.filter(code=region_code).first()
    if region is None or region.level != Level.VILLAGE:
        raise ValidationError(_("A household belongs to a village or community."))
    household = Household.objects.create(
        number=number or household_number_next(region_code=region_code),
        region=region,
        address=address,
        area_type=area_type,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="registry.household",
        object_id=household.pk,
        region_code=region_code,
        detail={"number": household.number, "source": source},
    )
    timeline_add(
        household_id=household.pk,
        kind="registry.household_created",
        summary=_("Household file opened"),
        detail={"source": source},
        actor=actor,
    )
    return household


@transaction.atomic
def person_create(
    *,
    actor: User | None,
    household: Household,
    name: str,
    id_number: str,
    relationship: str,
    phone: str = "",
    source: str = "manual",
    **attributes: Any,
) -> Person:
    """Add a member. Sex and date of birth come from the ID number, which must be valid
    and not already registered (one person, one record)."""
    _require(actor, Perm.EDIT_REGISTRY)
    _require_region(actor, household.region_id)
    facts = parse_id_number(id_number)
    protected_id = protect_id_number(facts.number)
    if Person.objects.filter(id_number_index=protected_id.index).exists():
        raise ValidationError(_("This ID number is already registered."))
    protected_phone = protect_phone(phone)
    unknown = set(attributes) - set(PERSON_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown person fields: {sorted(unknown)}")
    person = Person(
        household=household,
        region_id=household.region_id,
        name=name.strip(),
        sex=facts.sex,
        birth_date=facts.birth_date,
        id_number_encrypted=protected_id.encrypted,
        id_number_index=protected_id.index,
        id_number_masked=protected_id.masked,
        phone_encrypted=protected_phone.encrypted,
        phone_index=protected_phone.index,
        phone_masked=protected_phone.masked,
        relationship=relationship,
        **attributes,
    )
    person.full_clean(exclude=["household"])
    person.save()
    _household_refresh_members(household)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="registry.person",
        object_id=person.pk,
        region_code=household.region_id,
        detail={"household": household.pk, "id_number": protected_id.masked, "source": source},
    )
    timeline_add(
        household_id=household.pk,
        kind="registry.member_added",
        summary=_("Member added: %(name)s (%(relationship)s)")
        % {"name": person.name_masked, "relationship": person.get_relationship_display()},
        object_type="registry.person",
        object_id=person.pk,
        actor=actor,
    )
    return person


def _household_refresh_members(household: Household) -> None:
    members = Person.objects.filter(household=household, is_deceased=False)
    head = members.filter(relationship=c.Relationship.HEAD).values_list("name", flat=True).first()
    Household.objects.filter(pk=household.pk).update(
        member_count=members.count(), head_name=head or ""
    )
    household.refresh_from_db(fields=["member_count", "head_name"])


@transaction.atomic
def person_update(
    *,
    actor: User | None,
    person: Person,
    phone: str | None = None,
    **changes: Any,
) -> Person:
    """Change a member's data; the audit row records every field old → new (protected
    fields in masked form)."""
    _require(actor, Perm.EDIT_REGISTRY)
    _require_region(actor, person.household.region_id)
    unknown = set(changes) - set(PERSON_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown person fields: {sorted(unknown)}")
    diff: dict[str, list[Any]] = {}
    for field, value in changes.items():
        old = getattr(person, field)
        if old != value:
            diff[field] = [old, value]
            setattr(person, field, value)
    if phone is not None:
        protected = protect_phone(phone)
        if protected.index != person.phone_index:
            diff["phone"] = [person.phone_masked, protected.masked]
            person.phone_encrypted = protected.encrypted
            person.phone_index = protected.index
            person.phone_masked = protected.masked
    if not diff:
        return person
    person.full_clean(exclude=["household"])
    person.save()
    if {"name", "relationship", "is_deceased"} & set(diff):
        _household_refresh_members(person.household)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="registry.person",
        object_id=person.pk,
        region_code=person.household.region_id,
        detail={"changes": {k: [_jsonable(o), _jsonable(n)] for k, (o, n) in diff.items()}},
    )
    timeline_add(
        household_id=person.household_id,
        kind="registry.member_changed",
        summary=_("Member data changed: %(name)s") % {"name": person.name_masked},
        detail={"fields": sorted(diff)},
        object_type="registry.person",
        object_id=person.pk,
        actor=actor,
    )
    return person


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.date | Decimal):
        return str(value)
    return value


@transaction.atomic
def enrolment_start(
    *,
    actor: User | None,
    household: Household,
    category: str,
    start_date: datetime.date,
    monthly_amount: Decimal = Decimal(0),
    person: Person | None = None,
    end_date: datetime.date | None = None,
    source: str = "manual",
) -> Enrolment:
    _require(actor, Perm.EDIT_REGISTRY)
    _require_region(actor, household.region_id)
    if person is not None and person.household_id != household.pk:
        raise ValidationError(_("The person is not a member of this household."))
    enrolment = Enrolment(
        household=household,
        person=person,
        category=category,
        start_date=start_date,
        end_date=end_date,
        monthly_amount=monthly_amount,
        source=source,
        status=c.EnrolmentStatus.ENDED
        if end_date and end_date < datetime.date.today()
        else c.EnrolmentStatus.ACTIVE,
    )
    enrolment.full_clean()
    enrolment.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="registry.enrolment",
        object_id=enrolment.pk,
        region_code=household.region_id,
        detail={
            "category": category,
            "start_date": str(start_date),
            "monthly_amount": str(monthly_amount),
            "source": source,
        },
    )
    timeline_add(
        household_id=household.pk,
        kind="registry.enrolled",
        summary=_("Enrolled: %(category)s, %(amount)s yuan a month")
        % {"category": enrolment.get_category_display(), "amount": monthly_amount},
        occurred_at=_start_of_day(start_date),
        object_type="registry.enrolment",
        object_id=enrolment.pk,
        actor=actor,
    )
    return enrolment


@transaction.atomic
def enrolment_end(
    *, actor: User | None, enrolment: Enrolment, end_date: datetime.date, reason: str
) -> Enrolment:
    _require(actor, Perm.EDIT_REGISTRY)
    _require_region(actor, enrolment.household.region_id)
    if not reason.strip():
        raise ValidationError(_("Give the reason for ending the enrolment."))
    if end_date < enrolment.start_date:
        raise ValidationError(_("The end date is before the start date."))
    old_status, old_end_date = enrolment.status, enrolment.end_date
    enrolment.end_date = end_date
    enrolment.end_reason = reason.strip()
    enrolment.status = c.EnrolmentStatus.ENDED
    enrolment.save(update_fields=["end_date", "end_reason", "status"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="registry.enrolment",
        object_id=enrolment.pk,
        region_code=enrolment.household.region_id,
        detail={
            "changes": {
                "status": [old_status, enrolment.status],
                "end_date": [_jsonable(old_end_date), str(end_date)],
            },
            "reason": reason,
        },
    )
    timeline_add(
        household_id=enrolment.household_id,
        kind="registry.enrolment_ended",
        summary=_("Enrolment ended: %(category)s") % {"category": enrolment.get_category_display()},
        occurred_at=_start_of_day(end_date),
        detail={"reason": reason},
        object_type="registry.enrolment",
        object_id=enrolment.pk,
        actor=actor,
    )
    return enrolment


def _start_of_day(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def person_reveal(
    *, actor: User, person: Person, field: str, request: HttpRequest | None = None
) -> str:
    """Show an ID or phone number in full. A permission, and always audited.

    The caller must already have fetched ``person`` through the scoping layer.
    """
    if not user_has_perm(actor, Perm.UNMASK):
        raise PermissionDenied
    if field == "id_number":
        value = reveal_id_number(person.id_number_encrypted)
    elif field == "phone":
        value = reveal_phone(person.phone_encrypted)
    else:
        raise ValueError(field)
    audit_record(
        actor=actor,
        action=AuditAction.UNMASK,
        request=request,
        object_type="registry.person",
        object_id=person.pk,
        region_code=person.household.region_id,
        detail={"field": field},
    )
    return value


def household_file_viewed(
    *, actor: User, household: Household, request: HttpRequest | None = None, via: str = "web"
) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        request=request,
        object_type="registry.household",
        object_id=household.pk,
        region_code=household.region_id,
        detail={"via": via},
    )


def household_search_audited(
    *, actor: User, query: Any, found: int, request: HttpRequest | None = None, via: str = "web"
) -> None:
    """Searching by ID number tells whether a person is on the register: audited, with the
    number masked."""
    audit_record(
        actor=actor,
        action=AuditAction.SEARCH,
        request=request,
        object_type="registry.household",
        region_code=actor.region_id or "",
        detail={"id_number": mask_id_number(query.id_number), "found": found, "via": via},
    )
