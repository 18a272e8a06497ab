"""Complaints: recording (region, checks), the decision, the ad-hoc revisit they open,
and the pages with who may see them."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from jiuzhu.channels.models import Notification
from jiuzhu.registry.models import TimelineEvent
from jiuzhu.supervision.models import Complaint, Revisit
from jiuzhu.supervision.services.complaints import (
    complaint_decide,
    complaint_open_revisit,
    complaint_record,
)
from tests.conftest import Family, Personas, login
from tests.supervision.factories import provider_with_staff, served_order
from tests.supervision.revisit_factories import _english  # noqa: F401


@pytest.fixture
def served(personas: Personas, family: Family) -> dict[str, Any]:
    provider, _manager, worker = provider_with_staff()
    order = served_order(personas, family, provider, worker, day=datetime.date(2026, 11, 2))
    other, _m, _w = provider_with_staff("另一家服务中心")
    return {"order": order, "provider": provider, "other": other}


def test_a_complaint_about_an_order_takes_its_household_and_region(
    served: dict[str, Any], personas: Personas, family: Family
) -> None:
    # when
    complaint = complaint_record(
        actor=personas.village_assistant,
        provider=served["provider"],
        text="护理员只待了十分钟",
        channel="phone",
        order=served["order"],
    )
    # then
    assert complaint.household == family.household
    assert complaint.region_id == served["order"].region_id
    assert complaint.status == "open" and complaint.received_by == personas.village_assistant
    assert TimelineEvent.objects.filter(kind="supervision.complaint_received").exists()


def test_recording_refusals(served: dict[str, Any], personas: Personas) -> None:
    # the order was served by another provider; no text; an unknown channel
    with pytest.raises(ValidationError) as exc:
        complaint_record(
            actor=personas.town_officer,
            provider=served["other"],
            text=" ",
            channel="fax",
            order=served["order"],
        )
    assert set(exc.value.message_dict) == {"provider", "text", "channel"}
    # a supervisor only reads; the other town's officer is out of the area
    for user in (personas.supervisor, personas.other_town_officer, personas.volunteer):
        with pytest.raises(PermissionDenied):
            complaint_record(
                actor=user,
                provider=served["provider"],
                text="x",
                channel="phone",
                order=served["order"],
            )
    assert not Complaint.objects.exists()


def test_a_complaint_about_a_provider_in_general(
    served: dict[str, Any], personas: Personas
) -> None:
    # a county officer: the provider's region; a town officer: their own town
    county = complaint_record(
        actor=personas.county_admin, provider=served["other"], text="态度差", channel="online"
    )
    town = complaint_record(
        actor=personas.town_officer, provider=served["other"], text="乱收费", channel="visit"
    )
    assert county.region_id == "360823" and town.region_id == "360823100"
    assert county.household is None


def test_deciding_a_complaint(served: dict[str, Any], personas: Personas) -> None:
    complaint = complaint_record(
        actor=personas.village_assistant,
        provider=served["provider"],
        text="没有按时上门",
        channel="phone",
        order=served["order"],
    )
    # a finding is required
    with pytest.raises(ValidationError):
        complaint_decide(actor=personas.town_officer, complaint=complaint, upheld=True, finding="")
    # out of the area
    with pytest.raises(PermissionDenied):
        complaint_decide(
            actor=personas.other_town_officer, complaint=complaint, upheld=True, finding="x"
        )
    # when upheld
    decided = complaint_decide(
        actor=personas.town_officer, complaint=complaint, upheld=True, finding="核实属实"
    )
    # then it counts, the county is told, and it cannot be decided again
    assert decided.status == "upheld" and decided.handled_by == personas.town_officer
    assert decided.handled_at is not None
    assert Notification.objects.filter(kind="complaint_upheld", user=personas.county_admin).exists()
    with pytest.raises(ValidationError):
        complaint_decide(actor=personas.town_officer, complaint=decided, upheld=False, finding="y")


def test_a_complaint_opens_a_revisit(served: dict[str, Any], personas: Personas) -> None:
    complaint = complaint_record(
        actor=personas.town_officer,
        provider=served["provider"],
        text="服务记录不实",
        channel="phone",
        order=served["order"],
    )
    # when
    revisit = complaint_open_revisit(
        actor=personas.town_officer, complaint=complaint, method="home"
    )
    # then
    assert revisit.source == "complaint" and revisit.order == served["order"]
    # a complaint without an order cannot
    general = complaint_record(
        actor=personas.town_officer, provider=served["provider"], text="x", channel="phone"
    )
    with pytest.raises(ValidationError):
        complaint_open_revisit(actor=personas.town_officer, complaint=general, method="home")


def test_the_complaint_pages(served: dict[str, Any], personas: Personas) -> None:
    client = login(Client(), personas.village_assistant)
    # when a complaint is recorded through the form, from the order
    new = f"/supervision/complaints/new/?order={served['order'].pk}"
    form = client.get(new)
    assert form.status_code == 200
    refused = client.post(
        "/supervision/complaints/new/",
        {"order": served["order"].pk, "provider": served["provider"].pk, "channel": "phone"},
    )
    assert refused.status_code == 422
    created = client.post(
        "/supervision/complaints/new/",
        {
            "order": served["order"].pk,
            "provider": served["provider"].pk,
            "channel": "phone",
            "text": "没有打扫厨房",
        },
    )
    complaint = Complaint.objects.get()
    assert created.status_code == 302 and complaint.text == "没有打扫厨房"
    url = f"/supervision/complaints/{complaint.pk}/"
    # then it is listed and shown
    assert url in client.get("/supervision/complaints/").content.decode()
    # an ad-hoc revisit from it, then the decision
    assert client.post(f"{url}revisit/", {"method": "phone"}).status_code == 302
    assert Revisit.objects.filter(source="complaint", order=served["order"]).exists()
    assert client.post(f"{url}decide/", {"upheld": "1", "finding": ""}).status_code == 422
    assert (
        client.post(f"{url}decide/", {"upheld": "0", "finding": "已核实，不属实"}).status_code
        == 302
    )
    complaint.refresh_from_db()
    assert complaint.status == "dismissed"
    # who sees it
    for user in (personas.town_officer, personas.county_admin, personas.supervisor):
        assert login(Client(), user).get(url).status_code == 200
    assert login(Client(), personas.supervisor).get(new).status_code == 404
    for user in (personas.colleague, personas.other_town_officer):
        other = login(Client(), user)
        assert other.get(url).status_code == 404
        assert url not in other.get("/supervision/complaints/").content.decode()
    for user in (personas.provider, personas.volunteer):
        assert login(Client(), user).get(url).status_code == 404
        assert login(Client(), user).get("/supervision/complaints/").status_code == 404
    response = Client().get(url)
    assert response.status_code == 302 and "/login" in response["Location"]
