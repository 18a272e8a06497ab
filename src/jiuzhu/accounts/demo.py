"""Demo accounts: one per role, in the demo county. Passwords are generated once per
installation (var/secrets/demo_passwords.json) so that a demo left on a network is not
open with a password printed in a public README."""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Role
from jiuzhu.accounts.services import user_create

# (username, role, region, display name)
DEMO_ACCOUNTS: list[tuple[str, Role, str, str]] = [
    ("county_admin", Role.COUNTY_ADMIN, "360823", "县民政局管理员"),
    ("town_officer", Role.TOWN_OFFICER, "360823100", "水边镇经办人"),
    ("village_assistant", Role.VILLAGE_ASSISTANT, "360823100201", "示例一村协理员"),
    ("caseworker", Role.CASEWORKER, "360823101", "马埠镇救助顾问"),
    ("supervisor", Role.SUPERVISOR, "360823", "县纪检监督员"),
    ("provider_staff", Role.PROVIDER_STAFF, "360823", "养老服务中心护理员"),
    ("volunteer", Role.VOLUNTEER, "360823", "志愿者"),
    ("donor", Role.DONOR, "360823", "爱心企业"),
    ("feed_client", Role.FEED_CLIENT, "360823", "医保局数据接口"),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: Role
    region: str


def _password() -> str:
    # Satisfies the validators: 16 characters from all four classes.
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"Jz-{core}7a!"


def _passwords_file() -> Path:
    path = Path(settings.VAR_DIR) / "secrets" / "demo_passwords.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@transaction.atomic
def demo_accounts_ensure() -> list[DemoLogin]:
    """Create missing demo accounts and return every demo login (idempotent)."""
    path = _passwords_file()
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    logins = []
    for username, role, region, display_name in DEMO_ACCOUNTS:
        password = stored.get(username) or _password()
        stored[username] = password
        user = User.objects.filter(username=username).first()
        if user is None:
            user_create(
                username=username,
                password=password,
                role=role,
                region_code=region,
                display_name=display_name,
            )
        elif not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        logins.append(DemoLogin(username, password, role, region))
    path.write_text(json.dumps(stored, indent=1))
    path.chmod(0o600)
    return logins
