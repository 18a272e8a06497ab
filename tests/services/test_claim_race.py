"""Ten verified volunteers claim the same micro-wish at the same moment: exactly one wins,
nine are told clearly that someone was first, and the need is claimed once.

Threads, each with its own database connection, wait at a barrier and then claim: through
the service, through the market page and through the API. It needs a database that runs
transactions side by side, so PostgreSQL only."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from jiuzhu.accounts.services import api_token_create
from jiuzhu.registry.models import TimelineEvent
from jiuzhu.services import choices as c
from jiuzhu.services.models import Claim, Need
from jiuzhu.services.services.claims import ClaimConflict, claim_create
from tests.conftest import Family, Personas
from tests.services.needs_factories import published, volunteers

CLAIMANTS = 10

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _race(attempts: list[Callable[[], str]]) -> list[str]:
    """Run the attempts in threads released together; each returns what it got."""
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(attempt: Callable[[], str]) -> None:
        try:
            barrier.wait(timeout=20)
            outcome = attempt()
        except Exception as exc:  # an unexpected error is an outcome the test shows
            outcome = f"error: {exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(a,)) for a in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _claimed_once(need: Need) -> None:
    need.refresh_from_db()
    assert need.status == c.NeedStatus.CLAIMED
    assert Claim.objects.filter(need=need).count() == 1
    assert Claim.objects.filter(need=need, status=c.ClaimStatus.PENDING).count() == 1
    assert TimelineEvent.objects.filter(kind="services.need_claimed").count() == 1


def test_ten_claim_through_the_service_and_one_wins(
    personas: Personas, family: Family, audit_flush_allowed: None
) -> None:
    # given
    need = published(personas, family)
    claimants = volunteers(CLAIMANTS)

    def attempt(user: Any) -> Callable[[], str]:
        def go() -> str:
            try:
                claim_create(actor=user, need=Need.objects.get(pk=need.pk))
                return "won"
            except ClaimConflict:
                return "refused"

        return go

    # when
    outcomes = _race([attempt(u) for u in claimants])
    # then
    assert sorted(outcomes) == ["refused"] * (CLAIMANTS - 1) + ["won"]
    _claimed_once(need)


def test_ten_claim_through_the_market_page_and_one_wins(
    personas: Personas, family: Family, audit_flush_allowed: None
) -> None:
    # given ten volunteers signed in on their phones
    need = published(personas, family)
    clients = []
    for user in volunteers(CLAIMANTS):
        client = Client()
        client.force_login(user)
        clients.append(client)
    url = reverse("services:needs_market_claim_create", args=[need.pk])

    def attempt(client: Client) -> Callable[[], str]:
        return lambda: str(client.post(url).status_code)

    # when
    outcomes = _race([attempt(cl) for cl in clients])
    # then one is sent to their claim, nine see 409 Conflict
    assert sorted(outcomes) == ["302"] + ["409"] * (CLAIMANTS - 1)
    _claimed_once(need)


def test_ten_claim_through_the_api_and_one_wins(
    personas: Personas, family: Family, audit_flush_allowed: None
) -> None:
    # given
    need = published(personas, family)
    tokens = [api_token_create(user=u, name="phone")[1] for u in volunteers(CLAIMANTS)]
    url = f"/api/v1/services/needs/{need.pk}/claim"

    def attempt(token: str) -> Callable[[], str]:
        def go() -> str:
            response = Client().post(
                url,
                {},
                content_type="application/json",
                headers={"Authorization": f"Bearer {token}"},
            )
            return str(response.status_code)

        return go

    # when
    outcomes = _race([attempt(t) for t in tokens])
    # then
    assert sorted(outcomes) == ["201"] + ["409"] * (CLAIMANTS - 1)
    _claimed_once(need)
