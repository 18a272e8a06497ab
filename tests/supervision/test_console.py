"""The supervision console: filters (flagged, overdue), the order's record and the
household's records, the Excel export (masked, audited), and who may see each page."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.services.models import ServiceOrder
from jiuzhu.supervision.console_selectors import ConsoleFilters, console_orders
from jiuzhu.supervision.services.revisits import revisit_add, revisit_record
from tests.conftest import Family, Personas, login
from tests.supervision.factories import provider_with_staff, served_order
from tests.supervision.revisit_factories import _english, completed_like  # noqa: F401


@pytest.fixture
def orders(personas: Personas, family: Family) -> dict[str, Any]:
    provider, _manager, worker = provider_with_staff()
    served = served_order(personas, family, provider, worker, day=datetime.date(2026, 11, 2))
    failing = served_order(
        personas, family, provider, worker, day=datetime.date(2026, 11, 3), rating=2
    )
    late = completed_like(served, provider, 1, datetime.date(2026, 11, 20), status="accepted")[0]
    ServiceOrder.objects.filter(pk=late.pk).update(
        start_due_at=timezone.now() - datetime.timedelta(hours=3),
        finish_due_at=timezone.now() - datetime.timedelta(hours=1),
    )
    revisit = revisit_add(actor=personas.town_officer, order=failing, method="home")
    revisit_record(
        actor=personas.village_assistant,
        revisit=revisit,
        status="done",
        service_happened=False,
        matches_record=False,
        satisfaction=1,
        comment="没有来",
    )
    return {"served": served, "failing": failing, "late": late, "provider": provider}


def test_overdue_first_and_the_flagged_filter(orders: dict[str, Any], personas: Personas) -> None:
    # when
    listed = list(console_orders(personas.town_officer, ConsoleFilters()))
    flagged = list(console_orders(personas.town_officer, ConsoleFilters(flagged=True)))
    overdue = list(console_orders(personas.town_officer, ConsoleFilters(overdue=True)))
    # then the overdue order comes first, the failed revisit flags its order
    assert listed[0] == orders["late"]
    assert flagged == [orders["failing"]]
    assert overdue == [orders["late"]]
    # and other filters narrow the list
    by_state = console_orders(personas.town_officer, ConsoleFilters(state="closed"))
    assert set(by_state) == {orders["served"], orders["failing"]}
    later = console_orders(
        personas.town_officer, ConsoleFilters(date_from=datetime.date(2026, 11, 3))
    )
    assert orders["served"] not in set(later)
    assert not list(console_orders(personas.town_officer, ConsoleFilters(town="360823101")))


def test_the_console_page_shows_flags_and_filters(
    orders: dict[str, Any], personas: Personas
) -> None:
    client = login(Client(), personas.town_officer)
    # when
    page = client.get("/supervision/", {"flagged": "1"})
    # then
    text = page.content.decode()
    assert page.status_code == 200
    assert f"/supervision/orders/{orders['failing'].pk}/" in text
    assert f"/supervision/orders/{orders['served'].pk}/" not in text
    assert "revisit failed" in text and "王*国" in text and "王建国" not in text


def test_the_order_record_and_the_household_records(
    orders: dict[str, Any], personas: Personas, family: Family
) -> None:
    client = login(Client(), personas.supervisor)
    # when
    record = client.get(f"/supervision/orders/{orders['failing'].pk}/")
    household = client.get(f"/supervision/households/{family.household.pk}/")
    # then times, distance, checklist, rating and the failed revisit are shown
    text = record.content.decode()
    assert record.status_code == 200
    assert "0.00 km from the household" in text
    assert "steps done" in text and "2/5" in text and "failed" in text
    assert household.status_code == 200
    body = household.content.decode()
    for order in (orders["served"], orders["failing"], orders["late"]):
        assert f"/supervision/orders/{order.pk}/" in body


def test_the_export_is_masked_and_audited(orders: dict[str, Any], personas: Personas) -> None:
    client = login(Client(), personas.town_officer)
    # when
    response = client.get("/supervision/", {"export": "xlsx", "flagged": "1"})
    # then one row, masked, no phone or ID number
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][1] == orders["failing"].pk
    flat = " ".join(str(cell) for row in rows for cell in row)
    assert "王*国" in flat and "王建国" not in flat
    assert "13807960001" not in flat and "362423195803120018" not in flat
    event = AuditEvent.objects.get(action="export", object_type="supervision.console")
    assert event.actor == personas.town_officer
    assert event.detail["rows"] == 1 and event.detail["filters"] == {"flagged": True}
    # a supervisor reads the console but may not export
    assert login(Client(), personas.supervisor).get("/supervision/?export=xlsx").status_code == 404


PAGES = [
    "/supervision/",
    "/supervision/orders/{order}/",
    "/supervision/households/{household}/",
    "/supervision/overdue/",
]


def test_who_sees_the_console(orders: dict[str, Any], personas: Personas, family: Family) -> None:
    urls = [p.format(order=orders["failing"].pk, household=family.household.pk) for p in PAGES]
    for user in (personas.county_admin, personas.town_officer, personas.supervisor):
        client = login(Client(), user)
        for url in urls:
            assert client.get(url).status_code == 200, (user, url)
    # the other town's officer: the list is empty, the order and household are 404
    other = login(Client(), personas.other_town_officer)
    listing = other.get("/supervision/").content.decode()
    assert f"/supervision/orders/{orders['failing'].pk}/" not in listing
    assert other.get(urls[1]).status_code == 404 and other.get(urls[2]).status_code == 404
    # roles without SUPERVISE (a village assistant, provider staff, a volunteer): 404
    for user in (personas.village_assistant, personas.provider, personas.volunteer):
        client = login(Client(), user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
    # anonymous: the login page
    for url in urls:
        response = Client().get(url)
        assert response.status_code == 302 and "/login" in response["Location"]
