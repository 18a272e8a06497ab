"""The applicant's own mobile form (自助申请): no login, nothing stored in clear, the same
answer whether or not the person is known, and the village's call-back list."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.applications.models import Application, SelfApplication
from jiuzhu.applications.services import application_submit, decision_make, document_add
from jiuzhu.applications.services.intake import application_declare
from jiuzhu.registry.models import TimelineEvent
from tests.conftest import COUNTY, ID_HEAD, VILLAGE_A, Family, Personas, login

UNKNOWN_ID = "362423198807070015"  # valid checksum, in nobody's household


@pytest.fixture(autouse=True)
def _var_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"


def _send(client: Client, **overrides: Any) -> Any:
    form = {
        "village": VILLAGE_A,
        "name": "王建国",
        "id_number": ID_HEAD,
        "phone": "13807960001",
        "kinds": ["temporary", "dibao"],
        "reason": "老伴住院，家里没有收入",
        "consent": "1",
    }
    form.update(overrides)
    return client.post(f"/apply/{COUNTY}/", form, REMOTE_ADDR=overrides.pop("ip", "10.0.0.1"))


def _without_reference(html: str) -> str:
    """The page without what differs on every request anyway: reference and CSRF token."""
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "", html)
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r"ZZ[A-Z0-9]{8}", "ZZ", html)


def test_the_public_form_needs_no_login_and_lists_the_villages(regions: None) -> None:
    page = Client().get(f"/apply/{COUNTY}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert VILLAGE_A in body and "临时救助" in body
    assert Client().get("/apply/36/").status_code == 404  # a province is not a county


def test_a_known_person_gets_a_draft_for_the_household(family: Family) -> None:
    response = _send(Client())
    assert response.status_code == 200
    received = SelfApplication.objects.get()
    assert received.reference in response.content.decode()
    application = received.application
    assert application is not None
    assert application.household == family.household
    assert application.applicant == family.head
    assert application.channel == Application.Channel.SELF
    assert application.entered_by is None
    assert sorted(r.kind.code for r in application.kinds.all()) == ["dibao", "temporary"]
    assert TimelineEvent.objects.filter(
        household=family.household, kind="applications.started"
    ).exists()
    # nothing readable is stored: not the name, the ID number or the phone
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name_encrypted, id_number_encrypted, phone_encrypted, name_masked,"
            " id_number_masked, phone_masked FROM applications_selfapplication"
        )
        row = " ".join(cursor.fetchone())
    assert "王建国" not in row and ID_HEAD not in row and "13807960001" not in row
    assert "王*国" in row


def test_the_answer_does_not_tell_who_is_known(family: Family) -> None:
    known = _send(Client(), ip="10.0.0.2")
    unknown = _send(Client(), name="周某某", id_number=UNKNOWN_ID, ip="10.0.0.3")
    wrong_name = _send(Client(), name="王建军", ip="10.0.0.4")
    assert known.status_code == unknown.status_code == wrong_name.status_code == 200
    pages = {_without_reference(r.content.decode()) for r in (known, unknown, wrong_name)}
    assert len(pages) == 1
    # only the exact person got a draft; all three are on the village's list
    assert SelfApplication.objects.count() == 3
    assert SelfApplication.objects.exclude(application=None).count() == 1


def test_bad_input_is_refused_and_the_id_number_not_echoed(family: Family) -> None:
    response = _send(Client(), id_number="36082319880707001X", consent="")
    assert response.status_code == 422
    body = response.content.decode()
    assert "36082319880707001X" not in body
    assert "老伴住院，家里没有收入" in body  # what was typed comes back
    assert not SelfApplication.objects.exists()
    assert _send(Client(), kinds=[]).status_code == 422
    assert _send(Client(), village="360823100").status_code == 422  # a town, not a village


def test_one_connection_cannot_flood_the_form(family: Family) -> None:
    statuses = [_send(Client(), ip="10.9.9.9").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [422]
    assert SelfApplication.objects.count() == 5
    assert _send(Client(), ip="10.9.9.8").status_code == 200


def test_the_village_calls_back_and_closes_the_form(personas: Personas, family: Family) -> None:
    _send(Client())
    received = SelfApplication.objects.get()
    assistant = login(Client(), personas.village_assistant)
    page = assistant.get("/applications/self/").content.decode()
    assert received.reference in page and "138****0001" in page and "13807960001" not in page
    # outside the village, and for providers, it does not exist
    assert (
        received.reference
        not in login(Client(), personas.colleague).get("/applications/self/").content.decode()
    )
    assert login(Client(), personas.provider).get("/applications/self/").status_code == 404
    # the full number to call back, audited
    shown = assistant.post(f"/applications/self/{received.pk}/phone/")
    assert "13807960001" in shown.content.decode()
    assert AuditEvent.objects.filter(
        object_type="applications.self_application", action="unmask"
    ).exists()
    assert (
        login(Client(), personas.colleague)
        .post(f"/applications/self/{received.pk}/phone/")
        .status_code
        == 404
    )
    # closing needs a note
    assistant.post(f"/applications/self/{received.pk}/close/", {"note": ""})
    received.refresh_from_db()
    assert received.status == SelfApplication.Status.NEW
    assistant.post(f"/applications/self/{received.pk}/close/", {"note": "已电话联系，上门收集材料"})
    received.refresh_from_db()
    assert received.status == SelfApplication.Status.CLOSED
    assert received.handled_by == personas.village_assistant


def test_whoever_hands_in_a_self_application_becomes_its_maker(
    personas: Personas, family: Family
) -> None:
    _send(Client(), kinds=["temporary"])
    application = SelfApplication.objects.get().application
    assert application is not None
    document_add(
        actor=personas.town_officer,
        application=application,
        kind="id_card",
        upload=SimpleUploadedFile("id.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64),
    )
    application_declare(
        actor=personas.town_officer, application=application, figures={("income", "other"): 0}
    )
    application_submit(actor=personas.town_officer, application=application)
    application.refresh_from_db()
    assert application.entered_by == personas.town_officer
    with pytest.raises(PermissionDenied):
        decision_make(
            actor=personas.town_officer,
            application=application,
            kind="temporary",
            outcome="approved",
            reasons="急难",
            one_off_amount=Decimal(1000),
        )
