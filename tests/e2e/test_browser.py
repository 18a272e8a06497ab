"""End to end in a real browser: the demo set-up, a real server process, headless
Chromium (Debian's, driven by Playwright). Checks what the unit tests cannot: htmx really
posts with the CSRF token, the phone layout, the lockout page.

Needs /usr/bin/chromium (`apt-get install chromium`); skipped without it unless
JIUZHU_REQUIRE_BROWSER=1, which CI sets so that a missing browser fails loudly.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")

if not CHROMIUM.exists():
    if os.environ.get("JIUZHU_REQUIRE_BROWSER") == "1":
        raise RuntimeError("JIUZHU_REQUIRE_BROWSER=1 but /usr/bin/chromium is missing")
    pytest.skip("Debian chromium not installed", allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402


@dataclass
class Demo:
    url: str
    passwords: dict[str, str]
    database: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _jiuzhu(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own entry point
        [sys.executable, "-m", "jiuzhu.manage", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    var = tmp_path_factory.mktemp("var")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"JIUZHU_VAR_DIR": str(var), "PORT": str(_free_port())})
    _jiuzhu("demo", "--no-serve", "--households", "300", env=env)
    passwords = json.loads((var / "secrets" / "demo_passwords.json").read_text())
    url = f"http://127.0.0.1:{env['PORT']}"
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "jiuzhu.manage", "serve", "--port", env["PORT"]],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=1)  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.1)
        yield Demo(url=url, passwords=passwords, database=var / "jiuzhu.sqlite3")
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def sign_in(page: Page, demo: Demo, username: str) -> None:
    page.goto(f"{demo.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", demo.passwords[username])
    page.click("button[type=submit]")


def test_a_village_assistant_on_a_phone_unmasks_an_id_number(browser: Browser, demo: Demo) -> None:
    # given: a phone-sized window, signed in as the village assistant
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="en-US")
    sign_in(page, demo, "village_assistant")
    assert "欢迎" in page.content()  # Chinese even for an English browser
    # when: they open the first household of their list and press 显示 beside an ID
    page.goto(f"{demo.url}/households/")
    page.locator("#results a").first.click()
    masked = page.locator("span.masked").first
    assert re.fullmatch(r"\d{4}\*{10}[\dX]{4}", masked.inner_text())
    page.locator("span.masked + button").first.click()
    # then: the full number replaces the masked one (htmx POST with the CSRF header) …
    page.wait_for_function(
        "() => /^\\d{17}[\\dX]$/.test(document.querySelector('span.masked').innerText.trim())"
    )
    # … the member table became cards, and the showing was audited
    assert page.locator("table.stack-sm thead").first.is_hidden()
    with sqlite3.connect(demo.database) as db:
        rows = db.execute(
            "SELECT actor_username FROM accounts_auditevent WHERE action = 'unmask'"
        ).fetchall()
    assert rows == [("village_assistant",)]
    page.close()


def test_searching_by_id_number_keeps_it_out_of_the_address_bar(
    browser: Browser, demo: Demo
) -> None:
    page = browser.new_page()
    sign_in(page, demo, "town_officer")
    page.goto(f"{demo.url}/households/")
    page.fill("input[name=id_number]", "360823201501010015")
    page.click("text=按身份证号码查找")
    page.wait_for_selector("#results [role=alert]")
    assert "校验位错误" in page.inner_text("#results")
    assert "3608232015" not in page.url
    page.close()


def test_five_wrong_passwords_lock_the_account(browser: Browser, demo: Demo) -> None:
    page = browser.new_page()
    for _ in range(5):
        page.goto(f"{demo.url}/login/")
        page.fill("input[name=username]", "donor")
        page.fill("input[name=password]", "wrong-Passw0rd!")
        page.click("button[type=submit]")
    page.goto(f"{demo.url}/login/")
    page.fill("input[name=username]", "donor")
    page.fill("input[name=password]", demo.passwords["donor"])
    page.click("button[type=submit]")
    assert "账号已锁定" in page.content()
    page.close()


def test_an_application_on_a_phone_takes_a_photo_of_a_document(
    browser: Browser, demo: Demo, tmp_path: Path
) -> None:
    # given: the assistant's phone, the demo's draft application
    page = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(page, demo, "village_assistant")
    page.goto(f"{demo.url}/applications/?status=draft")
    page.locator("table a").first.click()
    assert "申报" in page.content() or "家庭申报" in page.content()
    # the page fits the phone: nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # when: a scanned page is attached from the phone
    scan = tmp_path / "hukou.png"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    page.select_option("select[name=kind]", "hukou")
    page.set_input_files("input[type=file]", str(scan))
    page.locator("#documents button[type=submit]").click()
    page.wait_for_load_state()
    # then: it is listed, and stored against the application
    assert "户口簿" in page.locator("#documents").inner_text()
    with sqlite3.connect(demo.database) as db:
        kinds = {k for (k,) in db.execute("SELECT kind FROM applications_document")}
    assert "hukou" in kinds
    page.close()


def test_a_villager_applies_from_the_public_page_on_a_phone(browser: Browser, demo: Demo) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{demo.url}/apply/360823/")
    page.select_option("select[name=village]", "360823100201")
    page.fill("input[name=name]", "测试申请人")
    page.fill("input[name=id_number]", "362423198807070015")
    page.fill("input[name=phone]", "13900000001")
    page.locator("input[name=kinds][value=temporary]").check()
    page.fill("textarea[name=reason]", "家中突发变故（端到端测试）")
    page.locator("input[name=consent]").check()
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()
    assert re.search(r"ZZ[A-Z0-9]{8}", page.content())
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.close()


def test_the_demo_month_shows_lights_a_report_funds_and_charts(
    browser: Browser, demo: Demo
) -> None:
    # given: the demo's seeded month of activity
    with sqlite3.connect(demo.database) as db:
        decisions = dict(
            db.execute(
                "SELECT to_light, COUNT(*) FROM supervision_lightdecision GROUP BY to_light"
            ).fetchall()
        )
        open_rectifications = db.execute(
            "SELECT COUNT(*) FROM supervision_rectification WHERE status = 'open'"
        ).fetchone()[0]
        open_reviews = db.execute(
            "SELECT COUNT(*) FROM supervision_exitreview WHERE status = 'open'"
        ).fetchone()[0]
        evaluation_id, total = db.execute(
            "SELECT id, total FROM supervision_evaluation WHERE status = 'final'"
        ).fetchone()
        posted, ordered = db.execute(
            "SELECT (SELECT SUM(p.amount) FROM funds_posting p JOIN funds_account a"
            "        ON a.id = p.account_id WHERE a.role = 'spent'),"
            "       (SELECT SUM(o.amount) FROM services_serviceorder o WHERE o.id IN"
            "        (SELECT order_id FROM funds_journalentry WHERE kind = 'order_cost'))"
        ).fetchone()
    # then: one provider went yellow and one red, each with its follow-up open …
    assert decisions.get("yellow", 0) >= 1 and decisions.get("red", 0) >= 1
    assert open_rectifications >= 1 and open_reviews >= 1
    # … a project's mid-term evaluation is finalised with a total …
    assert total is not None and 0 < float(total) <= 100
    # … and every posted order cost equals its order's amount
    assert posted is not None and float(posted) == float(ordered) > 0
    # when: the county admin opens the statistics, the report and the reconciliation
    page = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(page, demo, "county_admin")
    page.goto(f"{demo.url}/statistics/?period=last_month")
    page.wait_for_selector("[data-chart] svg")
    # then: the charts are drawn from the data and the phone page does not scroll sideways
    assert page.locator("[data-chart] svg").count() >= 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"{demo.url}/supervision/projects/evaluations/{evaluation_id}/report/")
    assert str(total) in page.content()
    response = page.goto(f"{demo.url}/funds/reconciliation/")
    assert response is not None and response.status == 200
    page.close()
