"""The dispatcher's console, an order's dispatch page with the override, the providers'
offer pages, and /api/v1/services/dispatch/… and /offers/…: who sees what (404 for the
rest), refusals answer 422 and keep the input, and a provider sees nothing personal
before accepting."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from jiuzhu.accounts.services import api_token_create
from jiuzhu.services.models import DispatchOffer, Need, ServiceItem, ServiceOrder
from jiuzhu.services.services import dispatch as svc
from jiuzhu.services.services.needs import need_create
from tests.conftest import Family, Personas, login
from tests.services.delivery import add_member, place_regions
from tests.services.test_dispatch import make_order, open_offer, provider_at

API = "/api/v1/services"
HEAD_NAME = "王建国"
ADDRESS = "示例一村3组12号"


@pytest.fixture
def world(family: Family) -> dict[str, Any]:
    place_regions()
    near, near_boss = provider_at("近站", 1, manager="near_boss")
    far, far_boss = provider_at("远站", 6, manager="far_boss")
    red, _ = provider_at("红灯站", 0.5, light="red")
    worker = add_member(near, "near_worker")
    order = make_order(family.household, km=0)
    ServiceOrder.objects.filter(pk=order.pk).update(person=family.head)
    return {
        "near": near,
        "far": far,
        "red": red,
        "near_boss": near_boss,
        "far_boss": far_boss,
        "worker": worker,
        "order": order,
    }


def _token(user: Any) -> dict[str, str]:
    _, token = api_token_create(user=user, name="pad")
    return {"Authorization": f"Bearer {token}"}


# --- the console --------------------------------------------------------------------------


def test_the_console_lists_what_waits_in_the_dispatchers_area(
    client: Client, personas: Personas, world: dict[str, Any], family: Family
) -> None:
    # given a need from a one-key call without an order, and an order nobody can take
    call = need_create(
        actor=None,
        household=family.household,
        source="call",
        route="dispatch",
        funding="project",
        title="",
        item=ServiceItem.objects.get(code="hair_cut"),
        urgency="critical",
    )
    stuck = make_order(family.household, item_code="bathing")
    login(client, personas.town_officer)
    # when
    page = client.get("/services/dispatch/")
    # then
    assert page.status_code == 200
    assert [n.pk for n in page.context["needs"]] == [call.pk]
    assert [o.pk for o in page.context["pending"]] == [world["order"].pk]
    assert [o.pk for o in page.context["stuck"]] == [stuck.pk]
    # and another town's officer sees none of it
    login(client, personas.other_town_officer)
    other = client.get("/services/dispatch/")
    assert other.status_code == 200
    assert other.context["pending"] == [] and other.context["needs"] == []


@pytest.mark.parametrize("who", ["village_assistant", "provider", "volunteer", "supervisor"])
def test_the_console_is_for_dispatchers_only(
    client: Client, personas: Personas, world: dict[str, Any], who: str
) -> None:
    login(client, getattr(personas, who))
    assert client.get("/services/dispatch/").status_code == 404
    assert client.post("/services/dispatch/run/").status_code == 404
    assert client.get(f"/services/dispatch/orders/{world['order'].pk}/").status_code == 404


def test_anonymous_users_are_sent_to_log_in(client: Client, world: dict[str, Any]) -> None:
    assert client.get("/services/dispatch/").status_code == 302
    assert client.get("/services/offers/").status_code == 302


def test_dispatch_all_pending_from_the_console(
    client: Client, personas: Personas, world: dict[str, Any]
) -> None:
    # given
    login(client, personas.county_admin)
    # when
    response = client.post("/services/dispatch/run/")
    # then
    assert response.status_code == 302
    offer = open_offer(world["order"])
    assert offer is not None and offer.provider == world["near"]
    console = client.get("/services/dispatch/")
    assert [f.pk for f in console.context["offers"]] == [offer.pk]


def test_place_the_order_for_a_call_and_dispatch_it(
    client: Client, personas: Personas, world: dict[str, Any], family: Family
) -> None:
    # given an urgent need from a one-key call
    call = need_create(
        actor=None,
        household=family.household,
        source="call",
        route="dispatch",
        funding="project",
        title="",
        item=ServiceItem.objects.get(code="hair_cut"),
        urgency="urgent",
    )
    login(client, personas.town_officer)
    # when
    response = client.post(
        f"/services/dispatch/needs/{call.pk}/order/",
        {"service_date": timezone.localdate().isoformat()},
    )
    # then the order is placed and offered at once
    assert response.status_code == 302
    order = ServiceOrder.objects.get(need=call)
    assert order.status == "offered"
    assert open_offer(order) is not None
    assert Need.objects.get(pk=call.pk).status == "dispatching"


def test_the_override_form_lists_eligible_providers_and_needs_a_reason(
    client: Client, personas: Personas, world: dict[str, Any]
) -> None:
    # given
    order = world["order"]
    login(client, personas.town_officer)
    # when
    page = client.get(f"/services/dispatch/orders/{order.pk}/")
    # then red providers are not offered as choices
    assert page.status_code == 200
    assert {ch.provider_id for ch in page.context["choices"]} == {
        world["near"].pk,
        world["far"].pk,
    }
    # when no reason is given
    refused = client.post(
        f"/services/dispatch/orders/{order.pk}/override/",
        {"provider": str(world["far"].pk), "reason": ""},
    )
    # then 422, the choice kept
    assert refused.status_code == 422
    assert refused.context["form"]["provider"] == str(world["far"].pk)
    # when a red provider is forced through the form
    red = client.post(
        f"/services/dispatch/orders/{order.pk}/override/",
        {"provider": str(world["red"].pk), "reason": "试试"},
    )
    assert red.status_code == 422
    assert world["red"].name in red.content.decode()
    # when done properly
    done = client.post(
        f"/services/dispatch/orders/{order.pk}/override/",
        {"provider": str(world["far"].pk), "reason": "家属指定"},
    )
    assert done.status_code == 302
    offer = open_offer(order)
    assert offer is not None and offer.provider == world["far"]
    assert offer.dispatcher == personas.town_officer


def test_an_order_of_another_area_answers_404(
    client: Client, personas: Personas, world: dict[str, Any]
) -> None:
    login(client, personas.other_town_officer)
    order = world["order"]
    assert client.get(f"/services/dispatch/orders/{order.pk}/").status_code == 404
    assert client.post(f"/services/dispatch/orders/{order.pk}/dispatch/").status_code == 404
    assert (
        client.post(
            f"/services/dispatch/orders/{order.pk}/override/",
            {"provider": str(world["far"].pk), "reason": "x"},
        ).status_code
        == 404
    )


# --- the provider's offers ------------------------------------------------------------------


@pytest.fixture
def offered(world: dict[str, Any]) -> DispatchOffer:
    offer = svc.dispatch_one(actor=None, order=world["order"])
    assert offer is not None and offer.provider == world["near"]
    return offer


def test_the_manager_sees_the_offer_without_anything_personal(
    client: Client, world: dict[str, Any], offered: DispatchOffer, family: Family
) -> None:
    # given
    login(client, world["near_boss"])
    # when
    listing = client.get("/services/offers/")
    one = client.get(f"/services/offers/{offered.pk}/")
    # then the item, the village, the distance, and no name, address or phone
    for page in (listing, one):
        assert page.status_code == 200
        text = page.content.decode()
        assert "理发" in text or offered.order.item.name_zh in text
        assert offered.order.region.name in text
        assert "1.0 km" in text
        for secret in (HEAD_NAME, family.head.name_masked, ADDRESS, "13807960001", "0001"):
            assert secret not in text


def test_others_do_not_see_the_offer(
    client: Client, personas: Personas, world: dict[str, Any], offered: DispatchOffer
) -> None:
    # the care worker (not a manager) and the other provider's manager
    for user in (world["worker"], world["far_boss"]):
        login(client, user)
        assert client.get(f"/services/offers/{offered.pk}/").status_code == 404
        assert client.post(f"/services/offers/{offered.pk}/accept/").status_code == 404
    # the care worker's menu leads to the list: it says who answers and shows none
    login(client, world["worker"])
    listing = client.get("/services/offers/")
    assert listing.status_code == 200
    assert listing.context["offers"] == []
    assert f"/services/offers/{offered.pk}/" not in listing.content.decode()
    # staff of no provider: 404
    login(client, personas.provider)
    assert client.get("/services/offers/").status_code == 404


def test_accept_on_the_phone_names_the_worker_and_opens_the_order(
    client: Client, world: dict[str, Any], offered: DispatchOffer
) -> None:
    # given
    login(client, world["near_boss"])
    # when a worker of another provider is chosen
    stranger = add_member(world["far"], "far_worker")
    refused = client.post(f"/services/offers/{offered.pk}/accept/", {"worker": stranger.pk})
    # then 422 with the choice kept
    assert refused.status_code == 422
    assert refused.context["form"]["worker"] == str(stranger.pk)
    # when
    response = client.post(f"/services/offers/{offered.pk}/accept/", {"worker": world["worker"].pk})
    # then
    assert response.status_code == 302
    assert response["Location"] == f"/services/work/orders/{offered.order_id}/"
    order = ServiceOrder.objects.get(pk=offered.order_id)
    assert order.status == "accepted"
    assert order.worker == world["worker"]


def test_decline_needs_a_reason_then_hands_the_order_on(
    client: Client, world: dict[str, Any], offered: DispatchOffer
) -> None:
    login(client, world["near_boss"])
    refused = client.post(f"/services/offers/{offered.pk}/decline/", {"reason": ""})
    assert refused.status_code == 422
    done = client.post(f"/services/offers/{offered.pk}/decline/", {"reason": "车坏了"})
    assert done.status_code == 302
    again = open_offer(world["order"])
    assert again is not None and again.provider == world["far"]


def test_a_late_accept_on_the_page_is_refused(
    client: Client, world: dict[str, Any], offered: DispatchOffer
) -> None:
    # given the time to answer has passed
    DispatchOffer.objects.filter(pk=offered.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    login(client, world["near_boss"])
    # when
    page = client.get(f"/services/offers/{offered.pk}/")
    response = client.post(f"/services/offers/{offered.pk}/accept/")
    # then no accept form, and the post is refused
    assert page.context["is_open"] is False
    assert response.status_code == 422
    assert ServiceOrder.objects.get(pk=offered.order_id).status == "offered"


# --- the API ------------------------------------------------------------------------------


def test_dispatch_and_answer_through_the_api(
    personas: Personas, world: dict[str, Any], family: Family
) -> None:
    client = Client()
    dispatcher, boss = _token(personas.town_officer), _token(world["near_boss"])
    # the pending list
    pending = client.get(f"{API}/dispatch/pending", headers=dispatcher)
    assert pending.status_code == 200
    assert [row["id"] for row in pending.json()] == [world["order"].pk]
    assert pending.json()[0]["nobody_can_take"] is False
    # dispatch all
    run = client.post(
        f"{API}/dispatch/run", {}, content_type="application/json", headers=dispatcher
    )
    assert run.status_code == 200
    body = run.json()
    assert body["offered"] == 1 and body["waiting"] == 0
    offer_id = body["offers"][0]["id"]
    assert body["offers"][0]["provider_id"] == world["near"].pk
    # the provider's list: the public-safe face only
    mine = client.get(f"{API}/offers", headers=boss)
    assert mine.status_code == 200
    (row,) = mine.json()
    assert row["offer_id"] == offer_id
    assert row["village"] == world["order"].region.name
    text = mine.content.decode()
    for secret in (HEAD_NAME, family.head.name_masked, ADDRESS):
        assert secret not in text
    assert not {"person", "address", "phone", "household_id", "lat", "lon"} & set(row)
    # accept with the worker
    accepted = client.post(
        f"{API}/offers/{offer_id}/accept",
        {"worker_id": world["worker"].pk},
        content_type="application/json",
        headers=boss,
    )
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["worker_id"] == world["worker"].pk
    # a second accept is refused with the field named
    again = client.post(
        f"{API}/offers/{offer_id}/accept", {}, content_type="application/json", headers=boss
    )
    assert again.status_code == 422
    assert "offer" in again.json()["detail"]


def test_override_and_decline_through_the_api(
    personas: Personas, world: dict[str, Any], offered: DispatchOffer
) -> None:
    client = Client()
    dispatcher = _token(personas.town_officer)
    order = world["order"]
    # a red provider is refused, naming the field
    red = client.post(
        f"{API}/dispatch/orders/{order.pk}/override",
        {"provider_id": world["red"].pk, "reason": "试试"},
        content_type="application/json",
        headers=dispatcher,
    )
    assert red.status_code == 422
    assert "provider" in red.json()["detail"]
    # the far one is fine
    done = client.post(
        f"{API}/dispatch/orders/{order.pk}/override",
        {"provider_id": world["far"].pk, "reason": "家属指定"},
        content_type="application/json",
        headers=dispatcher,
    )
    assert done.status_code == 201
    assert done.json()["offered_by"] == "dispatcher"
    history = client.get(f"{API}/dispatch/orders/{order.pk}/offers", headers=dispatcher)
    assert [o["status"] for o in history.json()] == ["offered", "withdrawn"]
    # the far manager declines without a reason: 422; with one: back to pending (the near
    # provider's offer was withdrawn, not refused, so it may have it again)
    far = _token(world["far_boss"])
    offer_id = done.json()["id"]
    no_reason = client.post(
        f"{API}/offers/{offer_id}/decline",
        {"reason": ""},
        content_type="application/json",
        headers=far,
    )
    assert no_reason.status_code == 422
    declined = client.post(
        f"{API}/offers/{offer_id}/decline",
        {"reason": "太远"},
        content_type="application/json",
        headers=far,
    )
    assert declined.status_code == 200
    assert declined.json()["status"] == "declined"
    again = open_offer(order)
    assert again is not None and again.provider == world["near"]


def test_the_api_refuses_like_the_pages(
    personas: Personas, world: dict[str, Any], offered: DispatchOffer
) -> None:
    client = Client()
    order = world["order"]
    # no DISPATCH: 404; out of area: 404; not a manager: 404
    for user in (personas.village_assistant, personas.provider):
        assert client.get(f"{API}/dispatch/pending", headers=_token(user)).status_code == 404
    outsider = _token(personas.other_town_officer)
    assert (
        client.post(f"{API}/dispatch/orders/{order.pk}/dispatch", headers=outsider).status_code
        == 404
    )
    worker = _token(world["worker"])
    assert client.get(f"{API}/offers", headers=worker).status_code == 404
    far = _token(world["far_boss"])
    assert client.get(f"{API}/offers/{offered.pk}", headers=far).status_code == 404


def test_place_and_dispatch_a_need_through_the_api(
    personas: Personas, world: dict[str, Any], family: Family
) -> None:
    # given an urgent call's need
    call = need_create(
        actor=None,
        household=family.household,
        source="call",
        route="dispatch",
        funding="project",
        title="",
        item=ServiceItem.objects.get(code="hair_cut"),
        urgency="critical",
    )
    client = Client()
    # when
    response = client.post(
        f"{API}/dispatch/needs/{call.pk}/order",
        {},
        content_type="application/json",
        headers=_token(personas.town_officer),
    )
    # then
    assert response.status_code == 201
    body = response.json()
    assert body["offer"]["provider_id"] in {world["near"].pk, world["far"].pk}
    offer = DispatchOffer.objects.get(pk=body["offer"]["id"])
    assert offer.expires_at - offer.offered_at <= datetime.timedelta(minutes=10, seconds=5)
