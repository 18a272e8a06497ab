"""Mid-term and final evaluations: when they start, what is measured at once, scoring,
the total and grade at their boundaries, and that a finalised evaluation is read-only."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.supervision import choices as c
from jiuzhu.supervision.metrics import METRICS, due_target, proportional_score
from jiuzhu.supervision.models import Evaluation, EvaluationScore, Indicator, Project
from jiuzhu.supervision.services.evaluations import (
    evaluation_finalise,
    evaluation_recompute,
    evaluation_score,
    evaluation_start,
    grade_label,
    grade_of,
    weighted_total,
)
from jiuzhu.supervision.services.projects import indicator_add
from tests.conftest import Family, Personas
from tests.supervision.factories import provider_with_staff, served_order
from tests.supervision.project_factories import advance, draft_project, running_project

S = c.ProjectStatus
TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Any:
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def project(personas: Personas) -> Project:
    provider, _m, _w = provider_with_staff()
    return running_project(personas, [provider])


def start(personas: Personas, project: Project, stage: str = "mid_term") -> Evaluation:
    return evaluation_start(actor=personas.county_admin, project=project, stage=stage)


def score_all(personas: Personas, evaluation: Evaluation, score: Any = 80) -> None:
    for row in EvaluationScore.objects.filter(evaluation=evaluation, score__isnull=True):
        evaluation_score(
            actor=personas.county_admin, evaluation=evaluation, indicator=row.indicator,
            score=score, note="评估组打分",
        )  # fmt: skip


# --- starting ------------------------------------------------------------------------------


def test_a_mid_term_evaluation_measures_computed_indicators_at_once(
    personas: Personas, family: Family
) -> None:
    # given served orders rated 5 and 4
    provider, _m, worker = provider_with_staff()
    project = running_project(personas, [provider])
    served_order(
        personas, family, provider, worker, day=TODAY - datetime.timedelta(days=9), rating=5
    )
    served_order(
        personas, family, provider, worker, day=TODAY - datetime.timedelta(days=3), rating=4
    )
    # when
    evaluation = start(personas, project)
    # then the window is the project's start to today
    assert (evaluation.period_start, evaluation.period_end) == (project.period_start, TODAY)
    rows = {
        r.indicator.metric or r.indicator.name: r
        for r in evaluation.scores.select_related("indicator")
    }
    assert rows["satisfaction"].value == Decimal("4.5000")
    assert rows["satisfaction"].score == Decimal("100.00")
    # person-times are held to the share due by today
    person_times = rows["person_times"]
    due = due_target(METRICS["person_times"], Decimal(1), project, TODAY)
    assert person_times.value == Decimal("0.1000")  # 2 of 20
    assert person_times.score == proportional_score(Decimal("0.1"), due)
    # scored indicators wait for the evaluators
    scored = [r for r in rows.values() if r.indicator.method == "scored"]
    assert scored and all(r.score is None and r.value is None for r in scored)
    assert AuditEvent.objects.filter(object_type="supervision.evaluation", action="create").exists()


@pytest.mark.parametrize("status", [S.PUBLISHED, S.MATCHED])
def test_mid_term_needs_the_service_started(personas: Personas, status: str) -> None:
    provider, _m, _w = provider_with_staff()
    project = running_project(personas, [provider], status=status)
    with pytest.raises(ValidationError) as exc:
        start(personas, project)
    assert "stage" in exc.value.message_dict


def test_final_needs_evaluating(personas: Personas, project: Project) -> None:
    with pytest.raises(ValidationError):
        start(personas, project, "final")
    project = advance(personas, project, S.EVALUATING)
    evaluation = start(personas, project, "final")
    assert (evaluation.period_start, evaluation.period_end) == (
        project.period_start,
        project.period_end,
    )


def test_one_evaluation_per_stage(personas: Personas, project: Project) -> None:
    start(personas, project)
    with pytest.raises(ValidationError):
        start(personas, project)


def test_the_window_stays_within_the_period(personas: Personas, project: Project) -> None:
    with pytest.raises(ValidationError):
        evaluation_start(
            actor=personas.county_admin, project=project, stage="mid_term",
            period_start=project.period_start - datetime.timedelta(days=1),
        )  # fmt: skip


def test_the_supervisor_reads_but_does_not_evaluate(personas: Personas, project: Project) -> None:
    with pytest.raises(PermissionDenied):
        evaluation_start(actor=personas.supervisor, project=project, stage="mid_term")


# --- scoring -------------------------------------------------------------------------------


def test_scores_are_0_to_100(personas: Personas, project: Project) -> None:
    evaluation = start(personas, project)
    indicator = Indicator.objects.filter(project=project, method="scored").first()
    assert indicator is not None
    for bad in ("-0.01", "100.01", "abc", "50.123"):
        with pytest.raises(ValidationError):
            evaluation_score(
                actor=personas.county_admin, evaluation=evaluation, indicator=indicator, score=bad
            )
    row = evaluation_score(
        actor=personas.county_admin, evaluation=evaluation, indicator=indicator, score="100",
        note="齐全",
    )  # fmt: skip
    assert row.score == Decimal(100) and row.scored_by == personas.county_admin


def test_a_measured_indicator_is_not_scored_by_hand(personas: Personas, family: Family) -> None:
    provider, _m, worker = provider_with_staff()
    project = running_project(personas, [provider])
    served_order(personas, family, provider, worker, day=TODAY - datetime.timedelta(days=2))
    evaluation = start(personas, project)
    satisfaction = Indicator.objects.get(project=project, metric="satisfaction")
    with pytest.raises(ValidationError):
        evaluation_score(
            actor=personas.county_admin, evaluation=evaluation, indicator=satisfaction,
            score=10, note="x",
        )  # fmt: skip


def test_a_computed_indicator_with_nothing_measured_is_scored_with_a_reason(
    personas: Personas, project: Project
) -> None:
    # no orders: satisfaction has no value
    evaluation = start(personas, project)
    satisfaction = Indicator.objects.get(project=project, metric="satisfaction")
    with pytest.raises(ValidationError) as exc:
        evaluation_score(
            actor=personas.county_admin, evaluation=evaluation, indicator=satisfaction, score=60
        )
    assert "note" in exc.value.message_dict
    row = evaluation_score(
        actor=personas.county_admin, evaluation=evaluation, indicator=satisfaction, score=60,
        note="尚无评价，按入户访谈评分",
    )  # fmt: skip
    # a recomputation that still measures nothing keeps the evaluators' score
    evaluation_recompute(actor=personas.county_admin, evaluation=evaluation)
    row.refresh_from_db()
    assert row.score == Decimal(60)


def test_recompute_picks_up_new_orders(
    personas: Personas, project: Project, family: Family
) -> None:
    evaluation = start(personas, project)
    provider = project.providers.first().provider  # type: ignore[union-attr]
    worker = provider.members.filter(is_manager=False).first().user  # type: ignore[union-attr]
    served_order(
        personas, family, provider, worker, day=TODAY - datetime.timedelta(days=1), rating=3
    )
    evaluation_recompute(actor=personas.county_admin, evaluation=evaluation)
    row = EvaluationScore.objects.get(evaluation=evaluation, indicator__metric="satisfaction")
    assert row.value == Decimal("3.0000")
    assert row.score == Decimal("66.67")  # 3 / 4.5


# --- finalising ----------------------------------------------------------------------------


def test_finalise_is_refused_with_a_missing_score(personas: Personas, project: Project) -> None:
    evaluation = start(personas, project)
    score_all(personas, evaluation)
    last = EvaluationScore.objects.filter(evaluation=evaluation, indicator__method="scored").first()
    assert last is not None
    EvaluationScore.objects.filter(pk=last.pk).update(score=None)
    with pytest.raises(ValidationError) as exc:
        evaluation_finalise(
            actor=personas.county_admin, evaluation=evaluation, evaluators="组", summary="x"
        )
    assert "scores" in exc.value.message_dict
    assert last.indicator.name in exc.value.message_dict["scores"][0]


def test_finalise_is_refused_when_weights_are_not_100(personas: Personas, project: Project) -> None:
    evaluation = start(personas, project)
    score_all(personas, evaluation)
    Indicator.objects.filter(pk=Indicator.objects.filter(project=project).first().pk).update(  # type: ignore[union-attr]
        weight=Decimal("9.99")
    )
    with pytest.raises(ValidationError) as exc:
        evaluation_finalise(
            actor=personas.county_admin, evaluation=evaluation, evaluators="组", summary="x"
        )
    assert "indicators" in exc.value.message_dict


def test_finalise_needs_evaluators_and_summary(personas: Personas, project: Project) -> None:
    evaluation = start(personas, project)
    score_all(personas, evaluation)
    with pytest.raises(ValidationError) as exc:
        evaluation_finalise(
            actor=personas.county_admin, evaluation=evaluation, evaluators=" ", summary=""
        )
    assert {"evaluators", "summary"} <= set(exc.value.message_dict)


def test_a_finalised_evaluation_is_read_only(personas: Personas, project: Project) -> None:
    # given
    evaluation = start(personas, project)
    score_all(personas, evaluation)
    evaluation = evaluation_finalise(
        actor=personas.county_admin, evaluation=evaluation, evaluators="第三方评估组", summary="好"
    )
    indicator = Indicator.objects.filter(project=project, method="scored").first()
    # then
    assert evaluation.status == "final" and evaluation.finalised_by == personas.county_admin
    with pytest.raises(ValidationError):
        evaluation_score(
            actor=personas.county_admin,
            evaluation=evaluation,
            indicator=indicator,
            score=1,  # type: ignore[arg-type]
        )
    with pytest.raises(ValidationError):
        evaluation_recompute(actor=personas.county_admin, evaluation=evaluation)
    with pytest.raises(ValidationError):
        evaluation_finalise(
            actor=personas.county_admin, evaluation=evaluation, evaluators="x", summary="y"
        )


def test_the_total_is_the_weighted_sum(personas: Personas, project: Project) -> None:
    evaluation = start(personas, project)
    score_all(personas, evaluation, 70)
    evaluation = evaluation_finalise(
        actor=personas.county_admin, evaluation=evaluation, evaluators="组", summary="x"
    )
    rows = EvaluationScore.objects.filter(evaluation=evaluation).select_related("indicator")
    expected = sum(r.indicator.weight * r.score for r in rows) / 100  # type: ignore[operator]
    assert evaluation.total == Decimal(expected).quantize(Decimal("0.01"))
    assert evaluation.grade == grade_of(evaluation.total)  # type: ignore[arg-type]


def _two_indicator_project(personas: Personas, code: str) -> Project:
    project = draft_project(personas, indicators=False, code=code)
    for name in ("甲", "乙"):
        indicator_add(
            actor=personas.county_admin, project=project, area="management", name=name,
            weight="50", method="scored", guidance="按规范打分",
        )  # fmt: skip
    provider, _m, _w = provider_with_staff(f"服务中心{code}")
    project = advance(personas, project, S.PUBLISHED)
    from jiuzhu.supervision.services.projects import project_match

    project_match(
        actor=personas.county_admin, project=project, contract=provider.contracts.first(),
        amount="1000",
    )  # fmt: skip
    return advance(personas, project, S.MATCHED, S.IN_SERVICE)


@pytest.mark.parametrize(
    ("score", "total", "grade"),
    [
        ("90.00", "90.00", "excellent"),
        ("89.99", "89.99", "good"),
        ("80.00", "80.00", "good"),
        ("79.99", "79.99", "pass"),
        ("60.00", "60.00", "pass"),
        ("59.99", "59.99", "fail"),
        ("0", "0.00", "fail"),
        ("100", "100.00", "excellent"),
    ],
)
def test_grades_at_their_boundaries(personas: Personas, score: str, total: str, grade: str) -> None:
    # given two indicators of weight 50 scored alike
    project = _two_indicator_project(personas, "B-" + score)
    evaluation = start(personas, project)
    score_all(personas, evaluation, score)
    # when
    evaluation = evaluation_finalise(
        actor=personas.county_admin, evaluation=evaluation, evaluators="组", summary="x"
    )
    # then
    assert evaluation.total == Decimal(total) and evaluation.grade == grade


def test_weighted_total_rounds_half_up() -> None:
    # 33.33 × 90 + 33.33 × 90 + 33.34 × 89.99 = 8999.6666 → 89.996666 → 90.00
    pairs = [
        (Decimal("33.33"), Decimal(90)),
        (Decimal("33.33"), Decimal(90)),
        (Decimal("33.34"), Decimal("89.99")),
    ]
    assert weighted_total(pairs) == Decimal("90.00")
    assert weighted_total([(Decimal(100), Decimal("89.995"))]) == Decimal("90.00")
    assert weighted_total([(Decimal(100), Decimal("89.994"))]) == Decimal("89.99")


def test_grade_labels_translate() -> None:
    assert [grade_label(k) for k in ("excellent", "good", "pass", "fail")] == [
        "excellent", "good", "pass", "fail",
    ]  # fmt: skip
    with translation.override("zh-hans"):
        assert grade_label("unknown") == ""
