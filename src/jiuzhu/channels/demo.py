"""Demo calls: an elder of the demo assistant's village presses "9" (an urgent need for
the dispatcher, the village told) and an unregistered number calls (a ticket for the
county). Idempotent: the calls carry fixed ids, so a second run finds them."""

from __future__ import annotations

import datetime

from django.utils import timezone

from jiuzhu.accounts.models import User
from jiuzhu.channels.models import CallEvent
from jiuzhu.channels.services import call_receive
from jiuzhu.registry.models import Person
from jiuzhu.registry.protected import reveal_phone

# A number the synthetic population is all but certain not to hold: it makes the ticket.
UNKNOWN_CALLER = "13000000000"


def seed_demo(*, county_code: str) -> None:
    assistant = User.objects.filter(username="village_assistant").first()
    if assistant is None or not (assistant.region_id or "").startswith(county_code):
        return
    if CallEvent.objects.filter(call_id__startswith="demo-").exists():
        return
    now = timezone.now()
    elder = (
        Person.objects.filter(
            region_id=assistant.region_id,
            is_deceased=False,
            household__is_active=True,
            birth_date__lte=timezone.localdate() - datetime.timedelta(days=365 * 60),
        )
        .exclude(phone_encrypted="")
        .order_by("birth_date", "id")
        .first()
    )
    if elder is not None:
        pressed = now - datetime.timedelta(minutes=20)
        call_receive(
            payload={
                "call_id": "demo-call-0001",
                "caller": reveal_phone(elder.phone_encrypted),
                "key": "9",
                "pressed_at": pressed.isoformat(),
            },
            now=pressed,
        )
    pressed = now - datetime.timedelta(minutes=5)
    call_receive(
        payload={
            "call_id": "demo-call-0002",
            "caller": UNKNOWN_CALLER,
            "key": "9",
            "pressed_at": pressed.isoformat(),
            "county": county_code,
        },
        now=pressed,
    )
