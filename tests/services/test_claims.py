"""Claiming: who may claim, the hold, approval, rejection, withdrawal, expiry, delivery and
confirmation; the household's timeline names only the claimant's kind."""

from __future__ import annotations

import datetime
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from jiuzhu.registry.models import TimelineEvent
from jiuzhu.services import choices as c
from jiuzhu.services.models import Claim, Need, Volunteer
from jiuzhu.services.need_selectors import claimant_of
from jiuzhu.services.services.claims import (
    ClaimConflict,
    claim_approve,
    claim_confirm,
    claim_create,
    claim_deliver,
    claim_reject,
    claim_withdraw,
    claims_expire,
)
from tests.conftest import Family, Personas
from tests.services.delivery import add_member, make_provider, make_volunteer, valid_id
from tests.services.needs_factories import approved_claim, published, volunteers

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def _status(need: Need) -> str:
    need.refresh_from_db()
    return need.status


# --- who may claim ------------------------------------------------------------------------


def test_claimants_are_verified_volunteers_donors_and_organisations_not_red(
    personas: Personas, family: Family
) -> None:
    # given
    verified = make_volunteer("v1", valid_id(1))
    donor = make_volunteer("d1", valid_id(2), kind="donor")
    pending = make_volunteer("v2", valid_id(3), verified=False)
    green = add_member(make_provider("绿灯社工站"), "green_staff")
    red = add_member(make_provider("红灯公司", light="red"), "red_staff")
    # when / then
    assert claimant_of(verified).kind == "volunteer"  # type: ignore[union-attr]
    assert claimant_of(donor).kind == "donor"  # type: ignore[union-attr]
    assert claimant_of(pending) is None
    assert claimant_of(green).kind == "organisation"  # type: ignore[union-attr]
    assert claimant_of(red) is None
    assert claimant_of(personas.volunteer) is None  # the role without a verified record
    assert claimant_of(personas.village_assistant) is None  # staff do not claim


def test_an_unverified_volunteer_may_not_claim(personas: Personas, family: Family) -> None:
    need = published(personas, family)
    pending = make_volunteer("v2", valid_id(3), verified=False)
    with pytest.raises(PermissionDenied):
        claim_create(actor=pending, need=need)
    assert _status(need) == c.NeedStatus.PUBLISHED


def test_an_organisation_claims_for_its_provider(personas: Personas, family: Family) -> None:
    need = published(personas, family)
    provider = make_provider("峡江县爱心企业")
    staff = add_member(provider, "company_staff")
    claim = claim_create(actor=staff, need=need)
    assert claim.claimant_kind == "organisation" and claim.provider == provider


# --- the hold -----------------------------------------------------------------------------


def test_a_claim_holds_the_need_and_a_second_claimant_is_refused(
    personas: Personas, family: Family
) -> None:
    # given
    need = published(personas, family)
    first, second = volunteers(2)
    before = timezone.now()
    # when
    claim = claim_create(actor=first, need=need, message="我周末送过去")
    with pytest.raises(ClaimConflict) as refused:
        claim_create(actor=second, need=need)
    # then
    assert "need" in refused.value.message_dict
    assert claim.status == c.ClaimStatus.PENDING and claim.claimant_kind == "volunteer"
    hold = claim.expires_at - before
    assert (
        datetime.timedelta(hours=47, minutes=59) < hold <= datetime.timedelta(hours=48, seconds=5)
    )
    assert _status(need) == c.NeedStatus.CLAIMED
    assert Claim.objects.filter(need=need).count() == 1


def test_the_hold_and_auto_approval_follow_the_settings(
    personas: Personas, family: Family, settings: Any
) -> None:
    # given
    settings.JIUZHU_CLAIM_HOLD_HOURS = 6
    settings.JIUZHU_CLAIM_AUTO_APPROVE = True
    need = published(personas, family)
    (volunteer,) = volunteers(1)
    # when
    claim = claim_create(actor=volunteer, need=need)
    # then
    assert claim.status == c.ClaimStatus.APPROVED
    assert claim.expires_at - claim.claimed_at < datetime.timedelta(hours=6, minutes=1)


def test_a_draft_need_cannot_be_claimed(personas: Personas, family: Family) -> None:
    from tests.services.needs_factories import wish

    need = wish(personas, family)
    (volunteer,) = volunteers(1)
    with pytest.raises(ClaimConflict):
        claim_create(actor=volunteer, need=need)


# --- staff decisions ----------------------------------------------------------------------


def test_only_staff_of_the_area_approve(personas: Personas, family: Family) -> None:
    need = published(personas, family)
    (volunteer,) = volunteers(1)
    claim = claim_create(actor=volunteer, need=need)
    for outsider in (personas.colleague, personas.supervisor, volunteer):
        with pytest.raises(PermissionDenied):
            claim_approve(actor=outsider, claim=claim)
    claim = claim_approve(actor=personas.town_officer, claim=claim)
    assert claim.status == c.ClaimStatus.APPROVED and claim.decided_by == personas.town_officer


def test_rejection_puts_the_need_back_and_the_claimant_may_not_claim_again(
    personas: Personas, family: Family, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    need = published(personas, family)
    first, second = volunteers(2)
    claim = claim_create(actor=first, need=need)
    # when
    with pytest.raises(ValidationError):
        claim_reject(actor=personas.village_assistant, claim=claim, reason="")
    with (
        mock.patch("jiuzhu.services.services.claims.notify") as notify,
        django_capture_on_commit_callbacks(execute=True),
    ):
        claim_reject(actor=personas.village_assistant, claim=claim, reason="联系不上")
    # then
    assert _status(need) == c.NeedStatus.PUBLISHED
    assert notify.call_args.kwargs["user"] == first
    assert notify.call_args.kwargs["kind"] == "claim_rejected"
    with pytest.raises(ValidationError):
        claim_create(actor=first, need=need)
    assert claim_create(actor=second, need=need).status == c.ClaimStatus.PENDING


def test_approval_tells_the_claimant(
    personas: Personas, family: Family, django_capture_on_commit_callbacks: Any
) -> None:
    need = published(personas, family)
    (volunteer,) = volunteers(1)
    claim = claim_create(actor=volunteer, need=need)
    with (
        mock.patch("jiuzhu.services.services.claims.notify") as notify,
        django_capture_on_commit_callbacks(execute=True),
    ):
        claim_approve(actor=personas.village_assistant, claim=claim)
    assert notify.call_args.kwargs["user"] == volunteer
    assert notify.call_args.kwargs["kind"] == "claim_approved"


def test_the_claimant_withdraws_and_nobody_else_can(personas: Personas, family: Family) -> None:
    need = published(personas, family)
    first, second = volunteers(2)
    claim = claim_create(actor=first, need=need)
    with pytest.raises(PermissionDenied):
        claim_withdraw(actor=second, claim=claim)
    claim = claim_withdraw(actor=first, claim=claim, reason="临时出差")
    assert claim.status == c.ClaimStatus.WITHDRAWN
    assert _status(need) == c.NeedStatus.PUBLISHED
    # a withdrawn claimant may claim again
    assert claim_create(actor=first, need=need).status == c.ClaimStatus.PENDING


# --- expiry -------------------------------------------------------------------------------


def test_claims_past_their_hold_with_nothing_delivered_expire(
    personas: Personas, family: Family
) -> None:
    # given a pending claim and an approved one delivered (another need)
    need = published(personas, family)
    first, second = volunteers(2)
    waiting = claim_create(actor=first, need=need)
    other = published(personas, family, title="棉被")
    delivered = claim_create(actor=second, need=other)
    claim_approve(actor=personas.village_assistant, claim=delivered)
    claim_deliver(actor=second, claim=delivered, note="已送到")
    # when, an hour before the hold ends nothing happens; after it, one expires
    assert claims_expire(now=waiting.expires_at - datetime.timedelta(hours=1)) == 0
    with mock.patch("jiuzhu.services.services.claims.notify") as notify:
        expired = claims_expire(now=waiting.expires_at + datetime.timedelta(minutes=1))
    # then
    assert expired == 1
    waiting.refresh_from_db()
    delivered.refresh_from_db()
    assert waiting.status == c.ClaimStatus.EXPIRED
    assert delivered.status == c.ClaimStatus.DELIVERED
    assert _status(need) == c.NeedStatus.PUBLISHED
    assert _status(other) == c.NeedStatus.CLAIMED
    told = {call.kwargs["user"] for call in notify.call_args_list}
    assert first in told and personas.village_assistant in told
    assert TimelineEvent.objects.filter(kind="services.claim_expired").count() == 1


def test_approval_gives_the_whole_hold_again(personas: Personas, family: Family) -> None:
    need = published(personas, family)
    (volunteer,) = volunteers(1)
    claim = claim_create(actor=volunteer, need=need)
    later = claim.claimed_at + datetime.timedelta(hours=40)
    claim = claim_approve(actor=personas.village_assistant, claim=claim, now=later)
    assert claim.expires_at == later + datetime.timedelta(hours=48)


# --- delivery and confirmation ------------------------------------------------------------


def test_delivery_waits_for_approval_and_needs_a_note(personas: Personas, family: Family) -> None:
    need = published(personas, family)
    (volunteer,) = volunteers(1)
    claim = claim_create(actor=volunteer, need=need)
    with pytest.raises(ValidationError) as waiting:
        claim_deliver(actor=volunteer, claim=claim, note="送到了")
    assert "status" in waiting.value.message_dict
    claim = claim_approve(actor=personas.village_assistant, claim=claim)
    with pytest.raises(ValidationError) as empty:
        claim_deliver(actor=volunteer, claim=claim, note=" ")
    assert "note" in empty.value.message_dict
    with pytest.raises(ValidationError) as not_a_photo:
        claim_deliver(
            actor=volunteer,
            claim=claim,
            note="送到了",
            photo=SimpleUploadedFile("x.jpg", b"GIF89a....", content_type="image/jpeg"),
        )
    assert "photo" in not_a_photo.value.message_dict


def test_the_whole_claim_on_the_timeline_with_the_kind_only(
    personas: Personas, family: Family, settings: Any, tmp_path: Any
) -> None:
    # given
    settings.MEDIA_ROOT = tmp_path
    (volunteer,) = volunteers(1)
    claim = approved_claim(personas, family, volunteer)
    # when
    claim = claim_deliver(
        actor=volunteer,
        claim=claim,
        note="轮椅已送到家中",
        photo=SimpleUploadedFile("wheelchair.jpg", JPEG, content_type="image/jpeg"),
    )
    with pytest.raises(PermissionDenied):
        claim_confirm(actor=volunteer, claim=claim, confirmed_by="staff")
    claim = claim_confirm(
        actor=personas.village_assistant,
        claim=claim,
        confirmed_by=c.ConfirmedBy.BENEFICIARY,
        note="电话回访，受助人确认收到",
    )
    # then
    need = Need.objects.get(pk=claim.need_id)
    assert claim.status == c.ClaimStatus.COMPLETED and claim.delivery_photo.name
    assert need.status == c.NeedStatus.FULFILLED and need.confirmed_by == "beneficiary"
    assert need.confirmed_by_user == personas.village_assistant
    kinds = list(
        TimelineEvent.objects.filter(household=family.household)
        .order_by("occurred_at", "id")
        .values_list("kind", flat=True)
    )
    story = [k for k in kinds if k.startswith("services.")]
    assert story == [
        "services.need_created",
        "services.need_consent",
        "services.need_published",
        "services.need_claimed",
        "services.claim_approved",
        "services.claim_delivered",
        "services.need_fulfilled",
    ]
    volunteer_record = Volunteer.objects.get(user=volunteer)
    for event in TimelineEvent.objects.filter(
        kind__in=["services.need_claimed", "services.claim_delivered"]
    ):
        assert event.detail == {"claimant_kind": "volunteer"}
        assert volunteer.username not in event.summary
        assert volunteer_record.name not in event.summary


def test_staff_may_confirm_an_approved_claim_the_claimant_did_not_record(
    personas: Personas, family: Family
) -> None:
    (volunteer,) = volunteers(1)
    claim = approved_claim(personas, family, volunteer)
    with pytest.raises(ValidationError):
        claim_confirm(actor=personas.village_assistant, claim=claim, confirmed_by="nobody")
    claim = claim_confirm(actor=personas.village_assistant, claim=claim, confirmed_by="staff")
    assert claim.status == c.ClaimStatus.COMPLETED and claim.delivered_at is not None
    assert Need.objects.get(pk=claim.need_id).confirmed_by == "staff"
