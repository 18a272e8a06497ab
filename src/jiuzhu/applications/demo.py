"""Demo applications: one of each stage in the demo village, made through the real
services by the demo accounts, so every page has something true to show."""

from __future__ import annotations

import io
from decimal import Decimal

import segno
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from jiuzhu.accounts.models import User
from jiuzhu.applications.models import Application, AssistanceKind, Document
from jiuzhu.applications.selectors import adult_members
from jiuzhu.applications.services import (
    application_start,
    application_submit,
    authorisation_record,
    decision_make,
    decision_second_approve,
    disclosure_publish,
    document_add,
    economic_check_run,
    payment_list_build,
)
from jiuzhu.applications.services.configuration import assistance_kind_add
from jiuzhu.applications.services.self_service import self_application_receive
from jiuzhu.registry.models import Household
from jiuzhu.registry.selectors import household_members

VILLAGE = "360823100201"
TOWN = "360823100"
COUNTY = "360823"


def _scan(label: str) -> SimpleUploadedFile:
    """A real PNG standing in for a scanned page (a QR code naming what it stands for)."""
    buffer = io.BytesIO()
    segno.make(f"演示材料（虚构）{label}").save(buffer, kind="png", scale=4)
    return SimpleUploadedFile(f"{label}.png", buffer.getvalue(), content_type="image/png")


def _complete(assistant: User, application: Application) -> None:
    """Attach what every kind asks for, record the signed authorisation, hand it in."""
    requested = application.kinds.select_related("kind")
    needed = {d for r in requested for d in r.kind.required_documents}
    for kind in sorted(needed | {Document.Kind.ID_CARD}):
        document = document_add(
            actor=assistant, application=application, kind=kind, upload=_scan(kind)
        )
        if kind == Document.Kind.AUTHORISATION:
            today = timezone.localdate()
            members = household_members(household_id=application.household_id)
            adults = [m.pk for m in adult_members(members, today)]
            authorisation_record(
                actor=assistant,
                application=application,
                document=document,
                signed_on=today,
                signers=adults,
            )
    application_submit(actor=assistant, application=application)


def demo_applications_seed() -> int:
    """Seed once (nothing if the demo village has applications already); returns how many
    applications were made."""
    if Application.objects.filter(region_id=VILLAGE).exists():
        return 0
    # Poorest first by the registry's incomes, and not enrolled yet: the likeliest to pass
    # the check (which still decides, from every department's records).
    households = list(
        Household.objects.filter(region_id=VILLAGE, member_count__gte=1)
        .exclude(enrolments__status="active")
        .annotate(income=Coalesce(Sum("incomes__annual_amount"), Decimal(0)))
        .annotate(per_capita=F("income") / F("member_count"))
        .order_by("per_capita", "id")[:6]
    )
    if len(households) < 4:
        return 0
    admin = User.objects.get(username="county_admin")
    officer = User.objects.get(username="town_officer")
    assistant = User.objects.get(username="village_assistant")
    if not AssistanceKind.objects.filter(code="disability_living").exists():
        assistance_kind_add(
            actor=admin,
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

    def start(household: Household, kinds: list[str], reason: str) -> Application:
        applicant = next(
            m for m in household_members(household_id=household.pk) if not m.is_deceased
        )
        return application_start(
            actor=assistant,
            household=household,
            applicant=applicant,
            kinds=kinds,
            channel=Application.Channel.ON_BEHALF,
            reason=reason,
            requested_amounts={"temporary": Decimal(3000)} if "temporary" in kinds else None,
        )

    # 1. a draft, documents still to come
    start(households[3], ["temporary"], "家中老人突发疾病住院，自付费用较高")
    # 2. handed in and checked, waiting for the town's decision
    waiting = start(households[1], ["dibao"], "主要劳动力患病，家庭收入下降")
    _complete(assistant, waiting)
    economic_check_run(actor=officer, application=waiting)
    # 3. decided by the town from the check, and on the public board now
    shown = start(households[0], ["dibao", "temporary"], "夫妻一方残疾，子女就学")
    _complete(assistant, shown)
    check = economic_check_run(actor=officer, application=shown)
    eligible = bool(check.report["verdicts"]["dibao"]["eligible"])
    dibao = decision_make(
        actor=officer,
        application=shown,
        kind="dibao",
        outcome="approved",
        # when the check says no, the town may still approve as an exception (一事一议),
        # which waits for a second approver
        exception=not eligible,
        reasons="经家庭经济状况核对，月人均收入低于低保标准"
        if eligible
        else "收入略高于标准，但一方重度残疾、长期服药，经村民代表评议一致同意（一事一议）",
    )
    if not eligible:
        decision_second_approve(
            actor=admin, decision=dibao, reasons="同意一事一议，纳入低保，一年后复核"
        )
    decision_make(
        actor=officer,
        application=shown,
        kind="temporary",
        outcome="approved",
        reasons="因病导致基本生活暂时困难",
        one_off_amount=Decimal(2000),
    )
    shown.refresh_from_db()
    if shown.status == Application.Status.DECIDED:
        disclosure_publish(actor=officer, application=shown)
    # 4. urgent help: 临时救助 decided and paid this month
    urgent = start(households[2], ["temporary"], "房屋失火，生活用品损毁")
    _complete(assistant, urgent)
    decision_make(
        actor=officer,
        application=urgent,
        kind="temporary",
        outcome="approved",
        reasons="突发火灾，急需救助",
        one_off_amount=Decimal(3000),
    )
    payment_list_build(actor=officer, region_code=TOWN, month=timezone.localdate())
    # 5. a form a villager sent from the public page
    self_application_receive(
        village_code=VILLAGE,
        name="示例申请人",
        id_number="362423197001010019",
        phone="13800000000",
        kinds=["temporary"],
        reason="丈夫外出务工受伤，家中无收入（演示数据）",
        consent=True,
        client_address="127.0.0.1",
    )
    return 4
