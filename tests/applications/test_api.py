"""/api/v1/applications/: the whole case through the API, the same refusals as the
services (422 with the messages by field, 403 with the reason), and the same scope as
the pages (404 for what a user may not see)."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.accounts.services import api_token_create
from jiuzhu.applications.models import Application, AssistanceKind, EconomicCheck, Review
from jiuzhu.applications.services import disclosure_publish, objection_record, urgent_relief_pay
from jiuzhu.monitoring.models import MonitoringRun, Warning
from jiuzhu.registry.models import Income
from tests.applications.test_decisions import _submitted
from tests.applications.test_disclosure import _decided
from tests.applications.test_intake import JPEG, _start, _upload
from tests.applications.test_payments import _confirmed
from tests.conftest import COUNTY, ID_HEAD, ID_SPOUSE, TOWN, VILLAGE_A, Family, Personas, login

API = "/api/v1/applications"


@pytest.fixture(autouse=True)
def _var_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post(client: Client, url: str, body: dict[str, Any] | None = None, **extra: Any) -> Any:
    return client.post(url, body or {}, content_type="application/json", **extra)


def text_of(response: Any) -> str:
    """The answer as readable text (JSON escapes Chinese otherwise)."""
    return json.dumps(response.json(), ensure_ascii=False)


def test_a_case_from_intake_to_a_dismissed_objection(
    client: Client, personas: Personas, family: Family
) -> None:
    # given: the village assistant applies on the family's behalf (帮办代办)
    Income.objects.create(
        household=family.household, kind="agriculture", year=2025, annual_amount=Decimal(6000)
    )
    login(client, personas.village_assistant)
    started = post(
        client,
        f"{API}/",
        {
            "household_id": family.household.pk,
            "kinds": ["dibao"],
            "channel": "on_behalf",
            "reason": "老伴住院，家中无力承担",
        },
    )
    assert started.status_code == 201, started.content
    application = started.json()
    pk = application["id"]
    assert application["applicant_name_masked"] == "王*国"  # the head, when nobody is named
    assert (application["status"], application["kinds"]) == ("draft", ["dibao"])
    declared = client.put(
        f"{API}/{pk}/declaration",
        {
            "figures": [
                {"item": "income", "detail": "agriculture", "amount": "6000"},
                {"item": "deposits", "amount": "2000"},
            ]
        },
        content_type="application/json",
    )
    assert declared.status_code == 200, declared.content
    assert {(f["item"], f["detail"]) for f in declared.json()} == {
        ("income", "agriculture"),
        ("deposits", ""),
    }
    for kind in ("id_card", "hukou"):
        attached = client.post(
            f"{API}/{pk}/documents", {"kind": kind, "file": _upload(JPEG, "scan.jpg")}
        )
        assert attached.status_code == 201, attached.content
    form = client.post(f"{API}/{pk}/documents", {"kind": "authorisation", "file": _upload()})
    assert form.json()["content_type"] == "application/pdf"
    authorised = post(
        client,
        f"{API}/{pk}/authorisation",
        {
            "document_id": form.json()["id"],
            "signed_on": "2026-05-20",
            "signers": [family.head.pk, family.spouse.pk],
        },
    )
    assert authorised.status_code == 200, authorised.content
    assert authorised.json()["signer_count"] == 2
    submitted = post(client, f"{API}/{pk}/submit")
    assert submitted.json()["status"] == "submitted" and submitted.json()["due_at"]
    # an assistant runs no economic check
    assert post(client, f"{API}/{pk}/check").status_code == 403

    # when: the town officer checks; the assistant who entered it tries to decide
    login(client, personas.town_officer)
    checked = post(client, f"{API}/{pk}/check")
    assert checked.status_code == 201, checked.content
    assert checked.json()["report"]["verdicts"]["dibao"]["eligible"] is True
    login(client, personas.village_assistant)
    approve = {"kind": "dibao", "outcome": "approved", "reasons": "核对结果符合低保条件"}
    refused = post(client, f"{API}/{pk}/decisions", approve)
    login(client, personas.town_officer)
    approved = post(client, f"{API}/{pk}/decisions", approve)
    disclosed = post(client, f"{API}/{pk}/disclosure")
    objection = post(
        client,
        f"{API}/disclosures/{disclosed.json()['id']}/objections",
        {"content": "反映该户有一辆小汽车", "channel": "电话"},
    )
    resolved = post(
        client,
        f"{API}/objections/{objection.json()['id']}/resolution",
        {"resolution": "dismissed", "notes": "经核查车辆已于2024年转让"},
    )

    # then
    assert refused.status_code == 403
    assert approved.status_code == 201, approved.content
    assert approved.json()["monthly_amount"] == "1350.00"
    assert approved.json()["made_by"] == "town_officer"
    assert disclosed.status_code == 201 and disclosed.json()["reference"].startswith("GS")
    assert objection.status_code == 201 and objection.json()["resolution"] == ""
    assert resolved.status_code == 200 and resolved.json()["resolution"] == "dismissed"
    detail = client.get(f"{API}/{pk}")
    assert detail.status_code == 200
    data = detail.json()
    assert data["application"]["status"] == "disclosed"
    assert data["application"]["entered_by"] == "assistant_a"
    assert [r["kind"] for r in data["requested"]] == ["dibao"]
    assert sorted(d["kind"] for d in data["documents"]) == ["authorisation", "hukou", "id_card"]
    assert data["authorisation"]["signed_on"] == "2026-05-20"
    assert data["latest_check"]["id"] == checked.json()["id"]
    assert [m["name"] for m in data["latest_check"]["report"]["members"]] == [
        "王*国",
        "李*英",
        "王*明",
    ]
    [decision] = data["decisions"]
    assert (decision["kind"], decision["outcome"], decision["status"]) == (
        "dibao",
        "approved",
        "final",
    )
    assert decision["made_by"] == "town_officer" and decision["second_approver"] is None
    [disclosure] = data["disclosures"]
    assert [o["resolution"] for o in disclosure["objections"]] == ["dismissed"]
    # nothing personal beyond masked names, and no file content
    everything = text_of(detail)
    for secret in ("王建国", "李秀英", ID_HEAD, ID_SPOUSE, "13807960001", "%PDF"):
        assert secret not in everything


def test_whoever_entered_it_cannot_decide_and_an_exception_needs_another_approver(
    client: Client, personas: Personas, family: Family
) -> None:
    # given: the town officer enters a request for temporary help himself
    login(client, personas.town_officer)
    pk = post(
        client,
        f"{API}/",
        {
            "household_id": family.household.pk,
            "applicant_id": family.spouse.pk,
            "kinds": ["temporary"],
            "channel": "self",
            "requested_amounts": {"temporary": "2000"},
        },
    ).json()["id"]
    client.post(f"{API}/{pk}/documents", {"kind": "id_card", "file": _upload(JPEG, "id.jpg")})
    assert post(client, f"{API}/{pk}/submit").status_code == 200
    decide = {"kind": "temporary", "outcome": "approved", "reasons": "住院自付费用较高"}
    # when
    own = post(client, f"{API}/{pk}/decisions", decide)
    login(client, personas.county_admin)
    other = post(client, f"{API}/{pk}/decisions", decide)
    # then
    assert own.status_code == 403
    assert own.json()["detail"]  # the reason, in words
    assert other.status_code == 201 and other.json()["one_off_amount"] == "2000.00"

    # given: a 低保 case the check does not support (wages far above the line)
    Income.objects.create(
        household=family.household, kind="wages", year=2025, annual_amount=Decimal(60000)
    )
    application = _submitted(personas, family, ["dibao"])
    login(client, personas.town_officer)
    unsupported = post(
        client,
        f"{API}/{application.pk}/decisions",
        {"kind": "dibao", "outcome": "approved", "reasons": "重病", "exception": False},
    )
    exception = post(
        client,
        f"{API}/{application.pk}/decisions",
        {
            "kind": "dibao",
            "outcome": "approved",
            "reasons": "因病致贫，一事一议",
            "exception": True,
        },
    )
    decision_id = exception.json()["id"]
    # when: the maker confirms it himself, then the county admin
    by_maker = post(client, f"{API}/decisions/{decision_id}/second-approval", {"reasons": "同意"})
    login(client, personas.county_admin)
    by_other = post(client, f"{API}/decisions/{decision_id}/second-approval", {"reasons": "同意"})
    # then
    assert unsupported.status_code == 422 and "kind" in unsupported.json()["detail"]
    assert exception.json()["status"] == "awaiting_second"
    assert by_maker.status_code == 403
    assert by_other.status_code == 200
    assert by_other.json()["status"] == "final"
    assert by_other.json()["second_approver"] == "county_admin"


@pytest.mark.parametrize("persona", ["colleague", "other_town_officer", "caseworker"])
def test_out_of_area_users_see_nothing(
    client: Client, personas: Personas, family: Family, persona: str
) -> None:
    # given
    application = _start(personas, family, ["temporary"])
    login(client, personas.town_officer)
    assert client.get(f"{API}/").json()["count"] == 1
    # when
    login(client, getattr(personas, persona))
    hidden = client.get(f"{API}/{application.pk}")
    missing = client.get(f"{API}/999999")
    listed = client.get(f"{API}/")
    submit = post(client, f"{API}/{application.pk}/submit")
    start = post(
        client,
        f"{API}/",
        {"household_id": family.household.pk, "kinds": ["temporary"], "channel": "self"},
    )
    # then
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content
    assert listed.status_code == 200 and listed.json() == {"count": 0, "items": []}
    assert submit.status_code == 404 and start.status_code == 404
    application.refresh_from_db()
    assert application.status == Application.Status.DRAFT
    assert Application.objects.count() == 1


@pytest.mark.parametrize("persona", ["colleague", "other_town_officer"])
def test_decisions_disclosures_and_objections_of_hidden_cases_answer_404(
    client: Client, personas: Personas, family: Family, persona: str
) -> None:
    # given: a decided case on disclosure with an open objection
    application = _decided(personas, family)
    disclosure = disclosure_publish(actor=personas.town_officer, application=application)
    objection = objection_record(
        actor=personas.village_assistant, disclosure=disclosure, content="有车", channel="电话"
    )
    decision = application.decisions.get(requested__kind__code="dibao")
    login(client, getattr(personas, persona))
    # when
    answers = [
        post(client, f"{API}/decisions/{decision.pk}/second-approval", {"reasons": "同意"}),
        post(
            client,
            f"{API}/disclosures/{disclosure.pk}/objections",
            {"content": "再次反映", "channel": "来信"},
        ),
        post(
            client,
            f"{API}/objections/{objection.pk}/resolution",
            {"resolution": "upheld", "notes": "属实"},
        ),
    ]
    # then
    assert [a.status_code for a in answers] == [404, 404, 404]
    objection.refresh_from_db()
    assert objection.resolution == "" and disclosure.objections.count() == 1


def test_the_list_is_filtered_and_needs_personal_data_rights(
    client: Client, personas: Personas, family: Family
) -> None:
    draft = _start(personas, family, ["temporary"])
    submitted = _submitted(personas, family, ["dibao"])
    login(client, personas.county_admin)
    everything = client.get(f"{API}/").json()
    drafts = client.get(f"{API}/", {"status": "draft"}).json()
    other_town = client.get(f"{API}/", {"region": "360823101"}).json()
    assert everything["count"] == 2
    assert [a["number"] for a in everything["items"]] == [submitted.number, draft.number]
    assert [a["id"] for a in drafts["items"]] == [draft.pk]
    assert drafts["items"][0]["region_code"] == VILLAGE_A
    assert drafts["items"][0]["household_id"] == family.household.pk
    assert other_town["count"] == 0
    assert client.get(f"{API}/", {"status": "lost"}).status_code == 422
    login(client, personas.volunteer)
    assert client.get(f"{API}/").status_code == 404
    assert client.get(f"{API}/{draft.pk}").status_code == 404


def test_validation_errors_are_422_with_the_messages_by_field(
    client: Client, personas: Personas, family: Family
) -> None:
    login(client, personas.village_assistant)
    unknown = post(
        client,
        f"{API}/",
        {"household_id": family.household.pk, "kinds": ["lottery"], "channel": "self"},
    )
    assert unknown.status_code == 422
    assert set(unknown.json()["detail"]) == {"kinds"}
    assert "lottery" in unknown.json()["detail"]["kinds"][0]
    pk = post(
        client,
        f"{API}/",
        {"household_id": family.household.pk, "kinds": ["dibao"], "channel": "self"},
    ).json()["id"]
    negative = client.put(
        f"{API}/{pk}/declaration",
        {"figures": [{"item": "income", "detail": "wages", "amount": "-5"}]},
        content_type="application/json",
    )
    assert negative.status_code == 422 and set(negative.json()["detail"]) == {"income:wages"}
    not_a_document = client.post(
        f"{API}/{pk}/documents", {"kind": "id_card", "file": _upload(b"MZ\x90\x00", "x.exe")}
    )
    assert not_a_document.status_code == 422 and "file" in not_a_document.json()["detail"]
    incomplete = post(client, f"{API}/{pk}/submit")
    assert incomplete.status_code == 422
    assert set(incomplete.json()["detail"]) == {"documents", "authorisation"}
    assert Application.objects.get(pk=pk).status == Application.Status.DRAFT
    # a message about no field comes under __all__
    login(client, personas.town_officer)
    early = post(client, f"{API}/{pk}/disclosure")
    assert early.status_code == 422
    assert list(early.json()["detail"]) == ["__all__"]
    assert early.json()["detail"]["__all__"][0]


def test_the_check_without_the_authorisation_is_refused_with_a_reason(
    client: Client, personas: Personas, family: Family
) -> None:
    # given: submitted without an economic test, so no authorisation was needed
    application = _start(personas, family, ["temporary"])
    _, token = api_token_create(user=personas.town_officer, name="script")
    # when
    refused = post(client, f"{API}/{application.pk}/check", headers=bearer(token))
    # then
    assert refused.status_code == 403
    assert refused.json()["detail"] not in ("", "Forbidden")
    assert not EconomicCheck.objects.exists()


def test_urgent_help_and_referral_to_the_county(
    client: Client, personas: Personas, family: Family
) -> None:
    # given
    urgent = _start(personas, family, ["temporary"])
    hard = _submitted(personas, family, ["dibao"])
    login(client, personas.town_officer)
    # when
    paid = post(
        client,
        f"{API}/{urgent.pk}/urgent-relief",
        {"amount": "3000", "reasons": "突发重病住院，先行救助"},
    )
    twice = post(client, f"{API}/{urgent.pk}/urgent-relief", {"amount": "100", "reasons": "再"})
    referred = post(client, f"{API}/{hard.pk}/refer-up", {"reasons": "收入核定存在争议"})
    town_decides = post(
        client,
        f"{API}/{hard.pk}/decisions",
        {"kind": "dibao", "outcome": "rejected", "reasons": "收入超过标准"},
    )
    # then
    assert paid.status_code == 201 and paid.json()["amount"] == "3000.00"
    assert paid.json()["paid_by"] == "town_officer" and paid.json()["file_due"]
    assert twice.status_code == 422
    assert referred.json()["tier"] == "county"
    assert town_decides.status_code == 403
    detail = client.get(f"{API}/{urgent.pk}").json()
    assert detail["urgent_relief"]["amount"] == "3000.00"
    assert [d["one_off_amount"] for d in detail["decisions"]] == ["3000.00"]
    assert client.get(f"{API}/{hard.pk}").json()["application"]["referral_reason"]


def test_an_application_from_a_verified_warning(
    client: Client, personas: Personas, family: Family
) -> None:
    # given
    now = timezone.now()
    run = MonitoringRun.objects.create(
        as_of=now.date(), engine="duckdb", mode="full", trigger="cli", pack="default"
    )
    warning = Warning.objects.create(
        household=family.household,
        region_id=VILLAGE_A,
        assigned_region_id=VILLAGE_A,
        rule_id="medical_burden",
        rule_version=1,
        level="orange",
        event_key="medical_burden:2026",
        event_date=now.date(),
        explanation="近12个月医疗自付费用超过家庭年收入的一半",
        run=run,
        raised_at=now,
        deadline_hours=72,
        due_at=now + datetime.timedelta(hours=72),
    )
    _, token = api_token_create(user=personas.village_assistant, name="pad")
    _, colleague = api_token_create(user=personas.colleague, name="pad")
    url = f"{API}/from-warning/{warning.pk}"
    # when
    unverified = post(client, url, headers=bearer(token))
    Warning.objects.filter(pk=warning.pk).update(status=Warning.Status.CLOSED)
    hidden = post(client, url, headers=bearer(colleague))
    started = post(client, url, headers=bearer(token))
    # then
    assert unverified.status_code == 422
    assert hidden.status_code == 404
    assert started.status_code == 201, started.content
    assert started.json()["channel"] == "warning"
    assert started.json()["kinds"] == ["temporary", "rigid_expenditure"]
    assert Application.objects.get().source_warning_id == warning.pk


def test_kinds_on_offer_include_those_the_county_added(
    client: Client, personas: Personas, family: Family
) -> None:
    AssistanceKind.objects.create(
        code="heating",
        name_zh="冬季取暖补贴",
        name_en="Winter heating",
        category="temporary",
        income_test="none",
        amount_rule="one_off",
        required_documents=["id_card"],
        region_id=COUNTY,
    )
    login(client, personas.village_assistant)
    here = {k["code"]: k for k in client.get(f"{API}/kinds").json()}
    elsewhere = {k["code"] for k in client.get(f"{API}/kinds", {"region": "360824"}).json()}
    assert here["dibao"]["required_documents"] == ["id_card", "hukou", "authorisation"]
    assert here["dibao"]["income_test"] == "dibao"
    assert here["heating"]["name_zh"] == "冬季取暖补贴"
    assert "heating" not in elsewhere and "dibao" in elsewhere


def test_payment_list_rows_and_export_are_masked_and_audited(
    client: Client, personas: Personas, family: Family
) -> None:
    # given: a confirmed 低保 case of 1 350 a month
    application = _confirmed(personas, family)
    start = application.decisions.get(requested__kind__code="dibao").enrolment.start_date
    _, token = api_token_create(user=personas.town_officer, name="finance")
    # when
    built = post(
        client,
        f"{API}/payment-lists",
        {"region": TOWN, "month": f"{start:%Y-%m}"},
        headers=bearer(token),
    )
    pk = built.json()["id"]
    shown = client.get(f"{API}/payment-lists/{pk}", headers=bearer(token))
    csv = client.get(f"{API}/payment-lists/{pk}/export", {"format": "csv"}, headers=bearer(token))
    full = client.get(
        f"{API}/payment-lists/{pk}/export", {"format": "csv", "full": "1"}, headers=bearer(token)
    )
    xlsx = client.get(f"{API}/payment-lists/{pk}/export", headers=bearer(token))
    # then
    assert built.status_code == 201, built.content
    assert (built.json()["line_count"], built.json()["total"]) == (1, "1350.00")
    assert built.json()["month"] == f"{start:%Y-%m}"
    data = shown.json()
    assert "身份证号码" not in data["header"] and data["header"][3] == "收款人"
    assert data["rows"][0][3] == "王*国" and data["rows"][0][-1] == "1350.00"
    assert data["rows"][-1][4] == "合计"
    assert ID_HEAD[-4:] not in text_of(shown)  # not even the masked ID number
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert "attachment" in csv["Content-Disposition"]
    content = csv.content.decode("utf-8-sig")
    assert "王*国" in content and "王建国" not in content and ID_HEAD not in content
    assert "合计" in content and "1350.00" in content and "小计：最低生活保障" in content
    assert "王建国" in full.content.decode("utf-8-sig")  # the town officer may unmask
    assert xlsx.content[:2] == b"PK"
    exports = AuditEvent.objects.filter(action="export", object_type="applications.payment_list")
    assert [e.detail["full"] for e in exports.order_by("id")] == [False, False, True, False]


def test_payment_lists_are_refused_outside_the_right_and_the_area(
    client: Client, personas: Personas, family: Family
) -> None:
    # given: 先行救助 paid this month
    urgent_relief_pay(
        actor=personas.town_officer,
        application=_start(personas, family, ["temporary"]),
        amount=Decimal(3000),
        reasons="突发重病住院，先行救助",
    )
    month = f"{timezone.localdate():%Y-%m}"
    login(client, personas.town_officer)
    built = post(client, f"{API}/payment-lists", {"region": TOWN, "month": month})
    assert built.json()["total"] == "3000.00"
    pk = built.json()["id"]
    # then
    assert post(client, f"{API}/payment-lists", {"region": TOWN, "month": "2026-13"}).json()[
        "detail"
    ] == {"month": ["月份格式应为 YYYY-MM，例如 2026-07。"]}
    assert post(client, f"{API}/payment-lists", {"region": "999", "month": month}).status_code == (
        422
    )
    assert client.get(f"{API}/payment-lists/{pk}/export", {"format": "pdf"}).status_code == 422
    login(client, personas.supervisor)  # may read, may not export
    assert client.get(f"{API}/payment-lists/{pk}/export").status_code == 403
    login(client, personas.other_town_officer)
    assert client.get(f"{API}/payment-lists/{pk}").status_code == 404
    assert post(client, f"{API}/payment-lists", {"region": TOWN, "month": month}).status_code == (
        403
    )


def test_the_ledger_counts_without_persons(
    client: Client, personas: Personas, family: Family
) -> None:
    application = _confirmed(personas, family)
    start = application.decisions.get(requested__kind__code="dibao").enrolment.start_date
    login(client, personas.county_admin)
    rows = client.get(f"{API}/ledger", {"region": COUNTY, "month": f"{start:%Y-%m}"})
    assert rows.status_code == 200
    [dibao] = [r for r in rows.json() if r["category"] in ("最低生活保障", "低保")]
    assert (dibao["households"], dibao["monthly_amount"], dibao["added"]) == (1, "2850.00", 1)
    assert "王" not in text_of(rows)
    assert client.get(f"{API}/ledger", {"month": "July"}).status_code == 422
    login(client, personas.other_town_officer)
    assert client.get(f"{API}/ledger", {"region": TOWN}).status_code == 403


def test_anonymous_callers_get_401(client: Client, personas: Personas, family: Family) -> None:
    application = _start(personas, family, ["temporary"])
    assert client.get(f"{API}/").status_code == 401
    assert client.get(f"{API}/kinds").status_code == 401
    assert client.get(f"{API}/{application.pk}").status_code == 401
    assert post(client, f"{API}/{application.pk}/submit").status_code == 401
    assert client.get(f"{API}/{application.pk}", headers=bearer("jz_not-a-token")).status_code == (
        401
    )
    application.refresh_from_db()
    assert application.status == Application.Status.DRAFT


def test_the_schema_lists_the_applications_endpoints(client: Client, personas: Personas) -> None:
    login(client, personas.town_officer)
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/applications/{application_id}" in paths
    assert "/api/v1/applications/payment-lists/{payment_list_id}/export" in paths


def test_reviews_are_listed_and_settled_through_the_api(
    client: Client, personas: Personas, family: Family
) -> None:
    application = _confirmed(personas, family)
    decision = application.decisions.get(requested__kind__code="dibao")
    Income.objects.create(
        household=family.household,
        kind="wages",
        year=timezone.localdate().year,
        annual_amount=Decimal(60000),
    )
    review = Review.objects.create(
        decision=decision, region_id=VILLAGE_A, trigger="scheduled", due_on=timezone.localdate()
    )
    _, token = api_token_create(user=personas.town_officer, name="desk")
    listed = client.get("/api/v1/applications/reviews", **{"HTTP_AUTHORIZATION": f"Bearer {token}"})
    assert [r["id"] for r in listed.json()["items"]] == [review.pk]
    assert listed.json()["items"][0]["application_number"] == application.number
    # out of the area: not there, and cannot be run
    _, other = api_token_create(user=personas.other_town_officer, name="desk")
    assert (
        client.get(
            "/api/v1/applications/reviews", **{"HTTP_AUTHORIZATION": f"Bearer {other}"}
        ).json()["items"]
        == []
    )
    assert (
        post(
            client,
            f"/api/v1/applications/reviews/{review.pk}/run",
            HTTP_AUTHORIZATION=f"Bearer {other}",
        ).status_code
        == 404
    )
    settled = post(
        client,
        f"/api/v1/applications/reviews/{review.pk}/run",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert settled.status_code == 200, settled.content
    assert settled.json()["outcome"] == "graded_exit"
    assert settled.json()["exit_on"] is not None
    # settling twice is refused with the reason
    again = post(
        client,
        f"/api/v1/applications/reviews/{review.pk}/run",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert again.status_code == 422
