"""The import history and quarantine pages: who sees which batches, and what they show."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from jiuzhu.feeds.services import feed_import
from tests.conftest import ID_SPOUSE, Family, Personas, login

CSV = (
    "settlement_id,id_number,settled_on,care_type,icd10,total_amount,out_of_pocket\n"
    f"S1,{ID_SPOUSE},2026-03-02,inpatient,C34.1,900,260\n"
    f"S2,{ID_SPOUSE},2026-03-03,inpatient,XX,900,260\n"
    "S3,360823201501010014,2026-03-04,outpatient,I10,90,26\n"
)


@pytest.fixture(autouse=True)
def _feeds_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path


def test_the_quarantine_is_shown_with_reasons_and_masked_ids(
    client: Client,
    personas: Personas,
    family: Family,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        batch = feed_import(
            feed_id="medical_settlement",
            file_name="医保.csv",
            content=CSV.encode(),
            actor=personas.feed_client,
            source="api",
        )
    assert batch.rows_quarantined == 2
    # the bureau sees the history and the reasons
    login(client, personas.county_admin)
    listing = client.get("/feeds/").content.decode()
    assert "医保.csv" in listing
    page = client.get(f"/feeds/{batch.pk}/").content.decode()
    assert "系统中没有此人" in page
    assert "主要诊断编码" in page  # the column's Chinese label next to its reason
    assert "360823201501010014" not in page and ID_SPOUSE not in page
    # the department that sent it sees its own batch
    login(client, personas.feed_client)
    assert client.get(f"/feeds/{batch.pk}/").status_code == 200
    # a village assistant sees neither
    login(client, personas.village_assistant)
    assert client.get("/feeds/").status_code == 404
    assert client.get(f"/feeds/{batch.pk}/").status_code == 404


def test_another_department_cannot_see_a_batch(
    client: Client, personas: Personas, family: Family
) -> None:
    from jiuzhu.accounts.models import User
    from jiuzhu.accounts.roles import Role
    from tests.conftest import make_user

    batch = feed_import(
        feed_id="medical_settlement",
        file_name="医保.csv",
        content=CSV.encode(),
        actor=personas.feed_client,
        source="api",
    )
    other: User = make_user("other_dept", Role.FEED_CLIENT, "360823")
    login(client, other)
    assert client.get(f"/feeds/{batch.pk}/").status_code == 404
    assert "医保.csv" not in client.get("/feeds/").content.decode()
