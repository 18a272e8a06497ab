"""Channels' pages: the gateway's webhook, the in-app inbox, call tickets.

The webhook is for a machine: no session, no CSRF token; it is authenticated by an
HMAC signature over the raw body and a timestamp (replay window), and answers JSON.
The pages are plain views: each parses the form, calls one service and redirects; a
refusal re-renders the page with status 422 and what was typed kept.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import scoped, user_has_perm
from jiuzhu.accounts.services import client_ip
from jiuzhu.channels import choices as c
from jiuzhu.channels import conf, selectors, services
from jiuzhu.channels.models import CallEvent, CallTicket
from jiuzhu.channels.notifications import notification_mark_read, notifications_mark_all_read
from jiuzhu.channels.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_valid
from jiuzhu.core.form_input import error_messages
from jiuzhu.core.http import need_perm, not_found, request_user
from jiuzhu.registry.models import Household, Person
from jiuzhu.services import choices as sc
from jiuzhu.services.models import ServiceItem

logger = logging.getLogger(__name__)

# A call report is a few hundred bytes; anything much bigger is not from the gateway.
MAX_BODY_BYTES = 16 * 1024
# A source whose unsigned or badly signed requests were refused this often within the
# window gets 429 for further bad ones (a misconfigured gateway is noticed in its logs).
# A correctly signed request is never throttled: behind a reverse proxy every sender
# shares one address, and junk from anyone must not silence an elder's call.
REFUSALS_LIMIT = 20
REFUSALS_WINDOW_SECONDS = 600


def clock() -> float:
    """Seconds since the epoch (a function, so that tests can fix the moment)."""
    return time.time()


def _refuse(status: int, error: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": error, **extra}, status=status)


def _refusals_key(request: HttpRequest) -> str:
    return f"channels:call-refused:{client_ip(request) or '-'}"


def _unauthorised(request: HttpRequest, error: str) -> JsonResponse:
    key = _refusals_key(request)
    cache.add(key, 0, REFUSALS_WINDOW_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, REFUSALS_WINDOW_SECONDS)
    return _refuse(401, error)


def call_result(event: CallEvent) -> dict[str, Any]:
    """What the gateway gets back, the same for the first delivery and any replay."""
    first = event.duplicate_of or event
    ticket = CallTicket.objects.filter(event=first).only("id").first()
    return {
        "call_id": event.call_id,
        "event": event.pk,
        "outcome": event.outcome,
        "duplicate_of": event.duplicate_of_id,
        "need": first.need_id,
        "ticket": ticket.pk if ticket else None,
    }


@csrf_exempt
@require_POST
def call_webhook(request: HttpRequest) -> HttpResponse:
    """``POST /channels/call/``: the telephony gateway reports a key press."""
    secret = conf.call_webhook_secret()
    if not secret:
        logger.error("call webhook refused: JIUZHU_CALL_WEBHOOK_SECRET is not set")
        return _refuse(503, "not_configured")
    if len(request.body) > MAX_BODY_BYTES:
        return _refuse(413, "too_large")
    timestamp = request.headers.get(TIMESTAMP_HEADER, "").strip()
    given = request.headers.get(SIGNATURE_HEADER, "")
    signed = bool(timestamp.isdigit() and given)
    if not (signed and signature_valid(secret, timestamp, request.body, given)):
        if cache.get(_refusals_key(request), 0) >= REFUSALS_LIMIT:
            return _refuse(429, "too_many_refusals")
        if signed:
            logger.warning("call webhook: bad signature")
        return _unauthorised(request, "bad_signature" if signed else "unsigned")
    if abs(clock() - int(timestamp)) > conf.SIGNATURE_WINDOW_SECONDS:
        return _unauthorised(request, "stale")
    try:
        payload = json.loads(request.body)
    except (UnicodeDecodeError, ValueError):
        return _refuse(400, "malformed", errors={"body": "not JSON"})
    try:
        event = services.call_receive(payload=payload)
    except ValidationError as exc:
        return _refuse(400, "malformed", errors=exc.message_dict)
    return JsonResponse(call_result(event))


# --- the inbox -----------------------------------------------------------------------------


@login_required
def inbox_view(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.inbox(request.user), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "channels/inbox.html",
        {"page": page, "unread": selectors.unread_count(request.user), "active_nav": "inbox"},
    )


@login_required
@require_POST
def inbox_read_view(request: HttpRequest, notification_id: int) -> HttpResponse:
    row = notification_mark_read(user=request.user, notification_id=notification_id)
    if row is None:
        not_found(request)
    if request.POST.get("open") and url_has_allowed_host_and_scheme(
        row.link, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(row.link)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "channels/_notification.html", {"n": row})
    return redirect("channels:inbox")


@login_required
@require_POST
def inbox_read_all_view(request: HttpRequest) -> HttpResponse:
    notifications_mark_all_read(user=request.user)
    return redirect("channels:inbox")


# --- call tickets --------------------------------------------------------------------------


@login_required
def tickets_view(request: HttpRequest) -> HttpResponse:
    need_perm(request, Perm.MANAGE_NEEDS)
    status = request.GET.get("status", c.TicketStatus.OPEN)
    if status not in c.TicketStatus.values:
        status = c.TicketStatus.OPEN
    tickets = selectors.tickets_list(request.user, status=status)
    page = Paginator(tickets, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "channels/tickets.html",
        {
            "page": page,
            "status": status,
            "statuses": c.TicketStatus.choices,
            "can_unmask": user_has_perm(request.user, Perm.UNMASK),
            "active_nav": "services",
        },
    )


def _ticket(request: HttpRequest, ticket_id: int) -> CallTicket:
    need_perm(request, Perm.MANAGE_NEEDS)
    ticket = selectors.ticket_get(request.user, ticket_id)
    if ticket is None:
        not_found(request)
    return ticket


def _items() -> list[ServiceItem]:
    return list(ServiceItem.objects.filter(is_active=True).order_by("tier", "category", "code"))


def _default_item(ticket: CallTicket) -> str:
    meaning = conf.call_keys().get(ticket.event.key) or conf.call_keys().get("9")
    return meaning.item if meaning else ""


@login_required
@require_http_methods(["GET", "POST"])
def ticket_view(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """One ticket; POST ``action=link`` (household number, service, urgency) or
    ``action=close`` (note)."""
    ticket = _ticket(request, ticket_id)
    errors: list[str] = []
    form: dict[str, str] = {
        "household": ticket.household.number if ticket.household else "",
        "item": _default_item(ticket),
        "urgency": ticket.event.urgency or sc.Urgency.URGENT,
        "person": "",
        "note": "",
    }
    if request.method == "POST":
        form.update({k: request.POST.get(k, "").strip() for k in form})
        actor = request_user(request)
        try:
            if request.POST.get("action") == "close":
                services.call_ticket_close(actor=actor, ticket=ticket, note=form["note"])
            else:
                household, person, item = _link_choices(request, form)
                services.call_ticket_link(
                    actor=actor,
                    ticket=ticket,
                    household=household,
                    person=person,
                    item=item,
                    urgency=form["urgency"],
                    note=form["note"],
                )
        except (ValidationError, PermissionDenied) as exc:
            errors = error_messages(exc)
        else:
            return redirect("channels:ticket", ticket.pk)
    members: list[Person] = []
    if ticket.household_id is not None:
        members = list(scoped(request.user, Person.objects.filter(household=ticket.household_id)))
    return render(
        request,
        "channels/ticket.html",
        {
            "ticket": ticket,
            "repeats": selectors.ticket_repeats(ticket),
            "form": form,
            "errors": errors,
            "items": _items(),
            "urgencies": sc.Urgency.choices,
            "members": members,
            "can_unmask": user_has_perm(request.user, Perm.UNMASK),
            "active_nav": "services",
        },
        status=422 if errors else 200,
    )


def _link_choices(
    request: HttpRequest, form: dict[str, str]
) -> tuple[Household, Person | None, ServiceItem]:
    errors: dict[str, str] = {}
    # Only households the worker may see can be linked: the same answer for one that
    # does not exist and one outside the area.
    household = (
        scoped(request.user, Household.objects.filter(is_active=True))
        .filter(number=form["household"])
        .select_related("region")
        .first()
    )
    if household is None:
        errors["household"] = _("No household with this number in your area.")
    person = None
    if household is not None and form["person"]:
        person = Person.objects.filter(
            household=household, pk=form["person"] if form["person"].isdigit() else 0
        ).first()
        if person is None:
            errors["person"] = _("Choose a member of this household.")
    item = ServiceItem.objects.filter(code=form["item"], is_active=True).first()
    if item is None:
        errors["item"] = _("Choose a service that is offered.")
    if form["urgency"] not in sc.Urgency.values:
        errors["urgency"] = _("Choose the urgency.")
    if errors:
        raise ValidationError(errors)
    assert household is not None and item is not None
    return household, person, item


@login_required
@require_POST
def ticket_reveal_view(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """htmx: the caller's number in full, to ring back. Audited by the service."""
    ticket = _ticket(request, ticket_id)
    value = services.call_ticket_reveal(actor=request_user(request), ticket=ticket, request=request)
    return render(request, "channels/_revealed.html", {"value": value})
