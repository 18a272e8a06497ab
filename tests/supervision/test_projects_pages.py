"""Project pages, the API, the report (Excel read back, printable page) and the demo hook:
who may see and do what, and that no personal data leaves in a report."""

from __future__ import annotations

import datetime
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.supervision import choices as c
from jiuzhu.supervision.demo_projects import seed_projects
from jiuzhu.supervision.models import Evaluation, EvaluationScore, Indicator, Project
from jiuzhu.supervision.reports import evaluation_report_xlsx
from jiuzhu.supervision.services.evaluations import (
    evaluation_finalise,
    evaluation_score,
    evaluation_start,
    grade_label,
)
from tests.conftest import OTHER_TOWN, Family, Personas, login
from tests.supervision.factories import provider_with_staff, served_order
from tests.supervision.project_factories import draft_project, running_project

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Any:
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def evaluated(personas: Personas, family: Family) -> Evaluation:
    """A project in service with served orders of the family and a finalised mid-term
    evaluation (scored indicators at 80)."""
    provider, _m, worker = provider_with_staff()
    project = running_project(personas, [provider])
    for days, rating in ((20, 5), (12, 4), (4, 3)):
        served_order(
            personas,
            family,
            provider,
            worker,
            day=TODAY - datetime.timedelta(days=days),
            rating=rating,
        )
    evaluation = evaluation_start(actor=personas.county_admin, project=project, stage="mid_term")
    for row in EvaluationScore.objects.filter(evaluation=evaluation, score__isnull=True):
        evaluation_score(
            actor=personas.county_admin, evaluation=evaluation, indicator=row.indicator,
            score=80, note="评估组",
        )  # fmt: skip
    return evaluation_finalise(
        actor=personas.county_admin, evaluation=evaluation, evaluators="评估组", summary="良好"
    )


def url(name: str, *args: Any) -> str:
    return reverse(f"supervision:{name}", args=args)


# --- access --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("county_admin", 200),
        ("supervisor", 200),
        ("town_officer", 200),
        ("village_assistant", 404),
        ("provider", 404),
        ("volunteer", 404),
    ],
)
def test_who_reads_the_pages(
    client: Client, personas: Personas, evaluated: Evaluation, who: str, status: int
) -> None:
    login(client, getattr(personas, who))
    project = evaluated.project
    for path in (
        url("projects_list"),
        url("projects_detail", project.pk),
        url("projects_evaluation", evaluated.pk),
        url("projects_report", evaluated.pk),
        url("projects_report_xlsx", evaluated.pk),
    ):
        assert client.get(path).status_code == status, path


def test_anonymous_is_sent_to_login(client: Client, personas: Personas) -> None:
    project = draft_project(personas)
    response = client.get(url("projects_detail", project.pk))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_town_project_is_out_of_scope_for_another_town(
    client: Client, personas: Personas
) -> None:
    project = draft_project(personas, code="TOWN-101", region_code=OTHER_TOWN)
    login(client, personas.town_officer)
    assert client.get(url("projects_detail", project.pk)).status_code == 404
    assert project.name not in client.get(url("projects_list")).content.decode()
    login(client, personas.other_town_officer)
    assert client.get(url("projects_detail", project.pk)).status_code == 200


def test_readers_do_not_write(client: Client, personas: Personas) -> None:
    project = draft_project(personas)
    login(client, personas.supervisor)
    response = client.post(url("projects_advance", project.pk), {"to_status": "published"})
    assert response.status_code == 404
    project.refresh_from_db()
    assert project.status == "draft"
    assert client.get(url("projects_new")).status_code == 404


# --- the pages at work ---------------------------------------------------------------------


def test_create_publish_and_refusal(client: Client, personas: Personas) -> None:
    login(client, personas.county_admin)
    start, end = TODAY, TODAY + datetime.timedelta(days=300)
    form = {
        "region": "360823", "code": "P-WEB", "name": "网页项目", "budget": "50000",
        "period_start": start.isoformat(), "period_end": end.isoformat(),
        "target_groups": ["dibao"], "items": ["hair_cut"], "default_indicators": "1",
        "target_households": "5", "target_person_times": "50",
    }  # fmt: skip
    # a refusal keeps what was typed
    bad = client.post(url("projects_new"), {**form, "budget": "-5"})
    assert bad.status_code == 422 and "网页项目" in bad.content.decode()
    # created with the default framework
    response = client.post(url("projects_new"), form)
    project = Project.objects.get(code="P-WEB")
    assert response.status_code == 302 and Indicator.objects.filter(project=project).count() == 14
    # published through the page
    response = client.post(url("projects_advance", project.pk), {"to_status": "published"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.status == "published"
    page = client.get(url("projects_detail", project.pk)).content.decode()
    assert 'aria-current="step"' in page and "发布" in page and "提升" in page
    # skipping is refused with the message
    response = client.post(url("projects_advance", project.pk), {"to_status": "in_service"})
    assert response.status_code == 422 and "only to the next step" in response.content.decode()


def test_matching_through_the_page(client: Client, personas: Personas) -> None:
    provider, _m, _w = provider_with_staff()
    project = running_project(personas, [], status="published")
    login(client, personas.county_admin)
    page = client.get(url("projects_detail", project.pk)).content.decode()
    contract = provider.contracts.first()
    assert contract is not None and contract.number in page
    too_much = client.post(
        url("projects_match", project.pk), {"contract": contract.pk, "amount": "400000"}
    )
    assert too_much.status_code == 422
    ok = client.post(url("projects_match", project.pk), {"contract": contract.pk, "amount": "1000"})
    assert ok.status_code == 302 and project.providers.count() == 1


def test_scoring_and_finalising_through_the_page(client: Client, personas: Personas) -> None:
    provider, _m, _w = provider_with_staff()
    project = running_project(personas, [provider])
    login(client, personas.county_admin)
    response = client.post(url("projects_evaluation_start", project.pk), {"stage": "mid_term"})
    evaluation = Evaluation.objects.get(project=project)
    assert response.status_code == 302 and response["Location"] == url(
        "projects_evaluation", evaluation.pk
    )
    # finalising early is refused
    early = client.post(
        url("projects_evaluation_finalise", evaluation.pk), {"evaluators": "组", "summary": "x"}
    )
    assert early.status_code == 422 and "Score every indicator first" in early.content.decode()
    for row in EvaluationScore.objects.filter(evaluation=evaluation, score__isnull=True):
        r = client.post(
            url("projects_evaluation_score", evaluation.pk, row.indicator_id),
            {"score": "95", "note": "好"},
        )
        assert r.status_code == 302
    done = client.post(
        url("projects_evaluation_finalise", evaluation.pk), {"evaluators": "组", "summary": "x"}
    )
    assert done.status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.status == "final" and evaluation.total is not None
    page = client.get(url("projects_evaluation", evaluation.pk)).content.decode()
    assert "Finalise the evaluation" not in page and str(evaluation.total) in page


# --- the report ----------------------------------------------------------------------------


def test_the_excel_report_has_the_totals_and_no_personal_data(
    personas: Personas, family: Family, evaluated: Evaluation
) -> None:
    # when
    book = load_workbook(io.BytesIO(evaluation_report_xlsx(evaluated)))
    summary, indicators, orders = book.worksheets
    # then the summary holds the total and grade
    pairs = {row[0]: row[1] for row in summary.iter_rows(values_only=True) if row and row[0]}
    assert Decimal(str(pairs["Total score"])) == evaluated.total
    assert pairs["Grade"] == grade_label(evaluated.grade) and pairs["Grade"]
    assert pairs["Evaluators"] == "评估组" and pairs["Budget (yuan)"] == 300000
    # indicators: weights add up to 100 and the points to the total
    rows = list(indicators.iter_rows(values_only=True))
    total_row = rows[-1]
    assert total_row[0] == "Total" and total_row[2] == 100
    assert Decimal(str(total_row[8])).quantize(Decimal("0.01")) == evaluated.total
    subtotals = [r for r in rows if r[0] and "subtotal" in str(r[0])]
    assert len(subtotals) == 4 and sum(r[2] for r in subtotals) == 100
    # orders: three served, mean rating 4, amounts
    order_rows = list(orders.iter_rows(values_only=True))
    assert order_rows[-1][0] == "Total" and order_rows[-1][2] == 3 and order_rows[-1][3] == 3
    assert Decimal(str(order_rows[-1][4])) == Decimal("4.00")
    # no person in it
    text = json.dumps(
        [list(r) for ws in book.worksheets for r in ws.iter_rows(values_only=True)],
        ensure_ascii=False, default=str,
    )  # fmt: skip
    for secret in (
        family.head.name,
        family.spouse.name,
        "13807960001",
        family.household.address,
        "王*国",
    ):
        assert secret not in text


def test_report_downloads_and_prints_are_audited(
    client: Client, personas: Personas, family: Family, evaluated: Evaluation
) -> None:
    login(client, personas.supervisor)
    xlsx = client.get(url("projects_report_xlsx", evaluated.pk))
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")
    page = client.get(url("projects_report", evaluated.pk)).content.decode()
    assert "@media print" in page and "size: A4" in page and 'class="modules"' not in page
    assert family.head.name not in page and "13807960001" not in page
    formats = sorted(
        e.detail["format"]
        for e in AuditEvent.objects.filter(
            action="export", object_type="supervision.evaluation_report"
        )
    )
    assert formats == ["print", "xlsx"]


# --- the API -------------------------------------------------------------------------------


def _token(user: Any) -> dict[str, str]:
    from jiuzhu.accounts.services import api_token_create

    _, token = api_token_create(user=user, name="pad")
    return {"Authorization": f"Bearer {token}"}


API = "/api/v1/supervision/projects"


def test_api_reads_projects_and_scores(client: Client, personas: Personas) -> None:
    provider, _m, _w = provider_with_staff()
    project = running_project(personas, [provider])
    evaluation = evaluation_start(actor=personas.county_admin, project=project, stage="mid_term")
    admin = _token(personas.county_admin)
    listed = client.get(API, headers=admin).json()
    assert [p["code"] for p in listed] == [project.code]
    detail = client.get(f"{API}/{project.pk}", headers=admin).json()
    assert len(detail["indicators"]) == 14 and detail["evaluations"][0]["stage"] == "mid_term"
    scored = Indicator.objects.filter(project=project, method="scored").first()
    assert scored is not None
    path = f"{API}/evaluations/{evaluation.pk}/scores/{scored.pk}"
    ok = client.post(
        path,
        json.dumps({"score": "77.5", "note": "x"}),
        content_type="application/json",
        headers=admin,
    )
    assert ok.status_code == 200
    assert {s["indicator_id"]: s["score"] for s in ok.json()["scores"]}[scored.pk] == "77.50"
    bad = client.post(
        path, json.dumps({"score": "101"}), content_type="application/json", headers=admin
    )
    assert bad.status_code == 422 and "score" in bad.json()["detail"]
    # a supervisor reads but may not score; a provider sees nothing
    supervisor = _token(personas.supervisor)
    assert client.get(f"{API}/{project.pk}", headers=supervisor).status_code == 200
    denied = client.post(
        path, json.dumps({"score": "50"}), content_type="application/json", headers=supervisor
    )
    assert denied.status_code == 403
    assert client.get(f"{API}/{project.pk}", headers=_token(personas.provider)).status_code == 404


# --- the demo hook -------------------------------------------------------------------------


def test_the_demo_seeds_an_evaluated_and_a_published_project(
    personas: Personas, family: Family
) -> None:
    # given two providers with served orders
    first, _m, worker = provider_with_staff("颐康居家养老服务中心（示例）")
    second, _m2, worker2 = provider_with_staff("阳光社会工作服务中心（示例）")
    for days in (40, 30, 20):
        served_order(
            personas, family, first, worker, day=TODAY - datetime.timedelta(days=days), rating=5
        )
    served_order(
        personas, family, second, worker2, day=TODAY - datetime.timedelta(days=10), rating=4
    )
    # when
    care, children = seed_projects(county_code="360823", today=TODAY, actor=personas.county_admin)
    # then
    assert care.status == c.ProjectStatus.IN_SERVICE and care.budget == Decimal(300000)
    assert {pp.provider for pp in care.providers.all()} == {first, second}
    evaluation = Evaluation.objects.get(project=care)
    assert evaluation.status == "final" and evaluation.grade and evaluation.summary
    assert not EvaluationScore.objects.filter(evaluation=evaluation, score__isnull=True).exists()
    assert children.status == c.ProjectStatus.PUBLISHED
    # idempotent
    again = seed_projects(county_code="360823", today=TODAY, actor=personas.county_admin)
    assert [p.pk for p in again] == [care.pk, children.pk] and Project.objects.count() == 2
