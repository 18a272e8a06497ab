"""Entitlement rules: the defaults, validation with clear refusals, history, pages."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from jiuzhu.services.models import ConfigRevision, EntitlementRule
from jiuzhu.services.services.entitlements import (
    RuleFields,
    amounts_from_text,
    entitlement_rule_create,
    entitlement_rule_set_active,
    entitlement_rule_update,
    numbers_from_text,
)
from jiuzhu.services.services.plans import plan_create
from tests.conftest import COUNTY, Family, Personas, login
from tests.services.conftest import START, rule


def _fields(**overrides: Any) -> RuleFields:
    values: dict[str, Any] = {
        "name_zh": "县居家服务包",
        "unit": "yuan",
        "period": "year",
        "amounts": {"high": "1500", "medium": "1000"},
        "shares": ["50", "50"],
        "opening": "months",
        "open_after_months": ["0", "6"],
        "valid_from": datetime.date(2026, 1, 1),
    }
    values.update(overrides)
    return RuleFields(**values)


@pytest.mark.django_db
def test_the_two_defaults() -> None:
    dongsheng = rule("dongsheng_1000")
    assert dongsheng.amounts == {"*": "1000"} and dongsheng.unit == "yuan"
    assert dongsheng.period == "year" and dongsheng.shares == [40, 40, 20]
    licang = rule("licang_home_care")
    assert licang.unit == "hours" and licang.period == "month"
    assert licang.amounts["high"] == "60" and licang.amounts["medium"] == "45"
    assert ConfigRevision.objects.filter(kind="rule").count() == 2


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"shares": ["40", "40", "10"]}, "shares", "add up to 100"),
        ({"shares": ["100", "0"]}, "shares", "above 0"),
        ({"shares": ["a"]}, "shares", "whole numbers"),
        ({"amounts": {"high": "-60"}}, "amounts", "negative"),
        ({"amounts": {"high": "0"}}, "amounts", "above 0"),
        ({"amounts": {}}, "amounts", "at least one tier"),
        ({"amounts": {"High Tier": "5"}}, "amounts", "tier"),
        ({"open_after_months": ["0"]}, "open_after_months", "2 figures"),
        ({"open_after_months": ["3", "6"]}, "open_after_months", "first stage"),
        ({"open_after_months": ["0", "-1"]}, "open_after_months", "negative"),
        ({"unit": "apples"}, "unit", "yuan or hours"),
        ({"valid_to": datetime.date(2025, 1, 1)}, "valid_to", "before the start"),
        ({"target_groups": ["martians"]}, "target_groups", "martians"),
    ],
)
def test_bad_rules_are_refused_clearly(
    personas: Personas, overrides: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        entitlement_rule_create(
            actor=personas.county_admin,
            region_code=COUNTY,
            code="county_pack",
            fields=_fields(**overrides),
        )
    assert words in refused.value.message_dict[field][0]
    assert not EntitlementRule.objects.filter(code="county_pack").exists()


def test_hours_above_a_month_are_refused(personas: Personas) -> None:
    with pytest.raises(ValidationError):
        entitlement_rule_create(
            actor=personas.county_admin,
            region_code=COUNTY,
            code="too_long",
            fields=_fields(unit="hours", amounts={"high": "800"}),
        )


def test_an_edit_is_a_new_version_and_plans_keep_their_terms(
    personas: Personas, family: Family, assessed: Any
) -> None:
    # given a plan under Dongsheng's rule
    plan = plan_create(
        actor=personas.village_assistant,
        assessment=assessed,
        rule=rule("dongsheng_1000"),
        period_start=START,
    )
    dongsheng = rule("dongsheng_1000")
    # when the county raises it to 1 200 in two halves
    fields = _fields(
        name_zh=dongsheng.name_zh,
        name_en=dongsheng.name_en,
        amounts={"*": "1200"},
        shares=["50", "50"],
        opening="previous_full",
        open_after_months=[],
        target_groups=["dibao", "tekun"],
        valid_from=datetime.date(2024, 1, 1),
        note=dongsheng.note,
    )
    entitlement_rule_update(
        actor=personas.county_admin, rule=dongsheng, fields=fields, reason="2027年提标"
    )
    # then version 2 with what changed, old → new
    dongsheng.refresh_from_db()
    assert dongsheng.revision == 2 and dongsheng.amounts == {"*": "1200"}
    latest = ConfigRevision.objects.filter(kind="rule", object_id=dongsheng.pk).first()
    assert latest is not None and latest.number == 2
    assert latest.changes["amounts"] == [{"*": "1000"}, {"*": "1200"}]
    assert latest.changes["shares"] == [[40, 40, 20], [50, 50]]
    # and the plan made before keeps 1 000 in 40/40/20
    plan.refresh_from_db()
    assert plan.total == Decimal(1000) and plan.shares == [40, 40, 20]
    # an edit that changes nothing is refused
    with pytest.raises(ValidationError):
        entitlement_rule_update(
            actor=personas.county_admin, rule=dongsheng, fields=fields, reason="again"
        )


def test_a_stopped_rule_makes_no_new_plans(
    personas: Personas, family: Family, assessed: Any
) -> None:
    dongsheng = rule("dongsheng_1000")
    entitlement_rule_set_active(
        actor=personas.county_admin, rule=dongsheng, active=False, reason="项目结束"
    )
    with pytest.raises(ValidationError):
        plan_create(
            actor=personas.village_assistant,
            assessment=assessed,
            rule=dongsheng,
            period_start=START,
        )


def test_only_instrument_managers_change_rules(personas: Personas) -> None:
    for user in (personas.town_officer, personas.village_assistant, personas.supervisor):
        with pytest.raises(PermissionDenied):
            entitlement_rule_create(actor=user, region_code=COUNTY, code="mine", fields=_fields())
        with pytest.raises(PermissionDenied):
            entitlement_rule_set_active(
                actor=user, rule=rule("dongsheng_1000"), active=False, reason="x"
            )


def test_parsing_what_is_typed() -> None:
    assert amounts_from_text("high = 60\nmedium：45\n") == {"high": "60", "medium": "45"}
    assert amounts_from_text("1000") == {"*": "1000"}
    assert numbers_from_text("40/40/20") == ["40", "40", "20"]
    assert numbers_from_text("40%, 40%，20%") == ["40", "40", "20"]


# --- pages -----------------------------------------------------------------------------------


def test_rules_page_lists_and_admin_creates(personas: Personas) -> None:
    # everyone signed in reads them
    page = login(Client(), personas.village_assistant).get("/services/entitlements/")
    body = page.content.decode()
    assert "服务类救助（每人每年1000元）" in body and "400 / 400 / 200" in body
    assert "/services/entitlements/new/" not in body
    assert (
        login(Client(), personas.village_assistant).get("/services/entitlements/new/").status_code
        == 404
    )
    # the admin makes one; shares not adding up → 422 with the input kept
    client = login(Client(), personas.county_admin)
    form = {
        "code": "county_pack",
        "name_zh": "县服务包",
        "unit": "yuan",
        "period": "year",
        "amounts": "* = 800",
        "shares": "50/40",
        "opening": "previous_full",
        "valid_from": "2026-01-01",
        "target_groups": ["elderly"],
    }
    response = client.post("/services/entitlements/new/", form)
    assert response.status_code == 422
    body = response.content.decode()
    assert "add up to 100" in body and 'value="50/40"' in body and "县服务包" in body
    assert 'value="elderly" checked' in body
    response = client.post("/services/entitlements/new/", {**form, "shares": "50/50"})
    assert response.status_code == 302
    created = EntitlementRule.objects.get(code="county_pack")
    assert created.region_id == COUNTY and created.shares == [50, 50]
    # its page shows the history
    page = client.get(f"/services/entitlements/{created.pk}/").content.decode()
    assert "县服务包" in page and "created" in page


def test_the_admin_stops_a_rule_on_its_page(personas: Personas) -> None:
    client = login(Client(), personas.county_admin)
    dongsheng = rule("dongsheng_1000")
    # without a reason: 422
    response = client.post(f"/services/entitlements/{dongsheng.pk}/", {"action": "stop"})
    assert response.status_code == 422
    # with one
    response = client.post(
        f"/services/entitlements/{dongsheng.pk}/", {"action": "stop", "reason": "项目结束"}
    )
    assert response.status_code == 302
    dongsheng.refresh_from_db()
    assert not dongsheng.is_active and dongsheng.revision == 2
    # others cannot post there
    response = login(Client(), personas.town_officer).post(
        f"/services/entitlements/{dongsheng.pk}/", {"action": "resume", "reason": "x"}
    )
    assert response.status_code == 404
