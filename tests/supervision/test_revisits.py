"""The monthly revisit draw through the real service (rate, minimum, stratification by
provider, the phone queue, seeds, one batch a month) and the recording rules."""

from __future__ import annotations

import datetime
import math
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.channels.models import Notification
from jiuzhu.registry.models import TimelineEvent
from jiuzhu.services.models import Provider, ServiceOrder
from jiuzhu.supervision.models import Revisit, RevisitBatch, SupervisionConfig
from jiuzhu.supervision.services.revisits import (
    batch_due_date,
    derived_seed,
    revisit_add,
    revisit_batch_draw,
    revisit_record,
)
from tests.conftest import COUNTY, Family, Personas
from tests.supervision.factories import provider_with_staff, served_order
from tests.supervision.revisit_factories import _english, completed_like  # noqa: F401

OCTOBER = datetime.date(2026, 10, 1)
DRAWN_ON = datetime.date(2026, 11, 5)


@pytest.fixture
def month(personas: Personas, family: Family) -> dict[str, Any]:
    """Three providers with 40, 15 and 5 orders completed in October; some in September
    and some not served (accepted, cancelled) that must not be drawn."""
    providers = [provider_with_staff(f"服务中心{n}") for n in range(3)]
    p1, _m1, w1 = providers[0]
    template = served_order(personas, family, p1, w1, day=datetime.date(2026, 10, 2))
    october: dict[int, list[ServiceOrder]] = {}
    for (provider, _manager, _worker), n in zip(providers, (40, 15, 5), strict=True):
        rows = completed_like(template, provider, n, datetime.date(2026, 10, 12))
        october[provider.pk] = rows
    # the template itself is the 41st of provider 1
    october[p1.pk].append(template)
    september = completed_like(template, p1, 6, datetime.date(2026, 9, 20))
    unserved = completed_like(
        template, providers[1][0], 4, datetime.date(2026, 10, 15), status="accepted"
    ) + completed_like(
        template, providers[2][0], 3, datetime.date(2026, 10, 16), status="cancelled"
    )
    return {
        "providers": [p for p, _m, _w in providers],
        "october": october,
        "september": september,
        "unserved": unserved,
    }


def _draw(**kwargs: Any) -> RevisitBatch:
    kwargs.setdefault("actor", None)
    kwargs.setdefault("county", COUNTY)
    kwargs.setdefault("period", OCTOBER)
    kwargs.setdefault("today", DRAWN_ON)
    return revisit_batch_draw(**kwargs)


def _drawn(batch: RevisitBatch, method: str) -> list[Revisit]:
    return list(Revisit.objects.filter(batch=batch, method=method).select_related("order"))


def test_the_home_sample_is_the_rate_per_provider_at_least_the_minimum(
    month: dict[str, Any],
) -> None:
    # given a county whose settings ask 50 % and at least 5
    SupervisionConfig.objects.create(
        region_id=COUNTY, revisit_rate=Decimal("0.5000"), revisit_minimum=5, phone_minimum=4
    )
    october = month["october"]
    # when
    batch = _draw(seed=7)
    # then each provider gets ceil(50 % of its orders): 21 + 8 + 3
    home = _drawn(batch, "home")
    by_provider = Counter(r.provider_id for r in home)
    for provider_id, orders in october.items():
        assert by_provider[provider_id] == math.ceil(Decimal("0.5") * len(orders))
    assert len(home) == 21 + 8 + 3
    assert batch.completed_orders == 61 and batch.rate == Decimal("0.5000") and batch.seed == 7
    # only October's served orders are drawn
    drawn = {r.order_id for r in home}
    assert drawn <= {o.pk for rows in october.values() for o in rows}
    assert not drawn & {o.pk for o in month["september"] + month["unserved"]}


def test_the_default_minimum_of_20_is_shared_out_and_every_provider_is_checked(
    month: dict[str, Any],
) -> None:
    # given no county settings: 5 %, at least 20, phone 20
    providers = month["providers"]
    october = month["october"]
    # when
    batch = _draw(seed=11)
    # then the sample is max(sum of ceil(5 % × n), 20) with every provider in it
    home = _drawn(batch, "home")
    per_provider = sum(math.ceil(Decimal("0.05") * len(rows)) for rows in october.values())
    assert len(home) == max(per_provider, 20) == 20
    counts = Counter(r.provider_id for r in home)
    assert set(counts) == {p.pk for p in providers}
    for provider_id, rows in october.items():
        assert counts[provider_id] >= math.ceil(Decimal("0.05") * len(rows))
    # the phone queue: 20 more, disjoint from the home sample, every provider again
    phone = _drawn(batch, "phone")
    assert len(phone) == 20
    assert not {r.order_id for r in phone} & {r.order_id for r in home}
    assert set(Counter(r.provider_id for r in phone)) == {p.pk for p in providers}
    assert batch.minimum == 20 and batch.phone_minimum == 20


def test_the_same_seed_gives_the_same_sample_and_no_seed_is_derived(
    month: dict[str, Any], personas: Personas
) -> None:
    # given a draw with seed 5, written down, then undone
    first = _draw(seed=5)
    sample = sorted((r.order_id, r.method) for r in first.revisits.all())
    Revisit.objects.filter(batch=first).delete()
    first.delete()
    # when drawn again with the same seed
    again = _draw(seed=5)
    # then it is the same sample
    assert sorted((r.order_id, r.method) for r in again.revisits.all()) == sample
    # and a draw without a seed records the derived one
    november = _draw(period=datetime.date(2026, 11, 1), today=datetime.date(2026, 11, 20))
    assert november.seed == derived_seed(COUNTY, datetime.date(2026, 11, 1)) == 360823202611


def test_a_second_draw_of_the_month_is_refused(month: dict[str, Any]) -> None:
    # given
    _draw(seed=1)
    # when / then
    with pytest.raises(ValidationError) as exc:
        _draw(seed=2)
    assert "already drawn" in str(exc.value)
    assert RevisitBatch.objects.count() == 1


def test_the_draw_assigns_the_village_assistant_and_a_due_date(
    month: dict[str, Any], personas: Personas, family: Family
) -> None:
    # when
    batch = _draw(seed=3)
    revisit = batch.revisits.first()
    # then
    assert revisit is not None
    assert revisit.assigned_to == personas.village_assistant
    assert revisit.household_id == family.household.pk
    assert revisit.region_id == revisit.order.region_id
    assert revisit.provider_id == revisit.order.provider_id
    assert revisit.source == "sample" and revisit.status == "pending"
    assert revisit.due_date == datetime.date(2026, 11, 20) == batch_due_date(OCTOBER, DRAWN_ON)
    assert batch_due_date(OCTOBER, datetime.date(2026, 10, 20)) == datetime.date(2026, 11, 15)
    assert AuditEvent.objects.filter(object_type="supervision.revisit_batch").exists()


def test_who_may_draw(month: dict[str, Any], personas: Personas) -> None:
    # a town officer's area is not the county; a supervisor only reads
    for user in (personas.town_officer, personas.supervisor, personas.volunteer):
        with pytest.raises(PermissionDenied):
            _draw(actor=user, seed=1)
    # a future month cannot be drawn
    with pytest.raises(ValidationError):
        _draw(actor=personas.county_admin, period=datetime.date(2026, 12, 1))
    batch = _draw(actor=personas.county_admin, seed=1)
    assert batch.drawn_by == personas.county_admin


# --- recording -------------------------------------------------------------------------------


@pytest.fixture
def revisit(personas: Personas, family: Family) -> Revisit:
    provider, _manager, worker = provider_with_staff()
    order = served_order(personas, family, provider, worker, day=datetime.date(2026, 11, 2))
    return revisit_add(actor=personas.town_officer, order=order, method="home")


def test_a_done_revisit_needs_both_answers(revisit: Revisit, personas: Personas) -> None:
    # when the answers are missing
    with pytest.raises(ValidationError) as exc:
        revisit_record(
            actor=personas.village_assistant, revisit=revisit, status="done", satisfaction=9
        )
    # then both are asked for, and the satisfaction's range
    assert set(exc.value.message_dict) == {"service_happened", "matches_record", "satisfaction"}
    revisit.refresh_from_db()
    assert revisit.status == "pending" and revisit.passed is None


def test_a_passed_revisit(revisit: Revisit, personas: Personas) -> None:
    # when
    done = revisit_record(
        actor=personas.village_assistant,
        revisit=revisit,
        status="done",
        service_happened=True,
        matches_record=True,
        satisfaction=5,
        comment="很满意",
    )
    # then
    assert done.status == "done" and done.passed is True and done.done_at is not None
    assert done.done_by == personas.village_assistant and done.satisfaction == 5
    assert TimelineEvent.objects.filter(kind="supervision.revisit_passed").count() == 1
    assert not Notification.objects.filter(kind="revisit_failed").exists()
    # and it cannot be recorded twice
    with pytest.raises(ValidationError):
        revisit_record(
            actor=personas.village_assistant,
            revisit=done,
            status="done",
            service_happened=True,
            matches_record=True,
        )


@pytest.mark.parametrize(("happened", "matches"), [(False, False), (True, False), (False, True)])
def test_a_failed_revisit_goes_on_the_timeline_and_tells_the_county(
    revisit: Revisit, personas: Personas, happened: bool, matches: bool
) -> None:
    # when
    done = revisit_record(
        actor=personas.village_assistant,
        revisit=revisit,
        status="done",
        service_happened=happened,
        matches_record=matches,
        satisfaction=None,
        comment="没有上门",
    )
    # then
    assert done.passed is False and done.status == "done"
    event = TimelineEvent.objects.get(kind="supervision.revisit_failed")
    assert event.household_id == revisit.household_id and event.object_id == str(revisit.pk)
    told = set(Notification.objects.filter(kind="revisit_failed").values_list("user", flat=True))
    assert personas.county_admin.pk in told and personas.supervisor.pk in told
    assert personas.town_officer.pk not in told


def test_unreachable_three_times(revisit: Revisit, personas: Personas) -> None:
    # when the family is not reached twice
    for _ in range(2):
        revisit = revisit_record(
            actor=personas.village_assistant,
            revisit=revisit,
            status="unreachable",
            comment="无人接听",
        )
    # then it stays to do, with the attempts counted
    assert revisit.status == "pending" and revisit.attempts == 2 and revisit.passed is None
    # when the third attempt fails too
    revisit = revisit_record(
        actor=personas.village_assistant, revisit=revisit, status="unreachable"
    )
    # then it is unreachable, not judged
    assert revisit.status == "unreachable" and revisit.attempts == 3
    assert revisit.passed is None and revisit.done_at is None
    assert revisit.comment.count("not reached") == 3


def test_recording_is_for_revisit_staff_of_the_area(revisit: Revisit, personas: Personas) -> None:
    for user in (personas.colleague, personas.other_town_officer, personas.supervisor):
        with pytest.raises(PermissionDenied):
            revisit_record(
                actor=user,
                revisit=revisit,
                status="done",
                service_happened=True,
                matches_record=True,
            )


def test_an_ad_hoc_revisit_only_of_a_served_order_and_once_at_a_time(
    revisit: Revisit, personas: Personas, family: Family
) -> None:
    # a second pending revisit of the same order is refused
    with pytest.raises(ValidationError):
        revisit_add(actor=personas.town_officer, order=revisit.order, method="phone")
    # an order not served cannot be revisited
    provider = Provider.objects.get(pk=revisit.provider_id)
    open_order = completed_like(
        revisit.order, provider, 1, datetime.date(2026, 11, 3), status="accepted"
    )[0]
    with pytest.raises(ValidationError):
        revisit_add(actor=personas.town_officer, order=open_order, method="home")
    # outside the area
    with pytest.raises(PermissionDenied):
        revisit_add(actor=personas.other_town_officer, order=open_order, method="home")
