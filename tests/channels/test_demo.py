"""The channels demo: one call that becomes a need, one that becomes a ticket; twice is
the same as once."""

from __future__ import annotations

from jiuzhu.accounts.roles import Role
from jiuzhu.channels.demo import seed_demo
from jiuzhu.channels.models import CallEvent, CallTicket
from jiuzhu.channels.signing import signature
from jiuzhu.services.models import Need
from tests.conftest import VILLAGE_A, Family, make_user


def test_the_demo_makes_a_need_and_a_ticket_once(family: Family) -> None:
    # given the demo's village assistant and the family's elder head (born 1958, a phone)
    make_user("village_assistant", Role.VILLAGE_ASSISTANT, VILLAGE_A)
    # when
    seed_demo(county_code="360823")
    seed_demo(county_code="360823")
    # then
    assert CallEvent.objects.count() == 2
    need = Need.objects.get()
    assert (need.source, need.urgency, need.person) == ("call", "urgent", family.head)
    assert CallTicket.objects.get().county_id == "360823"


def test_the_worked_example_in_the_docs_holds() -> None:
    # docs/channels.md, "A worked example": keep the figures there true
    body = (
        b'{"call_id":"gw-20260301-000123","caller":"13807960001","key":"9",'
        b'"pressed_at":"2026-03-01T08:15:00+08:00"}'
    )
    assert signature("example-secret-do-not-use", "1772324100", body) == (
        "18e286c1261cf7895671d0a705d19bbdbfd609dd6826b29fcb5a21013dbbdb3f"
    )
