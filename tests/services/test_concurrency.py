"""No stage is exceeded under concurrent requests: every allocation locks the plan row.

The threaded test needs a database that really runs transactions side by side, so it runs
on PostgreSQL only (CI runs the suite there); on SQLite the lock is checked directly."""

from __future__ import annotations

import datetime
import threading
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from jiuzhu.assessment.models import Assessment
from jiuzhu.services.models import PlanItem, ServicePlan
from jiuzhu.services.services.plans import plan_item_add
from tests.conftest import Family, Personas
from tests.services.conftest import dongsheng_plan, item

TODAY = datetime.date(2026, 3, 1)


def test_an_allocation_locks_the_plan_row(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    # given
    plan = dongsheng_plan(personas, assessed)
    # when
    with mock.patch.object(
        ServicePlan.objects, "select_for_update", wraps=ServicePlan.objects.select_for_update
    ) as lock:
        plan_item_add(
            actor=personas.village_assistant,
            plan=plan,
            item=item("festival_visit"),
            quantity=1,
            stage=1,
            today=TODAY,
        )
    # then the plan row was locked before the stage was checked and written
    assert lock.called


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_at_once_cannot_exceed_a_stage(
    personas: Personas, family: Family, assessed: Assessment, audit_flush_allowed: None
) -> None:
    # given stage 1 of 400 yuan, and two workers choosing a 300-yuan visit at the same moment
    plan = dongsheng_plan(personas, assessed)
    festival = item("festival_visit")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def choose(user: object) -> None:
        try:
            barrier.wait(timeout=10)
            plan_item_add(actor=user, plan=plan, item=festival, quantity=1, stage=1, today=TODAY)  # type: ignore[arg-type]
            outcomes.append("chosen")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    workers = [
        threading.Thread(target=choose, args=(user,))
        for user in (personas.village_assistant, personas.town_officer)
    ]
    # when
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    # then one is chosen, the other refused, and the stage holds 300
    assert sorted(outcomes) == ["chosen", "refused"]
    assert PlanItem.objects.filter(plan=plan).count() == 1
