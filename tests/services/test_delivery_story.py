"""Issue 6's story, end to end through the API and the pages, as the people would do it.

1. An elder presses "9": the telephony gateway's signed call makes an urgent need; the
   dispatcher places the order from the console; the optimiser offers it to the nearest
   contracted provider; the provider's manager accepts through the API; the care worker
   checks in, ticks the item's steps and checks out on the mobile pages; staff record the
   elder's rating taken by phone.
2. A voucher-funded service from the household's plan is ordered, dispatched, served
   through the API and rated by the beneficiary through the SMS rating link.
3. A micro-wish is published with consent; ten volunteers claim it at once (on
   PostgreSQL, truly concurrently); one wins; staff approve; the volunteer delivers; staff
   confirm with the beneficiary.

Afterwards the voucher balance and the household timeline are what they should be.
"""

from __future__ import annotations

import json
import re
import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from jiuzhu.channels.signing import signature
from jiuzhu.registry.models import TimelineEvent
from jiuzhu.services.models import Claim, DispatchOffer, Need, ServiceOrder
from jiuzhu.services.services.orders import rating_link
from jiuzhu.services.services.plans import plan_agree, plan_create, plan_item_add
from tests.conftest import Family, Personas, login
from tests.services.conftest import assess, item, rule
from tests.services.delivery import (
    add_member,
    make_provider,
    make_volunteer,
    place_regions,
    valid_id,
)

SECRET = "story-gateway-secret-0123456789abcdef"
PG = connection.vendor == "postgresql"

# On PostgreSQL the ten claims run in threads, each with its own connection, so the test
# commits (and may flush the append-only audit log afterwards). SQLite's test database
# cannot take concurrent writers: there the claims run one after another.
pytestmark = pytest.mark.django_db(transaction=PG, serialized_rollback=PG)


def _api(client: Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    call = getattr(client, method)
    if body is None:
        return call(f"/api/v1/services{path}")
    return call(f"/api/v1/services{path}", data=json.dumps(body), content_type="application/json")


def _press_nine(client: Client, phone: str, call_id: str) -> Any:
    body = json.dumps(
        {"call_id": call_id, "caller": phone, "key": "9", "pressed_at": timezone.now().isoformat()}
    ).encode()
    stamp = str(int(time.time()))
    return client.post(
        "/channels/call/",
        data=body,
        content_type="application/json",
        HTTP_X_JIUZHU_TIMESTAMP=stamp,
        HTTP_X_JIUZHU_SIGNATURE=signature(SECRET, stamp, body),
    )


def _serve_on_pages(worker_client: Client, order: ServiceOrder) -> None:
    base = f"/services/work/orders/{order.pk}"
    lat, lon = str(order.lat), str(order.lon)
    response = worker_client.post(f"{base}/check-in/", {"lat": lat, "lon": lon})
    assert response.status_code in (200, 302), response.content[:500]
    order.refresh_from_db()
    assert order.status == "in_service"
    assert order.checklist, "the item's steps are copied as the checklist"
    for index in range(len(order.checklist)):
        response = worker_client.post(f"{base}/steps/{index}/", {"done": "1"})
        assert response.status_code in (200, 302)
    response = worker_client.post(f"{base}/check-out/", {"lat": lat, "lon": lon})
    assert response.status_code in (200, 302), response.content[:500]
    order.refresh_from_db()
    assert order.status == "checked_out"
    assert all(step["done"] for step in order.checklist)


def _claim_all(users: list[Any], need_id: int) -> list[int]:
    """Each volunteer presses "claim" on the market page; on PostgreSQL all at once."""
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(users))

    def press(user: Any) -> None:
        client = Client()
        client.force_login(user)
        if PG:
            barrier.wait()
        try:
            response = client.post(
                f"/services/market/needs/{need_id}/claim/", {"message": "我可以"}
            )
            with lock:
                statuses.append(response.status_code)
        finally:
            if PG:
                connection.close()  # this thread's own connection

    if PG:
        threads = [threading.Thread(target=press, args=(user,)) for user in users]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        for user in users:
            press(user)
    return statuses


@pytest.mark.slow
def test_call_order_voucher_and_wish(
    personas: Personas, family: Family, settings: Any, request: pytest.FixtureRequest
) -> None:
    if PG:
        request.getfixturevalue("audit_flush_allowed")
    # given a placed county, two contracted providers (one near the family, one far)
    # with a manager and a care worker, an agreed Dongsheng plan, ten verified volunteers
    settings.JIUZHU_CALL_WEBHOOK_SECRET = SECRET
    place_regions()
    home = family.household.region
    home.refresh_from_db()
    near = make_provider("峡江县颐康居家养老服务中心", lat=home.lat, lon=home.lon)
    make_provider(
        "峡江县远方社工服务中心", lat=home.lat + Decimal("0.3"), lon=home.lon + Decimal("0.3")
    )
    manager = add_member(near, "story_manager", manager=True)
    worker = add_member(near, "story_worker")
    today = timezone.localdate()
    plan = plan_create(
        actor=personas.village_assistant,
        assessment=assess(personas.village_assistant, family.household),
        rule=rule("dongsheng_1000"),
        period_start=today.replace(day=1),
    )
    cleaning = plan_item_add(
        actor=personas.village_assistant,
        plan=plan,
        item=item("house_cleaning"),
        quantity=1,
        stage=1,
        today=today,
    )
    plan_agree(actor=personas.village_assistant, plan=plan, person=family.head, how="in_person")
    volunteers = [make_volunteer(f"story_v{n}", valid_id(700 + n)) for n in range(10)]
    dispatcher = login(Client(), personas.town_officer)
    staff = login(Client(), personas.village_assistant)
    provider_api = login(Client(), manager)
    worker_pages = login(Client(), worker)

    # --- 1. the elder presses "9" -------------------------------------------------
    # when the gateway posts the signed call (twice: the elder presses again)
    assert _press_nine(Client(), "13807960001", "story-call-1").status_code == 200
    assert _press_nine(Client(), "13807960001", "story-call-2").status_code == 200
    # then one urgent need waits in the dispatcher's console
    call_needs = Need.objects.filter(household=family.household, source="call")
    assert call_needs.count() == 1
    call_need = call_needs.get()
    assert call_need.urgency == "urgent" and call_need.route == "dispatch"
    console = dispatcher.get("/services/dispatch/")
    assert console.status_code == 200
    assert f"/services/dispatch/needs/{call_need.pk}/order/".encode() in console.content

    # when the dispatcher places the order from the console
    response = dispatcher.post(
        f"/services/dispatch/needs/{call_need.pk}/order/", {"service_date": today.isoformat()}
    )
    assert response.status_code in (200, 302)
    order = ServiceOrder.objects.get(need=call_need)
    # then the optimiser offered it to the near provider
    offer = DispatchOffer.objects.get(order=order, status="offered")
    assert offer.provider_id == near.pk

    # when the provider's manager accepts through the API, naming the care worker
    mine = _api(provider_api, "get", "/offers").json()
    assert [row["offer_id"] for row in mine] == [offer.pk]
    assert "王建国" not in json.dumps(mine, ensure_ascii=False)  # nothing personal before accepting
    accepted = _api(provider_api, "post", f"/offers/{offer.pk}/accept", {"worker_id": worker.pk})
    assert accepted.status_code == 200, accepted.content
    order.refresh_from_db()
    assert (order.status, order.provider_id, order.worker_id) == ("accepted", near.pk, worker.pk)

    # when the care worker serves it on the mobile pages and staff record the rating
    _serve_on_pages(worker_pages, order)
    rated = _api(
        staff,
        "post",
        f"/orders/{order.pk}/rate",
        {"rating": 5, "comment": "很及时", "how": "phone"},
    )
    assert rated.status_code == 200, rated.content
    # then the order is closed, the need fulfilled, the provider rated
    order.refresh_from_db()
    call_need.refresh_from_db()
    near.refresh_from_db()
    assert (order.status, order.rating, order.rated_how) == ("closed", 5, "phone")
    assert call_need.status == "fulfilled"
    assert (near.rating_sum, near.rating_count) == (5, 1)

    # --- 2. a service from the plan, paid by the voucher -----------------------------
    form = staff.get(f"/services/needs/new/?plan_item={cleaning.pk}")
    assert form.status_code == 200
    response = staff.post(
        "/services/needs/new/", {"plan_item": str(cleaning.pk), "urgency": "normal"}
    )
    assert response.status_code in (200, 302), response.content[:500]
    voucher_need = Need.objects.get(plan_item=cleaning)
    placed = _api(
        dispatcher,
        "post",
        f"/dispatch/needs/{voucher_need.pk}/order",
        {"service_date": today.isoformat()},
    )
    assert placed.status_code == 201, placed.content
    voucher_order = ServiceOrder.objects.get(need=voucher_need)
    assert voucher_order.charge == cleaning.charge
    voucher_offer = DispatchOffer.objects.get(order=voucher_order, status="offered")
    assert _api(provider_api, "post", f"/offers/{voucher_offer.pk}/accept", {}).status_code == 200
    worker_api = login(Client(), worker)
    position = {"lat": str(voucher_order.lat), "lon": str(voucher_order.lon)}
    assert (
        _api(worker_api, "post", f"/orders/{voucher_order.pk}/check-in", position).status_code
        == 200
    )
    voucher_order.refresh_from_db()
    for index in range(len(voucher_order.checklist)):
        ticked = _api(worker_api, "post", f"/orders/{voucher_order.pk}/steps/{index}", {})
        assert ticked.status_code == 200
    checked_out = _api(worker_api, "post", f"/orders/{voucher_order.pk}/check-out", position)
    assert checked_out.status_code == 200, checked_out.content
    # the beneficiary rates it through the link the SMS carries (no login)
    voucher_order.refresh_from_db()
    link = rating_link(voucher_order)
    page = Client().get(link)
    assert page.status_code == 200 and "王建国".encode() not in page.content
    assert Client().post(link, {"rating": "4", "comment": "干净"}).status_code in (200, 302)
    voucher_order.refresh_from_db()
    assert (voucher_order.status, voucher_order.rating, voucher_order.rated_how) == (
        "closed",
        4,
        "app",
    )
    balance = _api(staff, "get", f"/orders/vouchers/{plan.pk}").json()
    assert Decimal(str(balance["debited"])) == cleaning.charge
    assert Decimal(str(balance["remaining"])) == plan.total - cleaning.charge

    # --- 3. a micro-wish, claimed by one of ten volunteers ---------------------------
    created = _api(
        staff,
        "post",
        "/needs/",
        {
            "household_id": family.household.pk,
            "title": "王小明想要一套初中数学辅导书",
            "person_id": family.child.pk,
            "details": "住3组12号，放学后在家",
            "estimated_value": "120",
        },
    )
    assert created.status_code == 201, created.content
    wish = Need.objects.get(pk=created.json()["id"])
    consent = _api(
        staff, "post", f"/needs/{wish.pk}/consent", {"person_id": family.head.pk, "how": "signed"}
    )
    assert consent.status_code == 200, consent.content
    # a face that names the child is refused on the page, and the input is kept
    refused = staff.post(
        f"/services/needs/{wish.pk}/face/",
        {"public_title": "王小明的心愿", "public_summary": "初中生想要数学辅导书"},
    )
    assert refused.status_code == 422 and "初中生想要数学辅导书".encode() in refused.content
    face = staff.post(
        f"/services/needs/{wish.pk}/face/",
        {"public_title": "初中数学辅导书", "public_summary": "一名初中生想要一套数学辅导书。"},
    )
    assert face.status_code in (200, 302)
    assert staff.post(f"/services/needs/{wish.pk}/publish/").status_code in (200, 302)
    wish.refresh_from_db()
    assert wish.status == "published"
    market = login(Client(), volunteers[0]).get("/services/market/")
    assert "初中数学辅导书".encode() in market.content
    for secret_text in ("王小明", "王建国", "3组12号", "13807960001"):
        assert secret_text.encode() not in market.content

    statuses = _claim_all(volunteers, wish.pk)
    assert len(statuses) == 10
    claims = Claim.objects.filter(need=wish)
    assert claims.count() == 1
    assert sum(1 for status in statuses if status in (200, 302)) == 1
    claim = claims.get()
    winner = next(v for v in volunteers if v.pk == claim.claimant_id)

    approved = _api(staff, "post", f"/needs/{wish.pk}/claims/{claim.pk}/approve", {})
    assert approved.status_code == 200, approved.content
    winner_client = login(Client(), winner)
    details = winner_client.get(f"/services/market/needs/{wish.pk}/details/")
    assert details.status_code == 200 and "3组12号".encode() in details.content
    # (a form post: the delivery may carry a photo)
    delivered = winner_client.post(
        f"/api/v1/services/needs/claims/{claim.pk}/deliver", {"note": "已送到"}
    )
    assert delivered.status_code == 200, delivered.content
    confirmed = _api(
        staff,
        "post",
        f"/needs/{wish.pk}/claims/{claim.pk}/confirm",
        {"confirmed_by": "beneficiary", "note": "孩子已收到"},
    )
    assert confirmed.status_code == 200, confirmed.content
    wish.refresh_from_db()
    assert (wish.status, wish.confirmed_by) == ("fulfilled", "beneficiary")

    # --- afterwards -------------------------------------------------------------------
    # the household file shows the needs, the orders and the voucher
    file_page = staff.get(f"/households/{family.household.pk}/")
    assert file_page.status_code == 200
    # and the timeline holds the chain, in order
    kinds = list(
        TimelineEvent.objects.filter(household=family.household)
        .order_by("occurred_at", "id")
        .values_list("kind", flat=True)
    )
    expected = [
        "channels.call_received",
        "services.order_placed",
        "services.order_accepted",
        "services.order_checked_in",
        "services.order_checked_out",
        "services.order_rated",
        "services.need_fulfilled",
        "services.need_published",
        "services.need_claimed",
        "services.need_fulfilled",
    ]
    position_in = 0
    for kind in kinds:
        if position_in < len(expected) and kind == expected[position_in]:
            position_in += 1
    assert position_in == len(expected), (expected[position_in:], kinds)
    # nothing on the timeline carries a phone number or an ID number
    details_text = json.dumps(
        list(TimelineEvent.objects.filter(household=family.household).values("summary", "detail")),
        ensure_ascii=False,
    )
    assert not re.search(r"1\d{10}|\d{17}[\dX]", details_text)
