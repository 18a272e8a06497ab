"""The staff pages of applications, persona by persona (Healthchecks style): who sees
what, that each form reaches its service, and that a refused step keeps what was typed and
says why."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.applications.models import (
    Application,
    AssistanceKind,
    Decision,
    Document,
    Standard,
)
from jiuzhu.applications.services import decision_make, disclosure_publish
from jiuzhu.registry.models import Income
from tests.applications.test_decisions import _submitted
from tests.applications.test_intake import JPEG, _start, _upload
from tests.conftest import COUNTY, TOWN, Family, Personas, login


@pytest.fixture(autouse=True)
def _var_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_worklist_is_scoped_by_area(personas: Personas, family: Family) -> None:
    application = _start(personas, family, ["temporary"])
    for user, sees in (
        (personas.village_assistant, True),
        (personas.town_officer, True),
        (personas.county_admin, True),
        (personas.supervisor, True),
        (personas.colleague, False),  # village B
        (personas.other_town_officer, False),
    ):
        page = login(Client(), user).get("/applications/")
        assert page.status_code == 200
        assert (application.number in page.content.decode()) is sees, user
    # providers and the anonymous see nothing
    assert login(Client(), personas.provider).get("/applications/").status_code == 404
    assert Client().get("/applications/").status_code == 302


def test_an_application_page_is_404_outside_the_area(personas: Personas, family: Family) -> None:
    application = _start(personas, family, ["temporary"])
    url = f"/applications/{application.pk}/"
    assert login(Client(), personas.town_officer).get(url).status_code == 200
    for outsider in (personas.colleague, personas.other_town_officer, personas.provider):
        assert login(Client(), outsider).get(url).status_code == 404
    # and so are its actions
    response = login(Client(), personas.other_town_officer).post(
        f"/applications/{application.pk}/declare/", {"income_wages": "100"}
    )
    assert response.status_code == 404
    assert not application.declared.exists()


def test_a_worker_applies_on_behalf_from_the_household_file(
    personas: Personas, family: Family
) -> None:
    client = login(Client(), personas.village_assistant)
    file_page = client.get(f"/households/{family.household.pk}/").content.decode()
    assert f"/applications/new/?household={family.household.pk}" in file_page
    form = client.get(f"/applications/new/?household={family.household.pk}")
    assert form.status_code == 200
    assert "临时救助" in form.content.decode()
    # when
    response = client.post(
        "/applications/new/",
        {
            "household": family.household.pk,
            "applicant": family.head.pk,
            "kinds": ["temporary", "dibao"],
            "amount_temporary": "3000",
            "channel": "on_behalf",
            "reason": "老伴住院",
        },
    )
    # then
    application = Application.objects.get(household=family.household)
    assert response.status_code == 302
    assert response["Location"] == f"/applications/{application.pk}/"
    assert application.channel == "on_behalf"
    assert application.entered_by == personas.village_assistant
    assert {r.kind.code: r.requested_amount for r in application.kinds.all()} == {
        "temporary": Decimal(3000),
        "dibao": None,
    }


def test_a_refused_start_keeps_what_was_typed(personas: Personas, family: Family) -> None:
    client = login(Client(), personas.village_assistant)
    response = client.post(
        "/applications/new/",
        {
            "household": family.household.pk,
            "applicant": family.head.pk,
            "channel": "on_behalf",
            "reason": "老伴住院，家中无力承担",
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "请至少选择一项救助类别。" in body
    assert "老伴住院，家中无力承担" in body
    assert not Application.objects.exists()


def test_the_intake_steps_through_the_page(personas: Personas, family: Family) -> None:
    Income.objects.create(
        household=family.household, kind="agriculture", year=2025, annual_amount=Decimal(6000)
    )
    application = _start(personas, family, ["dibao"])
    client = login(Client(), personas.village_assistant)
    base = f"/applications/{application.pk}"
    # declaration
    assert (
        client.post(f"{base}/declare/", {"income_agriculture": "6000", "deposits": "2000"})
    ).status_code == 302
    assert {(f.item, f.detail): f.amount for f in application.declared.all()} == {
        ("income", "agriculture"): Decimal(6000),
        ("deposits", ""): Decimal(2000),
    }
    # a bad number is refused with the message and changes nothing
    refused = client.post(f"{base}/declare/", {"income_wages": "abc"})
    assert refused.status_code == 422
    assert application.declared.count() == 2
    # documents: a file that is not what it claims is refused
    fake = client.post(
        f"{base}/documents/",
        {"kind": "id_card", "file": _upload(b"MZ\x90\x00 not an image", "id.jpg")},
    )
    assert fake.status_code == 422
    for kind in ("id_card", "hukou", "authorisation"):
        response = client.post(
            f"{base}/documents/", {"kind": kind, "file": _upload(JPEG, f"{kind}.jpg")}
        )
        assert response.status_code == 302, response.content.decode()[:500]
    # submitting before the authorisation is recorded is refused
    assert client.post(f"{base}/submit/").status_code == 422
    form = application.documents.get(kind=Document.Kind.AUTHORISATION)
    assert (
        client.post(
            f"{base}/authorisation/",
            {
                "document": form.pk,
                "signed_on": "2026-05-20",
                "signers": [family.head.pk, family.spouse.pk],
            },
        ).status_code
        == 302
    )
    assert client.post(f"{base}/submit/").status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    # the assistant may not run the check; the town officer can, and reads the report
    assert client.post(f"{base}/check/").status_code == 422
    officer = login(Client(), personas.town_officer)
    assert officer.post(f"{base}/check/").status_code == 302
    check = application.checks.get()
    report = officer.get(f"{base}/check/{check.pk}/")
    assert report.status_code == 200
    body = report.content.decode()
    assert check.report["figures"]["per_capita_monthly_income"] in body
    assert "王*国" in body and "王建国" not in body
    # the scanned document opens for the officer, is audited, and not for outsiders
    document = application.documents.get(kind="id_card")
    assert officer.get(f"/applications/documents/{document.pk}/").status_code == 200
    assert AuditEvent.objects.filter(
        object_type="applications.document", object_id=str(document.pk)
    ).exists()
    outsider = login(Client(), personas.other_town_officer)
    assert outsider.get(f"/applications/documents/{document.pk}/").status_code == 404


def test_whoever_entered_it_gets_no_decision_form_and_cannot_post_one(
    personas: Personas, family: Family
) -> None:
    application = _submitted(personas, family, ["temporary"])
    application.entered_by = personas.town_officer
    application.save(update_fields=["entered_by"])
    maker = login(Client(), personas.town_officer)
    page = maker.get(f"/applications/{application.pk}/").content.decode()
    assert f"/applications/{application.pk}/decide/" not in page
    response = maker.post(
        f"/applications/{application.pk}/decide/",
        {"kind": "temporary", "outcome": "approved", "reasons": "急难", "one_off_amount": "2000"},
    )
    assert response.status_code == 422
    assert not Decision.objects.exists()
    # another officer of the county decides it
    checker = login(Client(), personas.county_admin)
    assert (
        f"/applications/{application.pk}/decide/"
        in checker.get(f"/applications/{application.pk}/").content.decode()
    )
    response = checker.post(
        f"/applications/{application.pk}/decide/",
        {"kind": "temporary", "outcome": "approved", "reasons": "急难", "one_off_amount": "2000"},
    )
    assert response.status_code == 302
    decision = Decision.objects.get()
    assert decision.made_by == personas.county_admin
    assert decision.one_off_amount == Decimal(2000)


def test_objections_are_recorded_and_resolved_on_the_page(
    personas: Personas, family: Family
) -> None:
    application = _submitted(personas, family, ["dibao"])
    decision_make(
        actor=personas.town_officer,
        application=application,
        kind="dibao",
        outcome="approved",
        reasons="收入低于标准",
    )
    disclosure = disclosure_publish(actor=personas.town_officer, application=application)
    assistant = login(Client(), personas.village_assistant)
    response = assistant.post(
        f"/applications/disclosures/{disclosure.pk}/objections/",
        {"channel": "电话", "content": "该户有小轿车"},
    )
    assert response.status_code == 302
    objection = disclosure.objections.get()
    # the assistant may record, not resolve
    assert (
        assistant.post(
            f"/applications/objections/{objection.pk}/resolve/",
            {"resolution": "dismissed", "notes": "核实无车"},
        ).status_code
        == 422
    )
    officer = login(Client(), personas.town_officer)
    assert (
        officer.post(
            f"/applications/objections/{objection.pk}/resolve/",
            {"resolution": "dismissed", "notes": "车辆登记查询无车"},
        ).status_code
        == 302
    )
    objection.refresh_from_db()
    assert objection.resolution == "dismissed"
    assert "车辆登记查询无车" in officer.get(f"/applications/{application.pk}/").content.decode()


def test_payment_lists_and_ledger_pages(personas: Personas, family: Family) -> None:
    application = _submitted(personas, family, ["temporary"])
    decision_make(
        actor=personas.town_officer,
        application=application,
        kind="temporary",
        outcome="approved",
        reasons="急难",
        one_off_amount=Decimal(2500),
    )  # 临时救助 is confirmed on decision: nothing to display
    application.refresh_from_db()
    assert application.status == Application.Status.CONFIRMED
    month = application.confirmed_at.astimezone().strftime("%Y-%m")  # type: ignore[union-attr]
    officer = login(Client(), personas.town_officer)
    response = officer.post("/applications/payments/", {"month": month, "region": TOWN})
    assert response.status_code == 302
    page = officer.get(response["Location"])
    body = page.content.decode()
    assert "2500" in body and "王*国" in body and "王建国" not in body
    csv = officer.get(f"{response['Location']}export/?format=csv")
    assert csv.status_code == 200
    text = csv.content.decode("utf-8-sig")
    assert "合计" in text and "2500" in text and "王建国" not in text
    # the assistant has no export right: no payment lists
    assert (
        login(Client(), personas.village_assistant).get("/applications/payments/").status_code
        == 404
    )
    # another town's officer cannot open this town's list
    assert login(Client(), personas.other_town_officer).get(response["Location"]).status_code == 404
    ledger = officer.get(f"/applications/ledger/?region={TOWN}&month={month}")
    assert ledger.status_code == 200
    assert ledger.context["totals"]["added"] >= 1
    export = officer.get(f"/applications/ledger/?region={TOWN}&month={month}&export=xlsx")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert (
        login(Client(), personas.other_town_officer)
        .get(f"/applications/ledger/?region={TOWN}&month={month}")
        .status_code
        == 404
    )


def test_a_county_admin_sets_a_standard_and_adds_a_kind(personas: Personas) -> None:
    admin = login(Client(), personas.county_admin)
    response = admin.post(
        "/applications/configuration/",
        {
            "form": "standard",
            "name": "dibao_monthly",
            "region": COUNTY,
            "area_type": "rural",
            "value": "690",
            "valid_from": "2026-07-01",
            "reason": "峡江县民政局 2026 年第 3 号文",
        },
    )
    assert response.status_code == 302
    standard = Standard.objects.get(region_id=COUNTY)
    assert (standard.value, standard.set_by) == (Decimal(690), personas.county_admin)
    # a slipped digit is refused
    refused = admin.post(
        "/applications/configuration/",
        {
            "form": "standard",
            "name": "dibao_monthly",
            "region": COUNTY,
            "value": "69000",
            "valid_from": "2026-07-01",
            "reason": "x",
        },
    )
    assert refused.status_code == 422
    assert Standard.objects.filter(region_id=COUNTY).count() == 1
    response = admin.post(
        "/applications/configuration/",
        {
            "form": "kind",
            "code": "disability_living",
            "name_zh": "困难残疾人生活补贴",
            "name_en": "Living subsidy for disabled people in hardship",
            "category": "other",
            "income_test": "dibao",
            "amount_rule": "fixed_monthly",
            "parameter": "90",
            "required_documents": ["id_card", "disability_cert", "authorisation"],
            "region": COUNTY,
        },
    )
    assert response.status_code == 302
    kind = AssistanceKind.objects.get(code="disability_living")
    assert kind.amount_parameters == {"monthly": "90"}
    assert kind.region_id == COUNTY and not kind.is_builtin
    # offered in the county's villages now
    page = admin.get("/applications/configuration/").content.decode()
    assert "困难残疾人生活补贴" in page
    # a town officer reads but may not change
    officer = login(Client(), personas.town_officer)
    assert officer.get("/applications/configuration/").status_code == 200
    assert (
        officer.post(
            "/applications/configuration/",
            {"form": "kind_active", "kind": kind.pk, "active": "0"},
        ).status_code
        == 404
    )
    assert (
        admin.post(
            "/applications/configuration/", {"form": "kind_active", "kind": kind.pk, "active": "0"}
        ).status_code
        == 302
    )
    kind.refresh_from_db()
    assert not kind.is_active


def test_pages_speak_chinese_by_default(personas: Personas, family: Family) -> None:
    application = _start(personas, family, ["temporary"])
    body = (
        login(Client(), personas.town_officer)
        .get(f"/applications/{application.pk}/")
        .content.decode()
    )
    assert "Kinds of help" not in body and "Run the economic check" not in body
    assert "救助事项" in body
