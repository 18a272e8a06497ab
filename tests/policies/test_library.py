"""The policy library's services: what a policy must say, its history (revisions and rule
versions), who may change it, and the audit trail."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from jiuzhu.accounts.models import AuditEvent, User
from jiuzhu.accounts.roles import Role
from jiuzhu.policies.guide import phone_numbers
from jiuzhu.policies.models import GuideTag, Policy, PolicyRevision, Theme
from jiuzhu.policies.services.library import (
    PolicyFields,
    policy_create,
    policy_set_active,
    policy_update,
)
from jiuzhu.regions.models import Level, Region
from tests.conftest import COUNTY, TOWN, Personas, make_user

RULE = (
    "SELECT household_id, json_object('elders', elders) AS evidence,\n"
    "       '家中有60岁以上老人' AS explanation\n"
    "FROM household_facts WHERE elders > 0"
)
OTHER_COUNTY = "360824"


def fields(**overrides: Any) -> PolicyFields:
    base = PolicyFields(
        name="高龄津贴",
        department="县民政局",
        theme=Theme.ELDERLY,
        summary="80周岁以上老人每月领取高龄津贴。",
        conditions_text="本县户籍，年满80周岁。",
        benefit="每人每月100元。",
        how_to_apply="本人或家属到村（社区）提出申请。",
        phone="0796-3612345",
        guide_tags=[GuideTag.ELDERLY],
        rule_sql=RULE,
    )
    return dataclasses.replace(base, **overrides)


def create(actor: User | None, code: str = "gaoling", **overrides: Any) -> Policy:
    return policy_create(
        actor=actor, region_code=COUNTY, code=code, fields=fields(**overrides), reason="县文件"
    )


def other_county() -> Region:
    return Region.objects.create(
        code=OTHER_COUNTY, name="新干县", level=Level.COUNTY, parent_id="3608"
    )


def errors_of(call: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


# --- validation ------------------------------------------------------------------------


def test_a_county_admin_creates_revision_one(personas: Personas) -> None:
    # given / when
    policy = create(personas.county_admin)
    # then
    assert (policy.revision, policy.rule_version, policy.region_id) == (1, 1, COUNTY)
    revision = policy.revisions.get()
    assert revision.number == 1 and revision.changed_by == personas.county_admin
    assert revision.data["name"] == "高龄津贴" and revision.data["rule_sql"] == RULE
    assert revision.reason == "县文件"
    audit = AuditEvent.objects.get(object_type="policies.policy", object_id=str(policy.pk))
    assert audit.action == "create" and audit.actor == personas.county_admin


@pytest.mark.parametrize(
    "phone",
    ["0796-361234", "3612345", "123", "电话：0796-3612345", "0796 3612345 x", "abc"],
)
def test_a_phone_that_cannot_be_called_is_refused(personas: Personas, phone: str) -> None:
    errors = errors_of(lambda: create(personas.county_admin, phone=phone))
    assert list(errors) == ["phone"]
    assert not Policy.objects.exists()


@pytest.mark.parametrize(
    ("phone", "dials"),
    [
        ("0796-3612345", ["07963612345"]),
        ("(0796)3612345", ["07963612345"]),
        ("0796-3612345转801", ["07963612345"]),
        ("13807960001", ["13807960001"]),
        ("12345", ["12345"]),
        ("12349、0796-3612345", ["12349", "07963612345"]),
        ("400-123-4567", ["4001234567"]),
    ],
)
def test_chinese_phone_numbers_are_accepted_and_dialable(phone: str, dials: list[str]) -> None:
    numbers = phone_numbers(phone)
    assert numbers is not None
    assert [n.tel for n in numbers] == dials


def test_required_texts_and_dates(personas: Personas) -> None:
    errors = errors_of(
        lambda: create(
            personas.county_admin,
            name="  ",
            benefit="",
            valid_from=datetime.date(2026, 1, 1),
            valid_until=datetime.date(2025, 12, 31),
        )
    )
    assert set(errors) == {"name", "benefit", "valid_until"}
    assert not Policy.objects.exists()


def test_unknown_tags_category_kind_and_theme_are_refused(personas: Personas) -> None:
    errors = errors_of(
        lambda: create(
            personas.county_admin,
            guide_tags=["elderly", "rich"],
            enrolment_category="nobility",
            assistance_kind="no_such_kind",
            theme="astrology",
        )
    )
    assert set(errors) == {"guide_tags", "enrolment_category", "assistance_kind", "theme"}
    # known values pass
    policy = create(personas.county_admin, enrolment_category="dibao", assistance_kind="temporary")
    assert (policy.enrolment_category, policy.assistance_kind) == ("dibao", "temporary")


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DELETE FROM household_facts", "a rule must be a single SELECT"),
        (
            "SELECT household_id, 1 AS evidence, 'x' AS explanation FROM secrets",
            "unknown table 'secrets'",
        ),
        ("SELECT household_id FROM household_facts", "must return evidence, explanation"),
    ],
)
def test_a_rule_that_writes_or_reads_an_unknown_table_shows_the_engines_message(
    personas: Personas, sql: str, message: str
) -> None:
    errors = errors_of(lambda: create(personas.county_admin, rule_sql=sql))
    assert list(errors) == ["rule_sql"]
    assert message in errors["rule_sql"][0]
    assert not Policy.objects.exists()


def test_codes_are_unique_and_a_county_cannot_shadow_a_national_code(personas: Personas) -> None:
    # given
    policy_create(actor=None, region_code=None, code="linshi", fields=fields())
    create(personas.county_admin, code="gaoling")
    # when / then
    assert "code" in errors_of(lambda: create(personas.county_admin, code="gaoling"))
    assert "code" in errors_of(lambda: create(personas.county_admin, code="linshi"))
    assert "code" in errors_of(lambda: create(personas.county_admin, code="高龄"))


def test_texts_are_stored_trimmed_with_one_kind_of_line_end(personas: Personas) -> None:
    policy = create(
        personas.county_admin,
        name="  高龄津贴 ",
        rule_sql=RULE.replace("\n", "\r\n") + "\r\n",
        guide_tags=[GuideTag.LIVES_ALONE, GuideTag.ELDERLY, GuideTag.ELDERLY],
    )
    assert policy.name == "高龄津贴"
    assert policy.rule_sql == RULE
    assert policy.guide_tags == [GuideTag.ELDERLY, GuideTag.LIVES_ALONE]


# --- revisions ---------------------------------------------------------------------------


def test_an_edit_is_revision_two_and_keeps_the_old_text(personas: Personas) -> None:
    # given
    policy = create(personas.county_admin)
    # when
    policy = policy_update(
        actor=personas.county_admin,
        policy=policy,
        fields=fields(benefit="每人每月150元。"),
        reason="县政府2026年文件提高标准",
    )
    # then
    assert policy.revision == 2
    assert policy.rule_version == 1  # the rule did not change
    assert policy.benefit == "每人每月150元。"
    first, second = PolicyRevision.objects.filter(policy=policy).order_by("number")
    assert first.data["benefit"] == "每人每月100元。"
    assert second.data["benefit"] == "每人每月150元。"
    assert second.reason == "县政府2026年文件提高标准"
    assert second.changed_by == personas.county_admin
    audit = AuditEvent.objects.filter(object_type="policies.policy", action="update").get()
    assert audit.detail["changed"] == {"benefit": ["每人每月100元。", "每人每月150元。"]}


def test_only_a_change_of_the_rule_bumps_its_version(personas: Personas) -> None:
    policy = create(personas.county_admin)
    # a browser's CRLF is not a change of the rule
    policy = policy_update(
        actor=personas.county_admin,
        policy=policy,
        fields=fields(rule_sql=RULE.replace("\n", "\r\n"), phone="12345"),
        reason="新电话",
    )
    assert (policy.revision, policy.rule_version) == (2, 1)
    policy = policy_update(
        actor=personas.county_admin,
        policy=policy,
        fields=fields(rule_sql=RULE.replace("elders > 0", "elders_80 > 0"), phone="12345"),
        reason="只看80岁以上",
    )
    assert (policy.revision, policy.rule_version) == (3, 2)
    assert "elders_80" in policy.revisions.get(number=3).data["rule_sql"]


def test_saving_without_change_writes_nothing_and_a_change_needs_a_reason(
    personas: Personas,
) -> None:
    policy = create(personas.county_admin)
    same = policy_update(actor=personas.county_admin, policy=policy, fields=fields(), reason="")
    assert same.revision == 1 and policy.revisions.count() == 1
    errors = errors_of(
        lambda: policy_update(
            actor=personas.county_admin, policy=policy, fields=fields(name="新名称"), reason=" "
        )
    )
    assert list(errors) == ["reason"]
    policy.refresh_from_db()
    assert policy.name == "高龄津贴"


def test_retire_and_activate_are_revisions(personas: Personas) -> None:
    policy = create(personas.county_admin)
    policy = policy_set_active(
        actor=personas.county_admin, policy=policy, active=False, reason="政策到期"
    )
    assert not policy.is_active and policy.revision == 2
    assert policy.revisions.get(number=2).data["is_active"] is False
    policy = policy_set_active(actor=personas.county_admin, policy=policy, active=True)
    assert policy.is_active and policy.revision == 3


# --- permissions ---------------------------------------------------------------------------


def test_only_a_county_admin_of_that_county_writes(personas: Personas) -> None:
    # given
    policy = create(personas.county_admin)
    other_county()
    stranger = make_user("admin_xingan", Role.COUNTY_ADMIN, OTHER_COUNTY)
    # when / then
    for user in (personas.town_officer, personas.village_assistant, personas.supervisor, stranger):
        with pytest.raises(PermissionDenied):
            policy_update(actor=user, policy=policy, fields=fields(name="改名"), reason="x")
        with pytest.raises(PermissionDenied):
            policy_set_active(actor=user, policy=policy, active=False)
    with pytest.raises(PermissionDenied):
        policy_create(actor=stranger, region_code=COUNTY, code="x1", fields=fields())
    policy.refresh_from_db()
    assert policy.name == "高龄津贴" and policy.is_active and policy.revision == 1


def test_national_rows_are_written_by_the_system_only(personas: Personas) -> None:
    national = policy_create(actor=None, region_code=None, code="linshi", fields=fields())
    assert national.region_id is None and national.revisions.get().changed_by is None
    with pytest.raises(PermissionDenied):
        policy_update(
            actor=personas.county_admin, policy=national, fields=fields(name="改"), reason="x"
        )
    with pytest.raises(PermissionDenied):
        policy_create(actor=personas.county_admin, region_code=None, code="x2", fields=fields())
    with pytest.raises(PermissionDenied):
        policy_set_active(actor=personas.county_admin, policy=national, active=False)


def test_a_policy_belongs_to_a_county(personas: Personas) -> None:
    errors = errors_of(
        lambda: policy_create(actor=None, region_code=TOWN, code="x3", fields=fields())
    )
    assert list(errors) == ["region"]
