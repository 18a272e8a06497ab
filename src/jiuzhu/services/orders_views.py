"""Pages of service orders.

- ``/services/work/``: the care worker's phone (``SERVE_ORDERS``): my orders today and
  upcoming; an order with the beneficiary's masked name, the address while it is open, a
  tap-to-call phone for the assigned worker (audited), check-in with the phone's position
  and camera, the checklist ticked step by step (htmx), check-out. Managers see all their
  provider's orders and assign workers. Another provider's order answers 404.
- ``/services/orders/``: staff (``VIEW_PERSONAL_DATA``, their area): the orders with
  filters, one order's whole record, and the staff's acts (placing an order for a need,
  a rating recorded in person or by phone, cancel, no-show, dispute and its decision).
- ``/services/rate/<token>/``: the beneficiary's rating page, public, opened from the SMS.

Plain views: each parses the form, calls one service and redirects; a refusal renders the
page again with the messages, status 422 and what was typed.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import get_scoped_or_404, user_has_perm
from jiuzhu.core.form_input import date_or_none, error_messages, int_or_none
from jiuzhu.core.http import need_perm, not_found, private_file_response, request_user
from jiuzhu.services import choices as c
from jiuzhu.services import order_selectors as sel
from jiuzhu.services.models import Need, Provider, ProviderMember, ServiceOrder
from jiuzhu.services.services import orders as svc
from jiuzhu.services.services.plans import unit_label
from jiuzhu.services.services.vouchers import voucher_balance


def _datetime(text: str | None) -> datetime.datetime | None:
    try:
        value = datetime.datetime.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _who(order: ServiceOrder) -> str:
    """The beneficiary, masked (the person, else the head of household)."""
    if order.person is not None:
        return order.person.name_masked
    return order.household.head_name_masked


# --- the care worker's pages (/services/work/) -----------------------------------------


def _member(request: HttpRequest) -> ProviderMember:
    need_perm(request, Perm.SERVE_ORDERS)
    member = sel.membership_of(request.user)
    if member is None:
        not_found(request)
    return member


@login_required
def work_home(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    today = timezone.localdate()
    current, upcoming = sel.worker_orders(request.user, today=today)
    recent = list(
        sel.orders_for_provider(request.user)
        .filter(status__in=(c.OrderStatus.CHECKED_OUT, c.OrderStatus.CLOSED))
        .order_by("-check_out_at", "-id")[:10]
    )
    unassigned = [o for o in current + upcoming if o.worker_id is None]
    return render(
        request,
        "services/work/home.html",
        {
            "member": member,
            "today": today,
            "current": current,
            "upcoming": upcoming,
            "recent": recent,
            "unassigned": unassigned if member.is_manager else [],
            "active_nav": "services",
        },
    )


def _work_page(
    request: HttpRequest,
    order: ServiceOrder,
    *,
    errors: list[str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    member = _member(request)
    user = request_user(request)
    is_worker = order.worker_id == user.pk
    is_open = order.status in (c.OrderStatus.ACCEPTED, c.OrderStatus.IN_SERVICE)
    may_serve = order.worker_id is None or is_worker
    distance = sel.check_in_distance(order)
    workers = (
        list(
            ProviderMember.objects.filter(provider_id=member.provider_id, is_active=True)
            .select_related("user")
            .order_by("-is_manager", "user__username")
        )
        if member.is_manager
        else []
    )
    return render(
        request,
        "services/work/order.html",
        {
            "order": order,
            "member": member,
            "who": _who(order),
            "address": order.household.address if is_open else "",
            "is_worker": is_worker,
            "may_call": is_worker and is_open,
            "may_check_in": order.status == c.OrderStatus.ACCEPTED and may_serve,
            "may_serve": order.status == c.OrderStatus.IN_SERVICE and is_worker,
            "may_assign": member.is_manager and order.status == c.OrderStatus.ACCEPTED,
            "may_cancel": member.is_manager and order.status == c.OrderStatus.ACCEPTED,
            "may_no_show": is_open and (member.is_manager or is_worker),
            "steps": order.item.steps or [],
            "done": sel.steps_done(order),
            "far": distance is not None and distance > svc.FAR_KM,
            "distance": distance,
            "workers": workers,
            "errors": errors or [],
            "form": form or {},
            "active_nav": "services",
        },
        status=status,
    )


@login_required
def work_order(request: HttpRequest, order_id: int) -> HttpResponse:
    _member(request)
    order = sel.order_for_provider(user=request.user, order_id=order_id)
    return _work_page(request, order)


def _work_act(
    request: HttpRequest, order_id: int, act: Any, form_keys: tuple[str, ...]
) -> HttpResponse:
    _member(request)
    order = sel.order_for_provider(user=request.user, order_id=order_id)
    try:
        act(order)
    except (ValidationError, PermissionDenied) as exc:
        order.refresh_from_db()
        form = {key: request.POST.get(key, "") for key in form_keys}
        return _work_page(request, order, errors=error_messages(exc), form=form, status=422)
    return redirect("services:orders_work_order", order.pk)


@login_required
@require_POST
def work_assign(request: HttpRequest, order_id: int) -> HttpResponse:
    def act(order: ServiceOrder) -> None:
        chosen = int_or_none(request.POST.get("worker"))
        member = (
            ProviderMember.objects.filter(provider=order.provider, user_id=chosen).first()
            if chosen is not None and order.provider is not None
            else None
        )
        if member is None:
            raise ValidationError(
                {"worker": _("Choose one of the provider's active care workers.")}
            )
        svc.order_assign_worker(actor=request_user(request), order=order, worker=member.user)

    return _work_act(request, order_id, act, ("worker",))


@login_required
@require_POST
def work_check_in(request: HttpRequest, order_id: int) -> HttpResponse:
    def act(order: ServiceOrder) -> None:
        svc.order_check_in(
            actor=request_user(request),
            order=order,
            lat=request.POST.get("lat", ""),
            lon=request.POST.get("lon", ""),
            photo=request.FILES.get("photo"),
        )

    return _work_act(request, order_id, act, ("lat", "lon"))


@login_required
@require_POST
def work_tick(request: HttpRequest, order_id: int, index: int) -> HttpResponse:
    """htmx: tick or untick one step; answers the step's row."""
    _member(request)
    order = sel.order_for_provider(user=request.user, order_id=order_id)
    error = ""
    try:
        order = svc.order_tick_step(
            actor=request_user(request),
            order=order,
            index=index,
            done=request.POST.get("done") == "1",
            note=request.POST.get("note", ""),
        )
    except (ValidationError, PermissionDenied) as exc:
        error = " ".join(error_messages(exc))
        order.refresh_from_db()
    if not request.headers.get("HX-Request"):
        if error:
            return _work_page(request, order, errors=[error], status=422)
        return redirect("services:orders_work_order", order.pk)
    steps = order.checklist or []
    if not 0 <= index < len(steps):
        not_found(request)
    return render(
        request,
        "services/work/_step.html",
        # htmx swaps only successful answers: a refusal comes back as the row with its message.
        {"order": order, "step": steps[index], "index": index, "error": error, "may_serve": True},
    )


@login_required
@require_POST
def work_check_out(request: HttpRequest, order_id: int) -> HttpResponse:
    def act(order: ServiceOrder) -> None:
        svc.order_check_out(
            actor=request_user(request),
            order=order,
            lat=request.POST.get("lat", ""),
            lon=request.POST.get("lon", ""),
            photo=request.FILES.get("photo"),
            note=request.POST.get("note", ""),
        )

    return _work_act(request, order_id, act, ("lat", "lon", "note"))


@login_required
@require_POST
def work_no_show(request: HttpRequest, order_id: int) -> HttpResponse:
    def act(order: ServiceOrder) -> None:
        svc.order_no_show(
            actor=request_user(request),
            order=order,
            absent=svc.Absent.BENEFICIARY,
            reason=request.POST.get("reason", ""),
        )

    return _work_act(request, order_id, act, ("reason",))


@login_required
@require_POST
def work_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    def act(order: ServiceOrder) -> None:
        svc.order_cancel(
            actor=request_user(request), order=order, reason=request.POST.get("reason", "")
        )

    return _work_act(request, order_id, act, ("cancel_reason",))


@login_required
@require_POST
def work_phone(request: HttpRequest, order_id: int) -> HttpResponse:
    """htmx: the beneficiary's phone as a tap-to-call link, for the assigned worker of an
    open order; audited."""
    _member(request)
    order = sel.order_for_provider(user=request.user, order_id=order_id)
    try:
        phone = svc.order_phone_reveal(actor=request_user(request), order=order, request=request)
    except PermissionDenied:
        not_found(request)
    return render(request, "services/work/_phone.html", {"phone": phone})


# --- staff pages (/services/orders/) ---------------------------------------------------


@login_required
def orders_list(request: HttpRequest) -> HttpResponse:
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    params = request.GET
    filters = sel.OrderFilters(
        status=params.get("status", "") if params.get("status") in c.OrderStatus.values else "",
        provider=int_or_none(params.get("provider")),
        date_from=date_or_none(params.get("from")),
        date_to=date_or_none(params.get("to")),
        region=params.get("region", "").strip()[:12],
        household=int_or_none(params.get("household")),
    )
    orders = sel.orders_filtered(request.user, filters)
    page = Paginator(orders, 50).get_page(params.get("page"))
    return render(
        request,
        "services/orders/list.html",
        {
            "page": page,
            "filters": filters,
            "statuses": c.OrderStatus.choices,
            "providers": Provider.objects.filter(
                pk__in=sel.orders_for_staff(request.user).values("provider_id")
            ).order_by("name"),
            "active_nav": "services",
        },
    )


def _staff_page(
    request: HttpRequest,
    order: ServiceOrder,
    *,
    errors: list[str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    manages = user_has_perm(user, Perm.MANAGE_NEEDS)
    dispatches = user_has_perm(user, Perm.DISPATCH)
    balance = voucher_balance(order.plan, on=order.service_date) if order.plan else None
    distance_in = sel.check_in_distance(order)
    distance_out = sel.distance_km(order.lat, order.lon, order.check_out_lat, order.check_out_lon)
    served = order.status == c.OrderStatus.CHECKED_OUT
    return render(
        request,
        "services/orders/detail.html",
        {
            "order": order,
            "who": _who(order),
            "history": sel.order_history(order),
            "done": sel.steps_done(order),
            "distance_in": distance_in,
            "distance_out": distance_out,
            "far": distance_in is not None and distance_in > svc.FAR_KM,
            "balance": balance,
            "unit_label": unit_label(order.plan.unit) if order.plan else "",
            "debits": list(order.debits.order_by("created_at", "id")),
            "may_rate": served and manages,
            "may_dispute": served and manages,
            "may_resolve": order.status == c.OrderStatus.DISPUTED and manages,
            "may_cancel": (manages or dispatches)
            and order.status
            in (
                c.OrderStatus.PENDING,
                c.OrderStatus.OFFERED,
                c.OrderStatus.ACCEPTED,
                c.OrderStatus.IN_SERVICE,
            ),
            "may_no_show": (manages or dispatches)
            and order.status in (c.OrderStatus.ACCEPTED, c.OrderStatus.IN_SERVICE),
            "rated_how": [(v, lbl) for v, lbl in c.RatedHow.choices if v != c.RatedHow.APP],
            "errors": errors or [],
            "form": form or {},
            "active_nav": "services",
        },
        status=status,
    )


@login_required
def orders_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    order = sel.order_for_staff(user=request.user, order_id=order_id)
    return _staff_page(request, order)


def _staff_act(
    request: HttpRequest, order_id: int, act: Any, form_keys: tuple[str, ...]
) -> HttpResponse:
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    order = sel.order_for_staff(user=request.user, order_id=order_id)
    try:
        act(order)
    except (ValidationError, PermissionDenied) as exc:
        order.refresh_from_db()
        form = {key: request.POST.get(key, "") for key in form_keys}
        return _staff_page(request, order, errors=error_messages(exc), form=form, status=422)
    return redirect("services:orders_detail", order.pk)


@login_required
@require_POST
def orders_rate_record(request: HttpRequest, order_id: int) -> HttpResponse:
    def act(order: ServiceOrder) -> None:
        svc.order_rate(
            actor=request_user(request),
            order=order,
            rating=request.POST.get("rating", ""),
            comment=request.POST.get("comment", ""),
            how=request.POST.get("how", ""),
        )

    return _staff_act(request, order_id, act, ("rating", "comment", "how"))


@login_required
@require_POST
def orders_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    def act(order: ServiceOrder) -> None:
        svc.order_cancel(
            actor=request_user(request), order=order, reason=request.POST.get("reason", "")
        )

    return _staff_act(request, order_id, act, ("reason",))


@login_required
@require_POST
def orders_no_show(request: HttpRequest, order_id: int) -> HttpResponse:
    def act(order: ServiceOrder) -> None:
        svc.order_no_show(
            actor=request_user(request),
            order=order,
            absent=request.POST.get("absent", ""),
            reason=request.POST.get("no_show_reason", ""),
        )

    return _staff_act(request, order_id, act, ("absent", "no_show_reason"))


@login_required
@require_POST
def orders_dispute(request: HttpRequest, order_id: int) -> HttpResponse:
    def act(order: ServiceOrder) -> None:
        svc.order_dispute(
            actor=request_user(request),
            order=order,
            reason=request.POST.get("dispute_reason", ""),
        )

    return _staff_act(request, order_id, act, ("dispute_reason",))


@login_required
@require_POST
def orders_resolve(request: HttpRequest, order_id: int) -> HttpResponse:
    def act(order: ServiceOrder) -> None:
        served = request.POST.get("served", "")
        if served not in ("1", "0"):
            raise ValidationError({"served": _("Say whether the service was done.")})
        svc.order_dispute_resolve(
            actor=request_user(request),
            order=order,
            served=served == "1",
            note=request.POST.get("note", ""),
        )

    return _staff_act(request, order_id, act, ("served", "note"))


@login_required
@require_http_methods(["GET", "POST"])
def orders_new(request: HttpRequest) -> HttpResponse:
    """Place an order for a need on the dispatch route (staff who manage needs or
    dispatch): the service date, the quantity, the time window."""
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    if not (
        user_has_perm(request.user, Perm.MANAGE_NEEDS) or user_has_perm(request.user, Perm.DISPATCH)
    ):
        not_found(request)
    source = request.POST if request.method == "POST" else request.GET
    need = get_scoped_or_404(
        request.user,
        Need.objects.select_related("item", "plan_item__plan", "household", "person"),
        pk=int_or_none(source.get("need")),
    )
    form = {
        "service_date": source.get("service_date", "") or timezone.localdate().isoformat(),
        "quantity": source.get("quantity", "") or format(need.quantity.normalize(), "f"),
        "window_start": source.get("window_start", ""),
        "window_end": source.get("window_end", ""),
    }
    errors: list[str] = []
    if request.method == "POST":
        day = date_or_none(form["service_date"])
        try:
            if day is None:
                raise ValidationError({"service_date": _("Enter the service date.")})
            order = svc.order_create(
                actor=request_user(request),
                need=need,
                service_date=day,
                quantity=form["quantity"],
                window_start=_datetime(form["window_start"]),
                window_end=_datetime(form["window_end"]),
            )
        except (ValidationError, PermissionDenied) as exc:
            errors = error_messages(exc)
        else:
            return redirect("services:orders_detail", order.pk)
    balance = (
        voucher_balance(need.plan_item.plan, on=date_or_none(form["service_date"]))
        if need.plan_item is not None
        else None
    )
    return render(
        request,
        "services/orders/new.html",
        {
            "need": need,
            "who": need.person.name_masked if need.person else need.household.head_name_masked,
            "balance": balance,
            "unit_label": balance.unit_label if balance else "",
            "form": form,
            "errors": errors,
            "active_nav": "services",
        },
        status=422 if errors else 200,
    )


@login_required
def orders_photo(request: HttpRequest, order_id: int, which: str) -> HttpResponseBase:
    """A check-in or check-out photo, for staff of the area and the order's provider."""
    if which not in ("in", "out"):
        not_found(request)
    order = sel.order_visible(user=request.user, order_id=order_id)
    return private_file_response(
        request,
        order.check_in_photo if which == "in" else order.check_out_photo,
        object_type="services.order",
        object_id=order.pk,
        region_code=order.region_id,
        detail={"photo": which},
    )


# --- the beneficiary's rating page (public) --------------------------------------------


# The signed, single-use token in the address is the credential; the page keeps no
# session, so there is no cross-site request to forge on anybody's behalf.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, token: str) -> HttpResponse:
    order = svc.order_from_rating_token(token)
    if order is None:
        return render(request, "services/orders/rate.html", {"state": "invalid"}, status=404)
    context: dict[str, Any] = {"order": order, "item": order.item, "token": token}
    if order.rating is not None:
        return render(request, "services/orders/rate.html", {**context, "state": "rated"})
    if order.status != c.OrderStatus.CHECKED_OUT:
        return render(request, "services/orders/rate.html", {**context, "state": "closed"})
    if request.method == "POST":
        form = {
            "rating": request.POST.get("rating", ""),
            "comment": request.POST.get("comment", ""),
        }
        try:
            svc.order_rate_by_link(token=token, rating=form["rating"], comment=form["comment"])
        except ValidationError as exc:
            return render(
                request,
                "services/orders/rate.html",
                {**context, "state": "open", "errors": error_messages(exc), "form": form},
                status=422,
            )
        return render(request, "services/orders/rate.html", {**context, "state": "thanks"})
    return render(request, "services/orders/rate.html", {**context, "state": "open", "form": {}})
