"""The "may qualify for" panel and the outreach list, through the test client."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pytest
from django.test import Client
from openpyxl import load_workbook

from jiuzhu.applications.models import Application
from jiuzhu.monitoring.snapshot import snapshot_write
from jiuzhu.policies.models import PolicyMatch
from jiuzhu.policies.services.matching import policies_install_defaults, policies_match_run
from jiuzhu.registry import choices as c
from jiuzhu.registry.models import Enrolment
from jiuzhu.registry.services import enrolment_end
from tests.conftest import COUNTY, Family, Personas, login


@pytest.fixture
def matched(regions: None, family: Family, personas: Personas, tmp_path: Path) -> Family:
    policies_install_defaults(county_code=COUNTY)
    enrolment = Enrolment.objects.get(household=family.household, category=c.Category.DIBAO)
    enrolment_end(actor=None, enrolment=enrolment, end_date=datetime.date(2026, 2, 28), reason="x")
    policies_match_run(as_of=datetime.date(2026, 3, 2), snapshot=snapshot_write(tmp_path / "s"))
    return family


def test_the_household_file_shows_what_it_may_qualify_for_with_reasons(
    client: Client, matched: Family, personas: Personas
) -> None:
    login(client, personas.village_assistant)
    page = client.get(f"/households/{matched.household.pk}/").content.decode()
    assert "重度残疾人护理补贴" in page
    assert "1名一、二级重度残疾人" in page
    assert "最低生活保障（低保）" in page


def test_a_colleague_sees_no_panel_rows_and_cannot_act(
    client: Client, matched: Family, personas: Personas
) -> None:
    offer = PolicyMatch.objects.get(household=matched.household, policy__code="dibao")
    login(client, personas.colleague)
    response = client.post(f"/policies/matches/{offer.pk}/contact/", {"note": "打过电话"})
    assert response.status_code == 404
    assert client.get("/policies/outreach/").content.decode().count(matched.household.number) == 0


def test_starting_an_application_from_the_panel(
    client: Client, matched: Family, personas: Personas
) -> None:
    offer = PolicyMatch.objects.get(household=matched.household, policy__code="dibao")
    login(client, personas.village_assistant)
    response = client.post(
        f"/policies/matches/{offer.pk}/apply/", {"applicant": str(matched.head.pk)}
    )
    application = Application.objects.get(household=matched.household)
    assert response.status_code == 302
    assert response["Location"] == f"/applications/{application.pk}/"
    assert application.channel == Application.Channel.POLICY


def test_an_empty_note_is_refused_with_a_message_and_nothing_changes(
    client: Client, matched: Family, personas: Personas
) -> None:
    offer = PolicyMatch.objects.get(household=matched.household, policy__code="dibao")
    login(client, personas.village_assistant)
    response = client.post(f"/policies/matches/{offer.pk}/dismiss/", {"note": " "}, follow=True)
    offer.refresh_from_db()
    assert offer.status == PolicyMatch.Status.OPEN
    assert "Give the reason" in response.content.decode() or "原因" in response.content.decode()


def test_the_outreach_list_filters_and_exports(
    client: Client, matched: Family, personas: Personas
) -> None:
    login(client, personas.town_officer)
    page = client.get("/policies/outreach/", {"policy": "dibao"}).content.decode()
    assert matched.household.number in page
    assert "1名一、二级重度残疾人" not in page
    export = client.get("/policies/outreach/", {"policy": "dibao", "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "户编号"
    assert [r[3] for r in rows[1:]] == ["最低生活保障（低保）"]
    assert "王建国" not in str(rows)  # masked
