from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.test import Client

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.accounts.roles import Role
from jiuzhu.accounts.services import audit_record, user_create
from tests.conftest import PASSWORD, Personas


def post_login(client: Client, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/login/", {"username": username, "password": password}, REMOTE_ADDR="10.0.0.7"
    )


def test_login_succeeds_and_is_audited(client: Client, personas: Personas) -> None:
    # when
    response = post_login(client, "town_officer", PASSWORD)
    # then
    assert response.status_code == 302
    assert response["Location"] == "/"
    event = AuditEvent.objects.get(action="login")
    assert event.actor == personas.town_officer
    assert event.ip_address == "10.0.0.7"
    assert event.region_code == "360823100"


def test_failed_login_is_audited_with_a_chinese_message(client: Client, personas: Personas) -> None:
    response = post_login(client, "town_officer", "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()
    event = AuditEvent.objects.get(action="login_failed")
    assert event.actor_username == "town_officer"
    assert event.actor == personas.town_officer


def test_five_failures_lock_the_account_even_with_the_right_password(
    client: Client, personas: Personas
) -> None:
    # given
    for _ in range(5):
        post_login(client, "town_officer", "wrong-password")
    # when
    response = post_login(client, "town_officer", PASSWORD)
    # then
    assert response.status_code == 429
    assert "账号已锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_user_and_address(client: Client, personas: Personas) -> None:
    for _ in range(5):
        post_login(client, "town_officer", "wrong-password")
    # Another user from the same address is not locked out.
    assert post_login(client, "county_admin", PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "password",
    ["short1A!", "alllowercaseletters", "1234567890123456", "password12345678"],
)
def test_weak_passwords_are_refused(regions: None, password: str) -> None:
    with pytest.raises(ValidationError):
        user_create(
            username="weak", password=password, role=Role.TOWN_OFFICER, region_code="360823100"
        )


def test_session_cookie_is_httponly_and_short_lived(client: Client, personas: Personas) -> None:
    response = post_login(client, "town_officer", PASSWORD)
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert not cookie["max-age"]  # expires when the browser closes


def test_audit_log_refuses_update_and_delete(personas: Personas) -> None:
    # given
    event = audit_record(actor=personas.town_officer, action="export", detail={"rows": 3})
    # when / then
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(detail={"rows": 0})
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.detail == {"rows": 3}


def test_audit_log_refuses_truncate_outside_a_test_flush(personas: Personas) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    audit_record(actor=personas.town_officer, action="export", detail={"rows": 3})
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE accounts_auditevent CASCADE")
    assert AuditEvent.objects.exists()


def test_logout_is_audited(client: Client, personas: Personas) -> None:
    client.force_login(personas.village_assistant)
    client.post("/logout/")
    assert AuditEvent.objects.filter(action="logout", actor=personas.village_assistant).exists()


def test_every_user_needs_a_real_region_and_role(regions: None) -> None:
    with pytest.raises(ValidationError):
        user_create(
            username="nowhere", password=PASSWORD, role=Role.TOWN_OFFICER, region_code="999999"
        )
    with pytest.raises(ValidationError):
        user_create(username="noone", password=PASSWORD, role="mayor", region_code="360823")
