"""Confirmed cases become enrolments; each month's payment list (发放名册) for the bank."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import region_in_scope, user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.applications.models import (
    Application,
    Decision,
    PaymentLine,
    PaymentList,
)
from jiuzhu.applications.services.common import application_timeline, audit_application
from jiuzhu.core.dates import last_of_month
from jiuzhu.core.masking import mask_name
from jiuzhu.core.tabular import write_csv, write_xlsx
from jiuzhu.registry.protected import reveal_id_number
from jiuzhu.registry.services import enrolment_start


@transaction.atomic
def application_confirm(
    *,
    application: Application,
    actor: User | None,
    from_status: str,
    benefit_start: datetime.date,
) -> bool:
    """Confirm a case and enrol the household in every kind approved: monthly benefits
    from ``benefit_start``, one-off help on the day of confirmation. Claimed by a
    conditional UPDATE, so a case is enrolled once."""
    now = timezone.now()
    claimed = Application.objects.filter(pk=application.pk, status=from_status).update(
        status=Application.Status.CONFIRMED, confirmed_at=now
    )
    if not claimed:
        return False
    today = timezone.localdate()
    approved = Decision.objects.filter(
        application=application,
        outcome=Decision.Outcome.APPROVED,
        status=Decision.Status.FINAL,
        enrolment__isnull=True,
    ).select_related("requested__kind")
    for decision in approved:
        kind = decision.requested.kind
        one_off = decision.monthly_amount == 0 and decision.one_off_amount > 0
        # The registry records who is enrolled; the system enrols (the decision carries
        # who decided), so the assistant who entered the case needs no registry right.
        enrolment = enrolment_start(
            actor=None,
            household=application.household,
            category=kind.category,
            start_date=today if one_off else benefit_start,
            end_date=today if one_off else None,
            monthly_amount=decision.monthly_amount,
            source=f"application {application.number}"[:32],
        )
        decision.enrolment = enrolment
        decision.save(update_fields=["enrolment"])
    audit_application(actor, application, AuditAction.UPDATE, status="confirmed")
    application_timeline(
        application,
        "applications.confirmed",
        _("Confirmed; enrolled from %(start)s") % {"start": benefit_start.isoformat()},
        actor,
    )
    return True


@transaction.atomic
def payment_list_build(*, actor: User, region_code: str, month: datetime.date) -> PaymentList:
    """The month's list for an area: every approved monthly amount whose enrolment runs in
    the month, and every one-off amount paid in it. A rebuild is a new version."""
    if not user_has_perm(actor, Perm.EXPORT) or not region_in_scope(actor, region_code):
        raise PermissionDenied(_("You may not build payment lists for this area."))
    month = month.replace(day=1)
    end = last_of_month(month)
    in_area = Q(application__region__code__startswith=region_code)
    monthly = (
        Decision.objects.filter(
            in_area,
            outcome=Decision.Outcome.APPROVED,
            status=Decision.Status.FINAL,
            monthly_amount__gt=0,
            enrolment__isnull=False,
            enrolment__status="active",
            enrolment__start_date__lte=end,
        )
        .filter(Q(enrolment__end_date__isnull=True) | Q(enrolment__end_date__gte=month))
        .select_related("application", "requested__kind")
    )
    # One-off amounts are paid in the month 先行救助 paid them, or else of confirmation.
    zone = timezone.get_current_timezone()
    since = datetime.datetime.combine(month, datetime.time.min, tzinfo=zone)
    until = datetime.datetime.combine(end, datetime.time.max, tzinfo=zone)
    one_offs = Decision.objects.filter(
        in_area,
        Q(urgent_relief__paid_at__range=(since, until))
        | Q(urgent_relief__isnull=True, application__confirmed_at__range=(since, until)),
        outcome=Decision.Outcome.APPROVED,
        status=Decision.Status.FINAL,
        one_off_amount__gt=0,
    ).select_related("application", "requested__kind")
    version = (
        PaymentList.objects.filter(month=month, region_id=region_code).aggregate(v=Max("version"))[
            "v"
        ]
        or 0
    ) + 1
    payment_list = PaymentList.objects.create(
        month=month, region_id=region_code, version=version, built_by=actor
    )

    def line(decision: Decision, payment: str, amount: Decimal) -> PaymentLine:
        return PaymentLine(
            payment_list=payment_list,
            household_id=decision.application.household_id,
            payee_id=decision.application.applicant_id,
            decision=decision,
            assistance=decision.requested.kind,
            payment=payment,
            amount=amount,
        )

    lines = [line(d, PaymentLine.Kind.MONTHLY, d.monthly_amount) for d in monthly]
    lines += [line(d, PaymentLine.Kind.ONE_OFF, d.one_off_amount) for d in one_offs]
    PaymentLine.objects.bulk_create(lines)
    payment_list.line_count = len(lines)
    payment_list.total = sum((line.amount for line in lines), Decimal(0))
    payment_list.save(update_fields=["line_count", "total"])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="applications.payment_list",
        object_id=payment_list.pk,
        region_code=region_code,
        detail={
            "month": f"{month:%Y-%m}",
            "version": version,
            "lines": len(lines),
            "total": str(payment_list.total),
        },
    )
    return payment_list


HEADER = [
    "序号",
    "村（社区）",
    "户编号",
    "收款人",
    "身份证号码",
    "救助类别",
    "发放方式",
    "金额（元）",
]


def payment_list_rows(*, actor: User, payment_list: PaymentList, full: bool) -> list[list[str]]:
    """The list as rows (header, lines, totals per kind, grand total). Names and ID
    numbers are masked unless ``full`` — which needs the unmasking permission and is
    audited as one export."""
    if not user_has_perm(actor, Perm.EXPORT) or not region_in_scope(actor, payment_list.region_id):
        raise PermissionDenied(_("You may not export this payment list."))
    if full and not user_has_perm(actor, Perm.UNMASK):
        raise PermissionDenied(_("Exporting full names and ID numbers needs the unmask right."))
    lines = payment_list.lines.select_related("household__region", "payee", "assistance")
    rows = [HEADER]
    by_kind: dict[str, Decimal] = {}
    for number, line in enumerate(lines, start=1):
        name = line.payee.name if full else mask_name(line.payee.name)
        id_number = (
            reveal_id_number(line.payee.id_number_encrypted)
            if full
            else line.payee.id_number_masked
        )
        rows.append(
            [
                str(number),
                line.household.region.name,
                line.household.number,
                name,
                id_number,
                line.assistance.name_zh,
                line.get_payment_display(),
                str(line.amount),
            ]
        )
        by_kind[line.assistance.name_zh] = (
            by_kind.get(line.assistance.name_zh, Decimal(0)) + line.amount
        )
    for kind, amount in sorted(by_kind.items()):
        rows.append(["", "", "", "", "", f"小计：{kind}", "", str(amount)])
    rows.append(
        ["", "", "", "", "", "合计", f"{payment_list.line_count}笔", str(payment_list.total)]
    )
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="applications.payment_list",
        object_id=payment_list.pk,
        region_code=payment_list.region_id,
        detail={"lines": payment_list.line_count, "full": full},
    )
    return rows


def payment_list_export(
    *, actor: User, payment_list: PaymentList, file_format: str = "xlsx", full: bool = False
) -> tuple[bytes, str]:
    """The list as an Excel or CSV file for the bank: (content, file name)."""
    if file_format not in ("xlsx", "csv"):
        raise ValidationError(_("Choose Excel or CSV."))
    rows = payment_list_rows(actor=actor, payment_list=payment_list, full=full)
    name = f"发放名册-{payment_list.region_id}-{payment_list.month:%Y-%m}-v{payment_list.version}"
    if file_format == "csv":
        return write_csv(rows), f"{name}.csv"
    amounts = [
        [
            Decimal(cell) if index == 7 and cell[:1].isdigit() else cell
            for index, cell in enumerate(row)
        ]
        for row in rows
    ]
    return write_xlsx(amounts, title=f"{payment_list.month:%Y-%m}"), f"{name}.xlsx"


def ledger_export(
    *, actor: User, region_code: str, month: datetime.date, file_format: str = "xlsx"
) -> tuple[bytes, str]:
    """The month's ledger (台账) of an area as Excel or CSV; audited as an export."""
    from jiuzhu.applications.selectors import ledger, ledger_rows

    if not user_has_perm(actor, Perm.EXPORT):
        raise PermissionDenied(_("You may not export this payment list."))
    if file_format not in ("xlsx", "csv"):
        raise ValidationError(_("Choose Excel or CSV."))
    rows = ledger_rows(ledger(user=actor, region_code=region_code, month=month))
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="applications.ledger",
        object_id=f"{region_code}:{month:%Y-%m}",
        region_code=region_code,
        detail={"rows": len(rows) - 2},
    )
    name = f"救助台账-{region_code}-{month:%Y-%m}"
    if file_format == "csv":
        return write_csv(rows), f"{name}.csv"
    return write_xlsx(rows, title=f"{month:%Y-%m}"), f"{name}.xlsx"
