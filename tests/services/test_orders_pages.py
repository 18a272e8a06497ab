"""The order pages: the care worker's phone pages, the staff's list and record, and the
household file's panel — who sees what (404 for everything else)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.test import Client, RequestFactory

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.assessment.models import Assessment
from jiuzhu.services.models import Provider, ServiceOrder
from jiuzhu.services.services import orders as svc
from tests.conftest import Family, Personas, login
from tests.services.order_factories import (
    HOME,
    JPEG,
    SERVICE_DAY,
    accept,
    agreed_plan,
    plan_item_of,
    provider_with_staff,
    voucher_need,
)


@pytest.fixture
def team() -> tuple[Provider, Any, Any]:
    return provider_with_staff()


@pytest.fixture
def order(personas: Personas, family: Family, assessed: Assessment) -> ServiceOrder:
    plan = agreed_plan(personas, family, assessed, [("hair_cut", 3, 1)])
    need = voucher_need(personas, family, plan_item_of(plan, "hair_cut"))
    return svc.order_create(actor=None, need=need, service_date=SERVICE_DAY)


def _work(order: ServiceOrder, rest: str = "") -> str:
    return f"/services/work/orders/{order.pk}/{rest}"


def test_my_orders_and_the_order_page_for_the_care_worker(
    family: Family, order: ServiceOrder, team: tuple[Provider, Any, Any]
) -> None:
    provider, _manager, worker = team
    accept(order, provider, worker)
    client = login(Client(), worker)
    # when
    home = client.get("/services/work/")
    page = client.get(_work(order))
    # then the order is listed and its page shows the masked name and the address
    assert home.status_code == 200 and _work(order) in home.content.decode()
    text = page.content.decode()
    assert page.status_code == 200
    assert "王*国" in text and "王建国" not in text and family.household.address in text
    assert 'name="viewport"' in text and 'capture="environment"' in text
    assert "/phone/" in text  # the tap-to-call button is offered to the assigned worker
    assert "13807960001" not in text  # …but the number itself only when asked (audited)


def test_check_in_tick_and_check_out_through_the_pages(
    order: ServiceOrder, team: tuple[Provider, Any, Any]
) -> None:
    provider, _manager, worker = team
    accept(order, provider, worker)
    client = login(Client(), worker)
    # a check-in without a position is refused and keeps what was typed
    missing = client.post(_work(order, "check-in/"), {"lat": str(HOME[0]), "lon": ""})
    assert missing.status_code == 422 and str(HOME[0]) in missing.content.decode()
    # with the position and a photo
    photo = SimpleUploadedFile("door.jpg", JPEG, content_type="image/jpeg")
    checked_in = client.post(
        _work(order, "check-in/"), {"lat": str(HOME[0]), "lon": str(HOME[1]), "photo": photo}
    )
    assert checked_in.status_code == 302
    order.refresh_from_db()
    assert order.status == "in_service" and order.check_in_photo
    # ticks by htmx answer the step's row
    for index in range(len(order.checklist)):
        tick = client.post(_work(order, f"steps/{index}/"), {"done": "1"}, HTTP_HX_REQUEST="true")
        assert tick.status_code == 200 and f'id="step-{index}"' in tick.content.decode()
    untick = client.post(_work(order, "steps/0/"), {"done": "0"}, HTTP_HX_REQUEST="true")
    assert untick.status_code == 200
    # check-out needs the step ticked again, or a note
    refused = client.post(_work(order, "check-out/"), {"lat": HOME[0], "lon": HOME[1]})
    assert refused.status_code == 422
    done = client.post(
        _work(order, "check-out/"), {"lat": HOME[0], "lon": HOME[1], "note": "老人不需要消毒"}
    )
    assert done.status_code == 302
    order.refresh_from_db()
    assert order.status == "checked_out" and order.service_note == "老人不需要消毒"
    assert not order.checklist[0]["done"] and all(s["done"] for s in order.checklist[1:])


def test_the_phone_is_shown_on_request_to_the_assigned_worker_only(
    order: ServiceOrder, team: tuple[Provider, Any, Any]
) -> None:
    provider, manager, worker = team
    accept(order, provider, worker)
    shown = login(Client(), worker).post(_work(order, "phone/"), HTTP_HX_REQUEST="true")
    assert shown.status_code == 200 and 'href="tel:13807960001"' in shown.content.decode()
    assert AuditEvent.objects.filter(action="unmask", actor=worker).count() == 1
    assert login(Client(), manager).post(_work(order, "phone/")).status_code == 404


def test_managers_assign_and_other_providers_see_nothing(
    personas: Personas, order: ServiceOrder, team: tuple[Provider, Any, Any]
) -> None:
    provider, manager, worker = team
    _other, other_manager, other_worker = provider_with_staff("峡江县夕阳红养老服务中心")
    colleague = _add_worker(provider, "worker_two")
    accept(order, provider)
    # the manager sees the order waiting for a worker and assigns one
    managed = login(Client(), manager)
    assert _work(order) in managed.get("/services/work/").content.decode()
    assigned = managed.post(_work(order, "assign/"), {"worker": worker.pk})
    assert assigned.status_code == 302
    order.refresh_from_db()
    assert order.worker == worker
    # a worker of another provider, even its manager, gets 404
    for outsider in (other_manager, other_worker):
        assert login(Client(), outsider).get(_work(order)).status_code == 404
        assert login(Client(), outsider).get(f"/services/orders/{order.pk}/").status_code == 404
    # a colleague does not see an order assigned to someone else
    assert login(Client(), colleague).get(_work(order)).status_code == 404
    # the manager cannot assign someone from another provider
    refused = managed.post(_work(order, "assign/"), {"worker": other_worker.pk})
    assert refused.status_code == 422
    # staff have no worker pages
    assert login(Client(), personas.village_assistant).get("/services/work/").status_code == 404
    assert Client().get("/services/work/").status_code == 302  # to the login


def _add_worker(provider: Provider, username: str) -> Any:
    from tests.services.delivery import add_member

    return add_member(provider, username)


def test_staff_see_the_orders_of_their_area_only(
    personas: Personas, order: ServiceOrder, team: tuple[Provider, Any, Any]
) -> None:
    provider, _manager, worker = team
    accept(order, provider, worker)
    svc.order_check_in(
        actor=worker,
        order=order,
        lat=HOME[0],
        lon=HOME[1],
        photo=SimpleUploadedFile("door.jpg", JPEG, content_type="image/jpeg"),
    )
    for user in (personas.village_assistant, personas.town_officer, personas.supervisor):
        client = login(Client(), user)
        listed = client.get("/services/orders/")
        detail = client.get(f"/services/orders/{order.pk}/")
        assert f"/services/orders/{order.pk}/" in listed.content.decode()
        assert detail.status_code == 200 and "王*国" in detail.content.decode()
        assert client.get(f"/services/orders/{order.pk}/photo/in/").status_code == 200
    for outsider in (personas.colleague, personas.other_town_officer):
        client = login(Client(), outsider)
        assert (
            f"/services/orders/{order.pk}/" not in client.get("/services/orders/").content.decode()
        )
        assert client.get(f"/services/orders/{order.pk}/").status_code == 404
        assert client.get(f"/services/orders/{order.pk}/photo/in/").status_code == 404
    # provider staff and volunteers have no staff list
    for user in (worker, personas.volunteer):
        assert login(Client(), user).get("/services/orders/").status_code == 404
    # the order's own worker may see the photo they took
    assert login(Client(), worker).get(f"/services/orders/{order.pk}/photo/in/").status_code == 200


def test_staff_record_a_rating_by_phone_and_refusals_keep_the_input(
    personas: Personas, order: ServiceOrder, team: tuple[Provider, Any, Any]
) -> None:
    provider, _manager, worker = team
    accept(order, provider, worker)
    order = svc.order_check_in(actor=worker, order=order, lat=HOME[0], lon=HOME[1])
    for index in range(len(order.checklist)):
        order = svc.order_tick_step(actor=worker, order=order, index=index)
    svc.order_check_out(actor=worker, order=order, lat=HOME[0], lon=HOME[1])
    client = login(Client(), personas.village_assistant)
    page = client.get(f"/services/orders/{order.pk}/")
    # the beneficiary's own rating link is never shown to staff (they would rate "as" them)
    assert "/services/rate/" not in page.content.decode()
    missing = client.post(
        f"/services/orders/{order.pk}/rate/", {"comment": "电话回访", "how": "phone"}
    )
    assert missing.status_code == 422 and "电话回访" in missing.content.decode()
    rated = client.post(
        f"/services/orders/{order.pk}/rate/", {"rating": "4", "comment": "电话回访", "how": "phone"}
    )
    assert rated.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.rating, order.rated_how) == ("closed", 4, "phone")
    # the colleague of another village cannot act on it at all
    other = login(Client(), personas.colleague)
    assert (
        other.post(f"/services/orders/{order.pk}/dispute/", {"dispute_reason": "x"}).status_code
        == 404
    )


def test_staff_cancel_and_dispute_through_the_pages(
    personas: Personas, order: ServiceOrder
) -> None:
    client = login(Client(), personas.village_assistant)
    no_reason = client.post(f"/services/orders/{order.pk}/cancel/", {"reason": ""})
    assert no_reason.status_code == 422
    cancelled = client.post(f"/services/orders/{order.pk}/cancel/", {"reason": "家属改期"})
    assert cancelled.status_code == 302
    order.refresh_from_db()
    assert order.status == "cancelled"
    # a supervisor reads but cannot cancel
    second = svc.order_create(actor=None, need=order.need, service_date=SERVICE_DAY)
    watching = login(Client(), personas.supervisor)
    assert (
        watching.post(f"/services/orders/{second.pk}/cancel/", {"reason": "x"}).status_code == 422
    )
    second.refresh_from_db()
    assert second.status == "pending"


def test_staff_place_an_order_for_a_need(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    plan = agreed_plan(personas, family, assessed, [("hair_cut", 3, 1)])
    need = voucher_need(personas, family, plan_item_of(plan, "hair_cut"))
    client = login(Client(), personas.village_assistant)
    form = client.get(f"/services/orders/new/?need={need.pk}")
    assert form.status_code == 200 and "<progress" in form.content.decode()
    over = client.post(
        "/services/orders/new/",
        {"need": need.pk, "service_date": SERVICE_DAY.isoformat(), "quantity": "4"},
    )
    assert over.status_code == 422 and 'value="4"' in over.content.decode()
    placed = client.post(
        "/services/orders/new/",
        {"need": need.pk, "service_date": SERVICE_DAY.isoformat(), "quantity": "2"},
    )
    assert placed.status_code == 302
    created = ServiceOrder.objects.get(need=need)
    assert placed["Location"] == f"/services/orders/{created.pk}/" and created.quantity == 2
    # out of area: 404
    assert (
        login(Client(), personas.colleague).get(f"/services/orders/new/?need={need.pk}").status_code
        == 404
    )


def test_the_household_panel_shows_orders_and_the_voucher(
    personas: Personas, family: Family, order: ServiceOrder
) -> None:
    template = Template("{% load orders_tags %}{% orders_panel household %}")
    request = RequestFactory().get("/")

    def render(user: Any) -> str:
        request.user = user
        return template.render(Context({"request": request, "household": family.household}))

    # then the assistant sees the order and the voucher's stage bars
    text = render(personas.village_assistant)
    assert f"/services/orders/{order.pk}/" in text and text.count("<progress") == 3
    # provider staff and volunteers see nothing
    assert render(personas.provider).strip() == "" and render(personas.volunteer).strip() == ""


# --- the API (/api/v1/services/orders/…) ---------------------------------------------------

API = "/api/v1/services/orders"


def _token(user: Any) -> dict[str, str]:
    from jiuzhu.accounts.services import api_token_create

    _, token = api_token_create(user=user, name="pad")
    return {"Authorization": f"Bearer {token}"}


def _post(client: Client, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(f"{API}{path}", body, content_type="application/json", headers=headers)


def test_an_order_served_and_rated_through_the_api(
    personas: Personas, family: Family, assessed: Assessment, team: tuple[Provider, Any, Any]
) -> None:
    provider, manager, worker = team
    _other, _other_manager, stranger = provider_with_staff("峡江县夕阳红养老服务中心")
    plan = agreed_plan(personas, family, assessed, [("hair_cut", 3, 1)])
    need = voucher_need(personas, family, plan_item_of(plan, "hair_cut"))
    client = Client()
    staff, boss, carer = _token(personas.town_officer), _token(manager), _token(worker)
    # staff place it; too many is refused by the voucher
    body = {"need_id": need.pk, "service_date": SERVICE_DAY.isoformat()}
    over = _post(client, "/", {**body, "quantity": "4"}, staff)
    created = _post(client, "/", body, staff)
    assert over.status_code == 422 and "voucher" in over.json()["detail"]
    assert created.status_code == 201, created.content
    order_id = created.json()["id"]
    assert created.json()["charge"] == "20.00" and created.json()["status"] == "pending"
    accept(ServiceOrder.objects.get(pk=order_id), provider)
    # the provider's side
    mine = client.get(f"{API}/mine", headers=boss)
    assert [o["id"] for o in mine.json()] == [order_id]
    assigned = _post(client, f"/{order_id}/assign", {"worker_id": worker.pk}, boss)
    assert assigned.json()["worker"] == worker.username
    checked_in = _post(client, f"/{order_id}/check-in", {"lat": "27.6", "lon": "115.16"}, carer)
    assert checked_in.status_code == 200, checked_in.content
    steps = checked_in.json()["checklist"]
    assert len(steps) == 7 and checked_in.json()["check_in_distance_km"] == 0
    assert checked_in.json()["address"] == family.household.address
    assert "check_in_lat" not in checked_in.json()
    for index in range(len(steps)):
        ticked = _post(client, f"/{order_id}/steps/{index}", {"done": True}, carer)
    assert all(step["done"] for step in ticked.json()["checklist"])
    out = _post(client, f"/{order_id}/check-out", {"lat": "27.6", "lon": "115.16"}, carer)
    assert out.json()["status"] == "checked_out"
    # another provider sees nothing
    assert client.get(f"{API}/{order_id}", headers=_token(stranger)).status_code == 404
    # staff record the rating given by phone; the app's own rating is the link's
    app = _post(client, f"/{order_id}/rate", {"rating": 5, "how": "app"}, staff)
    assert app.status_code == 403
    rated = _post(client, f"/{order_id}/rate", {"rating": 5, "how": "phone"}, staff)
    assert rated.json()["status"] == "closed" and rated.json()["rating"] == 5
    # the voucher and the list
    voucher = client.get(f"{API}/vouchers/{plan.pk}?on={SERVICE_DAY.isoformat()}", headers=staff)
    assert (
        voucher.json()["used"] == "20.00" and voucher.json()["stages"][0]["remaining"] == "380.00"
    )
    listed = client.get(f"{API}/?household_id={family.household.pk}", headers=staff)
    assert listed.json()["count"] == 1 and listed.json()["items"][0]["rating"] == 5
    assert "王建国" not in listed.content.decode()
    # out of area: 404 everywhere
    colleague = _token(personas.colleague)
    assert client.get(f"{API}/{order_id}", headers=colleague).status_code == 404
    assert client.get(f"{API}/vouchers/{plan.pk}", headers=colleague).status_code == 404
    assert _post(client, "/", body, colleague).status_code == 404


def test_cancel_through_the_api(
    personas: Personas, order: ServiceOrder, team: tuple[Provider, Any, Any]
) -> None:
    client = Client()
    staff = _token(personas.village_assistant)
    refused = _post(client, f"/{order.pk}/cancel", {"reason": " "}, staff)
    assert refused.status_code == 422 and "reason" in refused.json()["detail"]
    cancelled = _post(client, f"/{order.pk}/cancel", {"reason": "家属改期"}, staff)
    assert cancelled.json()["status"] == "cancelled"
    assert _post(client, f"/{order.pk}/cancel", {"reason": "x"}, staff).status_code == 422
