"""Confirmed cases become enrolments; the month's payment list and its export."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import timezone

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.applications.models import Application, PaymentLine
from jiuzhu.applications.services import (
    disclosure_publish,
    payment_list_build,
    payment_list_export,
    urgent_relief_pay,
)
from jiuzhu.core.dates import first_of_next_month
from jiuzhu.registry.models import Enrolment, TimelineEvent
from tests.applications.test_disclosure import _decided
from tests.applications.test_intake import _start
from tests.conftest import COUNTY, ID_HEAD, TOWN, Family, Personas


@pytest.fixture(autouse=True)
def _var_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"


def _confirmed(personas: Personas, family: Family) -> Application:
    application = _decided(personas, family)  # 低保 approved at 1 350 a month
    disclosure_publish(
        actor=personas.town_officer,
        application=application,
        starts_on=timezone.localdate() - datetime.timedelta(days=7),
    )
    call_command("applications", "tick")
    application.refresh_from_db()
    return application


def test_confirmation_enrols_from_the_month_after_the_disclosure(
    personas: Personas, family: Family
) -> None:
    application = _confirmed(personas, family)
    assert application.status == Application.Status.CONFIRMED
    decision = application.decisions.get(requested__kind__code="dibao")
    enrolment = decision.enrolment
    assert enrolment is not None
    ended = timezone.localdate() - datetime.timedelta(days=1)
    assert enrolment.start_date == first_of_next_month(ended)
    assert (enrolment.category, enrolment.monthly_amount) == ("dibao", Decimal(1350))
    assert enrolment.source == f"application {application.number}"
    assert TimelineEvent.objects.filter(
        household=family.household, kind="registry.enrolled", object_id=str(enrolment.pk)
    ).exists()
    # a second tick enrols nobody twice
    call_command("applications", "tick")
    assert Enrolment.objects.filter(source=f"application {application.number}").count() == 1


def test_the_payment_list_holds_the_months_the_enrolment_runs(
    personas: Personas, family: Family
) -> None:
    application = _confirmed(personas, family)
    start = application.decisions.get(requested__kind__code="dibao").enrolment.start_date
    before = payment_list_build(
        actor=personas.town_officer, region_code=TOWN, month=start - datetime.timedelta(days=1)
    )
    assert before.line_count == 0
    listed = payment_list_build(actor=personas.town_officer, region_code=TOWN, month=start)
    assert (listed.line_count, listed.total) == (1, Decimal(1350))
    line = listed.lines.get()
    assert (line.payment, line.payee, line.assistance.code) == (
        PaymentLine.Kind.MONTHLY,
        family.head,
        "dibao",
    )
    again = payment_list_build(actor=personas.county_admin, region_code=COUNTY, month=start)
    assert again.total == Decimal(1350)
    rebuilt = payment_list_build(actor=personas.town_officer, region_code=TOWN, month=start)
    assert rebuilt.version == 2
    with pytest.raises(PermissionDenied):  # an assistant builds no lists
        payment_list_build(actor=personas.village_assistant, region_code=TOWN, month=start)


def test_urgent_help_is_on_the_list_of_the_month_it_was_paid(
    personas: Personas, family: Family
) -> None:
    application = _start(personas, family, ["temporary"])
    urgent_relief_pay(
        actor=personas.town_officer,
        application=application,
        amount=Decimal(3000),
        reasons="突发重病住院，先行救助",
    )
    this_month = timezone.localdate().replace(day=1)
    listed = payment_list_build(actor=personas.town_officer, region_code=TOWN, month=this_month)
    assert (listed.line_count, listed.total) == (1, Decimal(3000))
    assert listed.lines.get().payment == PaymentLine.Kind.ONE_OFF
    later = payment_list_build(
        actor=personas.town_officer, region_code=TOWN, month=first_of_next_month(this_month)
    )
    assert later.line_count == 0


def test_the_export_for_the_bank_is_masked_unless_unmasking_is_allowed(
    personas: Personas, family: Family
) -> None:
    application = _confirmed(personas, family)
    start = application.decisions.get(requested__kind__code="dibao").enrolment.start_date
    listed = payment_list_build(actor=personas.town_officer, region_code=TOWN, month=start)
    # masked by default
    content, name = payment_list_export(actor=personas.town_officer, payment_list=listed)
    assert name.endswith(".xlsx") and "发放名册" in name
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert rows[0][3] == "收款人" and rows[1][3] == "王*国"
    assert ID_HEAD not in str(rows) and rows[1][7] == 1350
    assert rows[-1][5] == "合计" and rows[-1][7] == 1350
    # full names and ID numbers for the bank: the town officer may unmask
    content, name = payment_list_export(
        actor=personas.town_officer, payment_list=listed, file_format="csv", full=True
    )
    text = content.decode("utf-8-sig")
    assert "王建国" in text and ID_HEAD in text and name.endswith(".csv")
    # the supervisor may export? no: no export right
    with pytest.raises(PermissionDenied):
        payment_list_export(actor=personas.supervisor, payment_list=listed)
    exports = AuditEvent.objects.filter(action="export", object_type="applications.payment_list")
    assert [e.detail["full"] for e in exports.order_by("id")] == [False, True]


def test_the_ledger_counts_households_amounts_additions_and_exits(
    personas: Personas, family: Family
) -> None:
    from jiuzhu.applications.selectors import ledger
    from jiuzhu.applications.services.payments import ledger_export

    application = _confirmed(personas, family)
    start = application.decisions.get(requested__kind__code="dibao").enrolment.start_date
    # the family was on 低保 already (1 500 a month since 2024, from the roster)
    rows = ledger(user=personas.county_admin, region_code=COUNTY, month=start)
    dibao = [r for r in rows if "低保" in r.category and "边缘" not in r.category]
    assert len(dibao) == 1
    row = dibao[0]
    assert (row.households, row.monthly_amount, row.added, row.exited) == (
        1,
        Decimal(2850),
        1,
        0,
    )
    assert row.area  # the town, one level below the county
    # no person in it; and the export is audited
    content, name = ledger_export(actor=personas.county_admin, region_code=COUNTY, month=start)
    assert name == f"救助台账-{COUNTY}-{start:%Y-%m}.xlsx"
    sheet = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert sheet[0][0] == "救助类别" and sheet[-1][0] == "合计" and sheet[-1][3] == 2850
    assert "王" not in str(sheet)
    assert AuditEvent.objects.filter(object_type="applications.ledger").count() == 1
    with pytest.raises(PermissionDenied):  # another town's officer: not his area
        ledger(user=personas.other_town_officer, region_code=TOWN, month=start)
