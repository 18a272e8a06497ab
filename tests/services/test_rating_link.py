"""The beneficiary's rating link: signed (salted), single-use, valid 7 days; a public
large-type page that shows the service and the day and nothing personal."""

from __future__ import annotations

import time
from typing import Any
from unittest import mock

import pytest
from django.core import signing
from django.test import Client

from jiuzhu.assessment.models import Assessment
from jiuzhu.services.models import Need, ServiceOrder
from jiuzhu.services.services import orders as svc
from tests.conftest import Family, Personas
from tests.services.order_factories import (
    HOME,
    SERVICE_DAY,
    accept,
    agreed_plan,
    plan_item_of,
    provider_with_staff,
    voucher_need,
)


@pytest.fixture
def served(personas: Personas, family: Family, assessed: Assessment) -> ServiceOrder:
    plan = agreed_plan(personas, family, assessed, [("hair_cut", 3, 1)])
    need = voucher_need(personas, family, plan_item_of(plan, "hair_cut"))
    order = svc.order_create(actor=None, need=need, service_date=SERVICE_DAY)
    provider, _manager, worker = provider_with_staff()
    order = accept(order, provider, worker)
    order = svc.order_check_in(actor=worker, order=order, lat=HOME[0], lon=HOME[1])
    for index in range(len(order.checklist)):
        order = svc.order_tick_step(actor=worker, order=order, index=index)
    return svc.order_check_out(actor=worker, order=order, lat=HOME[0], lon=HOME[1])


def _state(response: Any) -> str:
    text = response.content.decode()
    return text.split('data-state="', 1)[1].split('"', 1)[0]


def test_the_beneficiary_rates_once_without_signing_in(
    family: Family, served: ServiceOrder
) -> None:
    # given the link sent by SMS, opened on a phone with no session (and CSRF enforced)
    client = Client(enforce_csrf_checks=True)
    link = svc.rating_link(served)
    # when
    page = client.get(link)
    sent = client.post(link, {"rating": "5", "comment": "师傅很耐心"})
    again = client.get(link)
    twice = client.post(link, {"rating": "1"})
    # then the page showed the service and the day only
    text = page.content.decode()
    assert page.status_code == 200 and _state(page) == "open"
    assert served.item.name_zh in text and "2026-03-10" in text
    for personal in ("王建国", "王*国", family.household.address, "13807960001", "1380"):
        assert personal not in text
    assert 'name="viewport"' in text and text.count('name="rating"') == 5
    # the rating was recorded once, as the beneficiary's own
    assert sent.status_code == 200 and _state(sent) == "thanks"
    order = ServiceOrder.objects.get(pk=served.pk)
    assert (order.status, order.rating, order.rated_how) == ("closed", 5, "app")
    assert order.rating_comment == "师傅很耐心" and order.rated_recorded_by is None
    assert Need.objects.get(pk=order.need_id).status == "fulfilled"
    # and the second use says it was rated already
    assert _state(again) == "rated" and _state(twice) == "rated"
    assert ServiceOrder.objects.get(pk=served.pk).rating == 5


def test_a_wrong_rating_keeps_the_comment(served: ServiceOrder) -> None:
    response = Client().post(svc.rating_link(served), {"rating": "0", "comment": "还行"})
    assert response.status_code == 422 and _state(response) == "open"
    assert "还行" in response.content.decode()
    assert ServiceOrder.objects.get(pk=served.pk).rating is None


def test_forged_expired_and_foreign_links_are_refused(served: ServiceOrder) -> None:
    client = Client()
    token = svc.rating_token(served)
    # tampered
    forged = client.get(f"/services/rate/{token[:-2]}xx/")
    # signed without the salt
    unsalted = signing.dumps({"o": served.pk, "t": served.check_out_at.isoformat()}, compress=True)
    # 8 days old
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 8 * 86400):
        old = svc.rating_token(served)
    for response in (
        forged,
        client.get(f"/services/rate/{unsalted}/"),
        client.get(f"/services/rate/{old}/"),
    ):
        assert response.status_code == 404 and _state(response) == "invalid"
    assert client.post(f"/services/rate/{old}/", {"rating": "5"}).status_code == 404
    assert ServiceOrder.objects.get(pk=served.pk).rating is None


def test_a_link_for_an_order_not_served_is_refused(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    plan = agreed_plan(personas, family, assessed, [("hair_cut", 3, 1)])
    need = voucher_need(personas, family, plan_item_of(plan, "hair_cut"))
    order = svc.order_create(actor=None, need=need, service_date=SERVICE_DAY)
    assert svc.order_from_rating_token(svc.rating_token(order)) is None
    assert Client().get(svc.rating_link(order)).status_code == 404


def test_a_staff_rating_makes_the_link_answer_rated(
    personas: Personas, served: ServiceOrder
) -> None:
    svc.order_rate(actor=personas.village_assistant, order=served, rating=3, how="phone")
    response = Client().post(svc.rating_link(served), {"rating": "5"})
    assert _state(response) == "rated"
    assert ServiceOrder.objects.get(pk=served.pk).rating == 3
