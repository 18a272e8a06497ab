"""The revisit, complaint and console API, and the ``jiuzhu revisits draw`` command."""

from __future__ import annotations

import datetime
import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from jiuzhu.accounts.services import api_token_create
from jiuzhu.supervision.models import Complaint, Revisit, RevisitBatch
from jiuzhu.supervision.services.revisits import revisit_add
from tests.conftest import Family, Personas
from tests.supervision.factories import provider_with_staff, served_order
from tests.supervision.revisit_factories import _english, completed_like  # noqa: F401

API = "/api/v1/supervision"


def _token(user: Any) -> dict[str, str]:
    _, token = api_token_create(user=user, name="pad")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def revisit(personas: Personas, family: Family) -> Revisit:
    provider, _manager, worker = provider_with_staff()
    order = served_order(personas, family, provider, worker, day=datetime.date(2026, 11, 2))
    return revisit_add(actor=personas.town_officer, order=order, method="phone")


def test_revisits_through_the_api(revisit: Revisit, personas: Personas) -> None:
    client = Client()
    mine = _token(personas.village_assistant)
    # the queue, mine
    listed = client.get(f"{API}/revisits", {"mine": "true"}, headers=mine)
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()] == [revisit.pk]
    assert listed.json()[0]["beneficiary_masked"] == "王*国" and listed.json()[0]["mine"]
    # a result without the answers: 422 by field
    url = f"{API}/revisits/{revisit.pk}/result"
    refused = client.post(url, {"status": "done"}, content_type="application/json", headers=mine)
    assert refused.status_code == 422
    assert set(refused.json()["detail"]) == {"service_happened", "matches_record"}
    done = client.post(
        url,
        {"status": "done", "service_happened": True, "matches_record": False, "satisfaction": 2},
        content_type="application/json",
        headers=mine,
    )
    assert done.status_code == 200 and done.json()["passed"] is False
    # others: the other town's officer 404, a supervisor reads but cannot record
    other = _token(personas.other_town_officer)
    assert client.get(f"{API}/revisits/{revisit.pk}", headers=other).status_code == 404
    supervisor = _token(personas.supervisor)
    assert client.get(f"{API}/revisits/{revisit.pk}", headers=supervisor).status_code == 200
    assert client.get(f"{API}/revisits", headers=supervisor).status_code == 404
    assert client.get(f"{API}/revisits", headers=_token(personas.volunteer)).status_code == 404
    assert client.get(f"{API}/revisits").status_code == 401


def test_complaints_through_the_api(revisit: Revisit, personas: Personas) -> None:
    client = Client()
    staff = _token(personas.town_officer)
    body = {
        "provider_id": revisit.provider_id,
        "order_id": revisit.order_id,
        "channel": "phone",
        "text": "",
    }
    refused = client.post(f"{API}/complaints", body, content_type="application/json", headers=staff)
    assert refused.status_code == 422 and "text" in refused.json()["detail"]
    created = client.post(
        f"{API}/complaints",
        {**body, "text": "服务时间不足"},
        content_type="application/json",
        headers=staff,
    )
    assert created.status_code == 201
    complaint_id = created.json()["id"]
    assert created.json()["household_id"] == revisit.household_id
    decided = client.post(
        f"{API}/complaints/{complaint_id}/decision",
        {"upheld": True, "finding": "属实"},
        content_type="application/json",
        headers=staff,
    )
    assert decided.status_code == 200 and decided.json()["status"] == "upheld"
    assert Complaint.objects.get().status == "upheld"
    # the supervisor lists, may not record
    supervisor = _token(personas.supervisor)
    assert [c["id"] for c in client.get(f"{API}/complaints", headers=supervisor).json()] == [
        complaint_id
    ]
    forbidden = client.post(
        f"{API}/complaints",
        {**body, "text": "x"},
        content_type="application/json",
        headers=supervisor,
    )
    assert forbidden.status_code == 404


def test_the_console_api(revisit: Revisit, personas: Personas) -> None:
    client = Client()
    staff = _token(personas.county_admin)
    listed = client.get(f"{API}/console/orders", headers=staff)
    assert listed.status_code == 200 and listed.json()[0]["id"] == revisit.order_id
    record = client.get(f"{API}/console/orders/{revisit.order_id}", headers=staff)
    assert record.status_code == 200
    assert record.json()["revisits"][0]["id"] == revisit.pk
    assert "check_in_lat" not in record.json()
    other = _token(personas.other_town_officer)
    assert client.get(f"{API}/console/orders/{revisit.order_id}", headers=other).status_code == 404
    assert client.get(f"{API}/console/orders", headers=_token(personas.provider)).status_code == 404


def test_the_draw_command(personas: Personas, family: Family) -> None:
    provider, _manager, worker = provider_with_staff()
    template = served_order(personas, family, provider, worker, day=datetime.date(2026, 10, 3))
    completed_like(template, provider, 9, datetime.date(2026, 10, 9))
    out = StringIO()
    # when
    call_command(
        "revisits", "draw", "--county", "360823", "--month", "2026-10", "--seed", "4", stdout=out
    )
    # then
    summary = json.loads(out.getvalue())
    assert summary["completed_orders"] == 10 and summary["home"] == 10 and summary["phone"] == 0
    assert summary["seed"] == 4 and summary["providers"][0]["completed"] == 10
    assert RevisitBatch.objects.count() == 1
    with pytest.raises(CommandError, match="already drawn"):
        call_command("revisits", "draw", "--county", "360823", "--month", "2026-10")
