"""Call tickets through the pages: who sees which ticket, unmasking the caller (audited),
linking a ticket to a household (which makes the need) and closing it with a note."""

from __future__ import annotations

from django.test import Client

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.channels.models import CallEvent, CallTicket
from jiuzhu.channels.services import call_receive
from jiuzhu.regions.models import Level, Region
from jiuzhu.registry.models import TimelineEvent
from jiuzhu.services.models import Need
from tests.channels.conftest import at, call_payload
from tests.conftest import Family, Personas, login

STRANGER = "13900001111"


def unknown_call(county: str = "360823", call_id: str = "c1", caller: str = STRANGER) -> CallTicket:
    call_receive(
        payload=call_payload(call_id=call_id, caller=caller, county=county),
        now=at("2026-03-01T08:15:00+08:00"),
    )
    return CallTicket.objects.get(event__call_id=call_id)


def test_county_staff_see_an_unknown_callers_ticket_masked(
    client: Client, personas: Personas, regions: None
) -> None:
    # given
    ticket = unknown_call()
    for user in (personas.county_admin, personas.town_officer, personas.colleague):
        # when
        page = login(client, user).get("/channels/tickets/")
        # then
        text = page.content.decode()
        assert page.status_code == 200
        assert f"/channels/tickets/{ticket.pk}/" in text
        assert "139****1111" in text and STRANGER not in text


def test_roles_without_needs_management_get_404(
    client: Client, personas: Personas, regions: None
) -> None:
    ticket = unknown_call()
    for user in (personas.supervisor, personas.provider, personas.volunteer, personas.donor):
        login(client, user)
        assert client.get("/channels/tickets/").status_code == 404
        assert client.get(f"/channels/tickets/{ticket.pk}/").status_code == 404


def test_anonymous_is_sent_to_sign_in(client: Client, regions: None) -> None:
    assert client.get("/channels/tickets/").status_code == 302


def test_another_countys_ticket_answers_404(
    client: Client, personas: Personas, regions: None
) -> None:
    # given a ticket of the neighbouring county
    Region.objects.create(code="360824", name="新干县", level=Level.COUNTY, parent_id="3608")
    ticket = unknown_call(county="360824")
    # when / then
    login(client, personas.county_admin)
    assert client.get(f"/channels/tickets/{ticket.pk}/").status_code == 404
    assert (
        f"/channels/tickets/{ticket.pk}/" not in client.get("/channels/tickets/").content.decode()
    )


def test_a_households_ticket_follows_the_households_scope(
    client: Client, personas: Personas, family: Family
) -> None:
    # given the family's head pressed a key that means nothing
    call_receive(payload=call_payload(key="5"), now=at("2026-03-01T08:15:00+08:00"))
    ticket = CallTicket.objects.get()
    # then the village's assistant sees it, the colleague from village B does not
    assert (
        login(client, personas.village_assistant).get(f"/channels/tickets/{ticket.pk}/").status_code
        == 200
    )
    assert (
        login(client, personas.colleague).get(f"/channels/tickets/{ticket.pk}/").status_code == 404
    )


def test_unmasking_the_caller_is_audited(client: Client, personas: Personas, regions: None) -> None:
    # given
    ticket = unknown_call()
    login(client, personas.county_admin)
    # when
    response = client.post(f"/channels/tickets/{ticket.pk}/reveal/")
    # then
    assert response.status_code == 200 and STRANGER in response.content.decode()
    audit = AuditEvent.objects.get(action="unmask")
    assert (audit.actor, audit.object_type, audit.object_id) == (
        personas.county_admin,
        "channels.call",
        str(ticket.event_id),
    )
    assert STRANGER not in str(audit.detail)


def test_linking_makes_the_need_and_closes_the_ticket(
    client: Client, personas: Personas, family: Family
) -> None:
    # given a stranger's number turns out to be the family's neighbour's phone
    ticket = unknown_call()
    login(client, personas.village_assistant)
    # when
    response = client.post(
        f"/channels/tickets/{ticket.pk}/",
        {
            "action": "link",
            "household": family.household.number,
            "person": str(family.spouse.pk),
            "item": "emergency_help",
            "urgency": "critical",
            "note": "邻居代打",
        },
    )
    # then
    assert response.status_code == 302
    ticket.refresh_from_db()
    need = Need.objects.get()
    assert (ticket.status, ticket.household, ticket.need) == ("linked", family.household, need)
    assert ticket.resolved_by == personas.village_assistant
    assert (need.source, need.route, need.urgency, need.person) == (
        "call",
        "dispatch",
        "critical",
        family.spouse,
    )
    assert need.created_by == personas.village_assistant
    assert need.source_ref == str(ticket.event_id)
    assert CallEvent.objects.get(pk=ticket.event_id).household == family.household
    assert TimelineEvent.objects.filter(
        household=family.household, kind="channels.call_linked"
    ).exists()
    assert AuditEvent.objects.filter(
        object_type="channels.call_ticket", object_id=str(ticket.pk)
    ).exists()


def test_a_household_outside_the_area_cannot_be_linked(
    client: Client, personas: Personas, family: Family
) -> None:
    # given the colleague of village B sees the county's ticket
    ticket = unknown_call()
    login(client, personas.colleague)
    # when they try to link it to a household of village A
    response = client.post(
        f"/channels/tickets/{ticket.pk}/",
        {"action": "link", "household": family.household.number, "item": "emergency_help",
         "urgency": "urgent"},
    )  # fmt: skip
    # then the form comes back, the ticket stays open, no need
    assert response.status_code == 422
    assert 'name="household"' in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "open" and not Need.objects.exists()


def test_closing_needs_a_note(client: Client, personas: Personas, regions: None) -> None:
    # given
    ticket = unknown_call()
    login(client, personas.county_admin)
    # when without a note
    refused = client.post(f"/channels/tickets/{ticket.pk}/", {"action": "close", "note": " "})
    # then
    assert refused.status_code == 422
    ticket.refresh_from_db()
    assert ticket.status == "open"
    # when with one
    closed = client.post(f"/channels/tickets/{ticket.pk}/", {"action": "close", "note": "打错电话"})
    # then
    assert closed.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.note) == ("closed", "打错电话")
    # and a resolved ticket cannot be linked or closed again
    again = client.post(f"/channels/tickets/{ticket.pk}/", {"action": "close", "note": "x"})
    assert again.status_code == 422
    ticket.refresh_from_db()
    assert ticket.note == "打错电话"


def test_the_list_filters_by_status(client: Client, personas: Personas, regions: None) -> None:
    open_ticket = unknown_call(call_id="c1")
    closed = unknown_call(call_id="c2", caller="13900002222")
    CallTicket.objects.filter(pk=closed.pk).update(status="closed")
    login(client, personas.county_admin)
    shown = client.get("/channels/tickets/").content.decode()
    assert f"/channels/tickets/{open_ticket.pk}/" in shown
    assert f"/channels/tickets/{closed.pk}/" not in shown
    shown = client.get("/channels/tickets/?status=closed").content.decode()
    assert f"/channels/tickets/{closed.pk}/" in shown
