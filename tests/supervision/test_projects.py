"""Purchase-of-service projects: the lifecycle 发布 → 对接 → 服务 → 评价 → 提升 and each of
its guards, matching providers through contracts, indicators, and the project's orders."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.services.models import ContractItem, ProviderContract
from jiuzhu.services.services.directory import provider_set_light
from jiuzhu.supervision import choices as c
from jiuzhu.supervision.models import Indicator, ProjectProvider
from jiuzhu.supervision.project_selectors import project_orders, projects_visible
from jiuzhu.supervision.services.evaluations import (
    evaluation_finalise,
    evaluation_score,
    evaluation_start,
)
from jiuzhu.supervision.services.projects import (
    indicator_add,
    indicator_remove,
    indicator_update,
    indicators_default,
    project_advance,
    project_create,
    project_match,
    project_unmatch,
    project_update,
)
from tests.conftest import OTHER_TOWN, TOWN, Family, Personas
from tests.services.delivery import make_provider
from tests.supervision.factories import provider_with_staff, served_order
from tests.supervision.project_factories import advance, draft_project, running_project

S = c.ProjectStatus


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Any:
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def refused(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return set(exc.value.message_dict)


# --- creation ------------------------------------------------------------------------------


def test_a_project_is_created_as_a_draft_and_audited(personas: Personas) -> None:
    # when
    project = draft_project(personas, indicators=False)
    # then
    assert project.status == S.DRAFT
    assert sorted(project.items.values_list("code", flat=True)) == ["hair_cut", "home_visit"]
    assert project.target_groups == ["dibao", "elderly"]
    event = AuditEvent.objects.get(object_type="supervision.project", action="create")
    assert event.object_id == str(project.pk) and event.detail["code"] == "XJ-2026-P01"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": ""}, "code"),
        ({"name": " "}, "name"),
        ({"budget": "-1"}, "budget"),
        ({"period_end": datetime.date(2020, 1, 1)}, "period_end"),
        ({"item_codes": ["no_such_item"]}, "items"),
        ({"target_groups": ["martians"]}, "target_groups"),
        ({"region_code": "360823100201"}, "region"),
    ],
)
def test_creation_refuses_bad_fields(
    personas: Personas, change: dict[str, Any], field: str
) -> None:
    # given
    fields: dict[str, Any] = {
        "actor": personas.county_admin,
        "region_code": "360823",
        "code": "P1",
        "name": "项目",
        "budget": "1000",
        "period_start": datetime.date(2026, 1, 1),
        "period_end": datetime.date(2026, 12, 31),
        "target_groups": ["dibao"],
        "item_codes": ["hair_cut"],
        **change,
    }
    # when
    with pytest.raises(ValidationError) as exc:
        project_create(**fields)
    # then
    assert field in refused(exc)


def test_a_duplicate_code_is_refused(personas: Personas) -> None:
    draft_project(personas, indicators=False)
    with pytest.raises(ValidationError) as exc:
        draft_project(personas, indicators=False)
    assert "code" in refused(exc)


@pytest.mark.parametrize("who", ["town_officer", "supervisor", "village_assistant", "provider"])
def test_only_the_county_admin_creates_projects(personas: Personas, who: str) -> None:
    with pytest.raises(PermissionDenied):
        draft_project(personas, indicators=False) if who == "county_admin" else project_create(
            actor=getattr(personas, who),
            region_code=TOWN,
            code="P2",
            name="x",
            budget="1",
            period_start=datetime.date(2026, 1, 1),
            period_end=datetime.date(2026, 2, 1),
        )


# --- the lifecycle -------------------------------------------------------------------------


def test_the_whole_lifecycle_in_order(personas: Personas) -> None:
    # given
    provider, _manager, _worker = provider_with_staff()
    project = running_project(personas, [provider], status=S.EVALUATING)
    mid = evaluation_start(actor=personas.county_admin, project=project, stage="mid_term")
    final = evaluation_start(actor=personas.county_admin, project=project, stage="final")
    for evaluation in (mid, final):
        for row in evaluation.scores.all():
            if row.score is None:
                evaluation_score(
                    actor=personas.county_admin,
                    evaluation=evaluation,
                    indicator=row.indicator,
                    score=80,
                    note="评估组意见",
                )
        evaluation_finalise(
            actor=personas.county_admin, evaluation=evaluation, evaluators="评估组", summary="良好"
        )
    # when
    project = project_advance(
        actor=personas.county_admin,
        project=project,
        to_status=S.IMPROVING,
        improvement_plan="增加上门频次",
    )
    project = project_advance(actor=personas.county_admin, project=project, to_status=S.CLOSED)
    # then
    assert project.status == S.CLOSED and project.improvement_plan == "增加上门频次"
    steps = [
        e.detail["status"]
        for e in AuditEvent.objects.filter(object_type="supervision.project").order_by("id")
        if "status" in e.detail
    ]
    assert steps == [
        ["draft", "published"],
        ["published", "matched"],
        ["matched", "in_service"],
        ["in_service", "evaluating"],
        ["evaluating", "improving"],
        ["improving", "closed"],
    ]


@pytest.mark.parametrize("target", [S.MATCHED, S.IN_SERVICE, S.CLOSED, S.DRAFT])
def test_no_step_is_skipped_or_undone(personas: Personas, target: str) -> None:
    # given a draft
    project = draft_project(personas)
    # when / then
    with pytest.raises(ValidationError) as exc:
        project_advance(actor=personas.county_admin, project=project, to_status=target)
    assert "status" in refused(exc)
    project.refresh_from_db()
    assert project.status == S.DRAFT


def test_an_unknown_status_is_refused(personas: Personas) -> None:
    project = draft_project(personas)
    with pytest.raises(ValidationError):
        project_advance(actor=personas.county_admin, project=project, to_status="flying")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"budget": "0"}, "budget"),
        ({"items": ()}, "items"),
        ({"indicators": False}, "indicators"),
    ],
)
def test_publishing_needs_budget_items_and_indicators(
    personas: Personas, kwargs: dict[str, Any], field: str
) -> None:
    project = draft_project(personas, **kwargs)
    with pytest.raises(ValidationError) as exc:
        project_advance(actor=personas.county_admin, project=project, to_status=S.PUBLISHED)
    assert field in refused(exc)


def test_publishing_needs_weights_adding_up_to_100(personas: Personas) -> None:
    # given the default framework with one weight changed from 5 to 6
    project = draft_project(personas)
    indicator = Indicator.objects.filter(project=project, weight=5).first()
    assert indicator is not None
    indicator_update(
        actor=personas.county_admin,
        indicator=indicator,
        area=indicator.area,
        name=indicator.name,
        weight="6",
        method=indicator.method,
        metric=indicator.metric,
        target=indicator.target,
        guidance=indicator.guidance,
    )
    # when
    with pytest.raises(ValidationError) as exc:
        project_advance(actor=personas.county_admin, project=project, to_status=S.PUBLISHED)
    # then
    assert exc.value.message_dict["indicators"] == [
        "The indicators' weights add up to 101, not 100."
    ]


def test_matched_needs_a_provider(personas: Personas) -> None:
    project = advance(personas, draft_project(personas), S.PUBLISHED)
    with pytest.raises(ValidationError) as exc:
        project_advance(actor=personas.county_admin, project=project, to_status=S.MATCHED)
    assert "providers" in refused(exc)


def test_improving_needs_a_finalised_final_evaluation_and_a_plan(personas: Personas) -> None:
    # given a project under evaluation with a final evaluation not finalised
    provider, _m, _w = provider_with_staff()
    project = running_project(personas, [provider], status=S.EVALUATING)
    evaluation_start(actor=personas.county_admin, project=project, stage="final")
    # when / then: no finalised final evaluation
    with pytest.raises(ValidationError) as exc:
        project_advance(
            actor=personas.county_admin, project=project, to_status=S.IMPROVING,
            improvement_plan="计划",
        )  # fmt: skip
    assert "evaluation" in refused(exc)


def test_improving_needs_an_improvement_plan(personas: Personas) -> None:
    provider, _m, _w = provider_with_staff()
    project = running_project(personas, [provider], status=S.EVALUATING)
    evaluation = evaluation_start(actor=personas.county_admin, project=project, stage="final")
    for row in evaluation.scores.filter(score__isnull=True):
        evaluation_score(
            actor=personas.county_admin, evaluation=evaluation, indicator=row.indicator,
            score=70, note="无数据",
        )  # fmt: skip
    evaluation_finalise(
        actor=personas.county_admin, evaluation=evaluation, evaluators="组", summary="合格"
    )
    with pytest.raises(ValidationError) as exc:
        project_advance(actor=personas.county_admin, project=project, to_status=S.IMPROVING)
    assert "improvement_plan" in refused(exc)


def test_a_town_officer_cannot_advance(personas: Personas) -> None:
    project = draft_project(personas)
    with pytest.raises(PermissionDenied):
        project_advance(actor=personas.town_officer, project=project, to_status=S.PUBLISHED)


# --- matching (对接) -------------------------------------------------------------------------


@pytest.fixture
def published(personas: Personas) -> Any:
    return advance(personas, draft_project(personas), S.PUBLISHED)


def test_matching_a_contract_in_force_is_audited(personas: Personas, published: Any) -> None:
    # given
    provider = make_provider("甲")
    # when
    row = project_match(
        actor=personas.county_admin,
        project=published,
        contract=provider.contracts.first(),
        amount="120000",
    )
    # then
    assert row.provider == provider and row.amount == Decimal("120000")
    event = AuditEvent.objects.filter(object_type="supervision.project").latest("id")
    assert event.detail["matched"]["amount"] == "120000"


def test_matching_is_refused_in_draft(personas: Personas) -> None:
    project = draft_project(personas)
    provider = make_provider("甲")
    with pytest.raises(ValidationError) as exc:
        project_match(
            actor=personas.county_admin, project=project,
            contract=provider.contracts.first(), amount="1",
        )  # fmt: skip
    assert "status" in refused(exc)


def test_the_agreed_sums_stay_within_the_budget(personas: Personas, published: Any) -> None:
    # given 200 000 of 300 000 agreed
    first, second = make_provider("甲"), make_provider("乙")
    project_match(
        actor=personas.county_admin, project=published,
        contract=first.contracts.first(), amount="200000",
    )  # fmt: skip
    # when 100 000.01 more
    with pytest.raises(ValidationError) as exc:
        project_match(
            actor=personas.county_admin, project=published,
            contract=second.contracts.first(), amount="100000.01",
        )  # fmt: skip
    # then refused, and exactly the rest is accepted
    assert "amount" in refused(exc)
    project_match(
        actor=personas.county_admin, project=published,
        contract=second.contracts.first(), amount="100000.00",
    )  # fmt: skip
    assert ProjectProvider.objects.filter(project=published).count() == 2


def test_a_red_provider_cannot_be_matched(personas: Personas, published: Any) -> None:
    provider = make_provider("甲")
    provider_set_light(provider=provider, light="red", reason="测试", actor=personas.county_admin)
    with pytest.raises(ValidationError) as exc:
        project_match(
            actor=personas.county_admin, project=published,
            contract=provider.contracts.first(), amount="1",
        )  # fmt: skip
    assert "red light" in exc.value.message_dict["contract"][0]


def test_an_inactive_provider_cannot_be_matched(personas: Personas, published: Any) -> None:
    provider = make_provider("甲")
    provider.is_active = False
    provider.save()
    with pytest.raises(ValidationError):
        project_match(
            actor=personas.county_admin, project=published,
            contract=provider.contracts.first(), amount="1",
        )  # fmt: skip


@pytest.mark.parametrize("change", ["suspended", "expired", "after"])
def test_a_contract_not_in_force_cannot_be_matched(
    personas: Personas, published: Any, change: str
) -> None:
    # given
    provider = make_provider("甲")
    contract = provider.contracts.first()
    today = timezone.localdate()
    if change == "suspended":
        contract.status = "suspended"
    elif change == "expired":
        contract.valid_from = today - datetime.timedelta(days=400)
        contract.valid_to = today - datetime.timedelta(days=1)
    else:
        contract.valid_from = published.period_end + datetime.timedelta(days=1)
        contract.valid_to = published.period_end + datetime.timedelta(days=300)
    contract.save()
    # when / then
    with pytest.raises(ValidationError) as exc:
        project_match(actor=personas.county_admin, project=published, contract=contract, amount="1")
    assert "not in force" in exc.value.message_dict["contract"][0]


def test_a_contract_without_the_projects_items_cannot_be_matched(
    personas: Personas, published: Any
) -> None:
    provider = make_provider("甲", items=["meal_delivery"])
    with pytest.raises(ValidationError) as exc:
        project_match(
            actor=personas.county_admin, project=published,
            contract=provider.contracts.first(), amount="1",
        )  # fmt: skip
    assert "none of the project's items" in exc.value.message_dict["contract"][0]


def test_a_contract_is_matched_once(personas: Personas, published: Any) -> None:
    provider = make_provider("甲")
    contract = provider.contracts.first()
    project_match(actor=personas.county_admin, project=published, contract=contract, amount="1")
    with pytest.raises(ValidationError):
        project_match(actor=personas.county_admin, project=published, contract=contract, amount="1")


def test_unmatch_keeps_a_matched_project_with_a_provider(personas: Personas) -> None:
    # given a matched project with one provider
    provider = make_provider("甲")
    project = running_project(personas, [provider], status=S.MATCHED)
    row = ProjectProvider.objects.get(project=project)
    # when / then
    with pytest.raises(ValidationError):
        project_unmatch(actor=personas.county_admin, project_provider=row)
    # a second one may go
    other = project_match(
        actor=personas.county_admin, project=project,
        contract=make_provider("乙").contracts.first(), amount="1",
    )  # fmt: skip
    project_unmatch(actor=personas.county_admin, project_provider=other)
    assert list(ProjectProvider.objects.filter(project=project)) == [row]


def test_unmatch_is_refused_once_in_service(personas: Personas) -> None:
    provider, other = make_provider("甲"), make_provider("乙")
    project = running_project(personas, [provider, other], amount="1000")
    with pytest.raises(ValidationError):
        project_unmatch(
            actor=personas.county_admin,
            project_provider=ProjectProvider.objects.filter(project=project).first(),  # type: ignore[arg-type]
        )


def test_budget_cannot_drop_below_the_agreed_sums(personas: Personas) -> None:
    provider = make_provider("甲")
    project = running_project(personas, [provider], status=S.MATCHED, amount="100000")
    with pytest.raises(ValidationError) as exc:
        project_update(actor=personas.county_admin, project=project, budget="99999")
    assert "budget" in refused(exc)
    project = project_update(actor=personas.county_admin, project=project, budget="100000")
    assert project.budget == Decimal("100000")


def test_budget_and_items_are_frozen_in_service(personas: Personas) -> None:
    provider = make_provider("甲")
    project = running_project(personas, [provider])
    with pytest.raises(ValidationError):
        project_update(actor=personas.county_admin, project=project, item_codes=["hair_cut"])
    project = project_update(actor=personas.county_admin, project=project, name="新名称")
    assert project.name == "新名称"


# --- indicators ----------------------------------------------------------------------------


def test_the_default_framework_covers_four_areas_and_weighs_100(personas: Personas) -> None:
    project = draft_project(personas)
    indicators = list(Indicator.objects.filter(project=project))
    assert sum(i.weight for i in indicators) == 100
    assert {i.area for i in indicators} == set(c.IndicatorArea.values)
    computed = {i.metric for i in indicators if i.method == "computed"}
    assert {
        "satisfaction",
        "need_file_timeliness",
        "activity_frequency",
        "revisit_pass_rate",
    } <= computed
    assert all(i.target is not None for i in indicators if i.method == "computed")
    assert all(i.guidance for i in indicators if i.method == "scored")
    # the activity target: 20 person-times over the period's months
    frequency = next(i for i in indicators if i.metric == "activity_frequency")
    months = Decimal((project.period_end - project.period_start).days + 1) / (
        Decimal("365.25") / 12
    )
    assert frequency.target == (Decimal(20) / months).quantize(Decimal("0.01"))


def test_the_default_framework_is_refused_twice(personas: Personas) -> None:
    project = draft_project(personas)
    with pytest.raises(ValidationError):
        indicators_default(project=project, actor=personas.county_admin)


def test_indicators_change_only_in_draft_or_published(personas: Personas) -> None:
    # given
    project = draft_project(personas)
    added = indicator_add(
        actor=personas.county_admin, project=project, area="social", name="媒体报道",
        weight="5", method="scored", guidance="看报道",
    )  # fmt: skip
    indicator_remove(actor=personas.county_admin, indicator=added)
    provider = make_provider("甲")
    project = running_project(personas, [provider], status=S.MATCHED, code="P-2")
    # when / then
    with pytest.raises(ValidationError):
        indicator_add(
            actor=personas.county_admin, project=project, area="social", name="x",
            weight="1", method="scored",
        )  # fmt: skip
    with pytest.raises(ValidationError):
        indicator_remove(
            actor=personas.county_admin,
            indicator=Indicator.objects.filter(project=project).first(),  # type: ignore[arg-type]
        )


def test_a_computed_indicator_needs_a_known_metric_and_target(personas: Personas) -> None:
    project = draft_project(personas, indicators=False)
    with pytest.raises(ValidationError) as exc:
        indicator_add(
            actor=personas.county_admin, project=project, area="effect", name="x",
            weight="10", method="computed", metric="nonsense", target="1",
        )  # fmt: skip
    assert "metric" in refused(exc)
    with pytest.raises(ValidationError) as exc:
        indicator_add(
            actor=personas.county_admin, project=project, area="effect", name="x",
            weight="10", method="computed", metric="satisfaction", target="",
        )  # fmt: skip
    assert "target" in refused(exc)


# --- the project's orders and who sees projects ----------------------------------------------


def test_project_orders_are_those_of_matched_contracts_within_the_period(
    personas: Personas, family: Family
) -> None:
    # given a matched provider and one that is not
    provider, _m, worker = provider_with_staff()
    outsider, _m2, worker2 = provider_with_staff("峡江县另一家服务中心")
    project = running_project(personas, [provider])
    inside = served_order(
        personas, family, provider, worker, day=timezone.localdate() - datetime.timedelta(days=10)
    )
    before = served_order(
        personas, family, provider, worker, day=project.period_start - datetime.timedelta(days=1)
    )
    other = served_order(
        personas, family, outsider, worker2, day=timezone.localdate() - datetime.timedelta(days=10)
    )
    # when
    found = set(project_orders(project).values_list("pk", flat=True))
    # then
    assert inside.pk in found and before.pk not in found and other.pk not in found
    assert (
        set(project_orders(project, end=inside.service_date - datetime.timedelta(days=1))) == set()
    )


def test_a_contract_item_removed_does_not_change_matching_history(personas: Personas) -> None:
    # a contract's items are read at matching time only
    provider = make_provider("甲")
    project = running_project(personas, [provider], status=S.MATCHED)
    ContractItem.objects.filter(contract=provider.contracts.first()).delete()
    assert ProjectProvider.objects.filter(project=project).count() == 1
    assert ProviderContract.objects.filter(projects__project=project).count() == 1


def test_visibility_by_area(personas: Personas) -> None:
    # given a county project and a town project of the other town
    county = draft_project(personas)
    town = draft_project(personas, code="P-TOWN", region_code=OTHER_TOWN)
    # then
    assert set(projects_visible(personas.county_admin)) == {county, town}
    assert set(projects_visible(personas.supervisor)) == {county, town}
    assert set(projects_visible(personas.town_officer)) == {county}
    assert set(projects_visible(personas.other_town_officer)) == {county, town}
    assert not projects_visible(personas.village_assistant).exists()
    assert not projects_visible(personas.provider).exists()
