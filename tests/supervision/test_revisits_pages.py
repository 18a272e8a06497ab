"""The revisit pages: the queue (mine first, the phone tab), the form and its refusals,
the masked phone and its audited reveal, the batches, and who may see each page."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.supervision.models import Revisit, RevisitBatch
from jiuzhu.supervision.services.revisits import revisit_batch_draw
from tests.conftest import Family, Personas, login
from tests.supervision.factories import provider_with_staff, served_order
from tests.supervision.revisit_factories import _english, completed_like  # noqa: F401


@pytest.fixture
def drawn(personas: Personas, family: Family) -> dict[str, Any]:
    provider, _manager, worker = provider_with_staff()
    template = served_order(personas, family, provider, worker, day=datetime.date(2026, 10, 3))
    completed_like(template, provider, 30, datetime.date(2026, 10, 9))
    batch = revisit_batch_draw(
        actor=None,
        county="360823",
        period=datetime.date(2026, 10, 1),
        seed=1,
        today=datetime.date(2026, 11, 2),
    )
    # one home revisit is left to the town (unassigned)
    free = Revisit.objects.filter(batch=batch, method="home").order_by("id").last()
    assert free is not None
    Revisit.objects.filter(pk=free.pk).update(assigned_to=None)
    return {"batch": batch, "free": free, "provider": provider}


def _one(batch: RevisitBatch, method: str) -> Revisit:
    revisit = Revisit.objects.filter(batch=batch, method=method).order_by("id").first()
    assert revisit is not None
    return revisit


def test_the_queue_mine_first_and_the_phone_tab(drawn: dict[str, Any], personas: Personas) -> None:
    batch = drawn["batch"]
    # when the village assistant opens the queue on a phone
    page = login(Client(), personas.village_assistant).get("/supervision/revisits/")
    text = page.content.decode()
    # then their revisits come before the unassigned one
    assert page.status_code == 200 and 'name="viewport"' in text
    first_mine = text.index(f"/supervision/revisits/{_one(batch, 'home').pk}/")
    assert first_mine < text.index(f"/supervision/revisits/{drawn['free'].pk}/")
    # the town officer sees the unassigned one first (nothing is assigned to them)
    town = login(Client(), personas.town_officer).get("/supervision/revisits/").content.decode()
    assert town.index(f"/supervision/revisits/{drawn['free'].pk}/") < town.index(
        f"/supervision/revisits/{_one(batch, 'home').pk}/"
    )
    # the phone tab lists the phone queue only
    phone = login(Client(), personas.village_assistant).get("/supervision/revisits/?tab=phone")
    body = phone.content.decode()
    assert f"/supervision/revisits/{_one(batch, 'phone').pk}/" in body
    assert f'/supervision/revisits/{_one(batch, "home").pk}/"' not in body


def test_recording_through_the_form(drawn: dict[str, Any], personas: Personas) -> None:
    revisit = _one(drawn["batch"], "home")
    client = login(Client(), personas.village_assistant)
    url = f"/supervision/revisits/{revisit.pk}/"
    # when an answer is missing: 422, what was typed kept
    refused = client.post(url, {"status": "done", "service_happened": "1", "comment": "见到本人"})
    assert refused.status_code == 422
    assert "Say whether it happened as recorded." in refused.content.decode()
    assert "见到本人" in refused.content.decode()
    # when failed with a low satisfaction
    done = client.post(
        url,
        {
            "status": "done",
            "service_happened": "0",
            "matches_record": "0",
            "satisfaction": "1",
            "comment": "没有上门",
        },
    )
    # then stored, and the page offers to record a complaint, prefilled
    assert done.status_code == 302
    revisit.refresh_from_db()
    assert revisit.passed is False and revisit.satisfaction == 1
    page = client.get(url).content.decode()
    assert f"/supervision/complaints/new/?revisit={revisit.pk}" in page
    form = client.get(f"/supervision/complaints/new/?revisit={revisit.pk}").content.decode()
    assert "没有上门" in form and f'value="{drawn["provider"].pk}" selected' in form


def test_a_phone_revisit_shows_the_number_masked_and_reveals_it_audited(
    drawn: dict[str, Any], personas: Personas, family: Family
) -> None:
    revisit = _one(drawn["batch"], "phone")
    client = login(Client(), personas.village_assistant)
    # when
    page = client.get(f"/supervision/revisits/{revisit.pk}/").content.decode()
    # then the number is masked, and the reveal is the registry's audited one
    assert family.head.phone_masked in page and "13807960001" not in page
    reveal = f"/households/persons/{family.head.pk}/reveal/phone/"
    assert reveal in page
    shown = client.post(reveal)
    assert shown.status_code == 200 and "13807960001" in shown.content.decode()
    assert AuditEvent.objects.filter(action="unmask", object_id=str(family.head.pk)).exists()


def test_the_batches_page_shows_the_draw_and_the_county_draws(
    drawn: dict[str, Any], personas: Personas
) -> None:
    batch = drawn["batch"]
    client = login(Client(), personas.county_admin)
    # when
    listing = client.get("/supervision/revisits/batches/").content.decode()
    detail = client.get(f"/supervision/revisits/batches/{batch.pk}/").content.decode()
    # then the figures: 31 completed, 5 %, the sample per provider
    assert "2026-10" in listing and "31" in listing
    assert drawn["provider"].name in detail and "360823202610" not in detail
    home = Revisit.objects.filter(batch=batch, method="home").count()
    assert home == 20 and f'<td data-label="Home visits">{home}</td>' in detail
    # the county draws September; a second draw of October is refused with the reason
    drew = client.post("/supervision/revisits/batches/", {"month": "2026-09"})
    assert drew.status_code == 302
    again = client.post("/supervision/revisits/batches/", {"month": "2026-10"})
    assert again.status_code == 422 and "already drawn" in again.content.decode()
    # a town officer sees the batches but cannot draw
    town = login(Client(), personas.town_officer)
    assert town.get("/supervision/revisits/batches/").status_code == 200
    assert town.post("/supervision/revisits/batches/", {"month": "2026-08"}).status_code == 404


def test_an_ad_hoc_revisit_from_the_record(personas: Personas, family: Family) -> None:
    provider, _manager, worker = provider_with_staff()
    order = served_order(personas, family, provider, worker, day=datetime.date(2026, 11, 2))
    client = login(Client(), personas.town_officer)
    # when
    response = client.post("/supervision/revisits/new/", {"order": order.pk, "method": "phone"})
    # then
    revisit = Revisit.objects.get(order=order)
    assert (
        response.status_code == 302
        and response["Location"] == f"/supervision/revisits/{revisit.pk}/"
    )
    assert revisit.source == "ad_hoc" and revisit.method == "phone"
    assert revisit.assigned_to == personas.village_assistant
    # out of area: 404
    other = login(Client(), personas.other_town_officer)
    assert (
        other.post("/supervision/revisits/new/", {"order": order.pk, "method": "home"}).status_code
        == 404
    )


def test_who_sees_the_revisit_pages(drawn: dict[str, Any], personas: Personas) -> None:
    revisit = _one(drawn["batch"], "home")
    queue, one = "/supervision/revisits/", f"/supervision/revisits/{revisit.pk}/"
    batches = "/supervision/revisits/batches/"
    for user in (personas.county_admin, personas.town_officer, personas.village_assistant):
        client = login(Client(), user)
        assert client.get(queue).status_code == 200 and client.get(one).status_code == 200
    # the supervisor reads a revisit and the batches but has no queue and records nothing
    supervisor = login(Client(), personas.supervisor)
    assert supervisor.get(one).status_code == 200 and supervisor.get(batches).status_code == 200
    assert supervisor.get(queue).status_code == 404
    assert supervisor.post(one, {"status": "unreachable"}).status_code == 404
    # a colleague of another village and the other town: not in their queue, 404
    for user in (personas.colleague, personas.other_town_officer):
        client = login(Client(), user)
        assert one not in client.get(queue).content.decode()
        assert client.get(one).status_code == 404
        assert client.post(one, {"status": "unreachable"}).status_code == 404
    # the village assistant has no batches page (SUPERVISE)
    assert login(Client(), personas.village_assistant).get(batches).status_code == 404
    for user in (personas.provider, personas.volunteer):
        client = login(Client(), user)
        for url in (queue, one, batches):
            assert client.get(url).status_code == 404
    for url in (queue, one, batches):
        response = Client().get(url)
        assert response.status_code == 302 and "/login" in response["Location"]
    revisit.refresh_from_db()
    assert revisit.attempts == 0
