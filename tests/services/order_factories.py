"""Factories for the order and voucher tests (part D): an agreed plan, a voucher-funded
need from one of its choices, and an order moved to "accepted" by writing its fields
directly (dispatch is another part's job)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from jiuzhu.assessment.models import Assessment
from jiuzhu.services.models import Need, PlanItem, Provider, ServiceOrder, ServicePlan
from jiuzhu.services.services.needs import need_create
from jiuzhu.services.services.plans import plan_agree, plan_create, plan_item_add
from tests.conftest import Family, Personas
from tests.services.conftest import START, item, rule
from tests.services.delivery import add_member, make_provider

TODAY = datetime.date(2026, 3, 1)  # a day within the plans' first year
SERVICE_DAY = datetime.date(2026, 3, 10)
# The household's place (village A) and a point 3 km north of it.
HOME = (Decimal("27.600000"), Decimal("115.160000"))
FAR = (Decimal("27.627000"), Decimal("115.160000"))
# A tiny JPEG header is enough for the magic-byte check.
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def agreed_plan(
    personas: Personas,
    family: Family,
    assessment: Assessment,
    choices: list[tuple[str, Any, int]] | None = None,
    *,
    rule_code: str = "dongsheng_1000",
    period_start: datetime.date = START,
) -> ServicePlan:
    """A plan with ``choices`` (item code, quantity, stage), agreed by the head."""
    plan = plan_create(
        actor=personas.village_assistant,
        assessment=assessment,
        rule=rule(rule_code),
        period_start=period_start,
    )
    for code, quantity, stage in choices or [("hair_cut", 3, 1)]:
        plan_item_add(
            actor=personas.village_assistant,
            plan=plan,
            item=item(code),
            quantity=quantity,
            stage=stage,
            today=TODAY,
        )
    return plan_agree(
        actor=personas.village_assistant, plan=plan, person=family.head, how="in_person"
    )


def plan_item_of(plan: ServicePlan, code: str) -> PlanItem:
    return PlanItem.objects.get(plan=plan, item__code=code, removed_at__isnull=True)


def voucher_need(
    personas: Personas, family: Family, plan_item: PlanItem, quantity: Any = 1
) -> Need:
    return need_create(
        actor=personas.village_assistant,
        household=family.household,
        source="plan",
        route="dispatch",
        funding="voucher",
        title="",
        person=family.head,
        item=plan_item.item,
        plan_item=plan_item,
        quantity=Decimal(quantity),
        lat=HOME[0],
        lon=HOME[1],
    )


def project_need(personas: Personas, family: Family, code: str = "hair_cut") -> Need:
    return need_create(
        actor=personas.village_assistant,
        household=family.household,
        source="staff",
        route="dispatch",
        funding="project",
        title="",
        person=family.head,
        item=item(code),
        lat=HOME[0],
        lon=HOME[1],
    )


def provider_with_staff(name: str = "峡江县阳光社工服务中心") -> tuple[Provider, Any, Any]:
    """A provider, its manager and one care worker."""
    provider = make_provider(name)
    suffix = provider.pk
    manager = add_member(provider, f"manager{suffix}", manager=True)
    worker = add_member(provider, f"worker{suffix}")
    return provider, manager, worker


def accept(order: ServiceOrder, provider: Provider, worker: Any = None) -> ServiceOrder:
    """What dispatch does when the provider accepts: written directly."""
    order.status = "accepted"
    order.provider = provider
    order.contract = provider.contracts.first()
    order.accepted_at = timezone.now()
    order.worker = worker
    order.save(update_fields=["status", "provider", "contract", "accepted_at", "worker"])
    return order
