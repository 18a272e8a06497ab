"""Monitoring end to end: feeds and registry → warnings → assignment → escalation →
contact and verification, with scoping by persona."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.feeds.services import feed_import
from jiuzhu.monitoring.models import (
    MonitoringRun,
    ParameterOverride,
    ReferralNeed,
    Warning,
    WarningEvent,
)
from jiuzhu.monitoring.services import (
    monitoring_run,
    parameter_override_set,
    warning_contact_record,
    warning_verify,
    warnings_escalate,
)
from jiuzhu.regions.models import Region
from jiuzhu.registry import choices as c
from jiuzhu.registry.models import Household, TimelineEvent
from jiuzhu.registry.services import household_create, person_create
from tests.conftest import ID_SPOUSE, VILLAGE_A, VILLAGE_B, Family, Personas, login

AS_OF = datetime.date(2026, 6, 1)
# Valid synthetic IDs of people born after 2000 (county code 360823).
ID_LONE = "360823200101010010"
ID_OTHER = "360823200202020015"


@pytest.fixture(autouse=True)
def _var_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"


def _poor_household(village: str, id_number: str, name: str) -> Household:
    """No income, no enrolment: below the 低保 standard without assistance."""
    household = household_create(actor=None, region_code=village, address="示例村1号")
    person_create(
        actor=None,
        household=household,
        name=name,
        id_number=id_number,
        relationship=c.Relationship.HEAD,
    )
    household.refresh_from_db()
    return household


def _medical_csv(rows: list[tuple[str, str, str, str, str, str, str]]) -> bytes:
    head = "settlement_id,id_number,settled_on,care_type,icd10,total_amount,out_of_pocket\n"
    return (head + "".join(",".join(r) + "\n" for r in rows)).encode()


@pytest.fixture
def county(
    personas: Personas, family: Family, django_capture_on_commit_callbacks: Any
) -> dict[str, Household]:
    """The 低保 family of village A with a large hospital bill, a poor household in each of
    villages A and B."""
    with django_capture_on_commit_callbacks(execute=True):
        batch = feed_import(
            feed_id="medical_settlement",
            file_name="医保2026-05.csv",
            content=_medical_csv(
                [
                    ("S1", ID_SPOUSE, "2026-03-02", "inpatient", "C34.1", "90000", "26000"),
                    ("S2", ID_SPOUSE, "2026-04-10", "outpatient", "I10", "300", "120"),
                ]
            ),
            actor=None,
            today=AS_OF,
        )
    assert batch.rows_accepted == 2
    return {
        "family": family.household,
        "poor_a": _poor_household(VILLAGE_A, ID_LONE, "赵一"),
        "poor_b": _poor_household(VILLAGE_B, ID_OTHER, "钱二"),
    }


def _warnings(household: Household) -> dict[str, Warning]:
    return {w.rule_id: w for w in Warning.objects.filter(household=household)}


def test_a_run_raises_warnings_from_feeds_and_registry(county: dict[str, Household]) -> None:
    # when
    run = monitoring_run(as_of=AS_OF)
    # then
    assert run.status == MonitoringRun.Status.SUCCEEDED, run.error
    family = _warnings(county["family"])
    assert set(family) >= {"medical_burden", "serious_disease"}
    assert family["serious_disease"].level == "red"  # 26 000 out of pocket ≥ 20 000
    assert family["serious_disease"].evidence["icd10"] == "C34"
    assert _warnings(county["poor_a"])["income_below_standard"].level == "yellow"
    # the run records what it used
    assert run.rule_versions["medical_burden"] == 1
    assert run.parameters["medical_burden"]["min_amount"] == 10000
    assert run.candidate_counts["serious_disease"] == 1
    # and which event dates of each feed it read: the water rule looks back 30 days
    water = run.feed_windows["water_meter_reading"]
    assert water["since"][:10] == (AS_OF - datetime.timedelta(days=30)).isoformat()
    assert water["until"][:10] == AS_OF.isoformat()
    # and the household file shows it
    assert TimelineEvent.objects.filter(
        household=county["family"], kind="monitoring.warning_raised"
    ).count() == len(family)


def test_rerunning_never_warns_twice(county: dict[str, Household]) -> None:
    first = monitoring_run(as_of=AS_OF)
    count = Warning.objects.count()
    # when
    second = monitoring_run(as_of=AS_OF)
    # then
    assert first.new_warnings == count > 0
    assert second.new_warnings == 0
    assert Warning.objects.count() == count


def test_warnings_go_to_the_village_worker_then_up_the_tree(
    county: dict[str, Household], personas: Personas
) -> None:
    monitoring_run(as_of=AS_OF)
    warning = _warnings(county["poor_a"])["income_below_standard"]
    assert warning.assigned_to == personas.village_assistant
    assert warning.tier == Warning.Tier.VILLAGE
    assert warning.deadline_hours == 72
    # when the deadline passes
    later = warning.due_at + datetime.timedelta(minutes=1)
    assert warnings_escalate(now=later) >= 1
    # then the town officer answers for it, with a fresh deadline
    warning.refresh_from_db()
    assert warning.tier == Warning.Tier.TOWN
    assert warning.assigned_to == personas.town_officer
    assert warning.due_at == later + datetime.timedelta(hours=72)
    # and after that deadline, the county
    warnings_escalate(now=warning.due_at + datetime.timedelta(minutes=1))
    warning.refresh_from_db()
    assert warning.tier == Warning.Tier.COUNTY
    assert warning.assigned_to == personas.county_admin
    kinds = list(warning.events.values_list("kind", flat=True))
    assert kinds.count(WarningEvent.Kind.ESCALATED) == 2
    # escalating again at the same moment changes nothing
    assert warnings_escalate(now=warning.due_at - datetime.timedelta(minutes=1)) == 0


def test_with_no_village_worker_the_town_gets_it(
    county: dict[str, Household], personas: Personas
) -> None:
    personas.colleague.is_active = False
    personas.colleague.save()
    monitoring_run(as_of=AS_OF)
    warning = _warnings(county["poor_b"])["income_below_standard"]
    assert warning.tier == Warning.Tier.TOWN
    assert warning.assigned_to == personas.town_officer


def test_out_of_scope_workers_cannot_see_warnings(
    client: Client, county: dict[str, Household], personas: Personas
) -> None:
    monitoring_run(as_of=AS_OF)
    theirs = _warnings(county["poor_b"])["income_below_standard"]
    ours = _warnings(county["poor_a"])["income_below_standard"]
    login(client, personas.village_assistant)
    page = client.get("/warnings/?status=all")
    assert page.status_code == 200
    body = page.content.decode()
    assert f"/warnings/{ours.pk}/" in body
    assert f"/warnings/{theirs.pk}/" not in body
    assert client.get(f"/warnings/{theirs.pk}/").status_code == 404
    assert client.get(f"/warnings/{ours.pk}/").status_code == 200
    # the town officer sees both villages; the other town's officer neither
    login(client, personas.town_officer)
    assert client.get(f"/warnings/{theirs.pk}/").status_code == 200
    login(client, personas.other_town_officer)
    assert client.get(f"/warnings/{ours.pk}/").status_code == 404
    login(client, personas.volunteer)
    assert client.get("/warnings/").status_code == 404


def test_worklist_puts_overdue_and_red_first(
    client: Client, county: dict[str, Household], personas: Personas
) -> None:
    monitoring_run(as_of=AS_OF)
    login(client, personas.town_officer)
    page = client.get("/warnings/")
    rows = [w for w, _ in page.context["rows"]]
    assert rows[0].level == "red"
    overdue = rows[-1]
    Warning.objects.filter(pk=overdue.pk).update(
        due_at=timezone.now() - datetime.timedelta(hours=1)
    )
    rows = [w for w, _ in client.get("/warnings/").context["rows"]]
    assert rows[0].pk == overdue.pk


def test_verification_closes_the_warning_with_its_outcome(
    county: dict[str, Household], personas: Personas
) -> None:
    monitoring_run(as_of=AS_OF)
    warning = _warnings(county["family"])["medical_burden"]
    photo = SimpleUploadedFile("p.jpg", b"\xff\xd8\xff\xe0" + b"0" * 100, "image/jpeg")
    # when
    visit = warning_verify(
        warning=warning,
        user=personas.village_assistant,
        visited_at=timezone.now() - datetime.timedelta(hours=1),
        findings="住院治疗肺癌，家庭支出压力大",
        outcome="referred",
        latitude=Decimal("27.58"),
        longitude=Decimal("115.31"),
        need_summary="医疗救助和陪护服务",
        photos=[photo],
    )
    # then
    warning.refresh_from_db()
    assert warning.status == Warning.Status.CLOSED
    assert warning.outcome == "referred"
    assert visit.photos.count() == 1
    assert ReferralNeed.objects.get(warning=warning).summary == "医疗救助和陪护服务"
    assert TimelineEvent.objects.filter(
        household=county["family"], kind="monitoring.warning_verified"
    ).exists()
    assert AuditEvent.objects.filter(
        object_type="monitoring.warning", object_id=str(warning.pk)
    ).exists()
    with pytest.raises(ValidationError):
        warning_verify(
            warning=warning,
            user=personas.village_assistant,
            visited_at=timezone.now(),
            findings="again",
            outcome="false_alarm",
        )


@pytest.mark.parametrize(
    ("outcome", "extra", "field"),
    [
        ("enrolled", {}, "category"),
        ("not_eligible", {}, "reason"),
        ("referred", {}, "need_summary"),
        ("nonsense", {}, "outcome"),
        ("false_alarm", {"latitude": Decimal("91"), "longitude": Decimal("1")}, "latitude"),
    ],
)
def test_a_visit_without_what_its_outcome_needs_is_refused(
    county: dict[str, Household],
    personas: Personas,
    outcome: str,
    extra: dict[str, Any],
    field: str,
) -> None:
    monitoring_run(as_of=AS_OF)
    warning = _warnings(county["poor_a"])["income_below_standard"]
    with pytest.raises(ValidationError) as caught:
        warning_verify(
            warning=warning,
            user=personas.village_assistant,
            visited_at=timezone.now(),
            findings="核查",
            outcome=outcome,
            **extra,
        )
    assert field in caught.value.message_dict
    warning.refresh_from_db()
    assert warning.status == Warning.Status.OPEN


def test_a_fake_photo_is_refused(county: dict[str, Household], personas: Personas) -> None:
    monitoring_run(as_of=AS_OF)
    warning = _warnings(county["poor_a"])["income_below_standard"]
    with pytest.raises(ValidationError) as caught:
        warning_verify(
            warning=warning,
            user=personas.village_assistant,
            visited_at=timezone.now(),
            findings="核查",
            outcome="false_alarm",
            photos=[SimpleUploadedFile("x.jpg", b"MZ not an image", "image/jpeg")],
        )
    assert "photos" in caught.value.message_dict


def test_unanswered_call_orders_a_visit(county: dict[str, Household], personas: Personas) -> None:
    monitoring_run(as_of=AS_OF)
    warning = _warnings(county["poor_a"])["income_below_standard"]
    warning_contact_record(
        warning=warning, user=personas.village_assistant, reached=False, person_safe=False
    )
    kinds = list(warning.events.values_list("kind", flat=True))
    assert WarningEvent.Kind.VISIT_ORDERED in kinds
    warning.refresh_from_db()
    assert warning.status == Warning.Status.OPEN
    warning_contact_record(
        warning=warning, user=personas.village_assistant, reached=True, person_safe=True
    )
    warning.refresh_from_db()
    assert warning.status == Warning.Status.CONTACTED
    with pytest.raises(ValidationError):
        warning_contact_record(
            warning=warning, user=personas.village_assistant, reached=False, person_safe=True
        )


def test_verify_page_answers_in_chinese_and_keeps_input(
    client: Client, county: dict[str, Household], personas: Personas
) -> None:
    monitoring_run(as_of=AS_OF)
    warning = _warnings(county["poor_a"])["income_below_standard"]
    login(client, personas.village_assistant)
    response = client.post(
        f"/warnings/{warning.pk}/verify/",
        {"visited_at": "2026-06-01T10:00", "findings": "家中无人", "outcome": "not_eligible"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "家中无人" in body  # nothing typed is lost
    assert "不符合条件的原因" in body or "原因" in body
    # a supervisor reads but cannot act
    login(client, personas.supervisor)
    assert client.post(f"/warnings/{warning.pk}/verify/", {}).status_code == 404


def test_region_override_changes_the_threshold_and_keeps_history(
    county: dict[str, Household], personas: Personas
) -> None:
    village_b = Region.objects.get(code=VILLAGE_B)
    # when the standard is lowered to 0 for village B, its poor household is no longer below
    parameter_override_set(
        user=personas.county_admin,
        rule_id="income_below_standard",
        parameter="dibao_rural",
        region=village_b,
        value="0",
        reason="试算",
    )
    parameter_override_set(
        user=personas.county_admin,
        rule_id="income_below_standard",
        parameter="marginal_factor",
        region=village_b,
        value="1.0",
        reason="试算",
    )
    run = monitoring_run(as_of=AS_OF)
    # then
    assert "income_below_standard" not in _warnings(county["poor_b"])
    assert "income_below_standard" in _warnings(county["poor_a"])
    assert run.parameters["income_below_standard"]["dibao_rural"]["by_region"] == {VILLAGE_B: 0.0}
    # a second value retires the first; both stay in the history
    parameter_override_set(
        user=personas.county_admin,
        rule_id="income_below_standard",
        parameter="dibao_rural",
        region=village_b,
        value="700",
        reason="县政府7月起提高标准",
    )
    rows = ParameterOverride.objects.filter(parameter="dibao_rural", region=village_b)
    assert rows.count() == 2
    assert rows.filter(retired_at__isnull=True).get().value == 700.0
    with pytest.raises(ValidationError):
        parameter_override_set(
            user=personas.county_admin,
            rule_id="income_below_standard",
            parameter="dibao_rural",
            region=village_b,
            value="many",
            reason="x",
        )
    with pytest.raises(ValidationError):
        parameter_override_set(
            user=personas.county_admin,
            rule_id="hardship_score",
            parameter="low_income_line",
            region=village_b,
            value="0.05",
            reason="x",
        )


def test_incremental_run_only_considers_touched_households(
    county: dict[str, Household], personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    monitoring_run(as_of=AS_OF)
    # when a new record arrives for the family only
    with django_capture_on_commit_callbacks(execute=True):
        feed_import(
            feed_id="medical_settlement",
            file_name="医保2026-05b.csv",
            content=_medical_csv(
                [("S3", ID_SPOUSE, "2026-05-03", "outpatient", "I10", "200", "80")]
            ),
            actor=None,
            today=AS_OF,
        )
    run = monitoring_run(as_of=AS_OF, incremental=True)
    # then
    assert run.mode == "incremental"
    assert run.households_considered == 1
    assert "hardship_score" not in run.candidate_counts  # population-wide: full passes only
    assert run.new_warnings == 0
    # and only that household's rows were exported from the registry
    scoped = Path(settings.VAR_DIR) / "monitoring" / "snapshot-incremental"
    assert pq.read_table(scoped / "households.parquet")["household_id"].to_pylist() == [
        county["family"].pk
    ]
    assert set(pq.read_table(scoped / "persons.parquet")["household_id"].to_pylist()) == {
        county["family"].pk
    }
    assert Household.objects.count() > 1


def test_monitor_command_runs_and_lists_rules(county: dict[str, Household], capsys: Any) -> None:
    call_command("monitor", "run", "--as-of", AS_OF.isoformat())
    out = capsys.readouterr().out
    assert "new warnings" in out and "serious_disease" in out
    call_command("monitor", "rules")
    assert "water_anomaly v1" in capsys.readouterr().out


def test_dashboard_counts_what_the_user_may_see(
    client: Client, county: dict[str, Household], personas: Personas
) -> None:
    monitoring_run(as_of=AS_OF)
    login(client, personas.village_assistant)
    mine = client.get("/warnings/dashboard/").context["data"]
    login(client, personas.county_admin)
    everything = client.get("/warnings/dashboard/").context["data"]
    assert mine["active"] == Warning.objects.filter(region_id=VILLAGE_A).count()
    assert everything["active"] == Warning.objects.count() > mine["active"]
