"""Deadlines: which clock is overdue (one second before and after each), escalation one
level at a time at most once a day (village → town → county), the people told, audit,
timeline, idempotence, the scoped selectors and the command."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.channels.models import Notification
from jiuzhu.registry.models import TimelineEvent
from jiuzhu.services import choices as c
from jiuzhu.services.deadline_selectors import overdue_needs, overdue_orders
from jiuzhu.services.models import Claim, Need, ServiceItem, ServiceOrder
from jiuzhu.services.services.deadlines import deadlines_escalate
from jiuzhu.services.services.needs import need_create
from tests.conftest import Family, Personas

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
SECOND = datetime.timedelta(seconds=1)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(hours=24)
# Urgent clocks (services/clocks.py): assign 2 h, start 24 h, finish 48 h.
ASSIGN, START, FINISH = T0 + 2 * HOUR, T0 + 24 * HOUR, T0 + 48 * HOUR


def urgent_need(family: Family, **extra: object) -> Need:
    return need_create(
        actor=None,
        household=family.household,
        person=family.head,
        source="call",
        route="dispatch",
        funding="project",
        item=ServiceItem.objects.get(code="emergency_help"),
        urgency="urgent",
        title="",
        now=T0,
        **extra,  # type: ignore[arg-type]
    )


def order_for(need: Need, status: str = "pending") -> ServiceOrder:
    return ServiceOrder.objects.create(
        need=need,
        household=need.household,
        region=need.region,
        item=need.item,
        funding=need.funding,
        unit_price=Decimal(50),
        amount=Decimal(50),
        urgency=need.urgency,
        service_date=T0.date(),
        status=status,
        dispatch_due_at=need.assign_due_at,
        start_due_at=need.start_due_at,
        finish_due_at=need.finish_due_at,
    )


def claim_on(need: Need, personas: Personas, status: str) -> Claim:
    return Claim.objects.create(
        need=need,
        claimant=personas.volunteer,
        claimant_kind="volunteer",
        status=status,
        expires_at=T0 + DAY,
    )


def told(kind: str = "need_escalated") -> set[int]:
    return set(Notification.objects.filter(kind=kind).values_list("user", flat=True))


# --- needs: the assign clock ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "escalated"),
    [(ASSIGN - SECOND, False), (ASSIGN, False), (ASSIGN + SECOND, True)],
)
def test_a_need_escalates_only_after_its_assign_clock(
    personas: Personas, family: Family, now: datetime.datetime, escalated: bool
) -> None:
    # given an urgent need nobody has dispatched
    need = urgent_need(family)
    # when
    result = deadlines_escalate(now=now)
    # then
    need.refresh_from_db()
    assert result["needs"] == int(escalated)
    assert need.escalation_level == int(escalated)
    assert (need.escalated_at == now) is escalated


def test_the_first_escalation_tells_the_village_audits_and_shows_on_the_file(
    personas: Personas, family: Family
) -> None:
    # given
    need = urgent_need(family)
    # when
    result = deadlines_escalate(now=ASSIGN + SECOND)
    # then
    assert result == {"needs": 1, "orders": 0, "notified": 1, "levels": {"1": 1}}
    assert told() == {personas.village_assistant.pk}
    audit = AuditEvent.objects.get(object_type="services.need", object_id=str(need.pk))
    assert audit.detail["escalation_level"] == {"old": 0, "new": 1}
    assert audit.detail["clock"] == "assign"
    assert TimelineEvent.objects.filter(
        household=family.household, kind="services.need_escalated"
    ).exists()


def test_escalation_climbs_one_level_a_day_up_to_the_county(
    personas: Personas, family: Family
) -> None:
    # given a need escalated once
    need = urgent_need(family)
    first = ASSIGN + SECOND
    deadlines_escalate(now=first)
    # when the pass runs again at once, and just before a day has passed
    again = deadlines_escalate(now=first)
    early = deadlines_escalate(now=first + DAY - SECOND)
    # then nothing moves
    need.refresh_from_db()
    assert again["needs"] == early["needs"] == 0 and need.escalation_level == 1
    # when a day has passed: the town
    deadlines_escalate(now=first + DAY)
    need.refresh_from_db()
    assert need.escalation_level == 2
    assert personas.town_officer.pk in told()
    # when another day: the county
    deadlines_escalate(now=first + 2 * DAY)
    need.refresh_from_db()
    assert need.escalation_level == 3
    assert personas.county_admin.pk in told()
    # and never beyond
    assert deadlines_escalate(now=first + 5 * DAY)["needs"] == 0
    need.refresh_from_db()
    assert need.escalation_level == 3
    assert Notification.objects.filter(kind="need_escalated").count() == 3


def test_a_level_with_nobody_passes_to_the_next(personas: Personas, family: Family) -> None:
    # given the village has no active assistant
    personas.village_assistant.is_active = False
    personas.village_assistant.save()
    urgent_need(family)
    # when
    deadlines_escalate(now=ASSIGN + SECOND)
    # then the town hears at level 1
    assert told() == {personas.town_officer.pk}


def test_a_claim_holding_the_need_stops_the_assign_clock(
    personas: Personas, family: Family
) -> None:
    # given a claim pending approval
    need = urgent_need(family)
    claim_on(need, personas, "pending")
    # when / then: not overdue on assign; overdue on start once it passes
    assert overdue_needs(personas.village_assistant, now=ASSIGN + SECOND) == []
    [row] = overdue_needs(personas.village_assistant, now=START + SECOND)
    assert row.clock == "start" and row.overdue_by == SECOND


def test_an_approved_claim_starts_the_service(personas: Personas, family: Family) -> None:
    need = urgent_need(family)
    claim_on(need, personas, "approved")
    assert overdue_needs(personas.village_assistant, now=START + SECOND) == []
    [row] = overdue_needs(personas.village_assistant, now=FINISH + SECOND)
    assert [o.clock for o in row.clocks] == ["finish"]


def test_a_delivered_claim_stops_every_clock(personas: Personas, family: Family) -> None:
    need = urgent_need(family)
    claim_on(need, personas, "delivered")
    assert overdue_needs(personas.village_assistant, now=FINISH + DAY) == []


@pytest.mark.parametrize("status", ["fulfilled", "cancelled", "expired"])
def test_a_closed_need_has_no_clocks(personas: Personas, family: Family, status: str) -> None:
    need = urgent_need(family)
    Need.objects.filter(pk=need.pk).update(status=status)
    assert deadlines_escalate(now=FINISH + DAY)["needs"] == 0


def test_a_need_in_service_is_overdue_only_on_finish(personas: Personas, family: Family) -> None:
    need = urgent_need(family)
    Need.objects.filter(pk=need.pk).update(status=c.NeedStatus.IN_SERVICE)
    assert overdue_needs(personas.village_assistant, now=START + HOUR) == []
    [row] = overdue_needs(personas.village_assistant, now=FINISH + SECOND)
    assert row.clock == "finish"


def test_every_passed_clock_is_listed_earliest_first(personas: Personas, family: Family) -> None:
    # given nothing happened for two days
    urgent_need(family)
    # when
    [row] = overdue_needs(personas.village_assistant, now=FINISH + SECOND)
    # then
    assert [o.clock for o in row.clocks] == ["assign", "start", "finish"]
    assert row.clock == "assign"
    assert row.overdue_by == FINISH + SECOND - ASSIGN


# --- orders -----------------------------------------------------------------------------


def test_an_open_order_takes_over_the_needs_clocks(personas: Personas, family: Family) -> None:
    # given an order placed for the need, waiting for a provider
    need = urgent_need(family)
    Need.objects.filter(pk=need.pk).update(status=c.NeedStatus.DISPATCHING)
    order = order_for(need)
    # when
    result = deadlines_escalate(now=ASSIGN + SECOND)
    # then the order is escalated, the need is not (one delay, one escalation)
    assert (result["needs"], result["orders"]) == (0, 1)
    need.refresh_from_db()
    order.refresh_from_db()
    assert (need.escalation_level, order.escalation_level) == (0, 1)
    assert told("order_escalated") == {personas.village_assistant.pk}
    assert overdue_needs(personas.village_assistant, now=ASSIGN + SECOND) == []
    [row] = overdue_orders(personas.village_assistant, now=ASSIGN + SECOND)
    assert (row.obj, row.clock, row.overdue_by) == (order, "dispatch", SECOND)


@pytest.mark.parametrize(
    ("status", "now", "clocks"),
    [
        ("pending", ASSIGN - SECOND, []),
        ("offered", ASSIGN + SECOND, ["dispatch"]),
        ("accepted", ASSIGN + SECOND, []),
        ("accepted", START - SECOND, []),
        ("accepted", START + SECOND, ["start"]),
        ("in_service", START + HOUR, []),
        ("in_service", FINISH + SECOND, ["finish"]),
        ("checked_out", FINISH + DAY, []),
        ("closed", FINISH + DAY, []),
        ("cancelled", FINISH + DAY, []),
        ("disputed", FINISH + DAY, []),
        ("pending", FINISH + SECOND, ["dispatch", "start", "finish"]),
    ],
)
def test_order_clocks_per_status(
    personas: Personas,
    family: Family,
    status: str,
    now: datetime.datetime,
    clocks: list[str],
) -> None:
    # given
    order_for(urgent_need(family), status=status)
    # when
    rows = overdue_orders(personas.town_officer, now=now)
    # then
    assert [o.clock for row in rows for o in row.clocks] == clocks


# --- scope and the command ----------------------------------------------------------------


def test_the_selectors_follow_the_users_area(personas: Personas, family: Family) -> None:
    need = urgent_need(family)
    order_for(need)
    now = FINISH + SECOND
    for user in (personas.village_assistant, personas.town_officer, personas.county_admin):
        assert len(overdue_needs(user, now=now)) == 0  # the open order carries the clocks
        assert len(overdue_orders(user, now=now)) == 1
    for user in (personas.colleague, personas.other_town_officer, personas.provider):
        assert overdue_orders(user, now=now) == []


def test_the_command_runs_one_pass(personas: Personas, family: Family) -> None:
    # given a need created long ago (the command uses the real clock)
    urgent_need(family)
    out = StringIO()
    # when
    call_command("deadlines", stdout=out)
    # then
    assert json.loads(out.getvalue())["needs"] == 1
