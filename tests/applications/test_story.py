"""The issue's scripted story, end to end with nothing mocked: department files through the
real importer, a real monitoring run, then every step by the person who does it, through
the staff pages (and, in the second test, through /api/v1/).

A man's large hospital bill raises a warning; the village assistant visits and applies on
his behalf for 临时救助 and the county's disability subsidy; the check report shows the
figures; a town officer (not the one who entered it) approves; publicity runs and ends;
he is enrolled and appears on the month's payment list. And a 低保 household whose wages
rise gets a six-month graded exit."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from jiuzhu.accounts.services import api_token_create
from jiuzhu.applications.models import Application, Disclosure, Review
from jiuzhu.applications.services import disclosures_end_due
from jiuzhu.applications.services.configuration import assistance_kind_add
from jiuzhu.applications.services.reviews import graded_exits_end, reviews_tick
from jiuzhu.core.dates import add_months, first_of_next_month, last_of_month
from jiuzhu.feeds.services import feed_import
from jiuzhu.monitoring.models import Warning
from jiuzhu.monitoring.services import monitoring_run
from jiuzhu.registry import choices as c
from jiuzhu.registry.models import Enrolment, Income, Person, TimelineEvent
from jiuzhu.registry.services import household_create, person_create
from tests.applications.test_payments import _confirmed
from tests.conftest import COUNTY, TOWN, VILLAGE_A, Family, Personas, login

ID_MAN = "362423196603150030"  # 刘大山, 60, physical disability grade 3
ID_SON = "362423199806060012"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _var_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def hospital_bill(personas: Personas, django_capture_on_commit_callbacks: Any) -> Warning:
    """刘大山 lives alone on 4 800 yuan of farming a year; the medical-insurance file shows a
    stroke and 26 000 yuan paid out of pocket; the monitoring run warns."""
    household = household_create(actor=None, region_code=VILLAGE_A, address="示例一村5组3号")
    person_create(
        actor=None,
        household=household,
        name="刘大山",
        id_number=ID_MAN,
        relationship=c.Relationship.HEAD,
        phone="13807960088",
        health=c.Health.SERIOUS,
        disability_type=c.DisabilityType.PHYSICAL,
        disability_grade=3,
        labour_capacity=c.LabourCapacity.PARTIAL,
    )
    Income.objects.create(
        household=household, kind="agriculture", year=2025, annual_amount=Decimal(4800)
    )
    today = timezone.localdate()
    settled = today - datetime.timedelta(days=20)
    with django_capture_on_commit_callbacks(execute=True):
        feed_import(
            feed_id="medical_settlement",
            file_name="医保结算.csv",
            content=(
                "settlement_id,id_number,settled_on,care_type,icd10,total_amount,out_of_pocket\n"
                f"S9,{ID_MAN},{settled.isoformat()},inpatient,I63.9,86000,26000\n"
            ).encode(),
            actor=None,
            today=today,
        )
    monitoring_run(as_of=today)
    return Warning.objects.get(household=household, rule_id="medical_burden")


def _png(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def test_the_story_through_the_pages(personas: Personas, hospital_bill: Warning) -> None:
    warning = hospital_bill
    household = warning.household
    man = Person.objects.get(household=household)
    assistant = login(Client(), personas.village_assistant)
    officer = login(Client(), personas.town_officer)
    admin = login(Client(), personas.county_admin)

    # the county has its own disability subsidy (困难残疾人生活补贴), 90 yuan a month
    assert (
        admin.post(
            "/applications/configuration/",
            {
                "form": "kind",
                "code": "disability_living",
                "name_zh": "困难残疾人生活补贴",
                "category": "other",
                "income_test": "dibao",
                "amount_rule": "fixed_monthly",
                "parameter": "90",
                "required_documents": ["id_card", "disability_cert", "authorisation"],
                "region": COUNTY,
            },
        ).status_code
        == 302
    )

    # the assistant finds the warning, visits, and closes it with what she found
    assert str(warning.pk) in assistant.get("/warnings/").content.decode()
    visited = (timezone.localtime() - datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = assistant.post(
        f"/warnings/{warning.pk}/verify/",
        {
            "visited_at": visited,
            "findings": "脑梗住院，出院后左侧肢体无力，独居，无力负担医药费",
            "outcome": "referred",
            "need_summary": "临时救助、残疾人补贴",
        },
    )
    assert response.status_code == 302, response.content.decode()[:800]
    page = assistant.get(f"/warnings/{warning.pk}/").content.decode()
    assert f"/applications/new/?warning={warning.pk}" in page

    # she applies on his behalf: the form comes filled in from the warning
    form = assistant.get(f"/applications/new/?warning={warning.pk}")
    assert form.status_code == 200
    assert "temporary" in form.context["chosen_kinds"]
    assert "困难残疾人生活补贴" in form.content.decode()
    response = assistant.post(
        "/applications/new/",
        {
            "warning": warning.pk,
            "applicant": man.pk,
            "kinds": ["temporary", "disability_living"],
            "amount_temporary": "5000",
            "reason": warning.explanation,
        },
    )
    assert response.status_code == 302
    application = Application.objects.get(household=household)
    base = f"/applications/{application.pk}"
    assert (application.channel, application.source_warning) == ("warning", warning)
    assert application.entered_by == personas.village_assistant
    # the declaration was filled in from the registry; she confirms it
    assert assistant.post(f"{base}/declare/", {"income_agriculture": "4800"}).status_code == 302
    for kind in ("id_card", "disability_cert", "medical_bills", "authorisation"):
        assert (
            assistant.post(f"{base}/documents/", {"kind": kind, "file": _png(f"{kind}.png")})
        ).status_code == 302
    authorisation = application.documents.get(kind="authorisation")
    assistant.post(
        f"{base}/authorisation/",
        {"document": authorisation.pk, "signed_on": timezone.localdate(), "signers": [man.pk]},
    )
    assert assistant.post(f"{base}/submit/").status_code == 302

    # the town officer runs the check; the report shows the figures and the rules
    assert officer.post(f"{base}/check/").status_code == 302
    check = application.checks.get()
    report = officer.get(f"{base}/check/{check.pk}/").content.decode()
    assert "400" in report  # 4 800 a year, one member: 400 a month
    assert check.report["figures"]["per_capita_monthly_income"] == "400.00"
    assert "616" in report  # the rural 低保 standard it was tested against
    assert check.report["verdicts"]["disability_living"]["eligible"] is True

    # the assistant who entered it cannot approve; the town officer does
    refused = assistant.post(
        f"{base}/decide/",
        {"kind": "temporary", "outcome": "approved", "reasons": "x", "one_off_amount": "5000"},
    )
    assert refused.status_code in (404, 422)
    for kind, amount in (("temporary", "5000"), ("disability_living", "")):
        response = officer.post(
            f"{base}/decide/",
            {
                "kind": kind,
                "outcome": "approved",
                "reasons": "因病致困，经核对家庭收入低于低保标准",
                "one_off_amount": amount,
            },
        )
        assert response.status_code == 302, response.content.decode()[:800]
    application.refresh_from_db()
    assert application.status == Application.Status.DECIDED
    assert all(d.made_by == personas.town_officer for d in application.decisions.all())

    # publicity: on the village board, masked, with the supervision phone and a QR code
    assert officer.post(f"{base}/publish/").status_code == 302
    disclosure = Disclosure.objects.get(application=application)
    board = Client().get(f"/disclosure/{VILLAGE_A}/").content.decode()
    assert "刘*山" in board and "困难残疾人生活补贴" in board and disclosure.reference in board
    assert "刘大山" not in board and ID_MAN not in board and "13807960088" not in board
    assert Client().get(f"/disclosure/{VILLAGE_A}/qr.svg").status_code == 200

    # the period ends with no objection: taken down, confirmed, enrolled
    disclosures_end_due(today=disclosure.ends_on + datetime.timedelta(days=1))
    disclosure.refresh_from_db()
    application.refresh_from_db()
    assert disclosure.status == Disclosure.Status.ENDED
    assert application.status == Application.Status.CONFIRMED
    assert "刘*山" not in Client().get(f"/disclosure/{VILLAGE_A}/").content.decode()
    subsidy = Enrolment.objects.get(household=household, category="other")
    first_month = first_of_next_month(disclosure.ends_on)
    assert (subsidy.start_date, subsidy.monthly_amount) == (first_month, Decimal(90))

    # he is on the month's payment list: the subsidy from its first month, the one-off
    # help in the month it was confirmed
    for month, amount in (
        (first_month, "90"),
        (timezone.localtime(application.confirmed_at).date(), "5000"),
    ):
        response = officer.post(
            "/applications/payments/", {"month": month.strftime("%Y-%m"), "region": TOWN}
        )
        assert response.status_code == 302
        rows = officer.get(response["Location"]).context["rows"]
        mine = [dict(r) for r in rows if dict(r).get("收款人") == "刘*山"]
        assert any(Decimal(r["金额（元）"]) == Decimal(amount) for r in mine), (month, rows)

    # every step is on his household's timeline
    kinds = set(TimelineEvent.objects.filter(household=household).values_list("kind", flat=True))
    assert {
        "monitoring.warning_verified",
        "applications.started",
        "applications.submitted",
        "applications.decided",
        "applications.confirmed",
        "registry.enrolled",
    } <= kinds


def test_wages_rise_and_the_dibao_household_gets_a_six_month_graded_exit(
    personas: Personas, family: Family, django_capture_on_commit_callbacks: Any
) -> None:
    # a 低保 household (approved through an application and enrolled at 1 350 a month)
    application = _confirmed(personas, family)
    decision = application.decisions.get(requested__kind__code="dibao")
    enrolment = decision.enrolment
    assert enrolment is not None and enrolment.status == "active"
    # the son comes home and takes a job: social insurance shows an 8 000 wage base
    person_create(
        actor=None,
        household=family.household,
        name="王大力",
        id_number=ID_SON,
        relationship=c.Relationship.CHILD,
        labour_capacity=c.LabourCapacity.FULL,
    )
    today = timezone.localdate()
    # the job began after the household's last check: the months since, at most six
    checked = application.checks.latest("as_of").as_of
    months = [m for m in (add_months(today.replace(day=1), -k) for k in range(1, 7)) if m > checked]
    assert months, "the test needs at least one month between the check and today"
    with django_capture_on_commit_callbacks(execute=True):
        feed_import(
            feed_id="social_insurance_contribution",
            file_name="社保缴费.csv",
            content=(
                "id_number,period,scheme,wage_base,employer\n"
                + "".join(
                    f"{ID_SON},{m.isoformat()},employee_pension,8000,某物流公司\n" for m in months
                )
            ).encode(),
            actor=None,
            today=today,
        )
    # the daily round sees the new wage base and opens a re-check; the data show income
    # above the line, so the system does not settle it silently: it waits for a worker
    counts = reviews_tick(today=today)
    assert counts["rechecks"] == 1
    review = Review.objects.get(decision=decision)
    assert review.trigger == Review.Trigger.RECHECK and "8000" in review.reason
    assert review.outcome == "" and not review.silent
    officer = login(Client(), personas.town_officer)
    listing = officer.get("/applications/reviews/").content.decode()
    assert application.number in listing
    # the town officer checks again and settles it from the page
    assert officer.post(f"/applications/reviews/{review.pk}/run/").status_code == 302
    review.refresh_from_db()
    assert review.outcome == Review.Outcome.GRADED_EXIT
    exit_on = last_of_month(add_months(today, 6))
    assert review.exit_on == exit_on
    assert review.economic_check is not None
    assert Decimal(review.economic_check.report["figures"]["income_by_kind"]["wages"]) == (
        Decimal(8000 * len(months))
    )
    # still paid through the sixth month, then ended once
    enrolment.refresh_from_db()
    assert enrolment.status == "active"
    response = officer.post(
        "/applications/payments/", {"month": exit_on.strftime("%Y-%m"), "region": TOWN}
    )
    rows = officer.get(response["Location"]).context["rows"]
    assert any(dict(r).get("收款人") == "王*国" for r in rows)
    assert graded_exits_end(today=exit_on + datetime.timedelta(days=1)) == 1
    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.end_date) == ("ended", exit_on)
    page = officer.get(f"/applications/{application.pk}/").content.decode()
    assert exit_on.isoformat() in page


def test_the_story_through_the_api(personas: Personas, hospital_bill: Warning) -> None:
    """The same story from a tablet app: the visit on the page, everything after it with
    bearer tokens on /api/v1/applications/."""
    warning = hospital_bill
    man = Person.objects.get(household=warning.household)
    _, assistant_token = api_token_create(user=personas.village_assistant, name="pad")
    _, officer_token = api_token_create(user=personas.town_officer, name="desk")
    api = Client()
    as_assistant = {"HTTP_AUTHORIZATION": f"Bearer {assistant_token}"}
    as_officer = {"HTTP_AUTHORIZATION": f"Bearer {officer_token}"}

    def post(url: str, body: dict[str, Any], who: dict[str, str]) -> Any:
        return api.post(f"/api/v1/applications{url}", body, content_type="application/json", **who)

    assistance_kind_add(
        actor=personas.county_admin,
        region_code=COUNTY,
        code="disability_living",
        name_zh="困难残疾人生活补贴",
        name_en="Living subsidy for disabled people in hardship",
        category="other",
        income_test="dibao",
        amount_rule="fixed_monthly",
        amount_parameters={"monthly": "90"},
        required_documents=["id_card", "disability_cert", "authorisation"],
    )
    kinds = api.get("/api/v1/applications/kinds", **as_assistant).json()
    assert "disability_living" in {k["code"] for k in kinds}
    # the visit, on the phone's page
    login(Client(), personas.village_assistant).post(
        f"/warnings/{warning.pk}/verify/",
        {
            "visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "findings": "脑梗住院，独居",
            "outcome": "referred",
            "need_summary": "临时救助、残疾人补贴",
        },
    )
    # on his behalf, from the warning, for the two kinds he chose
    started = post(
        f"/from-warning/{warning.pk}",
        {
            "kinds": ["temporary", "disability_living"],
            "requested_amounts": {"temporary": "5000"},
        },
        as_assistant,
    )
    assert started.status_code == 201, started.content
    number, pk = started.json()["number"], started.json()["id"]
    for kind in ("id_card", "disability_cert", "medical_bills", "authorisation"):
        uploaded = api.post(
            f"/api/v1/applications/{pk}/documents",
            {"kind": kind, "file": _png(f"{kind}.png")},
            **as_assistant,
        )
        assert uploaded.status_code == 201, uploaded.content
        if kind == "authorisation":
            form_id = uploaded.json()["id"]
    signed = post(
        f"/{pk}/authorisation",
        {
            "document_id": form_id,
            "signed_on": timezone.localdate().isoformat(),
            "signers": [man.pk],
        },
        as_assistant,
    )
    assert signed.status_code == 200, signed.content
    assert post(f"/{pk}/submit", {}, as_assistant).status_code == 200
    # the check by the town officer; its report in the application's file
    assert post(f"/{pk}/check", {}, as_officer).status_code == 201
    file = api.get(f"/api/v1/applications/{pk}", **as_officer).json()
    report = file["latest_check"]["report"]
    assert report["figures"]["per_capita_monthly_income"] == "400.00"
    assert report["verdicts"]["disability_living"]["eligible"] is True
    # maker-checker: the assistant is refused, the officer decides
    refused = post(
        f"/{pk}/decisions",
        {"kind": "temporary", "outcome": "approved", "reasons": "x", "one_off_amount": "5000"},
        as_assistant,
    )
    assert refused.status_code == 403
    for body in (
        {
            "kind": "temporary",
            "outcome": "approved",
            "reasons": "因病致困",
            "one_off_amount": "5000",
        },
        {"kind": "disability_living", "outcome": "approved", "reasons": "残疾且收入低于标准"},
    ):
        assert post(f"/{pk}/decisions", body, as_officer).status_code == 201
    published = post(f"/{pk}/disclosure", {}, as_officer)
    assert published.status_code == 201
    ends_on = datetime.date.fromisoformat(published.json()["ends_on"])
    disclosures_end_due(today=ends_on + datetime.timedelta(days=1))
    assert api.get(f"/api/v1/applications/{pk}", **as_officer).json()["application"]["status"] == (
        "confirmed"
    )
    # the payment list of the subsidy's first month names him, masked
    first_month = first_of_next_month(ends_on)
    built = post("/payment-lists", {"region": TOWN, "month": f"{first_month:%Y-%m}"}, as_officer)
    assert built.status_code == 201
    rows = api.get(f"/api/v1/applications/payment-lists/{built.json()['id']}", **as_officer)
    lines = [r for r in rows.json()["rows"] if "刘*山" in r]
    assert lines and "90.00" in lines[0] and "困难残疾人生活补贴" in lines[0]
    assert "刘大山" not in json.dumps(rows.json(), ensure_ascii=False)
    assert number.startswith("SQ360823")
