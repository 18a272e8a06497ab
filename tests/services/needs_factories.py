"""Helpers for the needs and claims tests: a micro-wish of the test family in several
states, and verified volunteers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jiuzhu.accounts.models import User
from jiuzhu.services import choices as c
from jiuzhu.services.models import Claim, Need
from jiuzhu.services.services.claims import claim_approve, claim_create
from jiuzhu.services.services.needs import (
    need_create,
    need_publish,
    need_record_consent,
    need_set_public_face,
)
from tests.conftest import Family, Personas
from tests.services.delivery import make_volunteer, place_regions, valid_id

# The family's house, precisely (the public sees it rounded to 0.01°).
HOUSE = (Decimal("27.583456"), Decimal("115.147891"))
PUBLIC_TITLE = "一辆轮椅"
PUBLIC_SUMMARY = "村里一位行动不便的老人需要一辆轻便轮椅，方便出门晒太阳。"
DETAILS = "李秀英腿脚不便，下午在家。进门前先打电话。"


def wish(personas: Personas, family: Family, **overrides: Any) -> Need:
    """A micro-wish for the spouse (a wheelchair), recorded by the village assistant."""
    place_regions()
    fields: dict[str, Any] = {
        "actor": personas.village_assistant,
        "household": family.household,
        "source": c.NeedSource.WISH,
        "route": c.Route.CLAIM,
        "funding": c.Funding.SELF_CLAIM,
        "title": "轮椅",
        "person": family.spouse,
        "details": DETAILS,
        "estimated_value": Decimal("600"),
        "lat": HOUSE[0],
        "lon": HOUSE[1],
    }
    fields.update(overrides)
    return need_create(**fields)


def published(personas: Personas, family: Family, **overrides: Any) -> Need:
    """The wish with consent (the spouse, verbally) and its public face, published."""
    need = wish(personas, family, **overrides)
    actor = personas.village_assistant
    need_record_consent(actor=actor, need=need, person=family.spouse, how=c.ConsentHow.VERBAL)
    need_set_public_face(
        actor=actor, need=need, public_title=PUBLIC_TITLE, public_summary=PUBLIC_SUMMARY
    )
    return need_publish(actor=actor, need=need)


def volunteers(n: int, *, start: int = 1, kind: str = "volunteer") -> list[User]:
    return [
        make_volunteer(f"vol{i}", valid_id(i), kind=kind, name=f"志愿者{i}")
        for i in range(start, start + n)
    ]


def approved_claim(personas: Personas, family: Family, volunteer: User) -> Claim:
    need = published(personas, family)
    claim = claim_create(actor=volunteer, need=need)
    return claim_approve(actor=personas.village_assistant, claim=claim)
