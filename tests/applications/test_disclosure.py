"""Public disclosure (公示): what the public sees, objections, take-down, confirmation."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.applications.models import Application, Decision, Disclosure
from jiuzhu.applications.services import (
    decision_make,
    disclosure_publish,
    objection_record,
    objection_resolve,
)
from tests.applications.test_decisions import _submitted
from tests.conftest import COUNTY, ID_HEAD, ID_SPOUSE, TOWN, VILLAGE_A, VILLAGE_B, Family, Personas


@pytest.fixture(autouse=True)
def _var_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.JIUZHU_SUPERVISION_PHONE = "0796-1234567"


def _decided(personas: Personas, family: Family) -> Application:
    application = _submitted(personas, family, ["dibao", "temporary"])
    decision_make(
        actor=personas.town_officer,
        application=application,
        kind="dibao",
        outcome="approved",
        reasons="核对结果符合低保条件",
    )
    decision_make(
        actor=personas.town_officer,
        application=application,
        kind="temporary",
        outcome="rejected",
        reasons="已纳入低保，暂不重复救助",
    )
    application.refresh_from_db()
    return application


def test_the_public_page_shows_only_what_may_be_published(
    client: Client, personas: Personas, family: Family
) -> None:
    # given
    application = _decided(personas, family)
    disclosure = disclosure_publish(actor=personas.town_officer, application=application)
    assert disclosure.ends_on - disclosure.starts_on == datetime.timedelta(days=6)  # 7 days
    # when: anyone, not logged in, opens the village, town and county boards
    pages = [client.get(f"/disclosure/{code}/") for code in (VILLAGE_A, TOWN, COUNTY)]
    # then
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert "王*国" in html and "最低生活保障" in html and "1350" in html
        assert disclosure.reference in html and "0796-1234567" in html
        # never: full names, ID or phone numbers, the address, refused kinds, reasons
        for secret in (
            "王建国",
            "李秀英",
            ID_HEAD,
            ID_SPOUSE,
            "13807960001",
            "3组12号",
            "临时救助",
            "核对结果",
            family.household.number,
        ):
            assert secret not in html, secret
    assert "王*国" not in client.get(f"/disclosure/{VILLAGE_B}/").content.decode()
    qr = client.get(f"/disclosure/{VILLAGE_A}/qr.svg")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml"
    assert b"<svg" in qr.content
    assert client.get("/disclosure/36/").status_code == 404  # a province: no board
    # and publishing was audited
    assert AuditEvent.objects.filter(
        object_type="applications.application", detail__disclosure=disclosure.reference
    ).exists()


def test_an_open_objection_holds_confirmation_until_it_is_resolved(
    client: Client, personas: Personas, family: Family
) -> None:
    application = _decided(personas, family)
    disclosure = disclosure_publish(actor=personas.town_officer, application=application)
    objection = objection_record(
        actor=personas.village_assistant,
        disclosure=disclosure,
        content="该户子女在外务工收入较高",
        channel="电话",
    )
    # when the period ends with the objection open
    Disclosure.objects.filter(pk=disclosure.pk).update(
        ends_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    call_command("applications", "tick")
    # then it is taken down but not confirmed
    disclosure.refresh_from_db()
    application.refresh_from_db()
    assert disclosure.status == Disclosure.Status.ENDED and disclosure.taken_down_at
    assert application.status == Application.Status.DISCLOSED
    assert "王*国" not in client.get(f"/disclosure/{VILLAGE_A}/").content.decode()
    with pytest.raises(ValidationError):
        objection_resolve(
            actor=personas.town_officer, objection=objection, resolution="dismissed", notes=" "
        )
    # when it is dismissed, the case is confirmed
    objection_resolve(
        actor=personas.town_officer,
        objection=objection,
        resolution="dismissed",
        notes="经核实，子女已单独立户，赡养费已计入收入",
    )
    application.refresh_from_db()
    assert application.status == Application.Status.CONFIRMED


def test_an_upheld_objection_withdraws_the_disclosure_and_the_approvals(
    client: Client, personas: Personas, family: Family
) -> None:
    application = _decided(personas, family)
    disclosure = disclosure_publish(actor=personas.town_officer, application=application)
    objection = objection_record(
        actor=personas.village_assistant,
        disclosure=disclosure,
        content="该户有一辆未登记的货车",
        channel="来访",
    )
    objection_resolve(
        actor=personas.town_officer,
        objection=objection,
        resolution="upheld",
        notes="经入户核查属实，重新审核",
    )
    disclosure.refresh_from_db()
    application.refresh_from_db()
    assert disclosure.status == Disclosure.Status.WITHDRAWN
    assert application.status == Application.Status.SUBMITTED
    assert application.decisions.get(requested__kind__code="dibao").status == "revoked"
    assert "王*国" not in client.get(f"/disclosure/{VILLAGE_A}/").content.decode()
    # the case can be decided again
    again = decision_make(
        actor=personas.town_officer,
        application=application,
        kind="dibao",
        outcome="rejected",
        reasons="名下有货车，不符合条件",
    )
    assert again.status == Decision.Status.FINAL


def test_the_period_ends_by_itself_and_the_case_is_confirmed(
    client: Client, personas: Personas, family: Family
) -> None:
    application = _decided(personas, family)
    disclosure = disclosure_publish(
        actor=personas.town_officer,
        application=application,
        starts_on=timezone.localdate() - datetime.timedelta(days=7),
    )
    call_command("applications", "tick")
    call_command("applications", "tick")  # nothing more the second time
    disclosure.refresh_from_db()
    application.refresh_from_db()
    assert disclosure.status == Disclosure.Status.ENDED
    assert application.status == Application.Status.CONFIRMED
    assert AuditEvent.objects.filter(detail__taken_down=True).count() == 1
    # only decided applications with something approved are disclosed
    with pytest.raises(ValidationError):
        disclosure_publish(actor=personas.town_officer, application=application)
    assert Decimal(1350) == application.decisions.get(requested__kind__code="dibao").monthly_amount
