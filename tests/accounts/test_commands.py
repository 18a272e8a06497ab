from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from jiuzhu.accounts.demo import DEMO_ACCOUNTS, demo_accounts_ensure
from jiuzhu.accounts.models import User
from jiuzhu.accounts.services import api_token_authenticate
from tests.conftest import PASSWORD, Personas


def test_token_command_prints_a_working_token(personas: Personas) -> None:
    out = StringIO()
    call_command("accounts", "token", "feed_client", "--name", "医保局", stdout=out)
    assert api_token_authenticate(clear=out.getvalue().strip()) == personas.feed_client


def test_create_command_refuses_a_weak_password(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt: "123456")
    with pytest.raises(CommandError):
        call_command("accounts", "create", "x", "--role", "town_officer", "--region", "360823100")
    monkeypatch.setattr("getpass.getpass", lambda prompt: PASSWORD)
    call_command(
        "accounts",
        "create",
        "x",
        "--role",
        "town_officer",
        "--region",
        "360823100",
        stdout=StringIO(),
    )
    assert User.objects.get(username="x").region_id == "360823100"


def test_demo_accounts_one_per_role_and_idempotent(
    regions: None, settings: Any, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path
    first = demo_accounts_ensure()
    second = demo_accounts_ensure()
    assert [login.password for login in first] == [login.password for login in second]
    assert {login.role for login in first} == {role for _, role, _, _ in DEMO_ACCOUNTS}
    assert User.objects.count() == len(DEMO_ACCOUNTS)
    for login in first:
        assert User.objects.get(username=login.username).check_password(login.password)
    assert (tmp_path / "secrets" / "demo_passwords.json").stat().st_mode & 0o077 == 0
