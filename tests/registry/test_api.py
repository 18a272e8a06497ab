"""Persona tests for /api/v1/: the same scoping as the pages, token and session auth."""

from __future__ import annotations

import pytest
from django.test import Client

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.accounts.services import api_token_create, api_token_revoke
from tests.conftest import Family, Personas, login

API = "/api/v1"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_household_file_resource_is_masked(
    client: Client, personas: Personas, family: Family
) -> None:
    # given
    login(client, personas.village_assistant)
    # when
    response = client.get(f"{API}/registry/households/{family.household.pk}")
    # then
    assert response.status_code == 200
    data = response.json()
    assert data["household"]["number"] == family.household.number
    names = {m["name_masked"] for m in data["members"]}
    assert names == {"王*国", "李*英", "王*明"}
    assert "362423195803120018" not in response.content.decode()
    assert "13807960001" not in response.content.decode()
    assert [e["category"] for e in data["enrolments"]] == ["dibao"]
    assert any(t["kind"] == "registry.enrolled" for t in data["timeline"])
    assert AuditEvent.objects.filter(action="view", detail__via="api").count() == 1


@pytest.mark.parametrize(
    "persona", ["colleague", "provider", "volunteer", "donor", "feed_client", "other_town_officer"]
)
def test_out_of_scope_api_answers_like_missing(
    client: Client, personas: Personas, family: Family, persona: str
) -> None:
    login(client, getattr(personas, persona))
    hidden = client.get(f"{API}/registry/households/{family.household.pk}")
    missing = client.get(f"{API}/registry/households/999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


def test_anonymous_api_gets_401(client: Client, family: Family) -> None:
    assert client.get(f"{API}/registry/households/{family.household.pk}").status_code == 401
    assert client.get(f"{API}/registry/households").status_code == 401
    assert client.get(f"{API}/accounts/me").status_code == 401


def test_list_is_scoped(client: Client, personas: Personas, family: Family) -> None:
    login(client, personas.town_officer)
    mine = client.get(f"{API}/registry/households").json()
    login(client, personas.colleague)
    theirs = client.get(f"{API}/registry/households").json()
    assert mine["count"] == 1 and mine["items"][0]["head_name_masked"] == "王*国"
    assert theirs["count"] == 0
    login(client, personas.volunteer)
    assert client.get(f"{API}/registry/households").status_code == 404


def test_bad_id_number_in_search_is_a_422_with_a_reason(
    client: Client, personas: Personas, family: Family
) -> None:
    login(client, personas.town_officer)
    url = f"{API}/registry/households/search-by-id-number"
    response = client.post(url, {"id_number": "123"}, content_type="application/json")
    assert response.status_code == 422
    assert "18位" in response.json()["detail"]


def test_search_by_id_number_posts_the_number_and_is_audited(
    client: Client, personas: Personas, family: Family
) -> None:
    # given
    _, officer = api_token_create(user=personas.town_officer, name="t")
    _, colleague = api_token_create(user=personas.colleague, name="c")
    url = f"{API}/registry/households/search-by-id-number"
    body = {"id_number": "362423196005050021"}
    # when
    mine = client.post(url, body, content_type="application/json", headers=bearer(officer))
    theirs = client.post(url, body, content_type="application/json", headers=bearer(colleague))
    # then
    assert [h["number"] for h in mine.json()] == [family.household.number]
    assert theirs.json() == []
    assert AuditEvent.objects.filter(action="search", detail__via="api").count() == 2


def test_token_authenticates_and_revocation_stops_it(
    client: Client, personas: Personas, family: Family
) -> None:
    # given
    token, clear = api_token_create(user=personas.town_officer, name="script")
    # when
    ok = client.get(f"{API}/registry/households/{family.household.pk}", headers=bearer(clear))
    api_token_revoke(token=token)
    after = client.get(f"{API}/registry/households/{family.household.pk}", headers=bearer(clear))
    # then
    assert ok.status_code == 200
    assert after.status_code == 401
    token.refresh_from_db()
    assert token.token_hash != clear and clear not in token.token_hash


def test_wrong_token_is_401(client: Client, family: Family) -> None:
    response = client.get(f"{API}/accounts/me", headers=bearer("jz_not-a-token"))
    assert response.status_code == 401


def test_me_tells_role_and_permissions(client: Client, personas: Personas) -> None:
    _, clear = api_token_create(user=personas.feed_client, name="医保局")
    data = client.get(f"{API}/accounts/me", headers=bearer(clear)).json()
    assert data["role"] == "feed_client"
    assert data["permissions"] == ["push_feeds"]


def test_api_unmask_is_audited_and_needs_the_permission(
    client: Client, personas: Personas, family: Family
) -> None:
    # given
    _, officer = api_token_create(user=personas.town_officer, name="t")
    _, supervisor = api_token_create(user=personas.supervisor, name="s")
    _, colleague = api_token_create(user=personas.colleague, name="c")
    url = f"{API}/registry/persons/{family.spouse.pk}/reveal/id_number"
    # when
    shown = client.post(url, headers=bearer(officer))
    refused = client.post(url, headers=bearer(supervisor))
    hidden = client.post(url, headers=bearer(colleague))
    # then
    assert shown.json() == {"field": "id_number", "value": "362423196005050021"}
    assert refused.status_code == 403
    assert hidden.status_code == 404
    assert AuditEvent.objects.filter(action="unmask").count() == 1


def test_session_post_without_csrf_token_is_refused(personas: Personas, family: Family) -> None:
    client = Client(enforce_csrf_checks=True)
    login(client, personas.town_officer)
    response = client.post(f"{API}/registry/persons/{family.head.pk}/reveal/id_number")
    assert response.status_code in (401, 403)
    assert not AuditEvent.objects.filter(action="unmask").exists()


def test_openapi_schema_is_served_to_signed_in_users(client: Client, personas: Personas) -> None:
    assert client.get(f"{API}/openapi.json").status_code == 302
    login(client, personas.town_officer)
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/registry/households/{household_id}" in response.json()["paths"]


def test_the_household_list_is_paginated_in_the_database(
    client: Client, personas: Personas, family: Family
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, personas.county_admin)
    with CaptureQueriesContext(connection) as queries:
        data = client.get(f"{API}/registry/households", {"limit": 1}).json()
    assert data["count"] == 1 and len(data["items"]) == 1
    listing = [
        q["sql"]
        for q in queries
        if 'FROM "registry_household"' in q["sql"] and "COUNT(" not in q["sql"]
    ]
    assert listing and all("LIMIT" in sql for sql in listing)


def test_the_file_carries_economics_and_illnesses(
    client: Client, personas: Personas, family: Family
) -> None:
    from decimal import Decimal

    from jiuzhu.registry.models import Asset, Illness, Income

    # given
    Illness.objects.create(person=family.head, icd10="I10", name="原发性高血压")
    Income.objects.create(
        household=family.household, kind="agriculture", year=2025, annual_amount=Decimal("9600")
    )
    Asset.objects.create(
        household=family.household, kind="housing", description="砖混房", value=Decimal("60000")
    )
    login(client, personas.town_officer)
    # when
    data = client.get(f"{API}/registry/households/{family.household.pk}").json()
    # then
    head = next(m for m in data["members"] if m["relationship"] == "head")
    assert head["illnesses"] == [{"icd10": "I10", "name": "原发性高血压", "is_serious": False}]
    assert head["self_care"] == "able"
    assert data["incomes"] == [{"kind": "agriculture", "year": 2025, "amount": "9600.00"}]
    assert data["assets"] == [{"kind": "housing", "description": "砖混房", "amount": "60000.00"}]
    assert data["monthly_income_per_capita"] == round(9600 / 12 / 3, 2)
