"""Intake, declarations, documents, the authorisation and the economic check, through the
services, with department records imported by the real importer."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.applications.models import Application, Document, Standard
from jiuzhu.applications.selectors import application_get, standard_in_force
from jiuzhu.applications.services import (
    CheckNotAuthorised,
    application_declare,
    application_start,
    application_submit,
    authorisation_record,
    document_add,
    economic_check_run,
)
from jiuzhu.feeds.services import feed_import
from jiuzhu.registry.models import Income, TimelineEvent
from tests.conftest import ID_HEAD, ID_SPOUSE, TOWN, VILLAGE_A, Family, Personas

AS_OF = datetime.date(2026, 6, 1)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64


@pytest.fixture(autouse=True)
def _var_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"


def _upload(content: bytes = PDF, name: str = "scan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def _start(personas: Personas, family: Family, kinds: list[str]) -> Application:
    return application_start(
        actor=personas.village_assistant,
        household=family.household,
        applicant=family.head,
        kinds=kinds,
        channel=Application.Channel.ON_BEHALF,
        reason="老伴住院，家中无力承担",
    )


def _authorise(personas: Personas, family: Family, application: Application) -> None:
    form = document_add(
        actor=personas.village_assistant,
        application=application,
        kind=Document.Kind.AUTHORISATION,
        upload=_upload(),
    )
    authorisation_record(
        actor=personas.village_assistant,
        application=application,
        document=form,
        signed_on=datetime.date(2026, 5, 20),
        signers=[family.head.pk, family.spouse.pk],
    )


def _import(feed: str, header: str, rows: list[str], capture: Any) -> None:
    with capture(execute=True):
        batch = feed_import(
            feed_id=feed,
            file_name=f"{feed}.csv",
            content=(header + "\n" + "\n".join(rows) + "\n").encode(),
            actor=None,
            today=AS_OF,
        )
    assert batch.rows_quarantined == 0, list(batch.quarantine.values_list("errors", flat=True))


def test_one_application_asks_for_several_kinds_and_lands_on_the_timeline(
    personas: Personas, family: Family
) -> None:
    # when
    application = _start(personas, family, ["temporary", "dibao"])
    # then
    assert application.number.startswith("SQ3608232")
    assert application.region_id == VILLAGE_A
    assert sorted(application.kinds.values_list("kind__code", flat=True)) == ["dibao", "temporary"]
    assert TimelineEvent.objects.filter(
        household=family.household, kind="applications.started"
    ).exists()
    assert AuditEvent.objects.filter(object_type="applications.application").count() == 1


def test_intake_refuses_unknown_kinds_outsiders_and_strangers(
    personas: Personas, family: Family
) -> None:
    with pytest.raises(ValidationError) as error:
        _start(personas, family, ["lottery"])
    assert "kinds" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        application_start(
            actor=personas.colleague,  # assistant of village B
            household=family.household,
            applicant=family.head,
            kinds=["temporary"],
            channel=Application.Channel.ON_BEHALF,
        )
    application = _start(personas, family, ["temporary"])
    with pytest.raises(Http404):
        application_get(user=personas.colleague, application_id=application.pk)
    assert application_get(user=personas.town_officer, application_id=application.pk)


def test_submission_needs_the_documents_and_the_authorisation(
    personas: Personas, family: Family
) -> None:
    application = _start(personas, family, ["dibao"])
    with pytest.raises(ValidationError) as error:
        application_submit(actor=personas.village_assistant, application=application)
    assert set(error.value.message_dict) == {"documents", "authorisation"}
    for kind in (Document.Kind.ID_CARD, Document.Kind.HUKOU):
        document_add(
            actor=personas.village_assistant,
            application=application,
            kind=kind,
            upload=_upload(JPEG, "id.jpg"),
        )
    _authorise(personas, family, application)
    submitted = application_submit(actor=personas.village_assistant, application=application)
    assert submitted.status == Application.Status.SUBMITTED
    # nothing changes after submission
    with pytest.raises(ValidationError):
        application_declare(
            actor=personas.village_assistant,
            application=application,
            figures={("deposits", ""): Decimal(1)},
        )


def test_documents_are_checked_by_content_and_every_adult_must_sign(
    personas: Personas, family: Family
) -> None:
    application = _start(personas, family, ["dibao"])
    with pytest.raises(ValidationError) as error:
        document_add(
            actor=personas.village_assistant,
            application=application,
            kind=Document.Kind.ID_CARD,
            upload=_upload(b"MZ\x90\x00 not a scan", "id.jpg"),
        )
    assert error.value.message_dict["file"] == ["材料须为 JPEG、PNG 或 PDF 文件。"]
    form = document_add(
        actor=personas.village_assistant,
        application=application,
        kind=Document.Kind.AUTHORISATION,
        upload=_upload(),
    )
    with pytest.raises(ValidationError) as error:
        authorisation_record(
            actor=personas.village_assistant,
            application=application,
            document=form,
            signed_on=datetime.date(2026, 5, 20),
            signers=[family.head.pk],  # the spouse is an adult too
        )
    assert "李*英" in error.value.message_dict["signers"][0]


def test_the_check_does_not_run_without_the_authorisation(
    personas: Personas, family: Family
) -> None:
    application = _start(personas, family, ["dibao"])
    with pytest.raises(CheckNotAuthorised):
        economic_check_run(actor=personas.town_officer, application=application, as_of=AS_OF)
    assert not application.checks.exists()
    # and an assistant may enter an application but not run the check
    _authorise(personas, family, application)
    with pytest.raises(PermissionDenied):
        economic_check_run(actor=personas.village_assistant, application=application, as_of=AS_OF)


def test_the_check_report_shows_sources_standards_verdicts_and_discrepancies(
    personas: Personas, family: Family, django_capture_on_commit_callbacks: Any
) -> None:
    # given: the registry knows a pension and farming income; the department data know
    # more — the spouse's employer paid pension contributions on 2 000 a month, and the
    # head bought a car
    Income.objects.create(
        household=family.household,
        person=family.head,
        kind="pension",
        year=2025,
        annual_amount=Decimal(3600),
    )
    Income.objects.create(
        household=family.household, kind="agriculture", year=2025, annual_amount=Decimal(2400)
    )
    _import(
        "social_insurance_contribution",
        "id_number,period,scheme,wage_base,employer",
        [f"{ID_SPOUSE},2025-{m:02d}-01,employee_pension,2000,某服装厂" for m in range(6, 13)]
        + [f"{ID_SPOUSE},2026-{m:02d}-01,employee_pension,2000,某服装厂" for m in range(1, 6)],
        django_capture_on_commit_callbacks,
    )
    _import(
        "vehicle_registration",
        "plate,id_number,registered_on,action,kind,price",
        [f"赣C12345,{ID_HEAD},2026-02-10,registered,car,68000"],
        django_capture_on_commit_callbacks,
    )
    application = _start(personas, family, ["dibao", "dibao_marginal", "temporary"])
    application_declare(
        actor=personas.village_assistant,
        application=application,
        figures={
            ("income", "pension"): Decimal(3600),
            ("income", "agriculture"): Decimal(2400),
            ("vehicles", ""): 0,
            ("deposits", ""): Decimal(5000),
        },
    )
    _authorise(personas, family, application)
    # when
    check = economic_check_run(actor=personas.town_officer, application=application, as_of=AS_OF)
    # then: 3 600 + 2 400 + 12 × 2 000 = 30 000 a year, 833.33 a person a month
    assert check.members == 3
    assert check.annual_income == Decimal("30000.00")
    assert check.per_capita_monthly_income == Decimal("833.33")
    report = check.report
    assert report["figures"]["income_by_kind"] == {
        "agriculture": "2400.00",
        "pension": "3600.00",
        "wages": "24000.00",
    }
    assert report["standards"]["dibao_monthly"]["value"] == "616"  # rural household
    assert {s["source"] for s in report["sources"]} >= {
        "registry.income",
        "feed.social_insurance_contribution",
        "feed.vehicle_registration",
    }
    verdicts = report["verdicts"]
    assert verdicts["dibao"]["eligible"] is False  # 833.33 ≥ 616, and the car
    assert verdicts["dibao_marginal"]["tests"][0]["passed"] is True  # < 924
    assert verdicts["dibao_marginal"]["eligible"] is False  # the car fails the assets
    assert verdicts["temporary"]["eligible"] is None
    assert {d["item"] for d in report["discrepancies"]} == {"income", "income:wages", "vehicles"}
    # no clear personal data in the report: names masked, no ID numbers
    text = str(report)
    assert "王建国" not in text and ID_HEAD not in text and "王*国" in text
    assert TimelineEvent.objects.filter(
        household=family.household, kind="applications.checked"
    ).exists()


def test_the_standard_in_force_is_the_most_local_and_latest(
    personas: Personas, family: Family
) -> None:
    rural = {"region_code": VILLAGE_A, "area_type": "rural"}
    assert standard_in_force("dibao_monthly", on=AS_OF, **rural).value == Decimal(616)
    Standard.objects.create(
        name="dibao_monthly",
        region_id="360823",
        area_type="",
        value=Decimal(700),
        valid_from=datetime.date(2026, 1, 1),
    )
    Standard.objects.create(
        name="dibao_monthly",
        region_id=TOWN,
        area_type="rural",
        value=Decimal(720),
        valid_from=datetime.date(2026, 7, 1),
    )
    # the county's row beats the national one; the town's is not in force yet
    found = standard_in_force("dibao_monthly", on=AS_OF, **rural)
    assert (found.value, found.region) == (Decimal(700), "360823")
    later = standard_in_force("dibao_monthly", on=datetime.date(2026, 7, 1), **rural)
    assert (later.value, later.region) == (Decimal(720), TOWN)
    # an urban household of the town still gets the county's row
    urban = standard_in_force(
        "dibao_monthly", region_code=VILLAGE_A, area_type="urban", on=datetime.date(2026, 7, 1)
    )
    assert urban.value == Decimal(700)


def test_a_missing_standard_is_a_clear_refusal_not_a_crash(
    personas: Personas, family: Family
) -> None:
    application = _start(personas, family, ["dibao"])
    _authorise(personas, family, application)
    Standard.objects.filter(name="vehicle_limit").delete()
    with pytest.raises(ValidationError) as refused:
        economic_check_run(actor=personas.town_officer, application=application, as_of=AS_OF)
    assert "county administrator" in str(refused.value) or "县级管理员" in str(refused.value)
    assert not application.checks.exists()
