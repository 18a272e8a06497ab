"""call_receive: who the caller is, what a key means, repeats within minutes, tickets,
and (on PostgreSQL) the same call delivered twice at once."""

from __future__ import annotations

import datetime
import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from jiuzhu.channels.models import CallEvent, CallTicket, Notification
from jiuzhu.channels.services import call_receive
from jiuzhu.registry import choices as rc
from jiuzhu.registry.models import TimelineEvent
from jiuzhu.registry.services import household_create, person_create
from jiuzhu.services.models import Need, ServiceItem
from tests.channels.conftest import HEAD_PHONE, at, call_payload
from tests.conftest import VILLAGE_B, Family, Personas
from tests.services.delivery import valid_id

T0 = at("2026-03-01T08:15:00+08:00")


def receive(now: datetime.datetime = T0, **payload: Any) -> CallEvent:
    return call_receive(payload=call_payload(**payload), now=now)


def test_a_registered_caller_gets_one_need(personas: Personas, family: Family) -> None:
    # when
    event = receive()
    # then
    assert event.outcome == "need" and event.need is not None
    assert event.household == family.household and event.person == family.head
    assert event.county_id == "360823"
    need = event.need
    assert need.assign_due_at == T0 + datetime.timedelta(hours=2)  # urgent clocks
    assert not CallTicket.objects.exists()


def test_repeated_presses_within_ten_minutes_do_not_duplicate(
    personas: Personas, family: Family
) -> None:
    # given a first call
    first = receive(call_id="c1")
    told = Notification.objects.count()
    # when the elder presses again 9 min 59 s later
    second = receive(call_id="c2", now=T0 + datetime.timedelta(minutes=9, seconds=59))
    # then
    assert second.outcome == "duplicate" and second.duplicate_of == first
    assert second.need is None
    assert Need.objects.count() == 1
    assert Notification.objects.count() == told
    # when once more just after the window of the first call
    third = receive(call_id="c3", now=T0 + datetime.timedelta(minutes=10, seconds=1))
    # then it is a new call with its own need
    assert third.outcome == "need" and third.duplicate_of is None
    assert Need.objects.count() == 2


def test_the_window_is_configurable(personas: Personas, family: Family, settings: Any) -> None:
    settings.JIUZHU_CALL_DEDUP_MINUTES = 2
    receive(call_id="c1")
    later = receive(call_id="c2", now=T0 + datetime.timedelta(minutes=3))
    assert later.outcome == "need"


def test_an_unknown_number_opens_one_ticket_for_the_county(
    personas: Personas, regions: None
) -> None:
    # when a stranger's phone calls, twice
    event = receive(caller="13900001111", county="360823")
    repeat = receive(caller="13900001111", call_id="c2", now=T0 + datetime.timedelta(minutes=1))
    # then one ticket, for the county's staff
    ticket = CallTicket.objects.get()
    assert ticket.event == event and ticket.reason == "unknown_number"
    assert (ticket.county_id, ticket.household, ticket.status) == ("360823", None, "open")
    assert repeat.duplicate_of == event
    assert not Need.objects.exists()
    told = set(Notification.objects.filter(kind="call_ticket").values_list("user", flat=True))
    assert told == {personas.county_admin.pk}


def test_the_gateways_county_comes_from_the_setting(
    personas: Personas, regions: None, settings: Any
) -> None:
    settings.JIUZHU_CALL_COUNTY = "360823"
    receive(caller="13900001111")
    assert CallTicket.objects.get().county_id == "360823"


def test_a_call_with_no_county_is_still_recorded(regions: None) -> None:
    # an emergency is never dropped: the ticket waits without a county (logged)
    receive(caller="13900001111")
    assert CallTicket.objects.get().county is None


def test_an_unknown_key_from_a_registered_caller_opens_a_ticket_on_the_household(
    personas: Personas, family: Family
) -> None:
    # when the head presses "5", which means nothing
    event = receive(key="5")
    # then a ticket on the household; the village's staff are told; the file shows the call
    ticket = CallTicket.objects.get()
    assert (ticket.reason, ticket.household, event.outcome) == (
        "unknown_key",
        family.household,
        "ticket",
    )
    assert not Need.objects.exists()
    assert TimelineEvent.objects.filter(
        household=family.household, kind="channels.call_received"
    ).exists()
    told = set(Notification.objects.filter(kind="call_ticket").values_list("user", flat=True))
    assert personas.village_assistant.pk in told and personas.colleague.pk not in told


def test_the_key_map_is_configurable(personas: Personas, family: Family, settings: Any) -> None:
    # given "1" means a meal delivered, normal urgency
    settings.JIUZHU_CALL_KEYS = '{"1": {"item": "meal_delivery", "urgency": "normal"}}'
    # when
    event = receive(key="1")
    # then
    assert event.need is not None
    assert (event.need.item.code, event.need.urgency) == ("meal_delivery", "normal")  # type: ignore[union-attr]
    # and "9" now means nothing
    nine = receive(key="9", call_id="c2", now=T0 + datetime.timedelta(hours=1))
    assert nine.outcome == "ticket"


def test_a_key_whose_service_left_the_catalogue_opens_a_ticket(
    personas: Personas, family: Family
) -> None:
    ServiceItem.objects.filter(code="emergency_help").update(is_active=False)
    receive()
    assert CallTicket.objects.get().reason == "no_item"


def test_a_number_shared_by_two_households_is_for_staff_to_decide(
    personas: Personas, family: Family
) -> None:
    # given another household in village B registered the same phone
    other = household_create(actor=None, region_code=VILLAGE_B)
    person_create(
        actor=None,
        household=other,
        name="赵大伯",
        id_number=valid_id(7, "19500101"),
        relationship=rc.Relationship.HEAD,
        phone=HEAD_PHONE,
    )
    # when
    receive(county="360823")
    # then
    ticket = CallTicket.objects.get()
    assert (ticket.reason, ticket.household) == ("ambiguous_number", None)


def test_a_shared_phone_inside_the_household_names_no_beneficiary(
    personas: Personas, family: Family
) -> None:
    # given the spouse uses the head's phone too
    from jiuzhu.registry.protected import protect_phone

    p = protect_phone(HEAD_PHONE)
    type(family.spouse).objects.filter(pk=family.spouse.pk).update(
        phone_encrypted=p.encrypted, phone_index=p.index, phone_masked=p.masked
    )
    # when
    event = receive()
    # then the household's need is made, the worker finds out who needs help
    assert event.need is not None and event.need.person is None
    assert event.need.household == family.household


def test_an_inactive_household_is_not_a_registered_caller(
    personas: Personas, family: Family
) -> None:
    type(family.household).objects.filter(pk=family.household.pk).update(is_active=False)
    receive(county="360823")
    assert CallTicket.objects.get().reason == "unknown_number"


def test_a_malformed_payload_raises_field_errors(db: None) -> None:
    with pytest.raises(ValidationError) as caught:
        call_receive(payload={"call_id": "x", "caller": "1", "key": "", "pressed_at": 5})
    assert set(caught.value.message_dict) == {"caller", "key", "pressed_at"}


def test_a_naive_time_is_read_in_the_platforms_zone(personas: Personas, family: Family) -> None:
    event = receive(pressed_at="2026-03-01T08:15:00")
    assert event.pressed_at == T0


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("same_call_id", [True, False])
def test_two_deliveries_at_once_make_one_need(
    personas: Personas, family: Family, audit_flush_allowed: None, same_call_id: bool
) -> None:
    # given the gateway delivers a call twice at the same moment (a retry racing the
    # original), or the elder's two presses arrive together with different ids
    barrier = threading.Barrier(4)
    results: list[str] = []

    def deliver(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            call_id = "same" if same_call_id else f"press-{n}"
            results.append(receive(call_id=call_id).outcome)
        finally:
            connection.close()

    workers = [threading.Thread(target=deliver, args=(n,)) for n in range(4)]
    # when
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    # then
    assert len(results) == 4
    assert Need.objects.count() == 1
    assert CallEvent.objects.count() == (1 if same_call_id else 4)
    if not same_call_id:
        assert sorted(results) == ["duplicate", "duplicate", "duplicate", "need"]
