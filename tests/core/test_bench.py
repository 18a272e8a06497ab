from __future__ import annotations

import json
from io import StringIO

from django.core.management import call_command

from tests.conftest import Family


def test_bench_web_measures_every_page(family: Family) -> None:
    out = StringIO()
    call_command("bench", "web", "--requests", "3", stdout=out)
    result = json.loads(out.getvalue())
    assert result["households_in_scope"] == 1
    for page in ("household_file_page", "household_file_api", "search_by_name_prefix", "home_page"):
        assert result[page]["n"] == 3
        assert 0 < result[page]["p50_ms"] <= result[page]["max_ms"]
