"""Mid-term and final evaluations (中期、末期评估) of purchase-of-service projects.

An evaluation measures the computed indicators at once over its window (the project's
start to today for a mid-term one, the whole period for the final one, unless given)
and stores each with its value and score; evaluators score the others (0–100). It is
finalised when every indicator has a score and the weights add up to 100:

    total = Σ weight × score / 100, rounded half up to 2 places
    grade = excellent (优秀) ≥ 90, good (良好) ≥ 80, pass (合格) ≥ 60, else fail (不合格)

A finalised evaluation is read-only. Every change is audited.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.services import audit_record
from jiuzhu.services.services.common import decimal_in
from jiuzhu.supervision import choices as c
from jiuzhu.supervision import project_selectors as sel
from jiuzhu.supervision.metrics import METRICS, measure_indicator
from jiuzhu.supervision.models import Evaluation, EvaluationScore, Indicator, Project

S = c.ProjectStatus
MID_TERM_STATUSES = (S.IN_SERVICE, S.EVALUATING, S.IMPROVING)
FINAL_STATUSES = (S.EVALUATING,)
CENT = Decimal("0.01")

# Grade keys stored on the evaluation, best first, with the lowest total that earns them.
GRADES: list[tuple[str, Decimal]] = [
    ("excellent", Decimal(90)),
    ("good", Decimal(80)),
    ("pass", Decimal(60)),
    ("fail", Decimal(0)),
]
GRADE_LABELS = {
    "excellent": gettext_lazy("excellent"),
    "good": gettext_lazy("good"),
    "pass": gettext_lazy("pass"),
    "fail": gettext_lazy("fail"),
}


def grade_of(total: Decimal) -> str:
    for key, low in GRADES:
        if total >= low:
            return key
    return "fail"


def grade_label(key: str) -> str:
    label = GRADE_LABELS.get(key)
    return str(label) if label is not None else ""


def weighted_total(pairs: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    """Σ weight × score / 100 over (weight, score) pairs, 2 places, half up."""
    total = sum((Decimal(w) * Decimal(s) for w, s in pairs), Decimal(0)) / 100
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


def _require(actor: User | None, project: Project) -> User:
    if actor is None or not sel.may_manage_project(actor, project):
        raise PermissionDenied(_("You may not evaluate projects of this area."))
    return actor


def _audit(actor: User, action: str, evaluation: Evaluation, detail: dict[str, Any]) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="supervision.evaluation",
        object_id=evaluation.pk,
        region_code=evaluation.project.region_id,
        detail={"project": evaluation.project.code, "stage": evaluation.stage, **detail},
    )


def _open(evaluation: Evaluation) -> Evaluation:
    locked = Evaluation.objects.select_for_update().select_related("project").get(pk=evaluation.pk)
    if locked.status == c.EvaluationStatus.FINAL:
        raise ValidationError({"evaluation": _("A finalised evaluation cannot change.")})
    return locked


def _measure(evaluation: Evaluation, actor: User | None) -> int:
    """Measure every computed indicator over the evaluation's window (a score given by
    evaluators for an indicator with nothing to measure is kept); add rows for
    indicators that have none. Returns how many were measured."""
    project = evaluation.project
    measured = 0
    now = timezone.now()
    for indicator in Indicator.objects.filter(project=project):
        row, _created = EvaluationScore.objects.get_or_create(
            evaluation=evaluation, indicator=indicator
        )
        if indicator.method != c.IndicatorMethod.COMPUTED or indicator.metric not in METRICS:
            continue
        value, _due, score = measure_indicator(
            metric_key=indicator.metric,
            target=indicator.target,
            project=project,
            start=evaluation.period_start,
            end=evaluation.period_end,
        )
        row.value = value
        if score is not None:
            row.score = score
            row.scored_by = None
            row.scored_at = now
        elif row.scored_by_id is None:
            row.score = None
            row.scored_at = None
        row.save()
        measured += 1
    return measured


@transaction.atomic
def evaluation_start(
    *,
    actor: User | None,
    project: Project,
    stage: str,
    period_start: datetime.date | None = None,
    period_end: datetime.date | None = None,
) -> Evaluation:
    """A mid-term evaluation once the project is in service, the final one once it is
    under evaluation; one of each. The computed indicators are measured at once."""
    user = _require(actor, project)
    project = Project.objects.select_for_update().get(pk=project.pk)
    if stage == c.EvaluationStage.MID_TERM:
        if project.status not in MID_TERM_STATUSES:
            raise ValidationError(
                {"stage": _("A mid-term evaluation starts once the project is in service.")}
            )
    elif stage == c.EvaluationStage.FINAL:
        if project.status not in FINAL_STATUSES:
            raise ValidationError(
                {"stage": _("The final evaluation starts once the project is under evaluation.")}
            )
    else:
        raise ValidationError({"stage": _("Choose mid-term or final.")})
    if Evaluation.objects.filter(project=project, stage=stage).exists():
        raise ValidationError({"stage": _("The project has this evaluation already.")})
    if stage == c.EvaluationStage.MID_TERM:
        default_end = min(timezone.localdate(), project.period_end)
    else:
        default_end = project.period_end
    first = period_start or project.period_start
    last = period_end or default_end
    if first < project.period_start or last > project.period_end:
        raise ValidationError({"period_start": _("Evaluate within the project's period.")})
    if last < first:
        raise ValidationError({"period_end": _("The period ends before it starts.")})
    if not Indicator.objects.filter(project=project).exists():
        raise ValidationError({"indicators": _("Set up the project's indicators.")})
    evaluation = Evaluation.objects.create(
        project=project, stage=stage, period_start=first, period_end=last, created_by=user
    )
    measured = _measure(evaluation, user)
    _audit(
        user,
        AuditAction.CREATE,
        evaluation,
        {"period": [str(first), str(last)], "measured": measured},
    )
    return evaluation


@transaction.atomic
def evaluation_recompute(*, actor: User | None, evaluation: Evaluation) -> Evaluation:
    """Measure the computed indicators again (orders served or rated since)."""
    user = _require(actor, evaluation.project)
    evaluation = _open(evaluation)
    measured = _measure(evaluation, user)
    _audit(user, AuditAction.UPDATE, evaluation, {"recomputed": measured})
    return evaluation


@transaction.atomic
def evaluation_score(
    *,
    actor: User | None,
    evaluation: Evaluation,
    indicator: Indicator,
    score: Any,
    note: str = "",
) -> EvaluationScore:
    """The evaluators' score (0–100, two places) of a scored indicator, or of a computed
    one that had nothing to measure (then the note must say why)."""
    user = _require(actor, evaluation.project)
    evaluation = _open(evaluation)
    if indicator.project_id != evaluation.project_id:
        raise ValidationError({"indicator": _("The indicator is not one of this project's.")})
    value = decimal_in(score, "score", low=Decimal(0), high=Decimal(100))
    row, _created = EvaluationScore.objects.get_or_create(
        evaluation=evaluation, indicator=indicator
    )
    note = (note or "").strip()[:5000]
    if indicator.method == c.IndicatorMethod.COMPUTED:
        if row.value is not None:
            raise ValidationError(
                {"score": _("This indicator is computed from the platform's data.")}
            )
        if not note:
            raise ValidationError(
                {"note": _("Nothing was measured for this indicator: say how it was scored.")}
            )
    before = str(row.score) if row.score is not None else None
    row.score = value
    row.note = note
    row.scored_by = user
    row.scored_at = timezone.now()
    row.save()
    _audit(
        user,
        AuditAction.UPDATE,
        evaluation,
        {"indicator": indicator.pk, "score": [before, str(value)]},
    )
    return row


@transaction.atomic
def evaluation_finalise(
    *, actor: User | None, evaluation: Evaluation, evaluators: str, summary: str
) -> Evaluation:
    """Every indicator scored, weights adding up to 100: the total, the grade, and the
    evaluation becomes read-only."""
    user = _require(actor, evaluation.project)
    evaluation = _open(evaluation)
    errors: dict[str, list[str]] = {}
    evaluators = (evaluators or "").strip()
    summary = (summary or "").strip()
    if not evaluators:
        errors.setdefault("evaluators", []).append(_("Name the evaluators."))
    elif len(evaluators) > 200:
        errors.setdefault("evaluators", []).append(
            _("At most %(limit)s characters.") % {"limit": 200}
        )
    if not summary:
        errors.setdefault("summary", []).append(_("Write the evaluation's summary."))
    indicators = list(Indicator.objects.filter(project=evaluation.project))
    scores = {
        row.indicator_id: row.score for row in EvaluationScore.objects.filter(evaluation=evaluation)
    }
    missing = [i.name for i in indicators if scores.get(i.pk) is None]
    if not indicators:
        errors.setdefault("indicators", []).append(_("Set up the project's indicators."))
    if missing:
        errors.setdefault("scores", []).append(
            _("Score every indicator first: %(names)s.") % {"names": "、".join(missing)}
        )
    weights = sum((i.weight for i in indicators), Decimal(0))
    if indicators and weights != 100:
        errors.setdefault("indicators", []).append(
            _("The indicators' weights add up to %(total)s, not 100.")
            % {"total": weights.normalize()}
        )
    if errors:
        raise ValidationError(errors)
    total = weighted_total((i.weight, scores[i.pk]) for i in indicators)  # type: ignore[misc]
    evaluation.total = total
    evaluation.grade = grade_of(total)
    evaluation.evaluators = evaluators
    evaluation.summary = summary
    evaluation.status = c.EvaluationStatus.FINAL
    evaluation.finalised_at = timezone.now()
    evaluation.finalised_by = user
    evaluation.save()
    _audit(
        user,
        AuditAction.UPDATE,
        evaluation,
        {"finalised": True, "total": str(total), "grade": evaluation.grade},
    )
    return evaluation
