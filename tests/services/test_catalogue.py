"""The default catalogue, and a county admin's edits with their history."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import ProtectedError
from django.test import Client

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.services import choices as c
from jiuzhu.services.indicators import CONTRACT_INDICATORS
from jiuzhu.services.models import ConfigRevision, ServiceItem
from jiuzhu.services.services.catalogue import (
    ItemFields,
    defaults_install,
    service_item_create,
    service_item_delete,
    service_item_set_active,
    service_item_update,
    steps_from_text,
)
from jiuzhu.services.services.plans import plan_item_add
from tests.conftest import COUNTY, Family, Personas, login
from tests.services.conftest import dongsheng_plan


def _fields(**overrides: object) -> ItemFields:
    values: dict[str, object] = {
        "name_zh": "助餐补贴（县）",
        "name_en": "County meal subsidy",
        "category": c.Category.DAILY_LIVING,
        "tier": c.Tier.BASIC,
        "unit": c.Unit.TIME,
        "price": "12",
        "hours_per_unit": "0.5",
        "target_groups": ["elderly"],
        "indicators": ["living_food"],
        "steps": [("核验身份", "刷卡"), ("配餐", "荤素搭配")],
    }
    values.update(overrides)
    return ItemFields(**values)  # type: ignore[arg-type]


@pytest.mark.django_db
def test_the_default_catalogue_is_installed_complete() -> None:
    # given a fresh database (the data migration ran)
    items = list(ServiceItem.objects.all())
    # then about forty items, each usable as it stands
    assert len(items) >= 38
    for item in items:
        assert 3 <= len(item.steps) <= 7, item.code
        assert all(s["action"] and s["requirement"] for s in item.steps), item.code
        assert item.unit in c.Unit.values
        assert item.category in c.Category.values and item.tier in c.Tier.values
        assert Decimal(item.price) > 0 and Decimal(item.hours_per_unit) > 0
        assert set(item.indicators) <= CONTRACT_INDICATORS, item.code
        assert set(item.target_groups) <= set(c.TargetGroup.values), item.code
        assert item.is_builtin and item.region_id is None
    # every indicator of the contract is addressed by at least one item
    addressed = {code for item in items for code in item.indicators}
    assert addressed >= CONTRACT_INDICATORS
    # all three categories and all four tiers are there
    assert {i.category for i in items} == set(c.Category.values)
    assert {i.tier for i in items} == set(c.Tier.values)
    # the reports' items with their prices
    by_code = {i.code: i for i in items}
    assert by_code["festival_visit"].price == Decimal("300.00")
    assert by_code["house_cleaning"].price == Decimal("100.00")
    assert [s["action"] for s in by_code["hair_cut"].steps][:3] == ["工具消毒", "询问需求", "围布"]
    # each has its first revision
    assert ConfigRevision.objects.filter(kind="item").count() == len(items)


@pytest.mark.django_db
def test_installing_the_defaults_again_adds_nothing_and_keeps_edits() -> None:
    # given an edited default
    ServiceItem.objects.filter(code="bathing").update(price=Decimal(75))
    # when
    added = defaults_install()
    # then
    assert added == 0
    assert ServiceItem.objects.get(code="bathing").price == Decimal(75)


def test_a_county_admin_adds_an_item_and_edits_it_with_history(personas: Personas) -> None:
    # given
    admin = personas.county_admin
    # when
    item = service_item_create(
        actor=admin, region_code=COUNTY, code="county_meal", fields=_fields()
    )
    service_item_update(actor=admin, item=item, fields=_fields(price="15"), reason="2026年新标准")
    # then the item is the county's, at the new price, in version 2
    item.refresh_from_db()
    assert item.region_id == COUNTY and item.price == Decimal(15) and item.revision == 2
    revisions = list(ConfigRevision.objects.filter(kind="item", object_id=item.pk))
    assert [r.number for r in revisions] == [2, 1]
    assert revisions[0].changes == {"price": ["12.00", "15.00"]}
    assert revisions[0].reason == "2026年新标准" and revisions[0].changed_by == admin
    # and the change is audited old → new
    audit = AuditEvent.objects.filter(object_type="services.service_item", action="update").get()
    assert audit.detail["changes"] == {"price": ["12.00", "15.00"]}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price": "-1"}, "price"),
        ({"price": "abc"}, "price"),
        ({"hours_per_unit": "0"}, "hours_per_unit"),
        ({"indicators": []}, "indicators"),
        ({"indicators": ["no_such_need"]}, "indicators"),
        ({"steps": []}, "steps"),
        ({"target_groups": ["martians"]}, "target_groups"),
        ({"unit": "kilo"}, "unit"),
        ({"name_zh": " "}, "name_zh"),
    ],
)
def test_bad_items_are_refused(personas: Personas, overrides: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValidationError) as refused:
        service_item_create(
            actor=personas.county_admin,
            region_code=COUNTY,
            code="x_item",
            fields=_fields(**overrides),
        )
    assert field in refused.value.message_dict
    assert not ServiceItem.objects.filter(code="x_item").exists()


def test_only_a_catalogue_manager_of_the_area_changes_items(personas: Personas) -> None:
    bathing = ServiceItem.objects.get(code="bathing")
    for user in (personas.town_officer, personas.village_assistant, personas.supervisor):
        with pytest.raises(PermissionDenied):
            service_item_update(actor=user, item=bathing, fields=_fields(), reason="x")
        with pytest.raises(PermissionDenied):
            service_item_create(actor=user, region_code=COUNTY, code="mine", fields=_fields())


def test_an_item_a_plan_used_is_retired_never_deleted(
    personas: Personas, family: Family, assessed: object
) -> None:
    # given a county item chosen in a plan
    admin = personas.county_admin
    item = service_item_create(
        actor=admin,
        region_code=COUNTY,
        code="county_visit",
        fields=_fields(indicators=["social_isolation"], target_groups=[], price="50"),
    )
    plan = dongsheng_plan(personas, assessed)  # type: ignore[arg-type]
    plan_item_add(actor=personas.village_assistant, plan=plan, item=item, quantity=1, stage=1)
    # when / then: deleting is refused (by the service, and by the database)
    with pytest.raises(ValidationError):
        service_item_delete(actor=admin, item=item)
    with pytest.raises(ProtectedError):
        item.delete()
    # and retiring works, with a reason, and takes it out of the catalogue
    service_item_set_active(actor=admin, item=item, active=False, reason="项目结束")
    item.refresh_from_db()
    assert not item.is_active
    page = login(Client(), personas.village_assistant).get("/services/").content.decode()
    assert "助餐补贴（县）" not in page
    # an unused county item can be deleted
    spare = service_item_create(actor=admin, region_code=COUNTY, code="spare", fields=_fields())
    service_item_delete(actor=admin, item=spare)
    assert not ServiceItem.objects.filter(code="spare").exists()


def test_steps_are_read_from_lines() -> None:
    assert steps_from_text("工具消毒 | 酒精消毒\n\n围布：防碎发\n征求满意") == [
        ("工具消毒", "酒精消毒"),
        ("围布", "防碎发"),
        ("征求满意", ""),
    ]


# --- pages ---------------------------------------------------------------------------------


def test_everyone_signed_in_reads_the_catalogue_and_filters_it(personas: Personas) -> None:
    for user in (personas.provider, personas.volunteer, personas.village_assistant):
        client = login(Client(), user)
        # when filtered by the need 洗澡 (bathing)
        page = client.get("/services/?indicator=bathing").content.decode()
        # then
        assert "助浴" in page and "节日慰问" not in page
    client = login(Client(), personas.village_assistant)
    assert "就业技能培训" in client.get("/services/?tier=development").content.decode()
    assert "就业技能培训" not in client.get("/services/?tier=basic").content.decode()
    assert "心理疏导" in client.get("/services/?category=caring_support").content.decode()
    assert "心理疏导" not in client.get("/services/?category=care").content.decode()
    assert "理发" in client.get("/services/?q=理发").content.decode()
    assert Client().get("/services/").status_code == 302


def test_the_printable_procedure(personas: Personas) -> None:
    client = login(Client(), personas.provider)
    hair = ServiceItem.objects.get(code="hair_cut")
    page = client.get(f"/services/items/{hair.pk}/").content.decode()
    for step in ("工具消毒", "询问需求", "围布", "修剪", "清理碎发", "征求满意"):
        assert step in page
    assert "@media print" in page
    # no edit link for a provider, and the edit page is 404
    assert f"/services/items/{hair.pk}/edit/" not in page
    assert client.get(f"/services/items/{hair.pk}/edit/").status_code == 404


def test_editing_through_the_page_keeps_the_input_on_refusal(personas: Personas) -> None:
    client = login(Client(), personas.county_admin)
    bathing = ServiceItem.objects.get(code="bathing")
    form = {
        "name_zh": "助浴（改）",
        "category": "care",
        "tier": "basic",
        "unit": "time",
        "price": "-5",
        "hours_per_unit": "1.5",
        "indicators": ["bathing"],
        "steps": "准备 | 水温40℃",
        "reason": "调价",
    }
    # when the price is negative
    response = client.post(f"/services/items/{bathing.pk}/edit/", form)
    # then 422, the message, and what was typed
    assert response.status_code == 422
    body = response.content.decode()
    assert "助浴（改）" in body and "准备 | 水温40℃" in body and "调价" in body
    bathing.refresh_from_db()
    assert bathing.name_zh == "助浴" and bathing.revision == 1
    # when it is right
    response = client.post(f"/services/items/{bathing.pk}/edit/", {**form, "price": "70"})
    assert response.status_code == 302
    bathing.refresh_from_db()
    assert bathing.price == Decimal(70) and bathing.revision == 2
    history = client.get(f"/services/items/{bathing.pk}/edit/").content.decode()
    assert "60.00 → 70.00" in history


def test_a_county_item_through_the_page(personas: Personas) -> None:
    client = login(Client(), personas.county_admin)
    assert client.get("/services/items/new/").status_code == 200
    response = client.post(
        "/services/items/new/",
        {
            "code": "county_meal",
            "name_zh": "县助餐补贴",
            "category": "daily_living",
            "tier": "basic",
            "unit": "time",
            "price": "12",
            "indicators": ["living_food"],
            "target_groups": ["elderly"],
            "steps": "核验身份 | 刷卡\n配餐 | 荤素搭配",
        },
    )
    assert response.status_code == 302
    created = ServiceItem.objects.get(code="county_meal")
    assert created.region_id == COUNTY and created.steps[1] == {
        "action": "配餐",
        "requirement": "荤素搭配",
    }
    assert login(Client(), personas.town_officer).get("/services/items/new/").status_code == 404
