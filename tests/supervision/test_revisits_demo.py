"""The demo hook: a drawn batch with results — failures only at the failing provider,
two unreachable, some left to do, one upheld complaint — the same on a second run."""

from __future__ import annotations

import datetime
from collections import Counter

from jiuzhu.supervision.demo_revisits import seed_revisits
from jiuzhu.supervision.models import Complaint, Revisit
from tests.conftest import Family, Personas
from tests.supervision.factories import provider_with_staff, served_order
from tests.supervision.revisit_factories import _english, completed_like  # noqa: F401


def test_seed_revisits(personas: Personas, family: Family) -> None:
    # given two providers with October's orders, one of them failing
    good, _m1, worker = provider_with_staff("好服务中心")
    bad, _m2, _w2 = provider_with_staff("差服务中心")
    template = served_order(personas, family, good, worker, day=datetime.date(2026, 10, 2))
    completed_like(template, good, 60, datetime.date(2026, 10, 10))
    completed_like(template, bad, 60, datetime.date(2026, 10, 20))
    # when
    batch = seed_revisits(
        county_code="360823",
        period=datetime.date(2026, 10, 1),
        failing_provider_ids={bad.pk},
        actor=personas.county_admin,
    )
    # then
    revisits = list(Revisit.objects.filter(batch=batch))
    status = Counter(r.status for r in revisits)
    assert status["unreachable"] == 2
    assert 0.1 <= status["pending"] / len(revisits) <= 0.3
    failed = [r for r in revisits if r.passed is False]
    assert failed and all(r.provider_id == bad.pk for r in failed)
    assert all(r.satisfaction in (4, 5) for r in revisits if r.passed and r.provider_id == good.pk)
    # done within October, after the order's check-out
    for r in revisits:
        if r.done_at is not None:
            assert r.done_at.month == 10 and r.done_at >= r.order.check_out_at
    complaints = list(Complaint.objects.all())
    assert 1 <= len(complaints) <= 2 and all(c.provider_id == bad.pk for c in complaints)
    assert [c.status for c in complaints].count("upheld") == 1
    # a second run returns the same batch untouched
    again = seed_revisits(
        county_code="360823",
        period=datetime.date(2026, 10, 1),
        failing_provider_ids={bad.pk},
        actor=personas.county_admin,
    )
    assert again == batch and Revisit.objects.filter(batch=batch).count() == len(revisits)
