from __future__ import annotations

from django.test import Client

from tests.conftest import Family, Personas, login


def test_household_file_renders_for_in_scope_assistant(
    client: Client, personas: Personas, family: Family
) -> None:
    # given
    login(client, personas.village_assistant)
    # when
    response = client.get(f"/households/{family.household.pk}/")
    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert "王*国" in body
    assert "王建国" not in body
    assert "3624**********0018" in body
