"""Review: the supervision console's page of one household's service records is a view of
a household file (every order of the household, its care notes, check-in places) and is
audited like the registry's household page; a household outside the area is not."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from jiuzhu.accounts.models import AuditEvent
from tests.conftest import Family, Personas, login
from tests.supervision.factories import provider_with_staff, served_order

pytestmark = pytest.mark.django_db


def test_the_household_records_page_is_audited(personas: Personas, family: Family) -> None:
    provider, _manager, worker = provider_with_staff()
    served_order(personas, family, provider, worker, day=datetime.date(2026, 11, 2))
    url = f"/supervision/households/{family.household.pk}/"
    # when the supervisor opens the household's service records
    response = login(Client(), personas.supervisor).get(url)
    # then the view is in the audit log, like the registry's household file
    assert response.status_code == 200
    event = AuditEvent.objects.get(
        action="view", object_type="registry.household", object_id=str(family.household.pk)
    )
    assert event.actor == personas.supervisor
    assert event.region_code == family.household.region_id
    assert event.detail.get("via") == "supervision"
    # and a refused look (another town's officer: 404) leaves no view behind
    before = AuditEvent.objects.filter(action="view").count()
    assert login(Client(), personas.other_town_officer).get(url).status_code == 404
    assert AuditEvent.objects.filter(action="view").count() == before
