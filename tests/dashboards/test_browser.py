"""The statistics page in headless Chromium on a phone's screen: the charts are drawn by
the vendored ECharts from the JSON blocks, no script fails, nothing is wider than 390 px,
and the page asks no other host for anything. Skipped without Debian's chromium (as
tests/e2e).

The page is rendered by the test client (so the test runs in a rolled-back transaction on
SQLite and PostgreSQL alike) and handed to the browser at a made-up origin; the browser's
requests for /static/ are answered from the static files, anything else is refused and
recorded."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from tests.conftest import Family, Personas, login
from tests.dashboards.factories import QUERY, september

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    if os.environ.get("JIUZHU_REQUIRE_BROWSER") == "1":
        raise RuntimeError("JIUZHU_REQUIRE_BROWSER=1 but /usr/bin/chromium is missing")
    pytest.skip("Debian chromium not installed", allow_module_level=True)

from playwright.sync_api import Route, sync_playwright  # noqa: E402

ORIGIN = "http://jiuzhu.test"


def _serve(html: str, refused: list[str]) -> Any:
    def handle(route: Route) -> None:
        url = route.request.url
        path = url[len(ORIGIN) :] if url.startswith(ORIGIN) else None
        if path is not None and path.startswith("/statistics/"):
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
            return
        if path is not None and path.startswith(settings.STATIC_URL):
            found = finders.find(path[len(settings.STATIC_URL) :].split("?")[0])
            if found:
                kind = mimetypes.guess_type(found)[0] or "application/octet-stream"
                route.fulfill(status=200, content_type=kind, body=Path(found).read_bytes())
                return
        refused.append(url)
        route.abort()

    return handle


@pytest.mark.parametrize("width", [390, 1280])
def test_county_page_in_a_browser(
    client: Client, personas: Personas, family: Family, width: int
) -> None:
    # given: the seeded September, the page as the county administrator gets it
    september(personas, family)
    html = login(client, personas.county_admin).get("/statistics/", QUERY).content.decode()

    # when: a browser shows it
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": 844})
            errors: list[str] = []
            refused: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.route("**/*", _serve(html, refused))
            page.goto(f"{ORIGIN}/statistics/")
            page.wait_for_selector("#chart-areas svg", timeout=15_000)

            # then: every chart drawn, no script error, nothing from elsewhere
            charts = page.locator("[data-chart]")
            drawn = page.locator("[data-chart] svg")
            assert charts.count() >= 8
            assert drawn.count() == charts.count()
            assert errors == []
            assert refused == []
            # and on a phone nothing is wider than the screen
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        finally:
            browser.close()
