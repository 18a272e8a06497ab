from __future__ import annotations

import pytest
from django.test import Client

from jiuzhu.accounts.services import audit_record
from tests.conftest import Family, Personas, login


def test_supervisor_searches_the_audit_log_of_their_area(
    client: Client, personas: Personas, family: Family
) -> None:
    # given: a view in the county and an event of another province
    login(client, personas.town_officer)
    client.get(f"/households/{family.household.pk}/")
    audit_record(actor=None, action="export", region_code="110101", detail={"x": "elsewhere"})
    login(client, personas.supervisor)
    # when
    response = client.get("/accounts/audit/", {"action": "view", "actor": "town"})
    everything = client.get("/accounts/audit/").content.decode()
    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert "town_officer" in body
    assert f"registry.household {family.household.pk}" in body
    assert "elsewhere" not in everything


@pytest.mark.parametrize("persona", ["town_officer", "village_assistant", "volunteer"])
def test_audit_log_is_not_for_others(client: Client, personas: Personas, persona: str) -> None:
    login(client, getattr(personas, persona))
    assert client.get("/accounts/audit/").status_code == 404


def test_anonymous_audit_goes_to_login(client: Client) -> None:
    response = client.get("/accounts/audit/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
