"""Pages of purchase-of-service projects (/supervision/projects/).

- the list: status, budget, period, providers, the last finalised evaluation's grade;
- a project: the lifecycle stepper 发布 → 对接 → 服务 → 评价 → 提升, providers and the
  matching form, indicators by area with weights and live metric values, evaluations;
- an evaluation: computed values and the scoring form of the scored indicators,
  finalising;
- the report: a printable page (A4, no navigation) and the Excel download.

``SUPERVISE`` reads (in its area), ``MANAGE_PROJECTS`` writes. Plain views: each parses
the form, calls one service and redirects; a refusal renders the page again with the
messages, status 422 and what was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiuzhu.core.form_input import date_or_none, error_messages
from jiuzhu.core.http import not_found, request_user
from jiuzhu.regions.models import Level, Region
from jiuzhu.services.models import ServiceItem
from jiuzhu.supervision import choices as c
from jiuzhu.supervision import project_selectors as sel
from jiuzhu.supervision.metrics import METRICS, due_target, live_values
from jiuzhu.supervision.models import Evaluation, Indicator, Project
from jiuzhu.supervision.reports import report_data, report_export, report_file_name
from jiuzhu.supervision.services import evaluations as evs
from jiuzhu.supervision.services import projects as svc

NAV = "supervision"
STEPS = [
    (c.ProjectStatus.PUBLISHED, "发布"),
    (c.ProjectStatus.MATCHED, "对接"),
    (c.ProjectStatus.IN_SERVICE, "服务"),
    (c.ProjectStatus.EVALUATING, "评价"),
    (c.ProjectStatus.IMPROVING, "提升"),
]


def _reader(request: HttpRequest) -> None:
    if not sel.may_read_projects(request.user):
        not_found(request)


def _project(request: HttpRequest, project_id: int) -> Project:
    _reader(request)
    return sel.project_for(user=request.user, project_id=project_id)


def _evaluation(request: HttpRequest, evaluation_id: int) -> Evaluation:
    _reader(request)
    return sel.evaluation_for(user=request.user, evaluation_id=evaluation_id)


# --- the list and a new project -------------------------------------------------------------


@login_required
def projects_list(request: HttpRequest) -> HttpResponse:
    _reader(request)
    status = request.GET.get("status", "")
    projects = sel.projects_visible(request.user).prefetch_related("providers__provider")
    if status in c.ProjectStatus.values:
        projects = projects.filter(status=status)
    rows = []
    for project in projects.order_by("-period_start", "code")[:200]:
        last = sel.last_final_evaluation(project)
        rows.append(
            {
                "project": project,
                "providers": [pp.provider.name for pp in project.providers.all()],
                "last": last,
                "grade": evs.grade_label(last.grade) if last else "",
            }
        )
    return render(
        request,
        "supervision/projects/list.html",
        {
            "rows": rows,
            "status": status,
            "statuses": c.ProjectStatus.choices,
            "may_manage": sel.may_manage_region(
                request.user, str(request_user(request).region_id or "")
            ),
            "active_nav": NAV,
        },
    )


def _form_context(request: HttpRequest) -> dict[str, Any]:
    area = str(request_user(request).region_id or "")
    return {
        "regions": Region.objects.filter(
            code__startswith=area[:6], level__in=(Level.COUNTY, Level.TOWN)
        ).order_by("code"),
        "items": ServiceItem.objects.filter(is_active=True).order_by("category", "code"),
        "groups": svc.target_group_choices(),
        "active_nav": NAV,
    }


def _project_form(request: HttpRequest) -> dict[str, Any]:
    post = request.POST
    return {
        "region_code": post.get("region", ""),
        "code": post.get("code", ""),
        "name": post.get("name", ""),
        "description": post.get("description", ""),
        "budget": post.get("budget", ""),
        "period_start": post.get("period_start", ""),
        "period_end": post.get("period_end", ""),
        "target_groups": post.getlist("target_groups"),
        "target_households": post.get("target_households", "0"),
        "target_person_times": post.get("target_person_times", "0"),
        "item_codes": post.getlist("items"),
    }


@login_required
def projects_new(request: HttpRequest) -> HttpResponse:
    _reader(request)
    user = request_user(request)
    if not sel.may_manage_region(user, str(user.region_id or "")):
        not_found(request)
    context = _form_context(request)
    if request.method == "POST":
        form = _project_form(request)
        try:
            project = svc.project_create(actor=user, **form)
            if request.POST.get("default_indicators"):
                svc.indicators_default(project=project, actor=user)
        except (ValidationError, PermissionDenied) as exc:
            return render(
                request,
                "supervision/projects/form.html",
                {**context, "form": form, "errors": error_messages(exc)},
                status=422,
            )
        return redirect("supervision:projects_detail", project.pk)
    form = {"region_code": str(user.region_id or "")[:6], "target_groups": [], "item_codes": []}
    return render(request, "supervision/projects/form.html", {**context, "form": form})


@login_required
def projects_edit(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id)
    user = request_user(request)
    if not sel.may_manage_project(user, project):
        not_found(request)
    context = {**_form_context(request), "project": project}
    if request.method == "POST":
        form = _project_form(request)
        try:
            svc.project_update(
                actor=user,
                project=project,
                name=form["name"],
                description=form["description"],
                budget=form["budget"],
                period_start=form["period_start"],
                period_end=form["period_end"],
                target_groups=form["target_groups"],
                target_households=form["target_households"],
                target_person_times=form["target_person_times"],
                item_codes=form["item_codes"],
            )
        except (ValidationError, PermissionDenied) as exc:
            return render(
                request,
                "supervision/projects/form.html",
                {**context, "form": form, "errors": error_messages(exc)},
                status=422,
            )
        return redirect("supervision:projects_detail", project.pk)
    form = {
        "region_code": project.region_id,
        "code": project.code,
        "name": project.name,
        "description": project.description,
        "budget": project.budget,
        "period_start": project.period_start.isoformat(),
        "period_end": project.period_end.isoformat(),
        "target_groups": project.target_groups,
        "target_households": project.target_households,
        "target_person_times": project.target_person_times,
        "item_codes": list(project.items.values_list("code", flat=True)),
    }
    return render(request, "supervision/projects/form.html", {**context, "form": form})


# --- a project ---------------------------------------------------------------------------


def _stepper(project: Project) -> list[dict[str, Any]]:
    current = sel.LIFECYCLE.index(project.status)
    return [
        {
            "key": key,
            "label": label,
            "done": sel.LIFECYCLE.index(key) < current,
            "current": key == project.status,
        }
        for key, label in STEPS
    ]


def _next_status(project: Project) -> tuple[str, str] | None:
    index = sel.LIFECYCLE.index(project.status)
    if index + 1 >= len(sel.LIFECYCLE):
        return None
    key = sel.LIFECYCLE[index + 1]
    return key, str(c.ProjectStatus(key).label)


def _detail_page(
    request: HttpRequest,
    project: Project,
    *,
    errors: list[str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    indicators = sel.project_indicators(project)
    values = live_values(project)
    today = timezone.localdate()
    lines: list[dict[str, Any]] = []
    for indicator in indicators:
        metric = METRICS.get(indicator.metric) if indicator.metric else None
        lines.append(
            {
                "indicator": indicator,
                "metric": metric,
                "value": values.get(indicator.metric) if metric else None,
                "due": due_target(metric, indicator.target, project, today) if metric else None,
            }
        )
    groups = [
        (label, [line for line in lines if line["indicator"].area == area])
        for area, label, _rows in sel.indicators_by_area(indicators)
    ]
    evaluations = sel.project_evaluations(project)
    stages = {e.stage for e in evaluations}
    may_manage = sel.may_manage_project(request.user, project)
    editable = project.status in svc.EDITABLE_INDICATORS
    return render(
        request,
        "supervision/projects/detail.html",
        {
            "project": project,
            "steps": _stepper(project),
            "next": _next_status(project),
            "providers": sel.project_providers(project),
            "matched_total": sel.matched_total(project),
            "contracts": sel.contracts_matchable(project) if may_manage else [],
            "groups": groups,
            "weights_total": sum((i.weight for i in indicators), Decimal(0)),
            "evaluations": [
                {"evaluation": e, "grade": evs.grade_label(e.grade)} for e in evaluations
            ],
            "may_manage": may_manage,
            "may_match": may_manage and project.status in svc.MATCHING,
            "may_unmatch": may_manage and project.status in svc.UNMATCHING,
            "may_edit_indicators": may_manage and editable,
            "may_start_mid": may_manage
            and project.status in evs.MID_TERM_STATUSES
            and "mid_term" not in stages,
            "may_start_final": may_manage
            and project.status in evs.FINAL_STATUSES
            and "final" not in stages,
            "items": list(project.items.all()),
            "group_labels": [
                dict(svc.target_group_choices()).get(g, g) for g in project.target_groups
            ],
            "areas": c.IndicatorArea.choices,
            "methods": c.IndicatorMethod.choices,
            "metrics": [(key, m.label) for key, m in METRICS.items()],
            "errors": errors or [],
            "form": form or {},
            "active_nav": NAV,
        },
        status=status,
    )


@login_required
def projects_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    return _detail_page(request, _project(request, project_id))


def _act(
    request: HttpRequest, project_id: int, act: Callable[[Project], Any], keys: tuple[str, ...]
) -> HttpResponse:
    project = _project(request, project_id)
    if not sel.may_manage_project(request.user, project):
        not_found(request)
    try:
        result = act(project)
    except (ValidationError, PermissionDenied) as exc:
        project.refresh_from_db()
        form = {key: request.POST.get(key, "") for key in keys}
        return _detail_page(request, project, errors=error_messages(exc), form=form, status=422)
    if isinstance(result, Evaluation):
        return redirect("supervision:projects_evaluation", result.pk)
    return redirect("supervision:projects_detail", project.pk)


@login_required
@require_POST
def projects_advance(request: HttpRequest, project_id: int) -> HttpResponse:
    def act(project: Project) -> Any:
        plan = request.POST.get("improvement_plan")
        return svc.project_advance(
            actor=request_user(request),
            project=project,
            to_status=request.POST.get("to_status", ""),
            note=request.POST.get("note", ""),
            improvement_plan=plan if plan is not None else None,
        )

    return _act(request, project_id, act, ("to_status", "note", "improvement_plan"))


@login_required
@require_POST
def projects_match(request: HttpRequest, project_id: int) -> HttpResponse:
    def act(project: Project) -> Any:
        contract = next(
            (
                k
                for k in sel.contracts_matchable(project)
                if str(k.pk) == request.POST.get("contract", "")
            ),
            None,
        )
        if contract is None:
            raise ValidationError({"contract": _("Choose a contract from the list.")})
        return svc.project_match(
            actor=request_user(request),
            project=project,
            contract=contract,
            amount=request.POST.get("amount", ""),
        )

    return _act(request, project_id, act, ("contract", "amount"))


@login_required
@require_POST
def projects_unmatch(request: HttpRequest, project_id: int, row_id: int) -> HttpResponse:
    def act(project: Project) -> Any:
        row = project.providers.filter(pk=row_id).select_related("contract").first()
        if row is None:
            not_found(request)
        return svc.project_unmatch(actor=request_user(request), project_provider=row)

    return _act(request, project_id, act, ())


@login_required
@require_POST
def projects_indicators_default(request: HttpRequest, project_id: int) -> HttpResponse:
    def act(project: Project) -> Any:
        return svc.indicators_default(project=project, actor=request_user(request))

    return _act(request, project_id, act, ())


INDICATOR_KEYS = ("area", "name", "weight", "method", "metric", "target", "guidance")


def _indicator_fields(request: HttpRequest) -> dict[str, Any]:
    return {key: request.POST.get(key, "") for key in INDICATOR_KEYS}


@login_required
@require_POST
def projects_indicator_add(request: HttpRequest, project_id: int) -> HttpResponse:
    def act(project: Project) -> Any:
        return svc.indicator_add(
            actor=request_user(request), project=project, **_indicator_fields(request)
        )

    return _act(request, project_id, act, INDICATOR_KEYS)


def _indicator(project: Project, indicator_id: int, request: HttpRequest) -> Indicator:
    indicator = Indicator.objects.filter(project=project, pk=indicator_id).first()
    if indicator is None:
        not_found(request)
    return indicator


@login_required
@require_POST
def projects_indicator_update(
    request: HttpRequest, project_id: int, indicator_id: int
) -> HttpResponse:
    def act(project: Project) -> Any:
        return svc.indicator_update(
            actor=request_user(request),
            indicator=_indicator(project, indicator_id, request),
            **_indicator_fields(request),
        )

    return _act(request, project_id, act, INDICATOR_KEYS)


@login_required
@require_POST
def projects_indicator_remove(
    request: HttpRequest, project_id: int, indicator_id: int
) -> HttpResponse:
    def act(project: Project) -> Any:
        return svc.indicator_remove(
            actor=request_user(request), indicator=_indicator(project, indicator_id, request)
        )

    return _act(request, project_id, act, ())


@login_required
@require_POST
def projects_evaluation_start(request: HttpRequest, project_id: int) -> HttpResponse:
    def act(project: Project) -> Any:
        return evs.evaluation_start(
            actor=request_user(request),
            project=project,
            stage=request.POST.get("stage", ""),
            period_start=date_or_none(request.POST.get("period_start")),
            period_end=date_or_none(request.POST.get("period_end")),
        )

    return _act(request, project_id, act, ("stage", "period_start", "period_end"))


# --- an evaluation -------------------------------------------------------------------------


def _evaluation_page(
    request: HttpRequest,
    evaluation: Evaluation,
    *,
    errors: list[str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    data = report_data(evaluation)
    may_manage = sel.may_manage_project(request.user, evaluation.project)
    return render(
        request,
        "supervision/projects/evaluation.html",
        {
            "evaluation": evaluation,
            "project": evaluation.project,
            "report": data,
            "is_open": evaluation.status == c.EvaluationStatus.DRAFT,
            "may_manage": may_manage and evaluation.status == c.EvaluationStatus.DRAFT,
            "errors": errors or [],
            "form": form or {},
            "active_nav": NAV,
        },
        status=status,
    )


@login_required
def projects_evaluation(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    return _evaluation_page(request, _evaluation(request, evaluation_id))


def _evaluation_act(
    request: HttpRequest,
    evaluation_id: int,
    act: Callable[[Evaluation], Any],
    keys: tuple[str, ...],
) -> HttpResponse:
    evaluation = _evaluation(request, evaluation_id)
    if not sel.may_manage_project(request.user, evaluation.project):
        not_found(request)
    try:
        act(evaluation)
    except (ValidationError, PermissionDenied) as exc:
        evaluation.refresh_from_db()
        form = {key: request.POST.get(key, "") for key in keys}
        return _evaluation_page(
            request, evaluation, errors=error_messages(exc), form=form, status=422
        )
    return redirect("supervision:projects_evaluation", evaluation.pk)


@login_required
@require_POST
def projects_evaluation_score(
    request: HttpRequest, evaluation_id: int, indicator_id: int
) -> HttpResponse:
    def act(evaluation: Evaluation) -> Any:
        indicator = Indicator.objects.filter(
            project_id=evaluation.project_id, pk=indicator_id
        ).first()
        if indicator is None:
            not_found(request)
        return evs.evaluation_score(
            actor=request_user(request),
            evaluation=evaluation,
            indicator=indicator,
            score=request.POST.get("score", ""),
            note=request.POST.get("note", ""),
        )

    return _evaluation_act(request, evaluation_id, act, ("score", "note"))


@login_required
@require_POST
def projects_evaluation_recompute(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    def act(evaluation: Evaluation) -> Any:
        return evs.evaluation_recompute(actor=request_user(request), evaluation=evaluation)

    return _evaluation_act(request, evaluation_id, act, ())


@login_required
@require_POST
def projects_evaluation_finalise(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    def act(evaluation: Evaluation) -> Any:
        return evs.evaluation_finalise(
            actor=request_user(request),
            evaluation=evaluation,
            evaluators=request.POST.get("evaluators", ""),
            summary=request.POST.get("summary", ""),
        )

    return _evaluation_act(request, evaluation_id, act, ("evaluators", "summary"))


# --- the report ----------------------------------------------------------------------------


@login_required
def projects_report(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    """The printable report (A4, no navigation), audited as an export."""
    evaluation = _evaluation(request, evaluation_id)
    report_export(actor=request_user(request), evaluation=evaluation, file_format="print")
    return render(
        request,
        "supervision/projects/report.html",
        {
            "evaluation": evaluation,
            "project": evaluation.project,
            "report": report_data(evaluation),
            "printed_on": timezone.localdate(),
        },
    )


@login_required
def projects_report_xlsx(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = _evaluation(request, evaluation_id)
    content = report_export(actor=request_user(request), evaluation=evaluation)
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{report_file_name(evaluation)}"'
    response["Cache-Control"] = "private, no-store"
    return response
