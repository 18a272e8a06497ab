from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

import jiuzhu
from tests.conftest import Personas, login

PACKAGE = Path(jiuzhu.__file__).parent


def production_env(tmp_path: Path) -> dict[str, str]:
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    (tmp_path / "secret_key").write_text(base64.urlsafe_b64encode(os.urandom(48)).decode() + "\n")
    return {
        "PATH": os.environ["PATH"],
        "JIUZHU_ENV": "production",
        "JIUZHU_VAR_DIR": str(tmp_path / "var"),
        "SECRET_KEY_FILE": str(tmp_path / "secret_key"),
        "JIUZHU_DATA_KEYS": f"k1:{key}",
        "JIUZHU_BLIND_INDEX_KEY": key,
        "ALLOWED_HOSTS": "jiuzhu.example.gov.cn",
    }


def run_jiuzhu(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own console entry point
        [sys.executable, "-m", "jiuzhu.manage", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_check_is_clean_with_production_settings_and_secrets_from_files(
    tmp_path: Path,
) -> None:
    result = run_jiuzhu(["check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_the_encryption_keys(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["JIUZHU_DATA_KEYS"]
    result = run_jiuzhu(["check"], env)
    assert result.returncode != 0
    assert "JIUZHU_DATA_KEYS" in result.stderr


def test_no_template_or_stylesheet_loads_anything_from_outside() -> None:
    external = re.compile(r"""(src|href)=["']?(https?:)?//""")
    offenders = [
        str(path)
        for path in PACKAGE.rglob("*.html")
        if external.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_api_docs_use_the_bundled_swagger_ui(client: Client, personas: Personas) -> None:
    login(client, personas.county_admin)
    body = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in body
    assert "cdn." not in body


def test_pages_speak_chinese_by_default_and_english_on_request(
    client: Client, personas: Personas
) -> None:
    login(client, personas.town_officer)
    chinese = client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get("/").content.decode()
    assert "家庭档案" in chinese and 'lang="zh-hans"' in chinese
    assert "Households" in english and 'lang="en"' in english


@pytest.mark.parametrize(
    ("persona", "sees", "does_not_see"),
    [
        ("town_officer", ["家庭档案", "台账导入"], ["审计日志"]),
        ("village_assistant", ["家庭档案"], ["台账导入", "审计日志"]),
        ("supervisor", ["家庭档案", "审计日志"], ["台账导入"]),
        ("volunteer", ["可认领的需求"], ["家庭档案", "台账导入"]),
        ("provider", ["服务工单"], ["家庭档案"]),
        ("feed_client", ["机器账号"], ["家庭档案"]),
    ],
)
def test_each_role_gets_its_own_home_page(
    client: Client, personas: Personas, persona: str, sees: list[str], does_not_see: list[str]
) -> None:
    login(client, getattr(personas, persona))
    body = client.get("/").content.decode()
    for text in sees:
        assert text in body
    for text in does_not_see:
        assert text not in body


def test_health_check(client: Client, db: None) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_static_assets_are_served(client: Client, db: None) -> None:
    response = client.get("/static/vendor/htmx/htmx.min.js")
    assert response.status_code == 200


def test_api_docs_need_a_login(client: Client, db: None) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_an_english_browser_still_gets_chinese_until_the_user_switches(
    client: Client, personas: Personas
) -> None:
    login(client, personas.town_officer)
    body = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).content.decode()
    assert "家庭档案" in body
