"""Pages of needs and claims.

Staff (/services/needs/…): the needs of their area, a new need from a household, a
warning or a plan item, one need with its consent, public face (with a live preview of
exactly what the public sees), publishing and its claims, and the statistics.

The market (/services/market/…), phone-sized pages for volunteers, donors and
organisations: published needs near them (public face only), claiming, their claims,
delivery, and the protected details once a claim is approved.

Plain views: parse the form, call one service, redirect; a refusal shows the page again
with the service's messages (422; 409 when someone else claimed first).
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import get_scoped_or_404, user_has_perm
from jiuzhu.core.form_input import date_or_none, error_messages, local_datetime
from jiuzhu.core.http import need_perm, not_found, private_file_response, request_user
from jiuzhu.regions.models import Level, Region
from jiuzhu.registry.models import Household
from jiuzhu.registry.selectors import household_members
from jiuzhu.services import choices as c
from jiuzhu.services import need_selectors as sel
from jiuzhu.services.models import Claim, Need, PlanItem, ServiceItem
from jiuzhu.services.selectors import items_for_region
from jiuzhu.services.services import claims as claim_services
from jiuzhu.services.services import needs as need_services
from jiuzhu.services.services.needs import XLSX


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _area(request: HttpRequest) -> str:
    return str(getattr(request.user, "region_id", "") or "")


# --- Staff: the needs list ----------------------------------------------------------------


def _list_filters(request: HttpRequest) -> sel.NeedFilters:
    params = request.GET
    return sel.NeedFilters(
        status=params.get("status", "")[:12],
        source=params.get("source", "")[:12],
        route=params.get("route", "")[:12],
        urgency=params.get("urgency", "")[:10],
        region=params.get("region", "")[:12] if params.get("region", "").isdigit() else "",
    )


def _regions_below(request: HttpRequest) -> list[Region]:
    area = _area(request)
    if not area:
        return []
    return list(
        Region.objects.filter(
            code__startswith=area, level__in=[Level.TOWN, Level.VILLAGE]
        ).order_by("code")[:500]
    )


@login_required
def needs_list_view(request: HttpRequest) -> HttpResponse:
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    filters = _list_filters(request)
    if request.GET.get("export") == "xlsx":
        need_perm(request, Perm.EXPORT)
        return _xlsx(*need_services.needs_export(actor=request_user(request), filters=filters))
    page = Paginator(sel.needs_list(request.user, filters), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    return render(
        request,
        "services/needs/list.html",
        {
            "page": page,
            "filters": filters,
            "regions": _regions_below(request),
            "statuses": c.NeedStatus.choices,
            "sources": c.NeedSource.choices,
            "routes": c.Route.choices,
            "urgencies": c.Urgency.choices,
            "query": query.urlencode(),
            "can_export": user_has_perm(request.user, Perm.EXPORT),
            "can_manage": user_has_perm(request.user, Perm.MANAGE_NEEDS),
            "active_nav": "services",
        },
    )


# --- Staff: a new need --------------------------------------------------------------------


def _origin(request: HttpRequest, params: Any) -> dict[str, Any]:
    """What the new need comes from: a household, a verified warning or a plan item (all
    read within the user's area: 404 otherwise)."""
    user = request.user
    if params.get("plan_item", "").isdigit():
        plan_item = get_scoped_or_404(
            user,
            PlanItem.objects.select_related("plan__household__region", "item"),
            pk=int(params["plan_item"]),
        )
        return {"plan_item": plan_item, "household": plan_item.plan.household}
    if params.get("warning", "").isdigit():
        from jiuzhu.monitoring.selectors import warning_get

        warning = warning_get(user=user, warning_id=int(params["warning"]))
        return {"warning": warning, "household": warning.household}
    if params.get("household", "").isdigit():
        household = get_scoped_or_404(
            user, Household.objects.select_related("region"), pk=int(params["household"])
        )
        return {"household": household}
    not_found(request)


def _decimal(text: str, field: str) -> Decimal | None:
    text = text.strip().replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValidationError({field: _("Enter a number.")}) from exc
    if value < 0 or value > Decimal("9999999"):
        raise ValidationError({field: _("Enter a number.")})
    return value


def _create_from_form(request: HttpRequest, origin: dict[str, Any]) -> Need:
    post = request.POST
    actor = request_user(request)
    household: Household = origin["household"]
    members = {str(m.pk): m for m in household_members(household_id=household.pk)}
    person = members.get(post.get("person", ""))
    if post.get("person") and person is None:
        raise ValidationError({"person": _("Choose a member of this household.")})
    try:
        window_start = local_datetime(post.get("window_start", ""))
        window_end = local_datetime(post.get("window_end", ""))
    except ValueError as exc:
        raise ValidationError({"window_start": _("Enter the date and time.")}) from exc
    urgency = post.get("urgency", c.Urgency.NORMAL)
    if "plan_item" in origin:
        return need_services.need_from_plan_item(
            actor=actor,
            plan_item=origin["plan_item"],
            urgency=urgency,
            window_start=window_start,
            window_end=window_end,
            details=post.get("details", ""),
            person=person,
        )
    item = None
    if post.get("item", "").isdigit():
        item = ServiceItem.objects.filter(pk=int(post["item"]), is_active=True).first()
    quantity = _decimal(post.get("quantity", ""), "quantity") or Decimal(1)
    value = _decimal(post.get("estimated_value", ""), "estimated_value")
    if "warning" in origin:
        return need_services.need_from_warning(
            actor=actor,
            warning=origin["warning"],
            title=post.get("title", ""),
            route=post.get("route", ""),
            funding=post.get("funding", ""),
            item=item,
            person=person,
            urgency=urgency,
            details=post.get("details", ""),
            window_start=window_start,
            window_end=window_end,
            estimated_value=value,
        )
    source = post.get("source", "")
    if source not in (c.NeedSource.WISH, c.NeedSource.VISIT, c.NeedSource.STAFF):
        raise ValidationError({"source": _("Choose where the need comes from.")})
    return need_services.need_create(
        actor=actor,
        household=household,
        source=source,
        route=post.get("route", ""),
        funding=post.get("funding", ""),
        title=post.get("title", ""),
        person=person,
        item=item,
        quantity=quantity,
        details=post.get("details", ""),
        urgency=urgency,
        window_start=window_start,
        window_end=window_end,
        estimated_value=value,
    )


@login_required
@require_http_methods(["GET", "POST"])
def needs_new_view(request: HttpRequest) -> HttpResponse:
    """A need for a household: a micro-wish, a need found on a visit or by staff, a need
    from a verified warning (?warning=), or a service of the plan to order (?plan_item=)."""
    need_perm(request, Perm.MANAGE_NEEDS)
    params = request.POST if request.method == "POST" else request.GET
    origin = _origin(request, params)
    household: Household = origin["household"]
    errors: list[str] = []
    if request.method == "POST":
        try:
            need = _create_from_form(request, origin)
            return redirect("services:needs_detail", need_id=need.pk)
        except (ValidationError, PermissionDenied) as exc:
            errors = error_messages(exc)
    if errors:
        form: Any = request.POST
    else:
        form = {
            "source": c.NeedSource.WISH,
            "route": c.Route.CLAIM,
            "funding": c.Funding.SELF_CLAIM,
            "urgency": c.Urgency.NORMAL,
            "quantity": "1",
        }
        if "warning" in origin:
            form = {**form, "source": c.NeedSource.WARNING, "route": c.Route.DISPATCH,
                    "funding": c.Funding.PROJECT}  # fmt: skip
    return render(
        request,
        "services/needs/new.html",
        {
            "household": household,
            "warning": origin.get("warning"),
            "plan_item": origin.get("plan_item"),
            "members": [
                m for m in household_members(household_id=household.pk) if not m.is_deceased
            ],
            "items": sorted(items_for_region(household.region_id), key=lambda i: i.code),
            "sources": [
                (v, label)
                for v, label in c.NeedSource.choices
                if v in (c.NeedSource.WISH, c.NeedSource.VISIT, c.NeedSource.STAFF)
            ],
            "routes": c.Route.choices,
            "fundings": [(v, label) for v, label in c.Funding.choices if v != c.Funding.VOUCHER],
            "urgencies": c.Urgency.choices,
            "form": form,
            "errors": errors,
            "active_nav": "services",
        },
        status=422 if errors else 200,
    )


# --- Staff: one need ----------------------------------------------------------------------


def _need_page(
    request: HttpRequest,
    need_id: int,
    errors: list[str] | None = None,
    section: str = "",
    status: int = 422,
) -> HttpResponse:
    need = sel.need_get(user=request.user, need_id=need_id)
    members = [m for m in household_members(household_id=need.household_id) if not m.is_deceased]
    form: Any = request.POST if errors else {}
    face = {
        "public_title": form.get("public_title", need.public_title)
        if section == "face"
        else need.public_title,
        "public_summary": form.get("public_summary", need.public_summary)
        if section == "face"
        else need.public_summary,
    }
    can_manage = user_has_perm(request.user, Perm.MANAGE_NEEDS)
    return render(
        request,
        "services/needs/detail.html",
        {
            "need": need,
            "household": need.household,
            "members": members,
            "claims": sel.need_claims(need),
            "consent_how": c.ConsentHow.choices,
            "confirmed_by": c.ConfirmedBy.choices,
            "face": face,
            "preview": _preview_need(need, face["public_title"], face["public_summary"]),
            "problems": [],
            "can_manage": can_manage,
            "closed": need.status in ("fulfilled", "cancelled", "expired"),
            "errors": errors or [],
            "section": section,
            "form": form,
            "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "active_nav": "services",
        },
        status=status if errors else 200,
    )


def _preview_need(need: Need, title: str, summary: str) -> Need:
    """A copy of the need as the public would see it with this text (not saved)."""
    preview = Need(
        pk=need.pk,
        public_title=title,
        public_summary=summary,
        region=need.region,
        item=need.item,
        urgency=need.urgency,
        window_start=need.window_start,
        window_end=need.window_end,
        estimated_value=need.estimated_value,
        status=c.NeedStatus.PUBLISHED,
    )
    return preview


@login_required
def needs_detail_view(request: HttpRequest, need_id: int) -> HttpResponse:
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    return _need_page(request, need_id)


@login_required
def needs_claim_photo_view(request: HttpRequest, need_id: int, claim_id: int) -> HttpResponseBase:
    """A claim's delivery photo, for staff of the need's area (audited)."""
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    need = sel.need_get(user=request.user, need_id=need_id)
    claim = Claim.objects.filter(pk=claim_id, need=need).first()
    if claim is None:
        not_found(request)
    return private_file_response(
        request,
        claim.delivery_photo,
        object_type="services.need",
        object_id=need.pk,
        region_code=need.region_id,
        detail={"claim_photo": claim.pk},
    )


def _act(request: HttpRequest, need_id: int, section: str, step: Any) -> HttpResponse:
    need_perm(request, Perm.MANAGE_NEEDS)
    need = sel.need_get(user=request.user, need_id=need_id)
    try:
        step(need)
    except claim_services.ClaimConflict as exc:
        return _need_page(request, need_id, error_messages(exc), section, status=409)
    except (ValidationError, PermissionDenied) as exc:
        return _need_page(request, need_id, error_messages(exc), section)
    return redirect(f"{reverse('services:needs_detail', args=[need_id])}#{section}")


@login_required
@require_POST
def needs_consent_view(request: HttpRequest, need_id: int) -> HttpResponse:
    def step(need: Need) -> None:
        members = household_members(household_id=need.household_id)
        person = next((m for m in members if str(m.pk) == request.POST.get("person")), None)
        if person is None:
            raise ValidationError({"person": _("Choose the member who consented.")})
        try:
            at = local_datetime(request.POST.get("at", ""))
        except ValueError as exc:
            raise ValidationError({"at": _("Enter the date and time.")}) from exc
        need_services.need_record_consent(
            actor=request_user(request),
            need=need,
            person=person,
            how=request.POST.get("how", ""),
            at=at,
        )

    return _act(request, need_id, "consent", step)


@login_required
@require_POST
def needs_face_view(request: HttpRequest, need_id: int) -> HttpResponse:
    return _act(
        request,
        need_id,
        "face",
        lambda need: need_services.need_set_public_face(
            actor=request_user(request),
            need=need,
            public_title=request.POST.get("public_title", ""),
            public_summary=request.POST.get("public_summary", ""),
        ),
    )


@login_required
@require_POST
def needs_preview_view(request: HttpRequest, need_id: int) -> HttpResponse:
    """htmx: the public card as the text typed so far would show it, and what in the
    text may not be shown."""
    need_perm(request, Perm.MANAGE_NEEDS)
    need = sel.need_get(user=request.user, need_id=need_id)
    title = " ".join(request.POST.get("public_title", "").split())[:60]
    summary = request.POST.get("public_summary", "").strip()[:300]
    names = [m.name for m in household_members(household_id=need.household_id)]
    problems = [
        *need_services.public_face_problems(title, names=names, address=need.household.address),
        *need_services.public_face_problems(summary, names=names, address=need.household.address),
    ]
    return render(
        request,
        "services/needs/_preview.html",
        {
            "preview": _preview_need(need, title, summary),
            "problems": list(dict.fromkeys(problems)),
        },
    )


@login_required
@require_POST
def needs_publish_view(request: HttpRequest, need_id: int) -> HttpResponse:
    return _act(
        request,
        need_id,
        "publish",
        lambda need: need_services.need_publish(actor=request_user(request), need=need),
    )


@login_required
@require_POST
def needs_unpublish_view(request: HttpRequest, need_id: int) -> HttpResponse:
    return _act(
        request,
        need_id,
        "publish",
        lambda need: need_services.need_unpublish(actor=request_user(request), need=need),
    )


@login_required
@require_POST
def needs_cancel_view(request: HttpRequest, need_id: int) -> HttpResponse:
    return _act(
        request,
        need_id,
        "cancel",
        lambda need: need_services.need_cancel(
            actor=request_user(request), need=need, reason=request.POST.get("reason", "")
        ),
    )


def _claim_of(request: HttpRequest, need: Need, claim_id: int) -> Claim:
    claim = Claim.objects.filter(pk=claim_id, need=need).select_related("need").first()
    if claim is None:
        not_found(request)
    return claim


@login_required
@require_POST
def needs_claim_decide_view(
    request: HttpRequest, need_id: int, claim_id: int, action: str
) -> HttpResponse:
    """Approve, turn down or confirm a claim on the need."""
    if action not in ("approve", "reject", "confirm"):
        not_found(request)

    def step(need: Need) -> None:
        claim = _claim_of(request, need, claim_id)
        actor = request_user(request)
        if action == "approve":
            claim_services.claim_approve(
                actor=actor, claim=claim, note=request.POST.get("note", "")
            )
        elif action == "reject":
            claim_services.claim_reject(
                actor=actor, claim=claim, reason=request.POST.get("reason", "")
            )
        else:
            claim_services.claim_confirm(
                actor=actor,
                claim=claim,
                confirmed_by=request.POST.get("confirmed_by", ""),
                note=request.POST.get("note", ""),
            )

    return _act(request, need_id, "claims", step)


# --- Staff: statistics --------------------------------------------------------------------


@login_required
def needs_stats_view(request: HttpRequest) -> HttpResponse:
    """Posted, claimed, fulfilled and the median times, per town or village, for a
    period; Excel export."""
    if not (
        user_has_perm(request.user, Perm.MANAGE_NEEDS)
        or user_has_perm(request.user, Perm.VIEW_PERSONAL_DATA)
    ):
        not_found(request)
    area = _area(request)
    if not area:
        not_found(request)
    today = timezone.localdate()
    start = date_or_none(request.GET.get("from", "")) or datetime.date(today.year, 1, 1)
    end = date_or_none(request.GET.get("to", "")) or today
    errors: list[str] = []
    if end < start:
        errors.append(_("The end cannot be before the start."))
        end = start
    region = request.GET.get("region", "").strip()
    if not (region.isdigit() and region.startswith(area)):
        region = area
    stats = sel.need_stats(region_prefix=region, start=start, end=end)
    if request.GET.get("export") == "xlsx" and not errors:
        need_perm(request, Perm.EXPORT)
        return _xlsx(*need_services.need_stats_export(actor=request_user(request), stats=stats))
    query = request.GET.copy()
    query.pop("export", None)
    return render(
        request,
        "services/needs/stats.html",
        {
            "stats": stats,
            "regions": sel.regions_for_stats(area),
            "region": region,
            "start": start,
            "end": end,
            "errors": errors,
            "query": query.urlencode(),
            "can_export": user_has_perm(request.user, Perm.EXPORT),
            "active_nav": "services",
        },
        status=422 if errors else 200,
    )


# --- The market (volunteers, donors, organisations) ---------------------------------------


def _market_user(request: HttpRequest) -> Any:
    need_perm(request, Perm.CLAIM_NEEDS)
    return request_user(request)


def _market_filters(request: HttpRequest) -> sel.MarketFilters:
    params = request.GET
    item = params.get("item", "")
    return sel.MarketFilters(
        town=params.get("town", "")[:12] if params.get("town", "").isdigit() else "",
        item=int(item) if item.isdigit() else None,
        skill=params.get("skill", "") if params.get("skill") in c.Skill.values else "",
        urgency=params.get("urgency", "") if params.get("urgency") in c.Urgency.values else "",
    )


@login_required
def market_view(request: HttpRequest) -> HttpResponse:
    """Published needs near me, most urgent first, then nearest."""
    user = _market_user(request)
    claimant = sel.claimant_of(user)
    filters = _market_filters(request)
    area = sel.market_area(user, claimant)
    return render(
        request,
        "services/market/list.html",
        {
            "rows": sel.market_needs(user=user, filters=filters),
            "claimant": claimant,
            "filters": filters,
            "towns": sel.market_towns(area),
            "items": sorted(items_for_region(area or "86"), key=lambda i: i.code) if area else [],
            "skills": c.Skill.choices,
            "urgencies": c.Urgency.choices,
            "active_nav": "services",
        },
    )


def _market_need_page(
    request: HttpRequest,
    need_id: int,
    errors: list[str] | None = None,
    status: int = 200,
    need: Need | None = None,
) -> HttpResponse:
    user = _market_user(request)
    need = need or sel.market_need_get(user=user, need_id=need_id)
    if need is None:
        not_found(request)
    claimant = sel.claimant_of(user)
    mine = (
        Claim.objects.filter(need=need, claimant=user)
        .exclude(status__in=(c.ClaimStatus.WITHDRAWN, c.ClaimStatus.EXPIRED))
        .order_by("-id")
        .first()
    )
    origin = sel.origin_of(user, claimant)
    distance = None
    if origin is not None and need.public_lat is not None and need.public_lon is not None:
        distance = round(
            sel.distance_km(origin, (float(need.public_lat), float(need.public_lon))), 1
        )
    return render(
        request,
        "services/market/need.html",
        {
            "need": need,
            "distance": distance,
            "claimant": claimant,
            "mine": mine,
            "errors": errors or [],
            "active_nav": "services",
        },
        status=status if errors else 200,
    )


@login_required
def market_need_view(request: HttpRequest, need_id: int) -> HttpResponse:
    return _market_need_page(request, need_id)


@login_required
@require_POST
def market_claim_create_view(request: HttpRequest, need_id: int) -> HttpResponse:
    user = _market_user(request)
    need = sel.market_need_to_claim(user=user, need_id=need_id)
    if need is None:
        not_found(request)
    try:
        claim = claim_services.claim_create(
            actor=user, need=need, message=request.POST.get("message", "")
        )
    except claim_services.ClaimConflict as exc:
        # Whoever came second sees the public face they saw before and who was first;
        # a need taken off the market meanwhile is gone (its face may have been edited).
        need.refresh_from_db()
        if need.status not in MARKET_HISTORY_STATUSES:
            not_found(request)
        return _market_need_page(request, need_id, error_messages(exc), status=409, need=need)
    except (ValidationError, PermissionDenied) as exc:
        return _market_need_page(request, need_id, error_messages(exc), status=422, need=need)
    return redirect("services:needs_market_claim", claim_id=claim.pk)


# A need someone claimed first is still shown to the second claimant in these states.
MARKET_HISTORY_STATUSES = (
    c.NeedStatus.PUBLISHED,
    c.NeedStatus.CLAIMED,
    c.NeedStatus.IN_SERVICE,
    c.NeedStatus.FULFILLED,
)


@login_required
def market_mine_view(request: HttpRequest) -> HttpResponse:
    user = _market_user(request)
    return render(
        request,
        "services/market/mine.html",
        {"claims": sel.claims_of(user), "active_nav": "services"},
    )


def _claim_page(
    request: HttpRequest, claim_id: int, errors: list[str] | None = None
) -> HttpResponse:
    user = _market_user(request)
    claim = sel.claim_of_user(user=user, claim_id=claim_id)
    if claim is None:
        not_found(request)
    return render(
        request,
        "services/market/claim.html",
        {
            "claim": claim,
            "need": claim.need,
            "details_visible": sel.need_details_visible(user, claim.need),
            "errors": errors or [],
            "form": request.POST if errors else {},
            "active_nav": "services",
        },
        status=422 if errors else 200,
    )


@login_required
def market_claim_view(request: HttpRequest, claim_id: int) -> HttpResponse:
    """My claim: its state, the way to the details once approved, delivery, withdrawal."""
    return _claim_page(request, claim_id)


@login_required
@require_POST
def market_claim_act_view(request: HttpRequest, claim_id: int, action: str) -> HttpResponse:
    if action not in ("deliver", "withdraw"):
        not_found(request)
    user = _market_user(request)
    claim = sel.claim_of_user(user=user, claim_id=claim_id)
    if claim is None:
        not_found(request)
    try:
        if action == "deliver":
            claim_services.claim_deliver(
                actor=user,
                claim=claim,
                note=request.POST.get("note", ""),
                photo=request.FILES.get("photo"),
            )
        else:
            claim_services.claim_withdraw(
                actor=user, claim=claim, reason=request.POST.get("reason", "")
            )
    except (ValidationError, PermissionDenied) as exc:
        return _claim_page(request, claim_id, error_messages(exc))
    return redirect("services:needs_market_claim", claim_id=claim_id)


@login_required
def market_details_view(request: HttpRequest, need_id: int) -> HttpResponse:
    """The protected details: only for whom ``need_details_visible`` allows (404 for
    anyone else, as if the need did not exist). Every showing is audited."""
    user = request_user(request)
    need = (
        Need.objects.select_related("household", "region", "person", "item")
        .filter(pk=need_id)
        .first()
    )
    if need is None or not sel.need_details_visible(user, need):
        not_found(request)
    need_services.need_details_viewed(actor=user, need=need, request=request)
    claim = (
        Claim.objects.filter(need=need, claimant=user, status__in=sel.DETAIL_CLAIM_STATUSES)
        .order_by("-id")
        .first()
    )
    response = render(
        request,
        "services/market/details.html",
        {
            "need": need,
            "details": sel.protected_details(need),
            "claim": claim,
            "active_nav": "services",
        },
    )
    response["Cache-Control"] = "private, no-store"
    return response
