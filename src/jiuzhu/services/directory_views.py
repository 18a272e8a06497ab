"""Pages of the directory: providers with their contracts and staff, volunteers and
donors, the public volunteer registration, a volunteer's own profile, and the public HSDS
3.0 export. Plain views: each parses the form, calls one service and redirects; a refusal
re-renders the page with status 422 and what was typed (never an ID number or a
password). What a user may not see answers 404 like what does not exist."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.core.form_input import date_or_none, error_messages
from jiuzhu.core.http import need_perm, not_found, request_user
from jiuzhu.regions.models import Level, Region
from jiuzhu.services import choices as c
from jiuzhu.services import directory_selectors as sel
from jiuzhu.services.hsds import hsds_organizations
from jiuzhu.services.models import Provider, ProviderContract, ServiceItem, Volunteer
from jiuzhu.services.services import directory as svc

WEEKDAYS = [
    (1, gettext_noop("Mon")),
    (2, gettext_noop("Tue")),
    (3, gettext_noop("Wed")),
    (4, gettext_noop("Thu")),
    (5, gettext_noop("Fri")),
    (6, gettext_noop("Sat")),
    (7, gettext_noop("Sun")),
]


def _weekdays() -> list[tuple[int, str]]:
    return [(n, _(label)) for n, label in WEEKDAYS]


def _fields(exc: ValidationError | PermissionDenied) -> list[str]:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return list(exc.message_dict)
    return []


def _area(request: HttpRequest) -> str:
    return str(getattr(request.user, "region_id", "") or "")


def _regions_in_area(area: str, levels: tuple[Level, ...]) -> list[Region]:
    if not area:
        return []
    return list(
        Region.objects.filter(code__startswith=area, level__in=levels)
        .select_related("parent")
        .order_by("code")
    )


def _posted(post: Any, *lists: str) -> dict[str, Any]:
    form: dict[str, Any] = {key: post.get(key) for key in post}
    for name in lists:
        form[name] = post.getlist(name)
    return form


# --- providers -------------------------------------------------------------------------------


@login_required
def providers_view(request: HttpRequest) -> HttpResponse:
    """The providers a user may read, filtered by kind, light, activity, area and item."""
    if not sel.may_read_directory(request.user) and sel.provider_of_user(request.user) is None:
        not_found(request)
    params = request.GET
    filters = sel.ProviderFilters(
        kind=params.get("kind", ""),
        light=params.get("light", ""),
        active=params.get("active", "1"),
        area=params.get("area", "").strip()[:12],
        item=params.get("item", "").strip()[:40],
        text=params.get("q", "").strip()[:40],
    )
    page = Paginator(sel.providers_filtered(request.user, filters), 50).get_page(params.get("page"))
    county = _area(request)[:6]
    return render(
        request,
        "services/directory/providers.html",
        {
            "page": page,
            "filters": filters,
            "kinds": c.ProviderKind.choices,
            "lights": c.Light.choices,
            "areas": _regions_in_area(county, (Level.COUNTY, Level.TOWN)),
            "items": ServiceItem.objects.filter(is_active=True).order_by("category", "code"),
            "can_manage": user_has_perm(request.user, Perm.MANAGE_PROVIDERS),
            "active_nav": "services",
        },
    )


def _provider_fields(post: Any) -> svc.ProviderFields:
    return svc.ProviderFields(
        name=post.get("name", ""),
        kind=post.get("kind", ""),
        region_code=post.get("region", ""),
        credit_code=post.get("credit_code", ""),
        description=post.get("description", ""),
        contact_name=post.get("contact_name", ""),
        phone=post.get("phone", ""),
        email=post.get("email", ""),
        website=post.get("website", ""),
        address=post.get("address", ""),
        lat=post.get("lat", ""),
        lon=post.get("lon", ""),
    )


def _provider_initial(provider: Provider) -> dict[str, Any]:
    return {
        "name": provider.name,
        "kind": provider.kind,
        "region": provider.region_id,
        "credit_code": provider.credit_code,
        "description": provider.description,
        "contact_name": provider.contact_name,
        "phone": provider.phone,
        "email": provider.email,
        "website": provider.website,
        "address": provider.address,
        "lat": "" if provider.lat is None else provider.lat,
        "lon": "" if provider.lon is None else provider.lon,
    }


def _provider_form(
    request: HttpRequest,
    provider: Provider | None,
    form: dict[str, Any],
    exc: ValidationError | PermissionDenied | None = None,
) -> HttpResponse:
    return render(
        request,
        "services/directory/provider_form.html",
        {
            "provider": provider,
            "form": form,
            "errors": error_messages(exc) if exc else [],
            "error_fields": _fields(exc) if exc else [],
            "kinds": c.ProviderKind.choices,
            "regions": _regions_in_area(_area(request), (Level.COUNTY, Level.TOWN)),
            "active_nav": "services",
        },
        status=422 if exc else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def provider_new_view(request: HttpRequest) -> HttpResponse:
    need_perm(request, Perm.MANAGE_PROVIDERS)
    if request.method == "POST":
        try:
            provider = svc.provider_create(
                actor=request_user(request), fields=_provider_fields(request.POST)
            )
            return redirect("services:directory_provider", provider_id=provider.pk)
        except (ValidationError, PermissionDenied) as exc:
            return _provider_form(request, None, _posted(request.POST), exc)
    return _provider_form(request, None, {"region": _area(request)})


@login_required
def provider_view(request: HttpRequest, provider_id: int) -> HttpResponse:
    """A provider: its details, contracts, staff (for those who manage them), rating and
    traffic light (read-only: supervision sets it)."""
    provider = sel.provider_get(user=request.user, provider_id=provider_id)
    may_staff = sel.may_add_care_workers(request.user, provider)
    today = timezone.localdate()
    contracts = sel.provider_contracts(provider)
    return render(
        request,
        "services/directory/provider.html",
        {
            "provider": provider,
            "contracts": [(ct, sel.contract_in_force(ct, today)) for ct in contracts],
            "members": sel.provider_members(provider) if may_staff else [],
            "may_manage": sel.may_manage_provider(request.user, provider),
            "may_staff": may_staff,
            "active_nav": "services",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def provider_edit_view(request: HttpRequest, provider_id: int) -> HttpResponse:
    provider = sel.provider_get(user=request.user, provider_id=provider_id)
    if not sel.may_manage_provider(request.user, provider):
        not_found(request)
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action in ("deactivate", "activate"):
                svc.provider_set_active(
                    actor=request_user(request),
                    provider=provider,
                    active=action == "activate",
                    reason=request.POST.get("reason", ""),
                )
            else:
                svc.provider_update(
                    actor=request_user(request),
                    provider=provider,
                    fields=_provider_fields(request.POST),
                )
            return redirect("services:directory_provider", provider_id=provider.pk)
        except (ValidationError, PermissionDenied) as exc:
            provider.refresh_from_db()
            form = _posted(request.POST) if action == "save" else _provider_initial(provider)
            return _provider_form(request, provider, form, exc)
    return _provider_form(request, provider, _provider_initial(provider))


# --- contracts -------------------------------------------------------------------------------


def _contract_fields(post: Any) -> svc.ContractFields:
    items: dict[int, Any] = {}
    for raw in post.getlist("items"):
        if raw.isdigit():
            items[int(raw)] = post.get(f"price_{raw}", "")
    return svc.ContractFields(
        number=post.get("number", ""),
        capacity_per_day=post.get("capacity_per_day", ""),
        valid_from=date_or_none(post.get("valid_from", "")),
        valid_to=date_or_none(post.get("valid_to", "")),
        budget=post.get("budget", ""),
        note=post.get("note", ""),
        areas=post.getlist("areas"),
        items=items,
    )


def _contract_initial(contract: ProviderContract) -> dict[str, Any]:
    form: dict[str, Any] = {
        "number": contract.number,
        "capacity_per_day": contract.capacity_per_day,
        "valid_from": contract.valid_from.isoformat(),
        "valid_to": contract.valid_to.isoformat(),
        "budget": "" if contract.budget is None else contract.budget,
        "note": contract.note,
        "areas": [a.code for a in contract.areas.all()],
        "items": [str(ci.item_id) for ci in contract.items.all()],
    }
    for ci in contract.items.all():
        form[f"price_{ci.item_id}"] = ci.price
    return form


def _contract_form(
    request: HttpRequest,
    provider: Provider,
    contract: ProviderContract | None,
    form: dict[str, Any],
    exc: ValidationError | PermissionDenied | None = None,
) -> HttpResponse:
    offered = svc.contract_items_offered(provider)
    if contract is not None:
        # Items already under the contract stay listed even if retired since.
        known = {i.pk for i in offered}
        offered += [ci.item for ci in contract.items.all() if ci.item_id not in known]
    chosen = set(form.get("items", []))
    rows = [
        (item, str(item.pk) in chosen, form.get(f"price_{item.pk}", "") or "") for item in offered
    ]
    return render(
        request,
        "services/directory/contract_form.html",
        {
            "provider": provider,
            "contract": contract,
            "form": form,
            "rows": rows,
            "areas": _regions_in_area(_area(request), (Level.COUNTY, Level.TOWN, Level.VILLAGE)),
            "chosen_areas": set(form.get("areas", [])),
            "errors": error_messages(exc) if exc else [],
            "error_fields": _fields(exc) if exc else [],
            "active_nav": "services",
        },
        status=422 if exc else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def contract_new_view(request: HttpRequest, provider_id: int) -> HttpResponse:
    provider = sel.provider_get(user=request.user, provider_id=provider_id)
    if not sel.may_manage_provider(request.user, provider):
        not_found(request)
    if request.method == "POST":
        try:
            contract = svc.contract_create(
                actor=request_user(request),
                provider=provider,
                fields=_contract_fields(request.POST),
            )
            return redirect("services:directory_contract", contract_id=contract.pk)
        except (ValidationError, PermissionDenied) as exc:
            return _contract_form(
                request, provider, None, _posted(request.POST, "items", "areas"), exc
            )
    today = timezone.localdate()
    initial = {
        "valid_from": today.isoformat(),
        "valid_to": datetime.date(today.year, 12, 31).isoformat(),
        "capacity_per_day": "10",
        "areas": [provider.region_id],
        "items": [],
    }
    return _contract_form(request, provider, None, initial)


@login_required
@require_http_methods(["GET", "POST"])
def contract_view(request: HttpRequest, contract_id: int) -> HttpResponse:
    """A contract: items and prices, areas, capacity, period; the bureau suspends,
    resumes or ends it."""
    contract = sel.contract_get(user=request.user, contract_id=contract_id)
    may_manage = sel.may_manage_provider(request.user, contract.provider)
    errors: list[str] = []
    if request.method == "POST":
        if not may_manage:
            not_found(request)
        status = {
            "suspend": c.ContractStatus.SUSPENDED,
            "resume": c.ContractStatus.ACTIVE,
            "end": c.ContractStatus.ENDED,
        }.get(request.POST.get("action", ""))
        try:
            if status is None:
                raise ValidationError(_("Choose what to do."))
            svc.contract_set_status(
                actor=request_user(request),
                contract=contract,
                status=status,
                reason=request.POST.get("reason", ""),
            )
            return redirect("services:directory_contract", contract_id=contract.pk)
        except (ValidationError, PermissionDenied) as exc:
            errors = error_messages(exc)
    return render(
        request,
        "services/directory/contract.html",
        {
            "contract": contract,
            "provider": contract.provider,
            "in_force": sel.contract_in_force(contract),
            "moves": [str(s) for s in svc.CONTRACT_MOVES.get(contract.status, set())],
            "may_manage": may_manage,
            "errors": errors,
            "form": request.POST if errors else {},
            "active_nav": "services",
        },
        status=422 if errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def contract_edit_view(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = sel.contract_get(user=request.user, contract_id=contract_id)
    if not sel.may_manage_provider(request.user, contract.provider):
        not_found(request)
    if request.method == "POST":
        try:
            svc.contract_update(
                actor=request_user(request),
                contract=contract,
                fields=_contract_fields(request.POST),
                reason=request.POST.get("reason", ""),
            )
            return redirect("services:directory_contract", contract_id=contract.pk)
        except (ValidationError, PermissionDenied) as exc:
            return _contract_form(
                request,
                contract.provider,
                contract,
                _posted(request.POST, "items", "areas"),
                exc,
            )
    return _contract_form(request, contract.provider, contract, _contract_initial(contract))


# --- provider staff --------------------------------------------------------------------------


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def member_new_view(request: HttpRequest, provider_id: int) -> HttpResponse:
    """A staff account for a provider; the one-time password is shown on this page only,
    to hand over in person (it is not stored in clear anywhere)."""
    provider = sel.provider_get(user=request.user, provider_id=provider_id)
    if not sel.may_add_care_workers(request.user, provider):
        not_found(request)
    may_make_managers = sel.may_manage_provider(request.user, provider)
    errors: list[str] = []
    error_fields: list[str] = []
    if request.method == "POST":
        try:
            member, password = svc.provider_member_create(
                actor=request_user(request),
                provider=provider,
                username=request.POST.get("username", ""),
                display_name=request.POST.get("display_name", ""),
                is_manager=request.POST.get("is_manager") == "1",
            )
            return render(
                request,
                "services/directory/member_created.html",
                {
                    "provider": provider,
                    "member": member,
                    "password": password,
                    "active_nav": "services",
                },
            )
        except (ValidationError, PermissionDenied) as exc:
            errors, error_fields = error_messages(exc), _fields(exc)
    return render(
        request,
        "services/directory/member_form.html",
        {
            "provider": provider,
            "may_make_managers": may_make_managers,
            "form": request.POST if errors else {},
            "errors": errors,
            "error_fields": error_fields,
            "active_nav": "services",
        },
        status=422 if errors else 200,
    )


@login_required
@require_POST
def member_active_view(request: HttpRequest, member_id: int) -> HttpResponse:
    member = sel.member_get(user=request.user, member_id=member_id)
    try:
        svc.provider_member_set_active(
            actor=request_user(request),
            member=member,
            active=request.POST.get("active") == "1",
        )
    except (ValidationError, PermissionDenied) as exc:
        provider = member.provider
        return render(
            request,
            "services/directory/provider.html",
            {
                "provider": provider,
                "contracts": [
                    (ct, sel.contract_in_force(ct)) for ct in sel.provider_contracts(provider)
                ],
                "members": sel.provider_members(provider),
                "may_manage": sel.may_manage_provider(request.user, provider),
                "may_staff": True,
                "errors": error_messages(exc),
                "active_nav": "services",
            },
            status=422,
        )
    return redirect("services:directory_provider", provider_id=member.provider_id)


# --- volunteers (staff) ----------------------------------------------------------------------


@login_required
def volunteers_view(request: HttpRequest) -> HttpResponse:
    """Volunteers and donors of the bureau's area, masked, pending ones first."""
    need_perm(request, Perm.MANAGE_PROVIDERS)
    params = request.GET
    filters = sel.VolunteerFilters(
        kind=params.get("kind", ""),
        status=params.get("status", ""),
        area=params.get("area", "").strip()[:12],
        skill=params.get("skill", ""),
    )
    page = Paginator(sel.volunteers_filtered(request.user, filters), 50).get_page(
        params.get("page")
    )
    return render(
        request,
        "services/directory/volunteers.html",
        {
            "page": page,
            "filters": filters,
            "kinds": c.VolunteerKind.choices,
            "statuses": c.VolunteerStatus.choices,
            "skills": c.Skill.choices,
            "skill_labels": dict(c.Skill.choices),
            "areas": _regions_in_area(_area(request), (Level.TOWN,)),
            "county": _area(request)[:6],
            "active_nav": "services",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def volunteer_view(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    """One volunteer, masked; the bureau verifies (after seeing the ID card) or
    suspends; unmasking needs the unmask right and is audited."""
    need_perm(request, Perm.MANAGE_PROVIDERS)
    volunteer = sel.volunteer_get(user=request.user, volunteer_id=volunteer_id)
    errors: list[str] = []
    if request.method == "POST":
        status = {
            "verify": c.VolunteerStatus.VERIFIED,
            "suspend": c.VolunteerStatus.SUSPENDED,
        }.get(request.POST.get("action", ""))
        try:
            if status is None:
                raise ValidationError(_("Choose what to do."))
            svc.volunteer_set_status(
                actor=request_user(request),
                volunteer=volunteer,
                status=status,
                reason=request.POST.get("reason", ""),
            )
            return redirect("services:directory_volunteer", volunteer_id=volunteer.pk)
        except (ValidationError, PermissionDenied) as exc:
            errors = error_messages(exc)
            volunteer.refresh_from_db()
    return render(
        request,
        "services/directory/volunteer.html",
        {
            "volunteer": volunteer,
            "skill_labels": dict(c.Skill.choices),
            "weekday_labels": dict(_weekdays()),
            "moves": [str(s) for s in svc.VOLUNTEER_MOVES.get(volunteer.status, set())],
            "can_unmask": user_has_perm(request.user, Perm.UNMASK),
            "errors": errors,
            "form": request.POST if errors else {},
            "active_nav": "services",
        },
        status=422 if errors else 200,
    )


@login_required
@require_POST
def volunteer_reveal_view(request: HttpRequest, volunteer_id: int, field: str) -> HttpResponse:
    """htmx: the full ID or phone number in place of the masked one; audited."""
    if field not in ("id_number", "phone"):
        not_found(request)
    need_perm(request, Perm.MANAGE_PROVIDERS)
    volunteer = sel.volunteer_get(user=request.user, volunteer_id=volunteer_id)
    value = svc.volunteer_reveal(
        actor=request_user(request), volunteer=volunteer, field_name=field, request=request
    )
    response = render(request, "services/directory/_revealed.html", {"value": value})
    response["Cache-Control"] = "no-store"
    return response


# --- volunteers (themselves) -----------------------------------------------------------------


def _profile_fields(post: Any) -> svc.VolunteerFields:
    return svc.VolunteerFields(
        phone=post.get("phone", "")[:20],
        region_code=post.get("region", "")[:12],
        skills=post.getlist("skills"),
        weekdays=post.getlist("weekdays"),
        time_from=post.get("time_from", "")[:5],
        time_to=post.get("time_to", "")[:5],
        lat=post.get("lat", "")[:20],
        lon=post.get("lon", "")[:20],
    )


def _county(county_code: str) -> Region:
    county = Region.objects.filter(code=county_code, level=Level.COUNTY).first()
    if county is None:
        raise Http404("no such county")
    return county


def _places(county: Region) -> list[Region]:
    return list(
        Region.objects.filter(code__startswith=county.code, level__in=(Level.TOWN, Level.VILLAGE))
        .select_related("parent")
        .order_by("code")
    )


@never_cache
@require_http_methods(["GET", "POST"])
def join_view(request: HttpRequest, county_code: str) -> HttpResponse:
    """Public, no login, for a phone: register as a volunteer or a donor. The record
    waits for the bureau to check the ID card in person."""
    county = _county(county_code)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        post = request.POST
        form = svc.Registration(
            kind=post.get("kind", ""),
            name=post.get("name", "")[:50],
            id_number=post.get("id_number", "")[:20],
            username=post.get("username", "")[:150],
            password=post.get("password", "")[:128],
            consent=post.get("consent") == "1",
            profile=_profile_fields(post),
        )
        try:
            volunteer = svc.volunteer_register(county_code=county.code, form=form, request=request)
            return render(
                request,
                "services/directory/join_done.html",
                {"county": county, "volunteer": volunteer},
            )
        except ValidationError as exc:
            errors = exc.message_dict
    kept: dict[str, Any] = {}
    if errors:
        # What was typed comes back, except the ID number and the password.
        kept = _posted(request.POST, "skills", "weekdays")
        kept.pop("id_number", None)
        kept.pop("password", None)
    return render(
        request,
        "services/directory/join.html",
        {
            "county": county,
            "places": _places(county),
            "kinds": c.VolunteerKind.choices,
            "skills": c.Skill.choices,
            "weekdays": _weekdays(),
            "errors": errors,
            "form": kept or {"kind": c.VolunteerKind.VOLUNTEER, "skills": [], "weekdays": []},
        },
        status=422 if errors else 200,
    )


def _profile_initial(volunteer: Volunteer) -> dict[str, Any]:
    availability = volunteer.availability or {}
    return {
        "phone": "",  # kept masked; a new number is typed in full
        "region": volunteer.region_id,
        "skills": list(volunteer.skills),
        "weekdays": [str(d) for d in availability.get("weekdays", [])],
        "time_from": availability.get("from", ""),
        "time_to": availability.get("to", ""),
        "lat": "" if volunteer.lat is None else volunteer.lat,
        "lon": "" if volunteer.lon is None else volunteer.lon,
    }


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def me_view(request: HttpRequest) -> HttpResponse:
    """A volunteer's or donor's own profile: status, and what they may change."""
    volunteer = sel.volunteer_of_user(request.user)
    if volunteer is None:
        not_found(request)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            svc.volunteer_update_own(
                actor=request_user(request),
                volunteer=volunteer,
                profile=_profile_fields(request.POST),
            )
            return redirect("services:directory_me")
        except (ValidationError, PermissionDenied) as exc:
            errors = (
                exc.message_dict
                if isinstance(exc, ValidationError) and hasattr(exc, "error_dict")
                else {"__all__": error_messages(exc)}
            )
    form = _posted(request.POST, "skills", "weekdays") if errors else _profile_initial(volunteer)
    if errors:
        form["phone"] = ""
    return render(
        request,
        "services/directory/me.html",
        {
            "volunteer": volunteer,
            "places": _places(_county(volunteer.region_id[:6])),
            "skills": c.Skill.choices,
            "skill_labels": dict(c.Skill.choices),
            "weekdays": _weekdays(),
            "weekday_labels": dict(_weekdays()),
            "errors": errors,
            "form": form,
        },
        status=422 if errors else 200,
    )


# --- HSDS ------------------------------------------------------------------------------------


@require_GET
@cache_control(max_age=300, public=True)
def hsds_view(request: HttpRequest) -> HttpResponse:
    """Public and read-only: the county's directory as Open Referral HSDS 3.0 JSON."""
    county = _county(request.GET.get("county", "").strip()[:6])
    return JsonResponse(
        hsds_organizations(county_code=county.code),
        safe=False,
        json_dumps_params={"ensure_ascii": False},
    )
