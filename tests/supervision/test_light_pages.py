"""The lights pages, API, command and demo hook: who may see and do what (persona by
persona), the forms and their refusals, the Excel export and its audit."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from openpyxl import load_workbook

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.services.models import Provider
from jiuzhu.supervision.demo_lights import seed_lights
from jiuzhu.supervision.models import ExitReview, LightDecision, ProviderScore, Rectification
from tests.conftest import Family, Personas, login
from tests.supervision.test_light_support import (
    END,
    START,
    configure,
    english,
    orders,
    provider_with_staff,
)

__all__ = ["english"]

MONTH = "2026-10"
SCORECARDS = "/supervision/lights/"
MINE = "/supervision/lights/mine/"
SETTINGS = "/supervision/lights/settings/"


def provider_page(provider: Provider) -> str:
    return f"/supervision/lights/providers/{provider.pk}/"


@pytest.fixture
def month(personas: Personas, family: Family) -> dict[str, Any]:
    """October: one provider red (ratings 2), one yellow (ratings 4), one green (5)."""
    configure(min_volume=3)
    red, red_manager, red_worker = provider_with_staff("峡江县红灯服务社")
    yellow, yellow_manager, yellow_worker = provider_with_staff("峡江县黄灯服务社")
    green, green_manager, green_worker = provider_with_staff("峡江县绿灯服务中心")
    orders(personas, family, red, red_worker, [2, 2, 2])
    orders(personas, family, yellow, yellow_worker, [4, 4, 4])
    orders(personas, family, green, green_worker, [5, 5, 5])
    return {
        "red": red,
        "yellow": yellow,
        "green": green,
        "red_manager": red_manager,
        "yellow_manager": yellow_manager,
        "green_manager": green_manager,
    }


def run_month(client: Client, personas: Personas) -> None:
    login(client, personas.county_admin)
    response = client.post("/supervision/lights/run/", {"month": MONTH})
    assert response.status_code == 302


# --- the scorecards page ------------------------------------------------------------------------


def test_scorecards_page_shows_lights_with_words_figures_and_reasons(
    client: Client, personas: Personas, month: dict[str, Any], english: None
) -> None:
    # given the month run by the county administrator
    run_month(client, personas)
    # when a supervisor reads it
    login(client, personas.supervisor)
    page = client.get(SCORECARDS, {"month": MONTH})
    # then red first, each light with its word, figures and reasons in words
    assert page.status_code == 200
    text = page.content.decode()
    assert (
        text.index("峡江县红灯服务社")
        < text.index("峡江县黄灯服务社")
        < text.index("峡江县绿灯服务中心")
    )
    assert "light-red" in text and ">● red<" in text
    assert "▲ yellow" in text and "✓ green" in text
    assert "satisfaction 2.00 is below 3.5 (red)" in text
    assert "100 %" in text  # on-time rate
    # the supervisor reads but does not decide
    assert "/supervision/lights/run/" not in text
    assert 'action="/supervision/lights/providers/' not in text


def test_the_run_button_is_for_deciders_only(
    client: Client, personas: Personas, month: dict[str, Any]
) -> None:
    for user in (personas.supervisor, personas.town_officer):
        login(client, user)
        client.post("/supervision/lights/run/", {"month": MONTH})
    assert not ProviderScore.objects.exists()
    run_month(client, personas)
    assert ProviderScore.objects.filter(period_start=START, period_end=END).count() == 3
    assert Provider.objects.get(pk=month["red"].pk).light == "red"


def test_excel_export_is_audited(client: Client, personas: Personas, month: dict[str, Any]) -> None:
    run_month(client, personas)
    login(client, personas.supervisor)
    response = client.get(SCORECARDS, {"month": MONTH, "export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('scorecards-360823-2026-10.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 4
    assert rows[1][1] == "峡江县红灯服务社"
    assert rows[1][3] == 3
    event = AuditEvent.objects.get(action="export", object_type="supervision.scorecards")
    assert event.actor == personas.supervisor
    assert event.detail["rows"] == 3


@pytest.mark.parametrize("who", ["volunteer", "village_assistant", "caseworker", "donor"])
def test_scorecards_are_not_for_other_roles(client: Client, personas: Personas, who: str) -> None:
    login(client, getattr(personas, who))
    assert client.get(SCORECARDS).status_code == 404
    assert client.get(SETTINGS).status_code == 404


def test_anonymous_users_are_sent_to_log_in(client: Client, month: dict[str, Any]) -> None:
    for url in (SCORECARDS, MINE, SETTINGS, provider_page(month["red"])):
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]


# --- a provider's page --------------------------------------------------------------------------


def test_provider_page_history_and_deciding_forms(
    client: Client, personas: Personas, month: dict[str, Any], english: None
) -> None:
    run_month(client, personas)
    red = month["red"]
    page = client.get(provider_page(red))
    text = page.content.decode()
    assert page.status_code == 200
    assert "the monthly scorecard run" not in text  # run by the county admin: their name
    assert "county_admin" in text
    assert "Expel: deactivate and end its contracts" in text
    assert f'action="/supervision/lights/providers/{red.pk}/override/"' in text
    # a supervisor sees the record without the forms
    login(client, personas.supervisor)
    text = client.get(provider_page(red)).content.decode()
    assert "Exit review" in text
    assert "Expel: deactivate" not in text
    assert "/override/" not in text


def test_override_through_the_page_and_its_refusal(
    client: Client, personas: Personas, month: dict[str, Any], english: None
) -> None:
    green = month["green"]
    login(client, personas.county_admin)
    # refused without a reason: 422, what was typed kept
    refused = client.post(f"{provider_page(green)}override/", {"light": "yellow", "reason": ""})
    assert refused.status_code == 422
    assert "Say why." in refused.content.decode()
    done = client.post(
        f"{provider_page(green)}override/", {"light": "yellow", "reason": "多次迟到"}
    )
    assert done.status_code == 302
    assert Provider.objects.get(pk=green.pk).light == "yellow"
    assert LightDecision.objects.get(provider=green).decided_by == personas.county_admin
    # a supervisor reads the page but the act is refused
    login(client, personas.supervisor)
    response = client.post(f"{provider_page(green)}override/", {"light": "red", "reason": "x"})
    assert response.status_code == 422
    assert Provider.objects.get(pk=green.pk).light == "yellow"


def test_rectification_and_exit_review_forms(
    client: Client, personas: Personas, month: dict[str, Any]
) -> None:
    run_month(client, personas)
    rectification = Rectification.objects.get(provider=month["yellow"])
    review = ExitReview.objects.get(provider=month["red"])
    # the yellow provider's manager reports through their own page
    login(client, month["yellow_manager"])
    response = client.post(
        f"/supervision/lights/rectifications/{rectification.pk}/report/",
        {"report": "已完成护理员培训并调整排班。"},
    )
    assert response.status_code == 302 and response["Location"] == MINE
    # the county administrator accepts it and reinstates the red one
    login(client, personas.county_admin)
    client.post(
        f"/supervision/lights/rectifications/{rectification.pk}/close/",
        {"accepted": "1", "conclusion": "整改到位"},
    )
    client.post(
        f"/supervision/lights/exit-reviews/{review.pk}/decide/",
        {"expel": "0", "conclusion": "限期整改"},
    )
    assert Provider.objects.get(pk=month["yellow"].pk).light == "green"
    assert Provider.objects.get(pk=month["red"].pk).light == "yellow"


# --- the provider manager's own page -------------------------------------------------------------


def test_a_provider_manager_sees_only_their_own_provider(
    client: Client, personas: Personas, month: dict[str, Any], english: None
) -> None:
    run_month(client, personas)
    login(client, month["yellow_manager"])
    own = client.get(MINE)
    text = own.content.decode()
    assert own.status_code == 200
    assert "峡江县黄灯服务社" in text and "峡江县红灯服务社" not in text
    assert "Submit the report" in text
    assert "/override/" not in text
    # the scorecards page sends them to their own page; another provider's page is 404
    assert client.get(SCORECARDS)["Location"] == MINE
    assert client.get(provider_page(month["red"])).status_code == 404
    assert client.get(provider_page(month["yellow"])).status_code == 200
    # and they cannot report another provider's rectification
    other = Rectification.objects.filter(provider=month["red"]).first()
    review = ExitReview.objects.get(provider=month["red"])
    assert other is None  # red: an exit review, no rectification
    assert (
        client.post(
            f"/supervision/lights/exit-reviews/{review.pk}/decide/",
            {"expel": "1", "conclusion": "x"},
        ).status_code
        == 404
    )


def test_a_care_worker_has_no_supervision_page(
    client: Client, personas: Personas, month: dict[str, Any]
) -> None:
    from jiuzhu.services.models import ProviderMember

    worker = ProviderMember.objects.filter(provider=month["yellow"], is_manager=False).first()
    assert worker is not None
    login(client, worker.user)
    assert client.get(MINE).status_code == 404
    assert client.get(provider_page(month["yellow"])).status_code == 404


# --- the settings page --------------------------------------------------------------------------


def test_settings_page_edits_and_refuses(client: Client, personas: Personas, english: None) -> None:
    login(client, personas.county_admin)
    page = client.get(SETTINGS)
    assert page.status_code == 200
    form = {
        "min_volume": "8",
        "rectification_days": "20",
        "revisit_rate": "0.05",
        "revisit_minimum": "20",
        "phone_minimum": "20",
        "satisfaction_green": "4.6",
        "satisfaction_red": "3.5",
        "on_time_rate_green": "0.9",
        "on_time_rate_red": "0.75",
        "revisit_pass_rate_green": "0.95",
        "revisit_pass_rate_red": "0.85",
        "complaint_rate_green": "0.02",
        "complaint_rate_red": "0.05",
        "no_show_rate_green": "0.01",
        "no_show_rate_red": "0.03",
    }
    refused = client.post(SETTINGS, {**form, "satisfaction_red": "4.7"})
    assert refused.status_code == 422
    assert 'value="4.7"' in refused.content.decode()
    saved = client.post(SETTINGS, form)
    assert saved.status_code == 302
    assert AuditEvent.objects.filter(object_type="supervision.config").count() == 1
    # a supervisor reads them, cannot save
    login(client, personas.supervisor)
    page = client.get(SETTINGS)
    assert page.status_code == 200 and "disabled" in page.content.decode()
    assert client.post(SETTINGS, form).status_code == 404


# --- the API ------------------------------------------------------------------------------------


def test_api_scorecards_history_and_override(
    client: Client, personas: Personas, month: dict[str, Any]
) -> None:
    run_month(client, personas)
    login(client, personas.supervisor)
    listed = client.get("/api/v1/supervision/scorecards", {"month": MONTH}).json()
    assert [i["light"] for i in listed["items"]] == ["red", "yellow", "green"]
    assert listed["items"][0]["satisfaction"] == "2.00"
    history = client.get(f"/api/v1/supervision/providers/{month['red'].pk}/lights").json()
    assert history["decisions"][0]["to_light"] == "red"
    assert history["decisions"][0]["decided_by"] == "county_admin"
    assert history["exit_reviews"][0]["status"] == "open"
    # the supervisor may not decide: 403
    url = f"/api/v1/supervision/providers/{month['green'].pk}/light"
    body = json.dumps({"light": "yellow", "reason": "抽查发现问题"})
    assert client.post(url, body, content_type="application/json").status_code == 403
    # the county administrator may; a refusal is 422 by field
    login(client, personas.county_admin)
    empty = json.dumps({"light": "yellow", "reason": ""})
    refused = client.post(url, empty, content_type="application/json")
    assert refused.status_code == 422 and "reason" in refused.json()["detail"]
    decided = client.post(url, body, content_type="application/json")
    assert decided.status_code == 200
    assert decided.json()["light"] == "yellow"
    assert decided.json()["rectifications"][0]["status"] == "open"
    # a provider's manager sees their own provider only
    login(client, month["green_manager"])
    mine = client.get("/api/v1/supervision/scorecards", {"month": MONTH}).json()
    assert [i["provider_name"] for i in mine["items"]] == ["峡江县绿灯服务中心"]
    other = client.get(f"/api/v1/supervision/providers/{month['red'].pk}/lights")
    assert other.status_code == 404


# --- the command and the demo hook --------------------------------------------------------------


def test_the_command_prints_a_json_summary(personas: Personas, month: dict[str, Any]) -> None:
    out = io.StringIO()
    call_command("scorecards", "--county", "360823", "--month", MONTH, stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["providers"] == 3
    assert summary["lights"] == {"green": 1, "red": 1, "yellow": 1}
    assert {(d["from"], d["to"]) for d in summary["decisions"]} == {
        ("green", "red"),
        ("green", "yellow"),
    }
    # again: nothing new
    out = io.StringIO()
    call_command("scorecards", "--county", "360823", "--month", MONTH, stdout=out)
    assert json.loads(out.getvalue())["decisions"] == []


def test_the_demo_hook(personas: Personas, month: dict[str, Any]) -> None:
    summary = seed_lights(
        county_code="360823", period_start=START, period_end=END, actor=personas.county_admin
    )
    assert summary["lights"] == {
        "峡江县红灯服务社": "red",
        "峡江县黄灯服务社": "yellow",
        "峡江县绿灯服务中心": "green",
    }
    assert summary["rectification_reports"] == ["峡江县黄灯服务社"]
    assert summary["exit_reviews_open"] == ["峡江县红灯服务社"]
    rectification = Rectification.objects.get(provider=month["yellow"])
    assert rectification.status == "submitted" and "整改" in rectification.report
    # idempotent
    again = seed_lights(
        county_code="360823", period_start=START, period_end=END, actor=personas.county_admin
    )
    assert again["decisions"] == 0 and again["rectification_reports"] == []


def test_a_town_officer_reads_an_unscored_month_and_a_record_without_history(
    client: Client, personas: Personas, english: None
) -> None:
    # given a provider of the county that was never scored
    provider, _manager, _worker = provider_with_staff()
    login(client, personas.town_officer)
    # when
    page = client.get(SCORECARDS, {"month": "2026-09"})
    record = client.get(provider_page(provider))
    # then both render, with the empty states and no deciding form
    assert page.status_code == 200
    assert "not scored" in page.content.decode()
    assert record.status_code == 200
    text = record.content.decode()
    assert "No scorecard yet." in text and "No decision yet." in text
    assert "/override/" not in text
