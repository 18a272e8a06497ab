"""The statistics pages: who may open which (in scope 200, another town or provider 404,
wrong role 403, anonymous to the login), the period picker (422 on a refused period),
the Excel export with its audit row, the vendored ECharts served from /static/, and the
JSON API."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from jiuzhu.accounts.models import AuditEvent
from tests.conftest import COUNTY, OTHER_TOWN, TOWN, Family, Personas, login
from tests.dashboards.factories import QUERY, World, september

AREA = reverse("dashboards:area")


def town_url(code: str) -> str:
    return reverse("dashboards:town", args=[code])


def provider_url(provider_id: int) -> str:
    return reverse("dashboards:provider", args=[provider_id])


@pytest.fixture
def world(personas: Personas, family: Family) -> World:
    return september(personas, family)


# --- access -------------------------------------------------------------------------------


def test_county_view_for_county_staff(client: Client, personas: Personas, world: World) -> None:
    for user in (personas.county_admin, personas.supervisor):
        # when
        response = login(client, user).get(AREA, QUERY)

        # then
        assert response.status_code == 200
        page = response.content.decode()
        assert "峡江县" in page and world.p3.name in page
        # a red provider links to supervision's page of it
        assert reverse("supervision:lights_provider", args=[world.p3.pk]) in page


def test_town_officer_lands_on_their_town(client: Client, personas: Personas) -> None:
    # when
    response = login(client, personas.town_officer).get(AREA, QUERY)

    # then: the period goes along
    assert response.status_code == 302
    assert response["Location"].startswith(town_url(TOWN) + "?")
    assert "from=2026-09-01" in response["Location"]


def test_provider_manager_lands_on_their_provider(
    client: Client, personas: Personas, world: World
) -> None:
    response = login(client, world.p1_manager).get(AREA)
    assert response.status_code == 302
    assert response["Location"] == provider_url(world.p1.pk)


@pytest.mark.parametrize("who", ["colleague", "provider", "volunteer", "donor", "caseworker"])
def test_county_view_refused_to_other_roles(client: Client, personas: Personas, who: str) -> None:
    response = login(client, getattr(personas, who)).get(AREA)
    assert response.status_code == 403


def test_care_worker_is_not_a_manager(client: Client, world: World) -> None:
    assert login(client, world.p1_worker).get(AREA).status_code == 403
    assert client.get(provider_url(world.p1.pk)).status_code == 404


def test_anonymous_goes_to_the_login(client: Client, regions: None) -> None:
    for url in (AREA, town_url(TOWN), provider_url(1)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")


def test_town_page_scope(client: Client, personas: Personas, world: World) -> None:
    # in scope: the town's officer and the county's staff
    assert login(client, personas.town_officer).get(town_url(TOWN), QUERY).status_code == 200
    assert login(client, personas.county_admin).get(town_url(OTHER_TOWN)).status_code == 200
    # out of scope or no such town: 404 alike
    assert login(client, personas.town_officer).get(town_url(OTHER_TOWN)).status_code == 404
    assert client.get(town_url("360823999")).status_code == 404
    assert client.get(town_url(COUNTY)).status_code == 404
    assert login(client, personas.colleague).get(town_url(TOWN)).status_code == 404
    assert login(client, personas.other_town_officer).get(town_url(TOWN)).status_code == 404


def test_provider_page_scope(client: Client, personas: Personas, world: World) -> None:
    # the provider's own manager, and SUPERVISE staff of an area it serves
    assert login(client, world.p1_manager).get(provider_url(world.p1.pk)).status_code == 200
    assert login(client, personas.town_officer).get(provider_url(world.p1.pk)).status_code == 200
    assert login(client, personas.supervisor).get(provider_url(world.p3.pk)).status_code == 200
    # another provider's page, someone else's, a missing one: 404
    assert login(client, world.p1_manager).get(provider_url(world.p2.pk)).status_code == 404
    assert login(client, world.p2_manager).get(provider_url(world.p1.pk)).status_code == 404
    assert login(client, personas.volunteer).get(provider_url(world.p1.pk)).status_code == 404
    assert login(client, personas.county_admin).get(provider_url(999999)).status_code == 404


def test_provider_page_shows_its_figures(client: Client, personas: Personas, world: World) -> None:
    # when
    response = login(client, world.p1_manager).get(provider_url(world.p1.pk), QUERY)

    # then
    assert response.status_code == 200
    page = response.context["dashboard"]
    assert page.completion.ordered == 5 and page.revisits.done == 2
    assert response.context["dashboard"].region_code == ""  # all its orders
    town = login(client, personas.town_officer).get(provider_url(world.p1.pk), QUERY)
    assert town.context["dashboard"].completion.ordered == 4  # the town's orders only


# --- period -------------------------------------------------------------------------------


def test_refused_period_answers_422_with_the_message(
    client: Client, personas: Personas, regions: None
) -> None:
    # when
    response = login(client, personas.county_admin).get(
        AREA, {"period": "custom", "from": "2026-09-30", "until": "2026-09-01"}
    )

    # then: what was typed is kept
    assert response.status_code == 422
    page = response.content.decode()
    assert "The end of the period cannot be before its start." in page
    assert 'value="2026-09-30"' in page
    # and no export happens on a refused period
    export = client.get(AREA, {"from": "x", "until": "", "export": "xlsx"})
    assert export.status_code == 422
    assert not AuditEvent.objects.filter(action="export").exists()


# --- export -------------------------------------------------------------------------------


def test_excel_export_holds_every_table_and_is_audited(
    client: Client, personas: Personas, world: World
) -> None:
    # when
    response = login(client, personas.county_admin).get(AREA, {**QUERY, "export": "xlsx"})

    # then: one sheet per table of the page
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    page = login(client, personas.county_admin).get(AREA, QUERY).context["page"]
    assert len(book.sheetnames) == len(page.tables) >= 10
    sheets = {sheet["A2"].value: sheet for sheet in book}
    by_town = sheets["By town"]
    rows = {r[0]: r for r in by_town.iter_rows(min_row=4, values_only=True)}
    assert rows["水边镇"][2:5] == (1, 6, 4)
    assert rows["水边镇"][5] == 3.5
    assert rows["Total · 峡江县"][3] == 7
    dispatch = {r[0]: r[1] for r in sheets["Dispatch"].iter_rows(min_row=4, values_only=True)}
    assert dispatch["Orders placed"] == 7
    assert dispatch["Median minutes from the first offer to acceptance"] == 65.0
    flagged = [
        r[0] for r in sheets["Yellow and red providers"].iter_rows(min_row=4, values_only=True)
    ]
    assert flagged == [world.p3.name, world.p2.name]
    # No person in it: not the household's number nor a name from the registry.
    text = " ".join(
        str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row
    )
    assert "王建国" not in text and "王*国" not in text
    event = AuditEvent.objects.get(action="export")
    assert event.actor == personas.county_admin
    assert event.object_type == "dashboards.area" and event.region_code == COUNTY
    assert event.detail["start"] == "2026-09-01" and "areas" in event.detail["tables"]


def test_provider_export_audited(client: Client, world: World) -> None:
    response = login(client, world.p1_manager).get(
        provider_url(world.p1.pk), {**QUERY, "export": "xlsx"}
    )
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert len(book.sheetnames) == 4
    event = AuditEvent.objects.get(action="export")
    assert event.object_type == "dashboards.provider"
    assert event.object_id == str(world.p1.pk)


# --- assets -------------------------------------------------------------------------------

SRC = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)=\"([^\"]+)\"", re.IGNORECASE)


def test_page_uses_the_vendored_echarts_and_no_other_host(
    client: Client, personas: Personas, world: World
) -> None:
    # when
    for url in (AREA, town_url(TOWN), provider_url(world.p1.pk)):
        page = login(client, personas.county_admin).get(url, QUERY).content.decode()

        # then
        sources = SRC.findall(page)
        assert f"{settings.STATIC_URL}vendor/echarts/echarts.min.js" in sources
        assert f"{settings.STATIC_URL}dashboards/charts.js" in sources
        assert not [s for s in sources if s.startswith(("http://", "https://", "//"))]
        # the charts' data are JSON blocks, not scripts that run
        assert 'type="application/json"' in page
        assert not re.search(r"<script(?![^>]*\b(src|type=\"application/json\"))[^>]*>", page)


def test_every_chart_has_its_table(client: Client, personas: Personas, world: World) -> None:
    response = login(client, personas.county_admin).get(AREA, QUERY)
    page = response.content.decode()
    for table in response.context["page"].tables:
        if table.chart:
            assert f'data-chart="{table.data_id}"' in page
            assert table.rows  # the figures are there for screen readers
    assert page.count("<table") == sum(1 for t in response.context["page"].tables if t.rows)


def test_vendored_echarts_is_the_real_library() -> None:
    # given: the file the static finders serve
    path = finders.find("vendor/echarts/echarts.min.js")
    assert path is not None
    content = Path(path).read_bytes()

    # then: the whole library, with its licence beside it
    assert len(content) > 500_000
    assert b"echarts" in content and b"setOption" in content
    assert "Apache License" in (Path(path).parent / "LICENSE").read_text()


# --- API ----------------------------------------------------------------------------------


def test_api_county_figures(client: Client, personas: Personas, world: World) -> None:
    # when
    response = login(client, personas.county_admin).get(
        "/api/v1/statistics/county", {"from": "2026-09-01", "until": "2026-09-30"}
    )

    # then: the same figures as the page
    assert response.status_code == 200
    body = response.json()
    assert body["region"] == COUNTY and body["from"] == "2026-09-01"
    assert body["completion"]["ordered"] == 7 and body["completion"]["served"] == 5
    assert body["dispatch"]["median_minutes_to_accept"] == 65.0
    assert body["warnings"]["total"]["bands"] == {"0–3": 1, "4–7": 1, "8–15": 1, ">15": 1}
    assert body["satisfaction"]["distribution"] == {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1}
    assert body["lights"]["counts"] == {"green": 1, "yellow": 1, "red": 1}
    towns = {r["code"]: r for r in body["areas"]["children"]}
    assert towns[TOWN]["orders"] == 6
    assert body["spending"]["total"] == str(world.spent_town + world.spent_other_town)


def test_api_refuses_bad_periods_and_other_roles(
    client: Client, personas: Personas, regions: None
) -> None:
    bad = login(client, personas.county_admin).get(
        "/api/v1/statistics/county", {"from": "2026-09-30", "until": "2026-09-01"}
    )
    assert bad.status_code == 422
    assert "period" in bad.json()["detail"]
    assert login(client, personas.volunteer).get("/api/v1/statistics/county").status_code == 403
    client.logout()
    assert client.get("/api/v1/statistics/county").status_code == 401
    town = login(client, personas.town_officer).get("/api/v1/statistics/county")
    assert town.status_code == 200 and town.json()["region"] == TOWN
