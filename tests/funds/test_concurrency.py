"""Two allocations at the same moment cannot together take more than a fund holds: the
posting locks the accounts' rows (in id order) and re-reads the balance under the lock.

The threaded test needs a database that really runs transactions side by side, so it runs
on PostgreSQL only; on SQLite the lock is checked directly."""

from __future__ import annotations

import datetime
import threading
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from jiuzhu.funds.models import Account, JournalEntry
from jiuzhu.funds.services import appropriation_post, fund_create, project_allocate
from tests.conftest import COUNTY, Personas
from tests.funds.conftest import make_project

DAY = datetime.date(2026, 11, 1)


def test_a_posting_locks_its_accounts(personas: Personas) -> None:
    # given
    fund = fund_create(
        actor=personas.county_admin, region_code=COUNTY, code="F1", name="f", kind="fiscal"
    )
    # when
    with mock.patch.object(
        Account.objects, "select_for_update", wraps=Account.objects.select_for_update
    ) as lock:
        appropriation_post(
            actor=personas.county_admin, fund=fund, amount="10", posted_on=DAY, memo=""
        )
    # then the accounts were locked before their balances were checked and written
    assert lock.called


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_allocations_at_once_cannot_overdraw_a_fund(
    personas: Personas, audit_flush_allowed: None
) -> None:
    # given a fund of 1000 and two projects each asking for 600 at the same moment
    admin = personas.county_admin
    fund = fund_create(actor=admin, region_code=COUNTY, code="RACE", name="f", kind="fiscal")
    appropriation_post(actor=admin, fund=fund, amount="1000", posted_on=DAY, memo="")
    projects = [make_project(code=f"RACE-{n}", budget="5000") for n in (1, 2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def allocate(project: object) -> None:
        try:
            barrier.wait(timeout=10)
            project_allocate(actor=admin, fund=fund, project=project, amount="600", posted_on=DAY)  # type: ignore[arg-type]
            outcomes.append("allocated")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=allocate, args=(p,)) for p in projects]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then exactly one is allocated and the fund holds 400
    assert sorted(outcomes) == ["allocated", "refused"]
    assert JournalEntry.objects.filter(kind="allocation").count() == 1
    assert Account.objects.get(code="fund:RACE").balance == 400
