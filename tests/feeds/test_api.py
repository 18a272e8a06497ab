"""Persona tests for the feed push API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from jiuzhu.accounts.services import api_token_create
from jiuzhu.feeds.schema import catalogue
from jiuzhu.feeds.storage import read_feed
from tests.conftest import Family, Personas, login
from tests.feeds.test_import import GOOD, NOBODY, csv_file

URL = "/api/v1/feeds/medical_settlement/batches"


@pytest.fixture(autouse=True)
def _feeds_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path


def upload(rows: list[list[Any]]) -> dict[str, SimpleUploadedFile]:
    return {"file": SimpleUploadedFile("医保.csv", csv_file(rows), content_type="text/csv")}


def test_a_feed_client_pushes_a_file_and_sees_the_quarantine(
    client: Client,
    personas: Personas,
    family: Family,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    # given
    _, token = api_token_create(user=personas.feed_client, name="医保局")
    rows = [*GOOD, ["JS9", NOBODY, "2026-04-01", "门诊", "I10", "1", "1"]]
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, upload(rows), headers={"Authorization": f"Bearer {token}"})
    # then
    assert response.status_code == 201
    data = response.json()
    assert (data["rows_accepted"], data["rows_quarantined"]) == (3, 1)
    assert data["quarantine"][0]["values"]["id_number"] == "3608**********0014"
    assert read_feed(catalogue()["medical_settlement"]).num_rows == 3


@pytest.mark.parametrize("persona", ["town_officer", "county_admin", "volunteer"])
def test_people_cannot_push(
    client: Client, personas: Personas, family: Family, persona: str
) -> None:
    login(client, getattr(personas, persona))
    _, token = api_token_create(user=getattr(personas, persona), name="x")
    response = client.post(URL, upload(GOOD), headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


def test_anonymous_push_is_401_and_unknown_feed_404(
    client: Client, personas: Personas, family: Family
) -> None:
    assert client.post(URL, upload(GOOD)).status_code == 401
    _, token = api_token_create(user=personas.feed_client, name="x")
    response = client.post(
        "/api/v1/feeds/gas/batches", upload(GOOD), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 404


def test_a_file_missing_columns_is_422_in_chinese(
    client: Client, personas: Personas, family: Family
) -> None:
    _, token = api_token_create(user=personas.feed_client, name="x")
    bad = {"file": SimpleUploadedFile("a.csv", b"settlement_id\nJS1\n")}
    response = client.post(URL, bad, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    assert "缺少必填列" in response.json()["detail"]


def test_the_catalogue_is_listed(client: Client, personas: Personas) -> None:
    login(client, personas.town_officer)
    ids = {f["id"] for f in client.get("/api/v1/feeds/").json()}
    assert "water_meter_reading" in ids
