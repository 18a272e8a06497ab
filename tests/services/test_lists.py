"""The three lists (服务对象、服务需求、服务项目清单): rows, filters, scoping, Excel export."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.assessment.models import Assessment
from jiuzhu.registry import choices as rc
from jiuzhu.registry.services import household_create, person_create
from jiuzhu.services.lists import ListFilters, needs_list, objects_list, projects_list
from jiuzhu.services.services.plans import plan_item_add
from tests.conftest import VILLAGE_B, Family, Personas, login
from tests.services.conftest import assess, dongsheng_plan, item

TODAY = datetime.date(2026, 3, 1)


@pytest.fixture
def neighbour(personas: Personas) -> Any:
    """A household in village B, assessed blue, no plan (the colleague's village)."""
    household = household_create(actor=None, region_code=VILLAGE_B, address="示例二村1组")
    person_create(
        actor=None,
        household=household,
        name="赵大山",
        id_number="36242319500101001X",
        relationship=rc.Relationship.HEAD,
    )
    household.refresh_from_db()
    return assess(personas.colleague, household)


@pytest.fixture
def planned(personas: Personas, family: Family, assessed: Assessment) -> Any:
    plan = dongsheng_plan(personas, assessed)
    plan_item_add(
        actor=personas.village_assistant,
        plan=plan,
        item=item("festival_visit"),
        quantity=1,
        stage=1,
        indicator="social_isolation",
        today=TODAY,
    )
    plan_item_add(
        actor=personas.village_assistant,
        plan=plan,
        item=item("house_cleaning"),
        quantity=1,
        stage=1,
        today=TODAY,
    )
    return plan


def test_objects_needs_and_projects(
    personas: Personas, family: Family, planned: Any, neighbour: Assessment
) -> None:
    county = personas.county_admin
    # objects: both households, one row each, with their plan status
    rows = objects_list(county, ListFilters())
    assert {r.assessment.household_id for r in rows} == {
        family.household.pk,
        neighbour.household_id,
    }
    by_household = {r.assessment.household_id: r for r in rows}
    assert by_household[family.household.pk].plan_status == "draft"
    assert by_household[neighbour.household_id].plan_status == "none"
    # needs: three of the family's, two answered by the plan (the cleaning answers the
    # first need it addresses: 水电气暖与家居环境)
    needs = [
        n
        for n in needs_list(county, ListFilters())
        if n.assessment.household_id == family.household.pk
    ]
    assert [n.indicator for n in needs] == ["living_utilities", "social_isolation", "care_elderly"]
    answered = {n.indicator: n.answered_by for n in needs}
    assert answered == {
        "living_utilities": ["全屋清洁"],
        "social_isolation": ["节日慰问"],
        "care_elderly": [],
    }
    # projects: the two choices
    assert [p.item.code for p in projects_list(county, ListFilters())] == [
        "festival_visit",
        "house_cleaning",
    ]


def test_a_re_assessment_replaces_the_old_one(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    newer = assess(personas.village_assistant, family.household, level="3")
    rows = objects_list(personas.county_admin, ListFilters())
    assert [r.assessment.pk for r in rows] == [newer.pk]


def test_filters(personas: Personas, family: Family, planned: Any, neighbour: Assessment) -> None:
    county = personas.county_admin
    family_colour = planned.colour
    assert [
        r.assessment.household_id for r in objects_list(county, ListFilters(region=VILLAGE_B))
    ] == [neighbour.household_id]
    assert {
        r.assessment.household_id for r in objects_list(county, ListFilters(colour=family_colour))
    } >= {family.household.pk}
    assert [
        r.assessment.household_id for r in objects_list(county, ListFilters(status="none"))
    ] == [neighbour.household_id]
    assert [
        r.assessment.household_id for r in objects_list(county, ListFilters(status="draft"))
    ] == [family.household.pk]
    assert objects_list(county, ListFilters(status="agreed")) == []
    future = datetime.date.today() + datetime.timedelta(days=2)
    assert objects_list(county, ListFilters(date_from=future)) == []
    # needs by dimension and answered or not
    social = needs_list(county, ListFilters(dimension="social"))
    assert {n.indicator for n in social} == {"social_isolation"}
    unanswered = needs_list(county, ListFilters(answered="no", region=family.household.region_id))
    assert [n.indicator for n in unanswered] == ["care_elderly"]
    # projects by category and catalogue tier
    assert [p.item.code for p in projects_list(county, ListFilters(category="daily_living"))] == [
        "house_cleaning"
    ]
    assert [p.item.code for p in projects_list(county, ListFilters(tier="relief"))] == [
        "festival_visit"
    ]
    assert list(projects_list(county, ListFilters(stage=2))) == []


def test_scoped_by_area(
    personas: Personas, family: Family, planned: Any, neighbour: Assessment
) -> None:
    assistant = [
        r.assessment.household_id for r in objects_list(personas.village_assistant, ListFilters())
    ]
    assert assistant == [family.household.pk]
    colleague = [r.assessment.household_id for r in objects_list(personas.colleague, ListFilters())]
    assert colleague == [neighbour.household_id]
    assert list(projects_list(personas.colleague, ListFilters())) == []
    assert needs_list(personas.other_town_officer, ListFilters()) == []
    # the pages: scoped the same way; no personal data for roles without the right
    page = login(Client(), personas.colleague).get("/services/lists/objects/").content.decode()
    assert neighbour.household.number in page and family.household.number not in page
    assert login(Client(), personas.provider).get("/services/lists/objects/").status_code == 404
    assert (
        login(Client(), personas.village_assistant).get("/services/lists/other/").status_code == 404
    )


def test_the_pages_show_masked_names_only(personas: Personas, family: Family, planned: Any) -> None:
    client = login(Client(), personas.town_officer)
    for kind in ("objects", "needs", "projects"):
        response = client.get(f"/services/lists/{kind}/")
        assert response.status_code == 200
        body = response.content.decode()
        assert family.household.number in body
        assert "王*国" in body and "王建国" not in body
        assert family.head.id_number_masked not in body


@pytest.mark.parametrize("kind", ["objects", "needs", "projects"])
def test_excel_export(personas: Personas, family: Family, planned: Any, kind: str) -> None:
    # given
    client = login(Client(), personas.town_officer)
    # when
    response = client.get(
        f"/services/lists/{kind}/?region={family.household.region_id}&export=xlsx"
    )
    # then a workbook with a header and the rows, names masked, no ID or phone
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxml")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    expected = {"objects": 1, "needs": 3, "projects": 2}[kind]
    assert len(rows) == expected + 1
    cells = " ".join(str(c) for r in rows for c in r if c is not None)
    assert "王*国" in cells and "王建国" not in cells
    assert "362423" not in cells and "13807960001" not in cells
    if kind == "projects":
        assert rows[1][5] == "节日慰问" and rows[1][11] == 300 and rows[1][12] == 1
        assert rows[2][5] == "全屋清洁" and rows[2][11] == 100
    if kind == "needs":
        assert [r[7] for r in rows[1:]] == ["水电气暖与家居环境", "孤独与精神慰藉", "老人照料"]
    # and the export is audited with the list, the filters and the number of rows
    audit = AuditEvent.objects.get(action="export", object_type=f"services.list_{kind}")
    assert audit.actor == personas.town_officer
    assert audit.detail["rows"] == expected
    assert audit.detail["filters"] == {"region": family.household.region_id}


def test_export_needs_the_export_right(personas: Personas, family: Family, planned: Any) -> None:
    # a village assistant reads the lists but has no export right
    client = login(Client(), personas.village_assistant)
    assert client.get("/services/lists/projects/").status_code == 200
    assert client.get("/services/lists/projects/?export=xlsx").status_code == 404
    assert not AuditEvent.objects.filter(action="export").exists()


def test_csv_export(personas: Personas, family: Family, planned: Any) -> None:
    response = login(Client(), personas.county_admin).get("/services/lists/projects/?export=csv")
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert "节日慰问" in text and "王*国" in text
