"""Channels' writes: the one-key call (一键呼叫) and its tickets.

An elder without a smartphone long-presses "9" on a phone; the telephony gateway reports
the call to ``POST /channels/call/`` (views.call_webhook checks the signature) and
``call_receive`` turns it into:

* an urgent dispatch-route need of the registered caller's household (the dispatcher's
  console lists it), on the household timeline, with the village's staff told; or
* a call ticket when the platform cannot decide alone (a number nobody registered, one
  shared by several households, a key that means nothing), for staff of the county; or
* nothing new when the same caller pressed within ``JIUZHU_CALL_DEDUP_MINUTES``: the call
  is recorded as a repeat of the first.

A second delivery of the same ``call_id`` (gateways retry) returns the first record.
"""

from __future__ import annotations

import datetime
import logging
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.channels import choices as c
from jiuzhu.channels import conf
from jiuzhu.channels.models import CallEvent, CallTicket
from jiuzhu.channels.notifications import notify
from jiuzhu.channels.selectors import staff_covering
from jiuzhu.core.idnumbers import normalise_phone
from jiuzhu.regions.models import Level, Region
from jiuzhu.registry.models import Household, Person
from jiuzhu.registry.protected import protect_phone, reveal_phone
from jiuzhu.registry.timeline import timeline_add
from jiuzhu.services import choices as sc
from jiuzhu.services.models import Need, ServiceItem
from jiuzhu.services.services.needs import need_create

logger = logging.getLogger(__name__)

CALL_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
KEY = re.compile(r"^[0-9*#]{1,8}$")


@dataclass(frozen=True)
class CallPayload:
    call_id: str
    caller: str  # normalised
    key: str
    pressed_at: datetime.datetime
    county: str  # "" when the gateway did not say


def call_payload_parse(payload: Any) -> CallPayload:
    """Check the gateway's JSON; ``ValidationError({field: message})`` if it is wrong."""
    if not isinstance(payload, dict):
        raise ValidationError({"body": _("Send a JSON object.")})
    errors: dict[str, str] = {}
    call_id = payload.get("call_id")
    if not isinstance(call_id, str) or not CALL_ID.match(call_id):
        errors["call_id"] = _("Send the call's id: 1 to 64 letters, digits or . _ : -")
    caller = payload.get("caller")
    number = ""
    if isinstance(caller, str):
        try:
            number = normalise_phone(caller)
        except ValueError:
            number = ""
    if not number:
        errors["caller"] = _("Send the caller's phone number.")
    key = payload.get("key")
    if not isinstance(key, str) or not KEY.match(key):
        errors["key"] = _("Send the key pressed (digits, * or #).")
    pressed_at = None
    raw_time = payload.get("pressed_at")
    if isinstance(raw_time, str):
        try:
            pressed_at = datetime.datetime.fromisoformat(raw_time)
        except ValueError:
            pressed_at = None
    if pressed_at is None:
        errors["pressed_at"] = _("Send the time of the call (ISO 8601).")
    elif timezone.is_naive(pressed_at):
        pressed_at = timezone.make_aware(pressed_at)
    county = payload.get("county", "")
    if county in (None, ""):
        county = ""
    elif not isinstance(county, str) or not _is_county(county):
        errors["county"] = _("Send a county's 6-digit code, or nothing.")
    if errors:
        raise ValidationError(errors)
    assert pressed_at is not None and isinstance(call_id, str) and isinstance(key, str)
    return CallPayload(
        call_id=call_id, caller=number, key=key, pressed_at=pressed_at, county=str(county)
    )


def _is_county(code: str) -> bool:
    return bool(
        len(code) == 6
        and code.isdigit()
        and Region.objects.filter(code=code, level=Level.COUNTY).exists()
    )


def link_to(name: str, *args: Any) -> str:
    """A page of another part, if it exists yet (parts are built at the same time)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def call_receive(*, payload: dict[str, Any], now: datetime.datetime | None = None) -> CallEvent:
    """Record one call from the gateway and act on it (see the module's docstring)."""
    data = call_payload_parse(payload)
    now = now or timezone.now()
    existing = CallEvent.objects.filter(call_id=data.call_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _call_record(data, now)
    except IntegrityError:
        # The same call delivered twice at once: the unique call_id let one in.
        existing = CallEvent.objects.filter(call_id=data.call_id).first()
        if existing is None:
            raise
        return existing


def _lock_caller(index: str) -> None:
    """Serialise calls from one number so that two presses at once cannot both make a
    need. PostgreSQL: a transaction-level advisory lock on the blind index; SQLite
    serialises writers by itself."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(index[:15], 16)])


def _call_record(data: CallPayload, now: datetime.datetime) -> CallEvent:
    protected = protect_phone(data.caller)
    _lock_caller(protected.index)
    keys = conf.call_keys()
    meaning = keys.get(data.key)
    event = CallEvent(
        call_id=data.call_id,
        caller_encrypted=protected.encrypted,
        caller_index=protected.index,
        caller_masked=protected.masked,
        key=data.key,
        pressed_at=data.pressed_at,
        received_at=now,
        item_code=meaning.item if meaning else "",
        urgency=meaning.urgency if meaning else "",
    )
    window = datetime.timedelta(minutes=conf.call_dedup_minutes())
    first = (
        CallEvent.objects.filter(
            caller_index=protected.index,
            duplicate_of__isnull=True,
            received_at__gt=now - window,
            received_at__lte=now,
        )
        .order_by("-received_at", "-id")
        .first()
    )
    if first is not None:
        event.outcome = c.CallOutcome.DUPLICATE
        event.duplicate_of = first
        event.county_id = first.county_id
        event.household_id = first.household_id
        event.person_id = first.person_id
        event.save()
        logger.info("call %s: repeat of call %s", event.pk, first.pk)
        return event

    persons = list(
        Person.objects.filter(
            phone_index=protected.index, is_deceased=False, household__is_active=True
        ).select_related("household", "household__region")
    )
    households = {p.household_id: p.household for p in persons}
    household = next(iter(households.values())) if len(households) == 1 else None
    if household is not None:
        event.household = household
        # A number shared inside the household (a couple's one phone): the household
        # is known, the beneficiary is for the worker to find out.
        event.person = persons[0] if len(persons) == 1 else None
        event.county_id = household.region_id[:6]
    else:
        event.county_id = _county_for(data.county)

    item = None
    if meaning is not None:
        item = ServiceItem.objects.filter(code=meaning.item, is_active=True).first()
    reason = ""
    if household is None:
        reason = c.TicketReason.AMBIGUOUS_NUMBER if households else c.TicketReason.UNKNOWN_NUMBER
    elif meaning is None:
        reason = c.TicketReason.UNKNOWN_KEY
    elif item is None:
        reason = c.TicketReason.NO_ITEM

    event.outcome = c.CallOutcome.TICKET if reason else c.CallOutcome.NEED
    event.save()
    if reason:
        _ticket_open(event=event, reason=reason, now=now)
    else:
        assert household is not None and item is not None and meaning is not None
        urgency = meaning.urgency if meaning.urgency in sc.Urgency.values else sc.Urgency.URGENT
        event.need = _need_from_call(
            event=event, household=household, person=event.person, item=item,
            urgency=urgency, actor=None, now=now,
        )  # fmt: skip
        event.save(update_fields=["need"])
        _tell_village(event=event, need=event.need)
    if event.household_id is not None:
        timeline_add(
            household_id=event.household_id,
            kind="channels.call_received",
            summary=_("One-key call received (key %(key)s)") % {"key": event.key},
            occurred_at=event.pressed_at,
            detail={
                "call": event.pk,
                "key": event.key,
                "outcome": event.outcome,
                "need": event.need_id,
            },
            object_type="channels.call",
            object_id=event.pk,
        )
    logger.info("call %s: %s", event.pk, event.outcome)
    return event


def _county_for(given: str) -> str | None:
    if given:
        return given
    configured = conf.call_county()
    if configured and _is_county(configured):
        return configured
    if configured:
        logger.warning("JIUZHU_CALL_COUNTY is not a county's code; the ticket has no county")
    else:
        logger.warning("call from an unknown number with no county: set JIUZHU_CALL_COUNTY")
    return None


def _need_from_call(
    *,
    event: CallEvent,
    household: Household,
    person: Person | None,
    item: ServiceItem,
    urgency: str,
    actor: User | None,
    now: datetime.datetime,
) -> Need:
    local = timezone.localtime(event.pressed_at)
    return need_create(
        actor=actor,
        household=household,
        person=person,
        source=sc.NeedSource.CALL,
        route=sc.Route.DISPATCH,
        funding=sc.Funding.PROJECT,
        item=item,
        urgency=urgency,
        title=_("One-key call: %(item)s") % {"item": item.name_zh},
        details=_("Key %(key)s pressed at %(time)s from %(phone)s.")
        % {"key": event.key, "time": f"{local:%Y-%m-%d %H:%M}", "phone": event.caller_masked},
        source_ref=str(event.pk),
        now=now,
    )


def _tell_village(*, event: CallEvent, need: Need | None) -> None:
    if need is None:
        return
    local = timezone.localtime(event.pressed_at)
    link = link_to("services:needs_detail", need.pk) or link_to("services:dispatch_console")
    for user in staff_covering(need.region_id):
        notify(
            kind="call_need",
            subject=_("One-key call: urgent need"),
            body=_(
                "A registered caller (%(phone)s) pressed %(key)s at %(time)s. "
                "Need %(need)s waits for dispatch."
            )
            % {
                "phone": event.caller_masked,
                "key": event.key,
                "time": f"{local:%H:%M}",
                "need": need.pk,
            },
            user=user,
            link=link,
        )


def _ticket_open(*, event: CallEvent, reason: str, now: datetime.datetime) -> CallTicket:
    ticket = CallTicket.objects.create(
        event=event,
        county_id=event.county_id,
        household_id=event.household_id,
        reason=reason,
        created_at=now,
    )
    if event.household_id is not None:
        # A registered caller: the village's staff know the family.
        told = staff_covering(event.household.region_id, [Perm.MANAGE_NEEDS])  # type: ignore[union-attr]
    elif event.county_id:
        told = staff_covering(event.county_id, [Perm.MANAGE_NEEDS])
    else:
        told = User.objects.none()
    link = link_to("channels:ticket", ticket.pk)
    for user in told:
        notify(
            kind="call_ticket",
            subject=_("One-key call needs a person"),
            body=_("A call from %(phone)s (key %(key)s): %(reason)s.")
            % {
                "phone": event.caller_masked,
                "key": event.key,
                "reason": ticket.get_reason_display(),
            },
            user=user,
            link=link,
        )
    return ticket


# --- tickets -------------------------------------------------------------------------------


def _require_ticket_perm(actor: User) -> None:
    if not user_has_perm(actor, Perm.MANAGE_NEEDS):
        raise PermissionDenied(_("You may not do this."))


def _open_ticket_locked(ticket: CallTicket) -> CallTicket:
    locked = CallTicket.objects.select_for_update().select_related("event").get(pk=ticket.pk)
    if locked.status != c.TicketStatus.OPEN:
        raise ValidationError({"ticket": _("This ticket is already resolved.")})
    return locked


@transaction.atomic
def call_ticket_link(
    *,
    actor: User,
    ticket: CallTicket,
    household: Household,
    item: ServiceItem,
    urgency: str = sc.Urgency.URGENT,
    person: Person | None = None,
    note: str = "",
    now: datetime.datetime | None = None,
) -> Need:
    """The caller is found: make the need for their household (need_create checks that
    the actor may act for it) and close the ticket as linked."""
    _require_ticket_perm(actor)
    now = now or timezone.now()
    ticket = _open_ticket_locked(ticket)
    if not item.is_active:
        raise ValidationError({"item": _("Choose a service that is offered.")})
    event = ticket.event
    need = _need_from_call(
        event=event, household=household, person=person, item=item,
        urgency=urgency, actor=actor, now=now,
    )  # fmt: skip
    ticket.status = c.TicketStatus.LINKED
    ticket.household = household
    ticket.need = need
    ticket.note = note.strip()[:300]
    ticket.resolved_by = actor
    ticket.resolved_at = now
    ticket.save()
    CallEvent.objects.filter(pk=event.pk).update(household=household, person=person, need=need)
    timeline_add(
        household_id=household.pk,
        kind="channels.call_linked",
        summary=_("One-key call (key %(key)s) linked to this household") % {"key": event.key},
        occurred_at=event.pressed_at,
        detail={"call": event.pk, "ticket": ticket.pk, "need": need.pk},
        object_type="channels.call",
        object_id=event.pk,
        actor=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="channels.call_ticket",
        object_id=ticket.pk,
        region_code=household.region_id,
        detail={"status": {"old": "open", "new": "linked"}, "household": household.pk,
                "need": need.pk},
    )  # fmt: skip
    return need


@transaction.atomic
def call_ticket_close(
    *, actor: User, ticket: CallTicket, note: str, now: datetime.datetime | None = None
) -> CallTicket:
    """Nothing to do (a wrong number, a test call, handled by phone): say why."""
    _require_ticket_perm(actor)
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Say why the ticket is closed.")})
    ticket = _open_ticket_locked(ticket)
    ticket.status = c.TicketStatus.CLOSED
    ticket.note = note[:300]
    ticket.resolved_by = actor
    ticket.resolved_at = now or timezone.now()
    ticket.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="channels.call_ticket",
        object_id=ticket.pk,
        region_code=ticket.county_id or "",
        detail={"status": {"old": "open", "new": "closed"}},
    )
    return ticket


def call_ticket_reveal(
    *, actor: User, ticket: CallTicket, request: HttpRequest | None = None
) -> str:
    """The caller's number in full, to ring back. A permission, and always audited.
    The caller must have fetched ``ticket`` through tickets_visible."""
    if not user_has_perm(actor, Perm.UNMASK):
        raise PermissionDenied
    value = reveal_phone(ticket.event.caller_encrypted)
    audit_record(
        actor=actor,
        action=AuditAction.UNMASK,
        request=request,
        object_type="channels.call",
        object_id=ticket.event_id,
        region_code=ticket.county_id or "",
        detail={"field": "caller", "ticket": ticket.pk},
    )
    return value
