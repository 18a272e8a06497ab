"""Staff decisions on traffic lights: overrides, rectifications (report, accept, reject),
exit reviews (expel, reinstate), with who and why in the history, and who may do what."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.channels.models import Notification
from jiuzhu.services.models import Provider, ProviderContract
from jiuzhu.supervision.light_selectors import provider_record, rectifications_open
from jiuzhu.supervision.models import ExitReview, LightDecision, Rectification
from jiuzhu.supervision.services.light_decisions import (
    exit_review_decide,
    light_override,
    rectification_close,
    rectification_submit,
)
from tests.conftest import Personas
from tests.services.delivery import add_member
from tests.supervision.test_light_support import TODAY, configure, english, provider_with_staff

__all__ = ["english"]

REPORT = "已组织护理员培训，调整排班，逐户回访。"


def light_of(provider: Provider) -> str:
    provider.refresh_from_db()
    return provider.light


def yellow(personas: Personas, provider: Provider) -> Rectification:
    light_override(
        actor=personas.county_admin,
        provider=provider,
        light="yellow",
        reason="满意度连续两月偏低",
        today=TODAY,
    )
    return Rectification.objects.get(provider=provider, status="open")


def red(personas: Personas, provider: Provider) -> ExitReview:
    light_override(
        actor=personas.county_admin, provider=provider, light="red", reason="虚报服务记录"
    )
    return ExitReview.objects.get(provider=provider, status="open")


# --- overrides ----------------------------------------------------------------------------------


def test_an_override_records_who_and_why_and_follows_the_policy(
    personas: Personas, english: None
) -> None:
    # given a green provider; 20 days to rectify in this county
    provider, _manager, _worker = provider_with_staff()
    configure(rectification_days=20)
    # when the county administrator turns it yellow
    rectification = yellow(personas, provider)
    # then
    assert light_of(provider) == "yellow"
    decision = LightDecision.objects.get(provider=provider)
    assert (decision.kind, decision.from_light, decision.to_light) == (
        "override",
        "green",
        "yellow",
    )
    assert decision.decided_by == personas.county_admin
    assert decision.reason == "满意度连续两月偏低"
    assert rectification.due_date == TODAY + datetime.timedelta(days=20)
    assert rectification.issues == "满意度连续两月偏低"
    # and the services' own audit row of the light change names the actor
    assert AuditEvent.objects.filter(
        object_type="services.provider", object_id=str(provider.pk), actor=personas.county_admin
    ).exists()


def test_an_override_needs_a_reason_a_change_and_the_right(personas: Personas) -> None:
    provider, manager, _worker = provider_with_staff()
    with pytest.raises(ValidationError) as no_reason:
        light_override(actor=personas.county_admin, provider=provider, light="red", reason=" ")
    assert "reason" in no_reason.value.message_dict
    with pytest.raises(ValidationError):
        light_override(actor=personas.county_admin, provider=provider, light="green", reason="x")
    with pytest.raises(ValidationError):
        light_override(actor=personas.county_admin, provider=provider, light="blue", reason="x")
    for outsider in (personas.supervisor, personas.town_officer, manager):
        with pytest.raises(PermissionDenied):
            light_override(actor=outsider, provider=provider, light="red", reason="x")
    assert light_of(provider) == "green"
    assert not LightDecision.objects.exists()


def test_an_override_cannot_lift_a_light_past_an_open_rectification_or_exit_review(
    personas: Personas,
) -> None:
    provider, _manager, _worker = provider_with_staff()
    yellow(personas, provider)
    with pytest.raises(ValidationError):
        light_override(actor=personas.county_admin, provider=provider, light="green", reason="x")
    red(personas, provider)
    with pytest.raises(ValidationError):
        light_override(actor=personas.county_admin, provider=provider, light="yellow", reason="x")
    assert light_of(provider) == "red"


# --- rectifications -----------------------------------------------------------------------------


def test_the_manager_reports_and_the_bureau_accepts_the_light_turns_green(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    # given a yellow provider with its rectification open
    provider, manager, _worker = provider_with_staff()
    rectification = yellow(personas, provider)
    # when its manager reports and the county administrator accepts
    with django_capture_on_commit_callbacks(execute=True):
        rectification_submit(actor=manager, rectification=rectification, report=REPORT)
    rectification.refresh_from_db()
    assert (rectification.status, rectification.submitted_by) == ("submitted", manager)
    assert Notification.objects.filter(
        user=personas.county_admin, kind="rectification_submitted"
    ).exists()
    rectification_close(
        actor=personas.county_admin,
        rectification=rectification,
        accepted=True,
        conclusion="整改到位",
    )
    # then
    rectification.refresh_from_db()
    assert (rectification.status, rectification.closed_by) == ("accepted", personas.county_admin)
    assert light_of(provider) == "green"
    latest = LightDecision.objects.filter(provider=provider).first()
    assert latest is not None
    assert (latest.kind, latest.from_light, latest.to_light, latest.reason) == (
        "rectified",
        "yellow",
        "green",
        "整改到位",
    )


def test_a_rejected_rectification_leaves_yellow_and_staff_may_then_override_to_red(
    personas: Personas,
) -> None:
    provider, manager, _worker = provider_with_staff()
    rectification = yellow(personas, provider)
    rectification_submit(actor=manager, rectification=rectification, report=REPORT)
    rectification_close(
        actor=personas.county_admin,
        rectification=rectification,
        accepted=False,
        conclusion="整改不到位",
    )
    assert light_of(provider) == "yellow"
    assert Rectification.objects.get(pk=rectification.pk).status == "rejected"
    red(personas, provider)
    assert light_of(provider) == "red"


def test_rectification_rules(personas: Personas) -> None:
    provider, manager, worker = provider_with_staff()
    _other, other_manager, _w = provider_with_staff("峡江县另一家服务中心")
    rectification = yellow(personas, provider)
    # only this provider's manager reports (not a care worker, not another provider)
    for outsider in (worker, other_manager, personas.county_admin):
        with pytest.raises(PermissionDenied):
            rectification_submit(actor=outsider, rectification=rectification, report=REPORT)
    with pytest.raises(ValidationError):
        rectification_submit(actor=manager, rectification=rectification, report="好")
    # nothing is accepted before a report, and a conclusion is required
    with pytest.raises(ValidationError):
        rectification_close(
            actor=personas.county_admin, rectification=rectification, accepted=True, conclusion="好"
        )
    with pytest.raises(ValidationError):
        rectification_close(
            actor=personas.county_admin, rectification=rectification, accepted=False, conclusion=""
        )
    with pytest.raises(PermissionDenied):
        rectification_close(
            actor=personas.supervisor, rectification=rectification, accepted=False, conclusion="x"
        )
    assert Rectification.objects.get(pk=rectification.pk).status == "open"


def test_overdue_rectifications_are_listed_first(personas: Personas) -> None:
    # given two yellow providers: one due later, one past due
    first, _m, _w = provider_with_staff("峡江县甲服务社")
    second, _m2, _w2 = provider_with_staff("峡江县乙服务社")
    later = yellow(personas, first)
    overdue = yellow(personas, second)
    Rectification.objects.filter(pk=later.pk).update(due_date=TODAY + datetime.timedelta(days=1))
    Rectification.objects.filter(pk=overdue.pk).update(due_date=TODAY - datetime.timedelta(days=1))
    # when
    listed = rectifications_open(personas.supervisor, TODAY)
    # then
    assert [r.pk for r in listed] == [overdue.pk, later.pk]


# --- exit reviews -------------------------------------------------------------------------------


def test_expulsion_deactivates_the_provider_and_ends_its_contracts(personas: Personas) -> None:
    provider, _manager, _worker = provider_with_staff()
    review = red(personas, provider)
    exit_review_decide(
        actor=personas.county_admin, review=review, expel=True, conclusion="虚报服务，清退"
    )
    provider.refresh_from_db()
    assert (provider.light, provider.is_active) == ("red", False)
    assert set(
        ProviderContract.objects.filter(provider=provider).values_list("status", flat=True)
    ) == {"ended"}
    review.refresh_from_db()
    assert (review.status, review.decided_by) == ("expelled", personas.county_admin)
    assert provider_record(provider).expelled
    latest = LightDecision.objects.filter(provider=provider).first()
    assert latest is not None and (latest.kind, latest.to_light) == ("exit_review", "red")
    # and no override lifts an expelled provider that is still inactive
    with pytest.raises(ValidationError):
        light_override(actor=personas.county_admin, provider=provider, light="yellow", reason="x")


def test_reinstatement_gives_yellow_with_a_new_rectification(personas: Personas) -> None:
    # given yellow (rectification open), then red: the rectification is superseded
    provider, _manager, _worker = provider_with_staff()
    first = yellow(personas, provider)
    review = red(personas, provider)
    assert Rectification.objects.get(pk=first.pk).status == "rejected"
    # when reinstated
    exit_review_decide(
        actor=personas.county_admin, review=review, expel=False, conclusion="情节较轻，限期整改"
    )
    # then
    provider.refresh_from_db()
    assert (provider.light, provider.is_active) == ("yellow", True)
    new = Rectification.objects.get(provider=provider, status="open")
    assert new.pk != first.pk
    assert ExitReview.objects.get(pk=review.pk).status == "reinstated"
    # the whole history, newest first, with who and why
    history = [
        (d.from_light, d.to_light, d.kind, d.decided_by_id)
        for d in LightDecision.objects.filter(provider=provider)
    ]
    admin = personas.county_admin.pk
    assert history == [
        ("red", "yellow", "exit_review", admin),
        ("yellow", "red", "override", admin),
        ("green", "yellow", "override", admin),
    ]


def test_an_exit_review_is_decided_once_with_a_conclusion_by_the_right_person(
    personas: Personas,
) -> None:
    provider, manager, _worker = provider_with_staff()
    review = red(personas, provider)
    with pytest.raises(ValidationError):
        exit_review_decide(actor=personas.county_admin, review=review, expel=True, conclusion="")
    for outsider in (personas.supervisor, manager):
        with pytest.raises(PermissionDenied):
            exit_review_decide(actor=outsider, review=review, expel=True, conclusion="x")
    exit_review_decide(actor=personas.county_admin, review=review, expel=False, conclusion="恢复")
    with pytest.raises(ValidationError):
        exit_review_decide(actor=personas.county_admin, review=review, expel=True, conclusion="x")


def test_a_manager_added_later_sees_the_notifications_only_of_their_provider(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    provider, manager, _worker = provider_with_staff()
    _other, other_manager, _w = provider_with_staff("峡江县另一家服务中心")
    second = add_member(provider, "second_boss", manager=True)
    with django_capture_on_commit_callbacks(execute=True):
        red(personas, provider)
    assert Notification.objects.filter(user=manager, kind="provider_light").count() == 1
    assert Notification.objects.filter(user=second, kind="provider_light").count() == 1
    assert not Notification.objects.filter(user=other_manager).exists()
