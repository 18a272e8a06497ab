"""Pages of dispatch (派单 / 接单).

- ``/services/dispatch/``: the dispatcher's console (``DISPATCH``, their area): needs on
  the dispatch route with no open order (a one-key call's urgent need) with "place the
  order and dispatch"; pending orders, overdue first, and those no provider can take;
  offers waiting for an answer with the time left; the latest answers; "dispatch all
  pending". ``/services/dispatch/orders/<id>/``: one order's offers and the override form
  (providers that may take it except for distance, never red; a reason is required).
- ``/services/offers/``: a provider manager's open offers (``SERVE_ORDERS``): the item,
  the village, the day and window, the distance — not the name, the address or the phone,
  which the order pages show once the offer is accepted. Accept (optionally naming the
  care worker) or decline (a reason is required). Made for a phone.

Plain views: each parses the form, calls one service and redirects; a refusal renders the
page again with the messages, status 422 and what was typed.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiuzhu.accounts.roles import Perm
from jiuzhu.core.form_input import date_or_none, error_messages, int_or_none
from jiuzhu.core.http import need_perm, not_found, request_user
from jiuzhu.services import choices as c
from jiuzhu.services import dispatch_selectors as sel
from jiuzhu.services.models import DispatchOffer, Provider, ServiceOrder
from jiuzhu.services.services import dispatch as svc
from jiuzhu.services.services.orders import order_create


def _minutes_left(moment: datetime.datetime, now: datetime.datetime) -> int:
    return max(0, int((moment - now).total_seconds() // 60))


# --- the dispatcher's console -------------------------------------------------------------


def _console(
    request: HttpRequest,
    *,
    errors: list[str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request_user(request)
    now = timezone.now()
    pending = sel.pending_orders(user, now=now)
    stuck = sel.orders_nobody_can_take(pending)
    offers = sel.open_offers(user)
    for offer in offers:
        offer.minutes_left = _minutes_left(offer.expires_at, now)  # type: ignore[attr-defined]
    return render(
        request,
        "services/dispatch/console.html",
        {
            "needs": sel.needs_awaiting_order(user),
            "pending": [o for o in pending if o.pk not in stuck],
            "stuck": [o for o in pending if o.pk in stuck],
            "offers": offers,
            "answers": sel.recent_answers(user),
            "today": timezone.localdate(),
            "errors": errors or [],
            "form": form or {},
            "active_nav": "dispatch",
        },
        status=status,
    )


@login_required
def console(request: HttpRequest) -> HttpResponse:
    need_perm(request, Perm.DISPATCH)
    return _console(request)


def _report(request: HttpRequest, result: svc.DispatchResult) -> None:
    messages.success(
        request,
        _("%(offered)s offered, %(waiting)s still waiting for a provider.")
        % {"offered": len(result.offers), "waiting": len(result.waiting)},
    )


@login_required
@require_POST
def run(request: HttpRequest) -> HttpResponse:
    """Dispatch every pending order of the dispatcher's area."""
    need_perm(request, Perm.DISPATCH)
    try:
        result = svc.dispatch_orders(actor=request_user(request))
    except (ValidationError, PermissionDenied) as exc:
        return _console(request, errors=error_messages(exc), status=422)
    _report(request, result)
    return redirect("services:dispatch_console")


@login_required
@require_POST
def need_order(request: HttpRequest, need_id: int) -> HttpResponse:
    """Place the order for a need (the orders part's ``order_create``) and dispatch it
    at once."""
    need_perm(request, Perm.DISPATCH)
    user = request_user(request)
    need = sel.need_for_dispatcher(user=user, need_id=need_id)
    day = date_or_none(request.POST.get("service_date")) or timezone.localdate()
    try:
        order = order_create(actor=user, need=need, service_date=day)
        offer = svc.dispatch_one(actor=user, order=order)
    except (ValidationError, PermissionDenied) as exc:
        form = {"need": need.pk, "service_date": request.POST.get("service_date", "")}
        return _console(request, errors=error_messages(exc), form=form, status=422)
    if offer is None:
        messages.warning(request, _("The order is placed; no provider can take it now."))
    else:
        messages.success(
            request,
            _("The order is placed and offered to %(provider)s.")
            % {"provider": offer.provider.name},
        )
    return redirect("services:dispatch_order", order.pk)


def _order_page(
    request: HttpRequest,
    order: ServiceOrder,
    *,
    errors: list[str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    open_now = order.status in (c.OrderStatus.PENDING, c.OrderStatus.OFFERED)
    return render(
        request,
        "services/dispatch/order.html",
        {
            "order": order,
            "offers": sel.order_offers(order),
            "choices": sel.override_choices(order) if open_now else [],
            "may_override": open_now,
            "may_dispatch_now": order.status == c.OrderStatus.PENDING,
            "errors": errors or [],
            "form": form or {},
            "active_nav": "dispatch",
        },
        status=status,
    )


@login_required
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    need_perm(request, Perm.DISPATCH)
    order = sel.order_for_dispatcher(user=request.user, order_id=order_id)
    return _order_page(request, order)


@login_required
@require_POST
def order_dispatch(request: HttpRequest, order_id: int) -> HttpResponse:
    need_perm(request, Perm.DISPATCH)
    user = request_user(request)
    order = sel.order_for_dispatcher(user=user, order_id=order_id)
    try:
        offer = svc.dispatch_one(actor=user, order=order)
    except (ValidationError, PermissionDenied) as exc:
        return _order_page(request, order, errors=error_messages(exc), status=422)
    if offer is None:
        messages.warning(request, _("No provider can take this order now."))
    return redirect("services:dispatch_order", order.pk)


@login_required
@require_POST
def order_override(request: HttpRequest, order_id: int) -> HttpResponse:
    need_perm(request, Perm.DISPATCH)
    user = request_user(request)
    order = sel.order_for_dispatcher(user=user, order_id=order_id)
    form = {
        "provider": request.POST.get("provider", ""),
        "reason": request.POST.get("reason", ""),
    }
    try:
        provider_id = int_or_none(form["provider"])
        provider = Provider.objects.filter(pk=provider_id).first() if provider_id else None
        if provider is None:
            raise ValidationError({"provider": _("Choose a provider.")})
        svc.dispatch_override(actor=user, order=order, provider=provider, reason=form["reason"])
    except (ValidationError, PermissionDenied) as exc:
        order.refresh_from_db()
        return _order_page(request, order, errors=error_messages(exc), form=form, status=422)
    return redirect("services:dispatch_order", order.pk)


# --- the provider's offers ------------------------------------------------------------------


def _manager(request: HttpRequest) -> Any:
    need_perm(request, Perm.SERVE_ORDERS)
    member = sel.manager_membership(request.user)
    if member is None:
        not_found(request)
    return member


@login_required
def offers(request: HttpRequest) -> HttpResponse:
    need_perm(request, Perm.SERVE_ORDERS)
    if sel.manager_membership(request.user) is None:
        # A care worker follows the menu here too: say who answers offers, show none.
        from jiuzhu.services.directory_selectors import member_of_user

        member = member_of_user(request.user)
        if member is None:
            not_found(request)
        return render(
            request,
            "services/dispatch/offers.html",
            {"member": member, "offers": [], "recent": [], "active_nav": "offers"},
        )
    member = _manager(request)
    now = timezone.now()
    rows = sel.open_offers_for_provider(request.user)
    for offer in rows:
        offer.minutes_left = _minutes_left(offer.expires_at, now)  # type: ignore[attr-defined]
    recent = list(
        sel.offers_for_provider(request.user)
        .exclude(status=c.OfferStatus.OFFERED)
        .order_by("-answered_at", "-id")[:10]
    )
    return render(
        request,
        "services/dispatch/offers.html",
        {"member": member, "offers": rows, "recent": recent, "active_nav": "offers"},
    )


def _offer_page(
    request: HttpRequest,
    offer: DispatchOffer,
    *,
    errors: list[str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    member = _manager(request)
    now = timezone.now()
    return render(
        request,
        "services/dispatch/offer.html",
        {
            "offer": offer,
            "summary": sel.offer_summary(offer),
            "member": member,
            "workers": sel.provider_workers(member.provider_id),
            "is_open": offer.status == c.OfferStatus.OFFERED and offer.expires_at > now,
            "minutes_left": _minutes_left(offer.expires_at, now),
            "errors": errors or [],
            "form": form or {},
            "active_nav": "offers",
        },
        status=status,
    )


@login_required
def offer_detail(request: HttpRequest, offer_id: int) -> HttpResponse:
    _manager(request)
    return _offer_page(request, sel.offer_for_provider(user=request.user, offer_id=offer_id))


@login_required
@require_POST
def offer_accept(request: HttpRequest, offer_id: int) -> HttpResponse:
    member = _manager(request)
    user = request_user(request)
    offer = sel.offer_for_provider(user=user, offer_id=offer_id)
    form = {"worker": request.POST.get("worker", "")}
    try:
        worker = None
        worker_id = int_or_none(form["worker"])
        if form["worker"].strip():
            chosen = next(
                (m for m in sel.provider_workers(member.provider_id) if m.user_id == worker_id),
                None,
            )
            if chosen is None:
                raise ValidationError(
                    {"worker": _("Choose one of the provider's active care workers.")}
                )
            worker = chosen.user
        order = svc.offer_accept(actor=user, offer=offer, worker=worker)
    except (ValidationError, PermissionDenied) as exc:
        offer.refresh_from_db()
        return _offer_page(request, offer, errors=error_messages(exc), form=form, status=422)
    return redirect("services:orders_work_order", order.pk)


@login_required
@require_POST
def offer_decline(request: HttpRequest, offer_id: int) -> HttpResponse:
    _manager(request)
    user = request_user(request)
    offer = sel.offer_for_provider(user=user, offer_id=offer_id)
    form = {"reason": request.POST.get("reason", "")}
    try:
        svc.offer_decline(actor=user, offer=offer, reason=form["reason"])
    except (ValidationError, PermissionDenied) as exc:
        offer.refresh_from_db()
        return _offer_page(request, offer, errors=error_messages(exc), form=form, status=422)
    messages.success(request, _("Declined: the order goes to another provider."))
    return redirect("services:dispatch_offers")
