"""Needs from every source, the public face and its checks, consent and publishing."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.monitoring.services import warning_verify
from jiuzhu.registry.models import TimelineEvent
from jiuzhu.services import choices as c
from jiuzhu.services.models import Claim, Need
from jiuzhu.services.services.claims import claim_create
from jiuzhu.services.services.needs import (
    need_cancel,
    need_from_plan_item,
    need_from_warning,
    need_publish,
    need_record_consent,
    need_set_public_face,
    need_unpublish,
    public_face_problems,
)
from jiuzhu.services.services.plans import plan_agree, plan_item_add
from tests.assessment.conftest import make_warning
from tests.conftest import Family, Personas
from tests.services.conftest import assess, dongsheng_plan, item
from tests.services.delivery import valid_id
from tests.services.needs_factories import (
    HOUSE,
    PUBLIC_SUMMARY,
    PUBLIC_TITLE,
    published,
    volunteers,
    wish,
)

NAMES = ["王建国", "李秀英", "王小明"]
ADDRESS = "示例一村3组12号"


# --- the public face checks (no database) -------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "王建国家需要一台洗衣机",  # full name
        "建国爷爷想要收音机",  # given name
        "给秀英阿姨送棉被",  # the spouse's given name
        "联系电话13807960001",  # mobile
        "电话 138 0796 0001",  # mobile with spaces
        "电话138-0796-0001",  # mobile with dashes
        "座机0796-7312345",  # landline with area code
        "座机 731 2345",  # local landline with a space
        "身份证362423195803120018",  # ID number
        "证件号 3624 2319 5803 1200 18",  # ID number with spaces
        "证件号36242319580312001X",  # ID number ending in X
        "身份证号362423580312001",  # old 15-digit ID
        "地址：示例一村3组12号",  # the address
        "住在12号的老人",  # the house number
        "１３８０７９６０００１",  # full-width digits
    ],
)
def test_text_that_names_reaches_or_locates_someone_is_refused(text: str) -> None:
    # when
    problems = public_face_problems(text, names=NAMES, address=ADDRESS)
    # then
    assert problems


@pytest.mark.parametrize(
    "text",
    [
        "村里一位行动不便的老人需要一辆轻便轮椅",
        "希望在2025-09-01前收到，价值约600元",
        "9月12号前送到即可",  # a date, not house number 12
        "一个初三学生想要一个新水杯",
        "需要3组志愿者",  # the village group is not a house
    ],
)
def test_coarse_text_is_allowed(text: str) -> None:
    assert public_face_problems(text, names=NAMES, address=ADDRESS) == []


def test_a_one_character_given_name_is_not_a_problem() -> None:
    # 张三 → given name 三 (one character) is not checked; the full name is
    assert public_face_problems("三个孩子", names=["张三"], address="") == []
    assert public_face_problems("张三家", names=["张三"], address="") != []


# --- creation -----------------------------------------------------------------------------


def test_a_wish_is_recorded_with_the_village_and_clocks_and_on_the_timeline(
    personas: Personas, family: Family
) -> None:
    # when
    need = wish(personas, family)
    # then
    assert need.status == c.NeedStatus.DRAFT
    assert need.region_id == family.household.region_id
    assert need.assign_due_at is not None
    assert TimelineEvent.objects.filter(
        household=family.household, kind="services.need_created", object_id=str(need.pk)
    ).exists()


def test_staff_outside_the_area_may_not_create(personas: Personas, family: Family) -> None:
    with pytest.raises(PermissionDenied):
        wish(personas, family, actor=personas.colleague)
    with pytest.raises(PermissionDenied):
        wish(personas, family, actor=personas.supervisor)


def test_a_need_from_an_agreed_plan_item_is_a_voucher_dispatch(
    personas: Personas, family: Family
) -> None:
    # given an agreed Dongsheng plan with a whole-house cleaning
    plan = dongsheng_plan(personas, assess(personas.village_assistant, family.household))
    chosen = plan_item_add(
        actor=personas.village_assistant,
        plan=plan,
        item=item("house_cleaning"),
        quantity=1,
        stage=1,
        today=plan.period_start,
    )
    # when the plan is still a draft
    with pytest.raises(ValidationError):
        need_from_plan_item(actor=personas.village_assistant, plan_item=chosen)
    plan_agree(actor=personas.village_assistant, plan=plan, person=family.head, how="in_person")
    chosen.refresh_from_db()
    need = need_from_plan_item(
        actor=personas.village_assistant, plan_item=chosen, urgency=c.Urgency.URGENT
    )
    # then
    assert (need.source, need.route, need.funding) == ("plan", "dispatch", "voucher")
    assert need.item_id == chosen.item_id and need.plan_item_id == chosen.pk
    assert need.estimated_value == chosen.unit_price
    assert need.source_ref == str(chosen.pk)


def test_a_need_from_a_verified_warning_only(personas: Personas, family: Family) -> None:
    # given a warning still open, then verified with a referral
    warning = make_warning(family, verified=False)
    with pytest.raises(ValidationError) as refused:
        need_from_warning(actor=personas.village_assistant, warning=warning)
    assert "warning" in refused.value.message_dict
    warning_verify(
        warning=warning,
        user=personas.village_assistant,
        visited_at=timezone.now() - datetime.timedelta(hours=1),
        findings="独居，冬季取暖困难",
        outcome="referred",
        need_summary="冬季取暖物资",
        latitude=HOUSE[0],
        longitude=HOUSE[1],
    )
    warning.refresh_from_db()
    # when
    need = need_from_warning(
        actor=personas.village_assistant, warning=warning, item=item("winter_warmth")
    )
    # then the visit's summary is the title, the place is the visit's GPS
    assert need.source == c.NeedSource.WARNING and need.source_ref == str(warning.pk)
    assert need.title == "冬季取暖物资"
    assert (need.lat, need.lon) == HOUSE
    # and a colleague of another village cannot make one from it
    with pytest.raises(PermissionDenied):
        need_from_warning(actor=personas.colleague, warning=warning)


# --- public face, consent, publishing -----------------------------------------------------


def test_the_public_face_is_refused_when_it_names_a_member(
    personas: Personas, family: Family
) -> None:
    # given
    need = wish(personas, family)
    # when
    with pytest.raises(ValidationError) as refused:
        need_set_public_face(
            actor=personas.village_assistant,
            need=need,
            public_title="给王小明的书包",
            public_summary="电话13807960001",
        )
    # then both fields are named, nothing saved
    assert set(refused.value.message_dict) == {"public_title", "public_summary"}
    need.refresh_from_db()
    assert need.public_title == ""


def test_the_public_face_rounds_the_place_to_a_kilometre(
    personas: Personas, family: Family
) -> None:
    # given
    need = wish(personas, family)
    # when
    need_set_public_face(
        actor=personas.village_assistant,
        need=need,
        public_title=PUBLIC_TITLE,
        public_summary=PUBLIC_SUMMARY,
    )
    need.refresh_from_db()
    # then
    assert (need.public_lat, need.public_lon) == (Decimal("27.58"), Decimal("115.15"))
    assert AuditEvent.objects.filter(object_type="services.need", object_id=str(need.pk)).exists()


def test_publishing_needs_consent_and_a_public_face(personas: Personas, family: Family) -> None:
    # given a wish with neither
    need = wish(personas, family)
    actor = personas.village_assistant
    # when
    with pytest.raises(ValidationError) as refused:
        need_publish(actor=actor, need=need)
    # then
    assert {"consent", "public_title"} <= set(refused.value.message_dict)
    need_set_public_face(actor=actor, need=need, public_title=PUBLIC_TITLE, public_summary="")
    with pytest.raises(ValidationError) as still:
        need_publish(actor=actor, need=need)
    assert "consent" in still.value.message_dict
    need_record_consent(actor=actor, need=need, person=family.spouse, how=c.ConsentHow.SIGNED)
    need = need_publish(actor=actor, need=need)
    assert need.status == c.NeedStatus.PUBLISHED
    assert need.published_by == actor and need.published_at is not None
    assert TimelineEvent.objects.filter(kind="services.need_published").count() == 1


def test_the_database_refuses_a_publish_date_without_consent(
    personas: Personas, family: Family
) -> None:
    need = wish(personas, family)
    with pytest.raises(IntegrityError), transaction.atomic():
        Need.objects.filter(pk=need.pk).update(published_at=timezone.now(), status="published")


def test_a_child_cannot_consent_but_a_parent_can_for_them(
    personas: Personas, family: Family
) -> None:
    # given a wish for the child
    need = wish(personas, family, person=family.child, title="新书包")
    actor = personas.village_assistant
    # when the child is recorded as consenting
    with pytest.raises(ValidationError) as refused:
        need_record_consent(actor=actor, need=need, person=family.child, how="verbal")
    # then refused; the father consents for him
    assert "person" in refused.value.message_dict
    need = need_record_consent(actor=actor, need=need, person=family.head, how="phone")
    assert need.consent_by == family.head and need.consent_recorded_by == actor
    assert need.consent_how == "phone" and need.consent_at is not None
    assert AuditEvent.objects.filter(
        object_type="services.need", object_id=str(need.pk), detail__consent_how="phone"
    ).exists()


def test_consent_by_someone_of_another_household_is_refused(
    personas: Personas, family: Family
) -> None:
    # given a wish of the family and a neighbour's household
    need = wish(personas, family)
    from jiuzhu.registry.services import household_create, person_create

    stranger_house = household_create(actor=None, region_code=family.household.region_id)
    stranger = person_create(
        actor=None,
        household=stranger_house,
        name="赵六",
        id_number=valid_id(701, born="19700101"),
        relationship="head",
    )
    # when / then
    with pytest.raises(ValidationError) as refused:
        need_record_consent(
            actor=personas.village_assistant, need=need, person=stranger, how="verbal"
        )
    assert "person" in refused.value.message_dict


def test_a_dispatched_need_is_never_published(personas: Personas, family: Family) -> None:
    need = wish(
        personas,
        family,
        route=c.Route.DISPATCH,
        funding=c.Funding.PROJECT,
        item=item("house_cleaning"),
    )
    actor = personas.village_assistant
    need_record_consent(actor=actor, need=need, person=family.spouse, how="verbal")
    need_set_public_face(actor=actor, need=need, public_title="全屋清洁", public_summary="")
    with pytest.raises(ValidationError) as refused:
        need_publish(actor=actor, need=need)
    assert "route" in refused.value.message_dict


def test_publish_checks_the_face_again_against_the_members_now(
    personas: Personas, family: Family
) -> None:
    # given a face written before a member with that name joined
    need = wish(personas, family)
    actor = personas.village_assistant
    need_record_consent(actor=actor, need=need, person=family.spouse, how="verbal")
    need_set_public_face(actor=actor, need=need, public_title="给小红的书包", public_summary="")
    from jiuzhu.registry.services import person_create

    person_create(
        actor=None,
        household=family.household,
        name="王小红",
        id_number=valid_id(702, born="20150101", prefix="360823"),
        relationship="child",
    )
    # when / then
    with pytest.raises(ValidationError) as refused:
        need_publish(actor=actor, need=need)
    assert "public_title" in refused.value.message_dict


def test_unpublish_and_cancel(personas: Personas, family: Family) -> None:
    # given
    need = published(personas, family)
    actor = personas.village_assistant
    # when
    need = need_unpublish(actor=actor, need=need)
    # then
    assert need.status == c.NeedStatus.DRAFT
    with pytest.raises(ValidationError):
        need_cancel(actor=actor, need=need, reason="  ")
    need = need_cancel(actor=actor, need=need, reason="家人已自行购买")
    assert need.status == c.NeedStatus.CANCELLED and need.closed_reason == "家人已自行购买"
    with pytest.raises(ValidationError):
        need_cancel(actor=actor, need=need, reason="again")


def test_cancelling_a_claimed_need_ends_the_claim(personas: Personas, family: Family) -> None:
    # given a claimed need
    need = published(personas, family)
    (volunteer,) = volunteers(1)
    claim = claim_create(actor=volunteer, need=need)
    # when
    need_cancel(actor=personas.village_assistant, need=need, reason="受助人已搬走")
    # then
    claim.refresh_from_db()
    assert claim.status == c.ClaimStatus.REJECTED
    assert not Claim.objects.filter(need=need, status__in=c.ACTIVE_CLAIM_STATUSES).exists()


# --- demo ------------------------------------------------------------------------------------


def test_seed_needs_makes_wishes_in_every_state_once(family: Family) -> None:
    # given the demo assistant and seven households with an adult in the demo village
    from jiuzhu.accounts.roles import Role
    from jiuzhu.registry.services import household_create, person_create
    from jiuzhu.services.demo_needs import seed_needs
    from tests.conftest import COUNTY, VILLAGE_A, make_user

    make_user("village_assistant", Role.VILLAGE_ASSISTANT, VILLAGE_A)
    for n in range(6):
        household = household_create(actor=None, region_code=VILLAGE_A, address=f"{n}号")
        person_create(
            actor=None,
            household=household,
            name=f"周{n}{n}",
            id_number=valid_id(900 + n, born="19600101"),
            relationship="head",
        )
    # when
    first = seed_needs(county_code=COUNTY, seed=1)
    again = seed_needs(county_code=COUNTY, seed=1)
    # then
    assert first["created"] == 7 and again["created"] == 0
    assert {k: first[k] for k in ("draft", "published", "claimed", "fulfilled")} == {
        "draft": 1,
        "published": 2,
        "claimed": 2,
        "fulfilled": 2,
    }
    assert Claim.objects.filter(status="completed").count() == 2
    assert set(Need.objects.filter(status="fulfilled").values_list("confirmed_by", flat=True)) == {
        "beneficiary",
        "staff",
    }
    assert not Need.objects.filter(status="published", consent_at__isnull=True).exists()
    # the open claims still hold: nothing expires straight after the demo
    from jiuzhu.services.services.claims import claims_expire

    assert claims_expire() == 0
