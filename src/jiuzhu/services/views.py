"""Pages of the services app: the catalogue (everyone signed in reads it; a county admin
edits it), each item's printable standard procedure (明白纸), entitlement rules, service
plans (一户一策) and the three lists. Plain views: each parses the form, calls one service
and redirects; a refusal re-renders the page with the service's messages, status 422, and
what was typed kept."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.assessment.selectors import assessment_get, tier_of
from jiuzhu.assessment.services import COLOUR_LABELS
from jiuzhu.core.form_input import date_or_none, error_messages, local_datetime
from jiuzhu.core.http import need_perm, not_found, request_user
from jiuzhu.regions.models import Level, Region
from jiuzhu.registry.selectors import household_members
from jiuzhu.services import choices as c
from jiuzhu.services import selectors
from jiuzhu.services.lists import ListFilters, needs_list, objects_list, projects_list
from jiuzhu.services.models import ConfigRevision, EntitlementRule, PlanItem, ServiceItem
from jiuzhu.services.services import catalogue, entitlements, plans
from jiuzhu.services.services.exports import LIST_TITLES, list_export
from jiuzhu.services.stages import first_open_stage_with_room, stage_caps


def _area(request: HttpRequest) -> str:
    return str(getattr(request.user, "region_id", "") or "")


# --- catalogue ---------------------------------------------------------------------------


@login_required
def catalogue_view(request: HttpRequest) -> HttpResponse:
    """The catalogue by tier, filtered by category, tier, indicator or text."""
    params = request.GET
    category = params.get("category", "") if params.get("category") in c.Category.values else ""
    tier = params.get("tier", "") if params.get("tier") in c.Tier.values else ""
    indicator = params.get("indicator", "").strip()[:40]
    text = params.get("q", "").strip()[:40]
    can_manage = user_has_perm(request.user, Perm.MANAGE_CATALOGUE)
    retired = can_manage and params.get("retired") == "1"
    items = selectors.catalogue_items(
        user=request.user,
        category=category,
        tier=tier,
        indicator=indicator,
        text=text,
        include_retired=retired,
    )
    labels = selectors.indicator_catalogue()
    by_tier = [
        (value, label, [i for i in items if i.tier == value]) for value, label in c.Tier.choices
    ]
    return render(
        request,
        "services/catalogue.html",
        {
            "by_tier": [row for row in by_tier if row[2]],
            "count": len(items),
            "categories": c.Category.choices,
            "tiers": c.Tier.choices,
            "indicators": sorted(labels.items(), key=lambda kv: (kv[1][0], kv[0])),
            "labels": labels,
            "filters": {
                "category": category,
                "tier": tier,
                "indicator": indicator,
                "q": text,
                "retired": retired,
            },
            "can_manage": can_manage,
            "active_nav": "services",
        },
    )


def _item(request: HttpRequest, item_id: int) -> ServiceItem:
    item = selectors.item_get(user=request.user, item_id=item_id)
    if item is None:
        not_found(request)
    return item


def _may_edit(request: HttpRequest, region_code: str | None, perm: Perm) -> bool:
    if not user_has_perm(request.user, perm):
        return False
    area = _area(request)
    return region_code is None or bool(area and region_code.startswith(area))


@login_required
def item_view(request: HttpRequest, item_id: int) -> HttpResponse:
    """One item: who may receive it, what it helps with, and its standard procedure,
    printable as the worker's 明白纸."""
    item = _item(request, item_id)
    labels = selectors.indicator_catalogue()
    return render(
        request,
        "services/item.html",
        {
            "item": item,
            "indicators": [(code, labels.get(code, ("", code))) for code in item.indicators],
            "groups": [c.TargetGroup(g).label for g in item.target_groups],
            "can_edit": _may_edit(request, item.region_id, Perm.MANAGE_CATALOGUE),
            "active_nav": "services",
        },
    )


def _item_fields(post: Any) -> catalogue.ItemFields:
    return catalogue.ItemFields(
        name_zh=post.get("name_zh", ""),
        name_en=post.get("name_en", ""),
        category=post.get("category", ""),
        tier=post.get("tier", ""),
        unit=post.get("unit", ""),
        price=post.get("price", ""),
        hours_per_unit=post.get("hours_per_unit", "") or "1",
        description=post.get("description", ""),
        target_groups=post.getlist("target_groups"),
        indicators=post.getlist("indicators"),
        steps=catalogue.steps_from_text(post.get("steps", "")),
    )


def _item_form(
    request: HttpRequest, item: ServiceItem | None, errors: list[str], form: dict[str, Any]
) -> HttpResponse:
    labels = selectors.indicator_catalogue()
    return render(
        request,
        "services/item_form.html",
        {
            "item": item,
            "form": form,
            "errors": errors,
            "categories": c.Category.choices,
            "tiers": c.Tier.choices,
            "units": c.Unit.choices,
            "groups": c.TargetGroup.choices,
            "indicators": sorted(labels.items(), key=lambda kv: (kv[1][0], kv[0])),
            "revisions": selectors.revisions(ConfigRevision.Kind.ITEM, item.pk) if item else [],
            "active_nav": "services",
        },
        status=422 if errors else 200,
    )


def _item_initial(item: ServiceItem) -> dict[str, Any]:
    return {
        "name_zh": item.name_zh,
        "name_en": item.name_en,
        "category": item.category,
        "tier": item.tier,
        "unit": item.unit,
        "price": item.price,
        "hours_per_unit": item.hours_per_unit,
        "description": item.description,
        "target_groups": list(item.target_groups),
        "indicators": list(item.indicators),
        "steps": catalogue.steps_to_text(item.steps),
    }


def _posted(post: Any) -> dict[str, Any]:
    form = {key: post.get(key) for key in post}
    for name in ("target_groups", "indicators", "instruments"):
        form[name] = post.getlist(name)
    return form


@login_required
@require_http_methods(["GET", "POST"])
def item_new_view(request: HttpRequest) -> HttpResponse:
    """A county's own item."""
    need_perm(request, Perm.MANAGE_CATALOGUE)
    if request.method == "POST":
        try:
            item = catalogue.service_item_create(
                actor=request_user(request),
                region_code=_area(request),
                code=request.POST.get("code", ""),
                fields=_item_fields(request.POST),
                reason=request.POST.get("reason", ""),
            )
            return redirect("services:item", item_id=item.pk)
        except (ValidationError, PermissionDenied) as exc:
            return _item_form(request, None, error_messages(exc), _posted(request.POST))
    return _item_form(request, None, [], {"unit": c.Unit.TIME, "hours_per_unit": "1"})


@login_required
@require_http_methods(["GET", "POST"])
def item_edit_view(request: HttpRequest, item_id: int) -> HttpResponse:
    """Edit an item (a new revision), or retire it / offer it again."""
    item = _item(request, item_id)
    if not _may_edit(request, item.region_id, Perm.MANAGE_CATALOGUE):
        not_found(request)
    if request.method == "POST":
        actor = request_user(request)
        action = request.POST.get("action", "save")
        try:
            if action in ("retire", "reinstate"):
                catalogue.service_item_set_active(
                    actor=actor,
                    item=item,
                    active=action == "reinstate",
                    reason=request.POST.get("reason", ""),
                )
            elif action == "delete":
                catalogue.service_item_delete(actor=actor, item=item)
                return redirect("services:catalogue")
            else:
                catalogue.service_item_update(
                    actor=actor,
                    item=item,
                    fields=_item_fields(request.POST),
                    reason=request.POST.get("reason", ""),
                )
            return redirect("services:item", item_id=item.pk)
        except (ValidationError, PermissionDenied) as exc:
            item.refresh_from_db()
            form = _posted(request.POST) if action == "save" else _item_initial(item)
            form.setdefault("reason", request.POST.get("reason", ""))
            return _item_form(request, item, error_messages(exc), form)
    return _item_form(request, item, [], _item_initial(item))


# --- entitlement rules ---------------------------------------------------------------------


def _rule_fields(post: Any) -> entitlements.RuleFields:
    return entitlements.RuleFields(
        name_zh=post.get("name_zh", ""),
        name_en=post.get("name_en", ""),
        unit=post.get("unit", ""),
        period=post.get("period", ""),
        amounts=entitlements.amounts_from_text(post.get("amounts", "")),
        shares=entitlements.numbers_from_text(post.get("shares", "")),
        opening=post.get("opening", ""),
        open_after_months=entitlements.numbers_from_text(post.get("open_after_months", "")),
        instruments=[i for i in post.getlist("instruments") if i],
        target_groups=post.getlist("target_groups"),
        valid_from=date_or_none(post.get("valid_from", "")),
        valid_to=date_or_none(post.get("valid_to", "")),
        note=post.get("note", ""),
    )


def _rule_initial(rule: EntitlementRule) -> dict[str, Any]:
    return {
        "code": rule.code,
        "name_zh": rule.name_zh,
        "name_en": rule.name_en,
        "unit": rule.unit,
        "period": rule.period,
        "amounts": entitlements.amounts_to_text(rule.amounts),
        "shares": "/".join(str(s) for s in rule.shares),
        "opening": rule.opening,
        "open_after_months": "/".join(str(m) for m in rule.open_after_months),
        "instruments": list(rule.instruments),
        "target_groups": list(rule.target_groups),
        "valid_from": rule.valid_from.isoformat() if rule.valid_from else "",
        "valid_to": rule.valid_to.isoformat() if rule.valid_to else "",
        "note": rule.note,
    }


def _instrument_codes() -> list[tuple[str, str]]:
    from jiuzhu.assessment.models import Instrument

    names: dict[str, str] = {}
    for instrument in Instrument.objects.filter(is_active=True).order_by("code", "region_id"):
        names.setdefault(instrument.code, instrument.name)
    return sorted(names.items())


def _rule_form(
    request: HttpRequest,
    rule: EntitlementRule | None,
    errors: list[str],
    form: dict[str, Any],
) -> HttpResponse:
    return render(
        request,
        "services/rule_form.html",
        {
            "rule": rule,
            "form": form,
            "errors": errors,
            "units": c.EntitlementUnit.choices,
            "periods": c.Period.choices,
            "openings": c.Opening.choices,
            "groups": c.TargetGroup.choices,
            "instruments": _instrument_codes(),
            "revisions": selectors.revisions(ConfigRevision.Kind.RULE, rule.pk) if rule else [],
            "can_edit": rule is None or _may_edit(request, rule.region_id, Perm.MANAGE_INSTRUMENTS),
            "active_nav": "services",
        },
        status=422 if errors else 200,
    )


@login_required
def rules_view(request: HttpRequest) -> HttpResponse:
    """Entitlement rules: everyone signed in reads them; a county admin changes them."""
    rules = selectors.rules_visible(user=request.user)
    rows = []
    for rule in rules:
        caps = {
            tier: [plans.figure(x) for x in stage_caps(Decimal(str(amount)), rule.shares)]
            for tier, amount in rule.amounts.items()
        }
        rows.append((rule, caps))
    return render(
        request,
        "services/rules.html",
        {
            "rows": rows,
            "groups": dict(c.TargetGroup.choices),
            "can_manage": user_has_perm(request.user, Perm.MANAGE_INSTRUMENTS),
            "active_nav": "services",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_new_view(request: HttpRequest) -> HttpResponse:
    need_perm(request, Perm.MANAGE_INSTRUMENTS)
    if request.method == "POST":
        try:
            rule = entitlements.entitlement_rule_create(
                actor=request_user(request),
                region_code=_area(request),
                code=request.POST.get("code", ""),
                fields=_rule_fields(request.POST),
                reason=request.POST.get("reason", ""),
            )
            return redirect("services:rule", rule_id=rule.pk)
        except (ValidationError, PermissionDenied) as exc:
            return _rule_form(request, None, error_messages(exc), _posted(request.POST))
    initial = {
        "unit": c.EntitlementUnit.YUAN,
        "period": c.Period.YEAR,
        "shares": "100",
        "opening": c.Opening.MONTHS,
        "valid_from": timezone.localdate().isoformat(),
    }
    return _rule_form(request, None, [], initial)


@login_required
@require_http_methods(["GET", "POST"])
def rule_view(request: HttpRequest, rule_id: int) -> HttpResponse:
    """A rule with its history; a county admin edits it (a new revision) or stops it."""
    rule = selectors.rule_get(user=request.user, rule_id=rule_id)
    if rule is None:
        not_found(request)
    if request.method == "POST":
        if not _may_edit(request, rule.region_id, Perm.MANAGE_INSTRUMENTS):
            not_found(request)
        action = request.POST.get("action", "save")
        actor = request_user(request)
        try:
            if action in ("stop", "resume"):
                entitlements.entitlement_rule_set_active(
                    actor=actor,
                    rule=rule,
                    active=action == "resume",
                    reason=request.POST.get("reason", ""),
                )
            else:
                entitlements.entitlement_rule_update(
                    actor=actor,
                    rule=rule,
                    fields=_rule_fields(request.POST),
                    reason=request.POST.get("reason", ""),
                )
            return redirect("services:rule", rule_id=rule.pk)
        except (ValidationError, PermissionDenied) as exc:
            rule.refresh_from_db()
            form = _posted(request.POST) if action == "save" else _rule_initial(rule)
            form["code"] = rule.code
            return _rule_form(request, rule, error_messages(exc), form)
    return _rule_form(request, rule, [], _rule_initial(rule))


# --- service plans ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def plan_new_view(request: HttpRequest) -> HttpResponse:
    """A plan from an assessment: choose the entitlement and the period."""
    need_perm(request, Perm.ASSESS_NEEDS)
    params = request.POST if request.method == "POST" else request.GET
    if not params.get("assessment", "").isdigit():
        not_found(request)
    assessment = assessment_get(user=request.user, assessment_id=int(params["assessment"]))
    today = timezone.localdate()
    errors: list[str] = []
    if request.method == "POST":
        try:
            rule = selectors.rule_get(user=request.user, rule_id=int(params.get("rule") or 0))
            if rule is None:
                raise ValidationError({"rule": _("Choose an entitlement.")})
            start = date_or_none(params.get("period_start", ""))
            if start is None:
                raise ValidationError({"period_start": _("Enter the day the plan starts.")})
            end_text = params.get("period_end", "").strip()
            end = date_or_none(end_text) if end_text else None
            if end_text and end is None:
                raise ValidationError({"period_end": _("Enter a date.")})
            plan = plans.plan_create(
                actor=request_user(request),
                assessment=assessment,
                rule=rule,
                period_start=start,
                period_end=end,
                note=params.get("note", ""),
            )
            return redirect("services:plan", plan_id=plan.pk)
        except (ValidationError, PermissionDenied) as exc:
            errors = error_messages(exc)
    groups = selectors.household_groups_of(assessment.household_id, day=today)
    offered = []
    for rule in selectors.rules_visible(user=request.user):
        refusal = plans.rule_refusal(rule, assessment=assessment, groups=groups, day=today)
        amount = plans.rule_amount(rule, assessment.tier)
        offered.append((rule, amount, refusal))
    current = selectors.current_plan(household_id=assessment.household_id)
    return render(
        request,
        "services/plan_new.html",
        {
            "assessment": assessment,
            "tier": _tier(assessment),
            "colour_label": COLOUR_LABELS.get(assessment.colour, assessment.colour),
            "needs": _need_labels(assessment),
            "groups": [c.TargetGroup(g).label for g in sorted(groups)],
            "offered": offered,
            "current": current,
            "errors": errors,
            "form": request.POST
            if errors
            else {
                "period_start": today.isoformat(),
                "rule": next((str(r.pk) for r, _a, refusal in offered if not refusal), ""),
            },
            "active_nav": "services",
        },
        status=422 if errors else 200,
    )


def _tier(assessment: Any) -> Any:
    try:
        return tier_of(assessment.instrument_version, assessment.tier)
    except ValueError:
        return None


def _need_labels(assessment: Any) -> list[tuple[str, str, str]]:
    labels = selectors.indicator_labels_for(assessment)
    return [(code, *labels.get(code, ("", code))) for code in assessment.needs]


def _plan_page(
    request: HttpRequest,
    plan_id: int,
    errors: list[str] | None = None,
    section: str = "",
) -> HttpResponse:
    plan = selectors.plan_get(user=request.user, plan_id=plan_id)
    today = timezone.localdate()
    states = plans.plan_stage_states(plan, today)
    chosen = selectors.plan_items(plan, with_removed=True)
    current = [p for p in chosen if p.removed_at is None]
    groups = selectors.household_groups_of(plan.household_id, day=today)
    proposals = selectors.proposals(
        plan=plan, groups=groups, chosen_indicators={p.indicator for p in current}
    )
    may_change = (
        user_has_perm(request.user, Perm.ASSESS_NEEDS)
        and plan.status != c.PlanStatus.CLOSED
        and today <= plan.period_end
    )
    members = [m for m in household_members(household_id=plan.household_id) if not m.is_deceased]
    default_stage = first_open_stage_with_room(states)
    form: Any = request.POST if errors else {}
    posted = _kept_choice(form) if section == "choose" else None
    blank = {"quantity": "1", "stage": default_stage, "chosen_by": c.ChosenBy.WORKER, "note": ""}
    proposal_rows = [
        {
            "indicator": p.indicator,
            "dimension_label": p.dimension_label,
            "indicator_label": p.indicator_label,
            "chosen": p.chosen,
            "rows": [
                (
                    item,
                    posted
                    if posted
                    and not posted["other"]
                    and posted["item"] == item.pk
                    and posted["indicator"] == p.indicator
                    else blank,
                )
                for item in p.items
            ],
        }
        for p in proposals
    ]
    other = (
        posted
        if posted and posted["other"]
        else {**blank, "chosen_by": c.ChosenBy.BENEFICIARY, "item": None}
    )
    return render(
        request,
        "services/plan.html",
        {
            "plan": plan,
            "household": plan.household,
            "assessment": plan.assessment,
            "tier": _tier(plan.assessment),
            "colour_label": COLOUR_LABELS.get(plan.colour, plan.colour),
            "states": states,
            "unit_label": plans.unit_label(plan.unit),
            "allocated": sum((s.allocated for s in states), Decimal(0)),
            "items": current,
            "removed": [p for p in chosen if p.removed_at is not None],
            "proposal_rows": proposal_rows,
            "labels": selectors.indicator_labels_for(plan.assessment),
            "other": other,
            "others": selectors.items_for_household(region_code=plan.region_id, groups=groups),
            "members": members,
            "may_change": may_change,
            "may_agree": may_change and plan.status == c.PlanStatus.DRAFT,
            "default_stage": default_stage,
            "chosen_by": c.ChosenBy.choices,
            "agreed_how": c.AgreedHow.choices,
            "errors": errors or [],
            "section": section,
            "form": form,
            "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "active_nav": "services",
        },
        status=422 if errors else 200,
    )


def _kept_choice(form: Any) -> dict[str, Any]:
    """What was typed in the refused choice form, to show it again."""
    item = form.get("item", "")
    stage = form.get("stage", "")
    return {
        "other": bool(form.get("other")),
        "item": int(item) if item.isdigit() else None,
        "indicator": form.get("indicator", ""),
        "quantity": form.get("quantity", ""),
        "stage": int(stage) if stage.isdigit() else None,
        "chosen_by": form.get("chosen_by", ""),
        "note": form.get("note", ""),
    }


@login_required
def plan_view(request: HttpRequest, plan_id: int) -> HttpResponse:
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    return _plan_page(request, plan_id)


def _plan_act(
    request: HttpRequest, plan_id: int, section: str, step: Callable[[Any], Any]
) -> HttpResponse:
    """Run one service on the plan; on refusal show the page again with why (422)."""
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    plan = selectors.plan_get(user=request.user, plan_id=plan_id)
    try:
        step(plan)
    except (ValidationError, PermissionDenied) as exc:
        return _plan_page(request, plan_id, error_messages(exc), section)
    return redirect(f"{reverse('services:plan', args=[plan_id])}#{section}")


@login_required
@require_POST
def plan_item_add_view(request: HttpRequest, plan_id: int) -> HttpResponse:
    def step(plan: Any) -> None:
        post = request.POST
        item = None
        if post.get("item", "").isdigit():
            item = ServiceItem.objects.filter(pk=int(post["item"])).first()
        if item is None:
            raise ValidationError({"item": _("Choose a service.")})
        stage_text = post.get("stage", "").strip()
        if stage_text and not stage_text.isdigit():
            raise ValidationError({"stage": _("Choose a stage.")})
        plans.plan_item_add(
            actor=request_user(request),
            plan=plan,
            item=item,
            quantity=post.get("quantity", ""),
            stage=int(stage_text) if stage_text else None,
            indicator=post.get("indicator", ""),
            chosen_by=post.get("chosen_by", ""),
            note=post.get("note", ""),
        )

    return _plan_act(request, plan_id, "choose", step)


@login_required
@require_POST
def plan_item_remove_view(request: HttpRequest, plan_id: int, plan_item_id: int) -> HttpResponse:
    def step(plan: Any) -> None:
        chosen = PlanItem.objects.filter(pk=plan_item_id, plan=plan).first()
        if chosen is None:
            not_found(request)
        plans.plan_item_remove(
            actor=request_user(request), plan_item=chosen, reason=request.POST.get("reason", "")
        )

    return _plan_act(request, plan_id, "chosen", step)


@login_required
@require_POST
def plan_agree_view(request: HttpRequest, plan_id: int) -> HttpResponse:
    def step(plan: Any) -> None:
        members = household_members(household_id=plan.household_id)
        person = next((m for m in members if str(m.pk) == request.POST.get("person")), None)
        if person is None:
            raise ValidationError({"person": _("Choose the member of the household who agreed.")})
        try:
            agreed_at = local_datetime(request.POST.get("agreed_at"))
        except ValueError as exc:
            raise ValidationError({"agreed_at": _("Enter the date and time.")}) from exc
        plans.plan_agree(
            actor=request_user(request),
            plan=plan,
            person=person,
            how=request.POST.get("how", ""),
            agreed_at=agreed_at,
        )

    return _plan_act(request, plan_id, "agreement", step)


@login_required
@require_POST
def plan_close_view(request: HttpRequest, plan_id: int) -> HttpResponse:
    return _plan_act(
        request,
        plan_id,
        "close",
        lambda plan: plans.plan_close(
            actor=request_user(request), plan=plan, reason=request.POST.get("reason", "")
        ),
    )


# --- the three lists --------------------------------------------------------------------------


def _filters(request: HttpRequest) -> ListFilters:
    params = request.GET
    stage = params.get("stage", "")
    return ListFilters(
        region=params.get("region", "").strip()[:12] if params.get("region", "").isdigit() else "",
        colour=params.get("colour", "")[:8],
        status=params.get("status", "")[:8],
        dimension=params.get("dimension", "")[:40],
        answered=params.get("answered", "") if params.get("answered") in ("yes", "no") else "",
        category=params.get("category", "") if params.get("category") in c.Category.values else "",
        tier=params.get("tier", "") if params.get("tier") in c.Tier.values else "",
        stage=int(stage) if stage.isdigit() else None,
        date_from=date_or_none(params.get("from", "")),
        date_to=date_or_none(params.get("to", "")),
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
def list_view(request: HttpRequest, kind: str) -> HttpResponse:
    """服务对象、服务需求、服务项目清单 for the user's area, filtered; Excel or CSV export."""
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    if kind not in LIST_TITLES:
        not_found(request)
    filters = _filters(request)
    export = request.GET.get("export", "")
    if export in ("xlsx", "csv"):
        need_perm(request, Perm.EXPORT)
        content, name = list_export(
            actor=request_user(request), kind=kind, filters=filters, file_format=export
        )
        content_type = (
            "text/csv; charset=utf-8"
            if export == "csv"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response
    rows: Any
    if kind == "objects":
        rows = objects_list(request.user, filters)
    elif kind == "needs":
        rows = needs_list(request.user, filters)
    else:
        rows = projects_list(request.user, filters)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    from jiuzhu.services.indicators import CONTRACT_INSTRUMENTS

    dimensions = list(
        dict.fromkeys(
            (code, label) for dims in CONTRACT_INSTRUMENTS.values() for code, label, _i in dims
        )
    )
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    return render(
        request,
        f"services/list_{kind}.html",
        {
            "kind": kind,
            "title": LIST_TITLES[kind],
            "page": page,
            "filters": filters,
            "regions": _regions_below(request),
            "colours": list(COLOUR_LABELS.items()),
            "statuses": [("none", _("no plan")), *c.PlanStatus.choices],
            "dimensions": dimensions,
            "categories": c.Category.choices,
            "tiers": c.Tier.choices,
            "query": query.urlencode(),
            "can_export": user_has_perm(request.user, Perm.EXPORT),
            "active_nav": "services",
        },
    )
