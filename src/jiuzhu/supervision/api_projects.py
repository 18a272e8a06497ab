"""/api/v1/supervision/projects…: purchase-of-service projects and their evaluations.

Readers (``SUPERVISE`` or ``MANAGE_PROJECTS``, their area): the list of projects, one
project with its providers, indicators (with live metric values) and evaluations.
``MANAGE_PROJECTS``: an evaluators' score of one indicator. A project the caller may not
see answers 404; a refused write 422 with the messages by field, 403 when not allowed.
No personal data: projects hold budgets, providers and aggregate figures only.
"""

# No `from __future__ import annotations`: django-ninja reads annotations at run time.

import datetime
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Schema

from jiuzhu.accounts.models import User
from jiuzhu.core.api_errors import service_errors
from jiuzhu.core.http import request_user
from jiuzhu.supervision import project_selectors as sel
from jiuzhu.supervision.metrics import METRICS, live_values
from jiuzhu.supervision.models import Evaluation, EvaluationScore, Indicator, Project
from jiuzhu.supervision.services import evaluations as evs

router = Router(tags=["supervision: projects"])


def _reader(request: HttpRequest) -> User:
    user = request_user(request)
    if not sel.may_read_projects(user):
        raise Http404("Not found")
    return user


class ProviderOut(Schema):
    provider_id: int
    provider_name: str
    contract_number: str
    amount: Decimal


class IndicatorOut(Schema):
    id: int
    area: str
    name: str
    weight: Decimal
    method: str
    metric: str
    target: Decimal | None
    guidance: str
    live_value: Decimal | None


class ScoreOut(Schema):
    indicator_id: int
    value: Decimal | None
    score: Decimal | None
    note: str


class EvaluationOut(Schema):
    id: int
    stage: str
    status: str
    period_start: datetime.date
    period_end: datetime.date
    total: Decimal | None
    grade: str
    grade_label: str
    evaluators: str
    summary: str
    scores: list[ScoreOut]


class ProjectOut(Schema):
    id: int
    code: str
    name: str
    region_code: str
    status: str
    status_label: str
    budget: Decimal
    period_start: datetime.date
    period_end: datetime.date
    target_groups: list[str]
    target_households: int
    target_person_times: int
    items: list[str]
    providers: list[ProviderOut]
    last_grade: str


class ProjectDetailOut(ProjectOut):
    description: str
    improvement_plan: str
    indicators: list[IndicatorOut]
    evaluations: list[EvaluationOut]


class ScoreIn(Schema):
    score: Decimal
    note: str = ""


def _project(project: Project) -> dict[str, Any]:
    last = sel.last_final_evaluation(project)
    return {
        "id": project.pk,
        "code": project.code,
        "name": project.name,
        "region_code": project.region_id,
        "status": project.status,
        "status_label": project.get_status_display(),
        "budget": project.budget,
        "period_start": project.period_start,
        "period_end": project.period_end,
        "target_groups": project.target_groups,
        "target_households": project.target_households,
        "target_person_times": project.target_person_times,
        "items": sorted(project.items.values_list("code", flat=True)),
        "providers": [
            {
                "provider_id": pp.provider_id,
                "provider_name": pp.provider.name,
                "contract_number": pp.contract.number,
                "amount": pp.amount,
            }
            for pp in sel.project_providers(project)
        ],
        "last_grade": last.grade if last else "",
    }


def _evaluation(evaluation: Evaluation) -> dict[str, Any]:
    return {
        "id": evaluation.pk,
        "stage": evaluation.stage,
        "status": evaluation.status,
        "period_start": evaluation.period_start,
        "period_end": evaluation.period_end,
        "total": evaluation.total,
        "grade": evaluation.grade,
        "grade_label": evs.grade_label(evaluation.grade),
        "evaluators": evaluation.evaluators,
        "summary": evaluation.summary,
        "scores": [
            {"indicator_id": r.indicator_id, "value": r.value, "score": r.score, "note": r.note}
            for r in EvaluationScore.objects.filter(evaluation=evaluation).order_by(
                "indicator__position", "indicator_id"
            )
        ],
    }


@router.get("/projects", response=list[ProjectOut])
def projects(request: HttpRequest, status: str = "") -> list[dict[str, Any]]:
    user = _reader(request)
    queryset = sel.projects_visible(user)
    if status:
        queryset = queryset.filter(status=status)
    return [_project(p) for p in queryset.order_by("-period_start", "code")[:200]]


@router.get("/projects/{int:project_id}", response=ProjectDetailOut)
def project(request: HttpRequest, project_id: int) -> dict[str, Any]:
    user = _reader(request)
    found = sel.project_for(user=user, project_id=project_id)
    values = live_values(found)
    return {
        **_project(found),
        "description": found.description,
        "improvement_plan": found.improvement_plan,
        "indicators": [
            {
                "id": i.pk,
                "area": i.area,
                "name": i.name,
                "weight": i.weight,
                "method": i.method,
                "metric": i.metric,
                "target": i.target,
                "guidance": i.guidance,
                "live_value": values.get(i.metric) if i.metric in METRICS else None,
            }
            for i in sel.project_indicators(found)
        ],
        "evaluations": [_evaluation(e) for e in sel.project_evaluations(found)],
    }


@router.post(
    "/projects/evaluations/{int:evaluation_id}/scores/{int:indicator_id}",
    response=EvaluationOut,
)
def evaluation_score(
    request: HttpRequest, evaluation_id: int, indicator_id: int, body: ScoreIn
) -> dict[str, Any]:
    """The evaluators' score (0–100) of a scored indicator (or of a computed one with
    nothing measured, with a note saying how)."""
    user = _reader(request)
    evaluation = sel.evaluation_for(user=user, evaluation_id=evaluation_id)
    indicator = Indicator.objects.filter(project_id=evaluation.project_id, pk=indicator_id).first()
    if indicator is None:
        raise Http404("Not found")
    with service_errors():
        evs.evaluation_score(
            actor=user, evaluation=evaluation, indicator=indicator, score=body.score, note=body.note
        )
    evaluation.refresh_from_db()
    return _evaluation(evaluation)
