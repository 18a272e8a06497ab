"""The monthly scorecard run (scorecards_run): thresholds at their boundaries, the
minimum volume, what yellow and red open, that a red provider receives no dispatch, the
recovery rules and the history of decisions."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.channels.models import Notification
from jiuzhu.services.models import DispatchOffer, Provider
from jiuzhu.services.services.dispatch import dispatch_one
from jiuzhu.services.services.orders import order_create
from jiuzhu.supervision.models import ExitReview, LightDecision, ProviderScore, Rectification
from jiuzhu.supervision.services.light_decisions import exit_review_decide, rectification_close
from jiuzhu.supervision.services.scorecards import scorecards_run, scorecards_run_detailed
from tests.conftest import Family, Personas
from tests.services.delivery import make_provider
from tests.services.order_factories import HOME, project_need
from tests.supervision.test_light_support import (
    END,
    START,
    TODAY,
    complaint,
    configure,
    county,
    english,
    orders,
    provider_with_staff,
)

__all__ = ["english"]

NOV_START = datetime.date(2026, 11, 1)
NOV_END = datetime.date(2026, 11, 30)
NOV_DAY = datetime.date(2026, 11, 10)


def run(start: datetime.date = START, end: datetime.date = END, **kw: Any) -> list[ProviderScore]:
    return scorecards_run(county=county(), period_start=start, period_end=end, today=TODAY, **kw)


def light_of(provider: Provider) -> str:
    provider.refresh_from_db()
    return provider.light


# --- thresholds at their boundaries, through the run ------------------------------------------

# Three orders served in October. Satisfaction: ratings 5, 4, 4 → 4.33. On time: one of three
# late → 0.6667. Complaints: one upheld over three orders → 0.3333 (lower is better).
CASES = [
    # figure, (green, red), expected light
    ("satisfaction", ("4.33", "3.5"), "green"),  # exactly at the green bound
    ("satisfaction", ("4.34", "3.5"), "yellow"),  # one step (0.01) under it
    ("satisfaction", ("4.5", "4.33"), "yellow"),  # exactly at the red bound
    ("satisfaction", ("4.5", "4.34"), "red"),  # one step under it
    ("on_time_rate", ("0.6667", "0.5"), "green"),
    ("on_time_rate", ("0.6668", "0.5"), "yellow"),
    ("on_time_rate", ("0.9", "0.6667"), "yellow"),
    ("on_time_rate", ("0.9", "0.6668"), "red"),
    ("complaint_rate", ("0.3333", "0.5"), "green"),
    ("complaint_rate", ("0.3332", "0.5"), "yellow"),
    ("complaint_rate", ("0.1", "0.3333"), "yellow"),
    ("complaint_rate", ("0.1", "0.3332"), "red"),
]


@pytest.mark.parametrize(("figure", "bounds", "expected"), CASES)
def test_thresholds_at_their_boundaries(
    personas: Personas, family: Family, figure: str, bounds: tuple[str, str], expected: str
) -> None:
    # given three orders served in October and the county's bound for one figure
    provider, _manager, worker = provider_with_staff()
    if figure == "satisfaction":
        orders(personas, family, provider, worker, [5, 4, 4])
    elif figure == "on_time_rate":
        orders(personas, family, provider, worker, [5, 5, 5], late=1)
    else:
        orders(personas, family, provider, worker, [5, 5, 5])
        complaint(provider)
    configure(min_volume=3, bounds={figure: bounds})
    # when
    (score,) = run()
    # then the light earned, stored and applied
    assert score.light == expected
    assert light_of(provider) == expected
    decisions = LightDecision.objects.filter(provider=provider)
    assert decisions.count() == (0 if expected == "green" else 1)


@pytest.mark.parametrize(("min_volume", "judged"), [(3, True), (4, False)])
def test_the_minimum_volume_boundary(
    personas: Personas, family: Family, min_volume: int, judged: bool
) -> None:
    # given three badly rated orders
    provider, _manager, worker = provider_with_staff()
    orders(personas, family, provider, worker, [1, 1, 1])
    configure(min_volume=min_volume)
    # when
    (score,) = run()
    # then at the minimum it is judged (red); one order short nothing changes
    assert score.volume == 3
    if judged:
        assert (score.light, light_of(provider)) == ("red", "red")
    else:
        assert score.light is None
        assert score.reasons == []
        assert light_of(provider) == "green"
        assert not LightDecision.objects.exists()
        assert not ExitReview.objects.exists()


# --- yellow and red -----------------------------------------------------------------------------


def test_yellow_opens_exactly_one_rectification_with_its_due_date(
    personas: Personas,
    family: Family,
    english: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given three orders rated 4 (satisfaction 4.00: yellow by the defaults), 15 days to rectify
    provider, manager, worker = provider_with_staff()
    orders(personas, family, provider, worker, [4, 4, 4])
    configure(min_volume=3, rectification_days=15)
    # when the run happens twice
    with django_capture_on_commit_callbacks(execute=True):
        run()
    run()
    # then
    assert light_of(provider) == "yellow"
    assert ProviderScore.objects.filter(provider=provider).count() == 1
    (decision,) = LightDecision.objects.filter(provider=provider)
    assert (decision.kind, decision.from_light, decision.to_light) == (
        "computed",
        "green",
        "yellow",
    )
    assert decision.decided_by is None
    assert "satisfaction 4.00 is below 4.5 (yellow)" in decision.reason
    (rectification,) = Rectification.objects.filter(provider=provider)
    assert rectification.status == "open"
    assert rectification.due_date == TODAY + datetime.timedelta(days=15)
    assert "satisfaction" in rectification.issues
    assert rectification.decision == decision
    # and the provider's manager and the county administrator were told
    assert Notification.objects.filter(user=manager, kind="provider_light").count() == 1
    assert Notification.objects.filter(user=personas.county_admin, kind="provider_light").exists()
    assert not Notification.objects.filter(user=personas.supervisor).exists()


def test_red_opens_an_exit_review_and_the_red_provider_receives_no_dispatch(
    personas: Personas, family: Family
) -> None:
    # given a provider right at the household, badly rated in October (red), and a green
    # provider farther away with no orders (too few to judge: stays green)
    near, _manager, worker = provider_with_staff("峡江县近处服务社")
    orders(personas, family, near, worker, [2, 2, 2])
    far = make_provider("峡江县远处服务中心", lat=HOME[0] + Decimal("0.1"), lon=HOME[1])
    configure(min_volume=3)
    # when
    run()
    # then
    assert light_of(near) == "red"
    assert light_of(far) == "green"
    review = ExitReview.objects.get(provider=near)
    assert review.status == "open"
    assert review.decision.to_light == "red"
    # and a new order goes to the green provider, none to the red one
    order = order_create(
        actor=personas.village_assistant,
        need=project_need(personas, family),
        service_date=timezone.localdate(),
    )
    offer = dispatch_one(actor=None, order=order)
    assert offer is not None
    assert offer.provider_id == far.pk
    assert not DispatchOffer.objects.filter(provider=near).exists()


def test_before_the_run_the_same_provider_would_have_been_offered_the_order(
    personas: Personas, family: Family
) -> None:
    # the control of the test above: without the red light the near provider gets it
    near, _manager, worker = provider_with_staff("峡江县近处服务社")
    orders(personas, family, near, worker, [2, 2, 2])
    make_provider("峡江县远处服务中心", lat=HOME[0] + Decimal("0.1"), lon=HOME[1])
    order = order_create(
        actor=personas.village_assistant,
        need=project_need(personas, family),
        service_date=timezone.localdate(),
    )
    offer = dispatch_one(actor=None, order=order)
    assert offer is not None and offer.provider_id == near.pk


def test_the_run_is_idempotent_and_recomputes_the_same_rows(
    personas: Personas, family: Family
) -> None:
    # given a red month
    provider, _manager, worker = provider_with_staff()
    orders(personas, family, provider, worker, [1, 1, 1])
    configure(min_volume=3)
    run()
    # when two more orders arrive for October and it runs again
    orders(personas, family, provider, worker, [1, 1])
    (score,) = run()
    # then one row, recomputed; one decision, one exit review
    assert ProviderScore.objects.filter(provider=provider).count() == 1
    assert score.volume == 5
    assert LightDecision.objects.filter(provider=provider).count() == 1
    assert ExitReview.objects.filter(provider=provider).count() == 1
    assert AuditEvent.objects.filter(object_type="supervision.scorecards").count() == 2


def test_providers_outside_the_county_or_inactive_without_orders_are_not_scored(
    personas: Personas, family: Family
) -> None:
    # given an active provider with no orders, an inactive one with none, and one with orders
    idle, _m, _w = provider_with_staff("峡江县空闲服务社")
    gone, _m2, _w2 = provider_with_staff("峡江县停业服务社")
    Provider.objects.filter(pk=gone.pk).update(is_active=False)
    busy, _m3, worker = provider_with_staff("峡江县忙碌服务社")
    orders(personas, family, busy, worker, [5])
    Provider.objects.filter(pk=busy.pk).update(is_active=False)
    # when
    scores = run()
    # then
    assert {s.provider_id for s in scores} == {idle.pk, busy.pk}


# --- recovery -----------------------------------------------------------------------------------


def test_a_better_month_does_not_lift_yellow_while_the_rectification_is_open(
    personas: Personas, family: Family
) -> None:
    # given yellow in October with its rectification open
    provider, _manager, worker = provider_with_staff()
    orders(personas, family, provider, worker, [4, 4, 4])
    configure(min_volume=3)
    run()
    # when November is perfect
    orders(personas, family, provider, worker, [5, 5, 5], day=NOV_DAY)
    result = scorecards_run_detailed(
        county=county(), period_start=NOV_START, period_end=NOV_END, today=NOV_END
    )
    # then the score is green but the light stays yellow, waiting for staff
    assert result.scores[0].light == "green"
    assert light_of(provider) == "yellow"
    assert [p.pk for p, _why in result.held] == [provider.pk]
    assert LightDecision.objects.filter(provider=provider).count() == 1


def test_a_better_month_lifts_yellow_once_no_rectification_is_open(
    personas: Personas, family: Family
) -> None:
    # given yellow in October, the rectification rejected (no longer open)
    provider, _manager, worker = provider_with_staff()
    orders(personas, family, provider, worker, [4, 4, 4])
    configure(min_volume=3)
    run()
    rectification = Rectification.objects.get(provider=provider)
    rectification_close(
        actor=personas.county_admin,
        rectification=rectification,
        accepted=False,
        conclusion="整改报告未提交",
    )
    # when November is perfect
    orders(personas, family, provider, worker, [5, 5, 5], day=NOV_DAY)
    scorecards_run(county=county(), period_start=NOV_START, period_end=NOV_END)
    # then
    assert light_of(provider) == "green"
    latest = LightDecision.objects.filter(provider=provider).first()
    assert latest is not None and (latest.from_light, latest.to_light) == ("yellow", "green")


def test_red_is_not_lifted_while_the_exit_review_is_open_nor_after_expulsion(
    personas: Personas, family: Family
) -> None:
    # given red in October (exit review open)
    provider, _manager, worker = provider_with_staff()
    orders(personas, family, provider, worker, [1, 1, 1])
    configure(min_volume=3)
    run()
    orders(personas, family, provider, worker, [5, 5, 5], day=NOV_DAY)
    # when November is perfect: still red
    scorecards_run(county=county(), period_start=NOV_START, period_end=NOV_END)
    assert light_of(provider) == "red"
    # and after expulsion, the next run does not lift it either
    exit_review_decide(
        actor=personas.county_admin,
        review=ExitReview.objects.get(provider=provider),
        expel=True,
        conclusion="多次服务不到位，清退",
    )
    scorecards_run(county=county(), period_start=NOV_START, period_end=NOV_END)
    provider.refresh_from_db()
    assert (provider.light, provider.is_active) == ("red", False)


def test_yellow_turning_red_supersedes_the_rectification(
    personas: Personas, family: Family
) -> None:
    # given yellow in October with its rectification open
    provider, _manager, worker = provider_with_staff()
    orders(personas, family, provider, worker, [4, 4, 4])
    configure(min_volume=3)
    run()
    # when November is bad
    orders(personas, family, provider, worker, [1, 1, 1], day=NOV_DAY)
    scorecards_run(county=county(), period_start=NOV_START, period_end=NOV_END)
    # then red, an exit review, and the rectification closed (superseded)
    assert light_of(provider) == "red"
    assert Rectification.objects.get(provider=provider).status == "rejected"
    assert ExitReview.objects.filter(provider=provider, status="open").count() == 1


def test_a_staff_run_records_who_ran_it_and_others_may_not_run(
    personas: Personas, family: Family
) -> None:
    provider, _manager, worker = provider_with_staff()
    orders(personas, family, provider, worker, [2, 2, 2])
    configure(min_volume=3)
    # a supervisor reads but does not decide
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        run(actor=personas.supervisor)
    run(actor=personas.county_admin)
    decision = LightDecision.objects.get(provider=provider)
    assert decision.decided_by == personas.county_admin
