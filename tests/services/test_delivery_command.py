"""``jiuzhu delivery tick``: one pass of every clock, one JSON object."""

from __future__ import annotations

import datetime
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from jiuzhu.services.models import Claim, Need
from jiuzhu.services.services.claims import claim_create
from jiuzhu.services.services.needs import (
    need_create,
    need_publish,
    need_record_consent,
    need_set_public_face,
)
from tests.conftest import Family, Personas
from tests.services.delivery import make_volunteer, valid_id

pytestmark = pytest.mark.django_db


def test_tick_expires_a_claim_held_too_long_and_reports_every_step(
    personas: Personas, family: Family
) -> None:
    # given a published wish claimed three days ago (the hold is 48 hours)
    need = need_create(
        actor=personas.village_assistant,
        household=family.household,
        source="wish",
        route="claim",
        funding="self_claim",
        title="一台电风扇",
    )
    need_record_consent(
        actor=personas.village_assistant, need=need, person=family.head, how="signed"
    )
    need_set_public_face(
        actor=personas.village_assistant,
        need=need,
        public_title="一台电风扇",
        public_summary="一户老人家里想要一台电风扇。",
    )
    need_publish(actor=personas.village_assistant, need=need)
    volunteer = make_volunteer("tick_v", valid_id(901))
    claim = claim_create(actor=volunteer, need=Need.objects.get(pk=need.pk))
    Claim.objects.filter(pk=claim.pk).update(
        expires_at=timezone.now() - datetime.timedelta(hours=1)
    )

    # when one pass runs
    out = StringIO()
    call_command("delivery", "tick", stdout=out)

    # then the claim expired, the wish is back on the market, and each step reported
    report = json.loads(out.getvalue())
    assert set(report) == {"dispatch", "claims_expired", "deadlines", "notifications"}
    assert report["claims_expired"] == 1
    assert Claim.objects.get(pk=claim.pk).status == "expired"
    assert Need.objects.get(pk=need.pk).status == "published"
