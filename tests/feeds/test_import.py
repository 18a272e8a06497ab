"""Importing department files: quarantine with reasons, idempotency, no clear IDs."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import call_command

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.engine.inputs import Sources
from jiuzhu.engine.rules import RuleError
from jiuzhu.engine.runner import check_stored_layout
from jiuzhu.feeds.models import FeedBatch
from jiuzhu.feeds.schema import catalogue
from jiuzhu.feeds.services import (
    MSG_UNKNOWN_PERSON,
    FeedImportError,
    feed_import,
    feed_store_resolve_persons,
)
from jiuzhu.feeds.storage import read_feed
from jiuzhu.registry.models import Person
from jiuzhu.registry.protected import id_number_index
from tests.conftest import ID_CHILD, ID_HEAD, ID_SPOUSE, Family, Personas

HEADER = [
    "settlement_id",
    "id_number",
    "settled_on",
    "care_type",
    "icd10",
    "total_amount",
    "out_of_pocket",
]
NOBODY = "360823201501010014"  # valid, not registered


@pytest.fixture(autouse=True)
def _feeds_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path


def csv_file(rows: list[list[Any]], header: list[str] = HEADER, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


GOOD = [
    ["JS001", ID_HEAD, "2026-03-02", "住院", "C34.1", "86500", "23100"],
    ["JS002", ID_SPOUSE, "2026-04-11", "outpatient", "I10", "320.5", "80"],
    ["JS003", ID_CHILD, "2026-04-20", "门诊", "J06.9", "150", "45.5"],
]


def run(
    content: bytes, capture: Callable[..., Any], name: str = "医保.csv", **kwargs: Any
) -> FeedBatch:
    with capture(execute=True):
        return feed_import(
            feed_id="medical_settlement",
            file_name=name,
            content=content,
            actor=kwargs.get("actor"),
            source=kwargs.get("source", "cli"),
        )


def test_good_rows_land_as_parquet_keyed_by_blind_index(
    family: Family, django_capture_on_commit_callbacks: Callable[..., Any], tmp_path: Path
) -> None:
    # when
    batch = run(csv_file(GOOD), django_capture_on_commit_callbacks)
    # then
    assert (batch.status, batch.rows_total, batch.rows_accepted, batch.rows_quarantined) == (
        "imported",
        3,
        3,
        0,
    )
    table = read_feed(catalogue()["medical_settlement"])
    assert table.num_rows == 3
    assert set(table["person_index"].to_pylist()) == {
        id_number_index(i) for i in (ID_HEAD, ID_SPOUSE, ID_CHILD)
    }
    # each record also carries the registry id of the person its blind index found
    ids = dict(Person.objects.values_list("id_number_index", "id"))
    assert table["person_id"].to_pylist() == [ids[i] for i in table["person_index"].to_pylist()]
    assert "id_number" not in table.column_names
    assert sorted(p.name for p in tmp_path.glob("feeds/medical_settlement/v1/*")) == [
        "period=2026-03",
        "period=2026-04",
    ]
    # no clear ID number in any stored byte
    stored = b"".join(p.read_bytes() for p in tmp_path.rglob("*.parquet"))
    for number in (ID_HEAD, ID_SPOUSE, ID_CHILD):
        assert number.encode() not in stored


def test_bad_rows_are_quarantined_with_reasons_and_the_rest_lands(
    family: Family, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    rows = [
        *GOOD[:1],
        ["JS010", ID_SPOUSE, "2026-04-11", "住院", "I10", "abc", "1"],  # wrong type
        ["JS011", NOBODY, "2026-04-11", "住院", "I10", "100", "1"],  # unknown person
        ["JS012", ID_SPOUSE, "2026-04-11", "住院", "XYZ", "100", "1"],  # bad ICD-10
        ["JS001", ID_HEAD, "2026-03-02", "住院", "C34.1", "86500", "23100"],  # duplicate
        ["JS013", ID_SPOUSE, "2099-01-01", "住院", "I10", "100", "1"],  # future date
    ]
    batch = run(csv_file(rows), django_capture_on_commit_callbacks)
    assert (batch.rows_accepted, batch.rows_quarantined) == (1, 5)
    reasons = {q.row_number: q.errors for q in batch.quarantine.all()}
    assert reasons[3] == {"total_amount": "“医疗总费用”的值“abc”不是数字"}
    assert reasons[4] == {"id_number": MSG_UNKNOWN_PERSON}
    assert reasons[5] == {"icd10": "“XYZ”不是有效的ICD-10编码"}
    assert reasons[6] == {"": "与第2行重复"}
    assert "晚于今天" in reasons[7]["settled_on"]
    # the quarantine shows ID numbers masked only
    shown = str([q.values for q in batch.quarantine.all()])
    assert NOBODY not in shown and "3608**********0014" in shown


def test_the_same_file_twice_changes_nothing(
    family: Family, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    content = csv_file(GOOD)
    run(content, django_capture_on_commit_callbacks)
    again = run(content, django_capture_on_commit_callbacks)
    assert again.status == "duplicate" and again.rows_accepted == 0
    assert read_feed(catalogue()["medical_settlement"]).num_rows == 3


def test_overlapping_batches_store_each_record_once(
    family: Family, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    run(csv_file(GOOD[:2]), django_capture_on_commit_callbacks)
    second = run(csv_file(GOOD[1:]), django_capture_on_commit_callbacks, name="b.csv")
    assert (second.rows_accepted, second.rows_already_stored) == (1, 1)
    assert read_feed(catalogue()["medical_settlement"]).num_rows == 3


def test_xlsx_with_chinese_headers_and_parquet_are_read(
    family: Family, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    feed = catalogue()["medical_settlement"]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append([feed.column(n).label_zh for n in HEADER])
    sheet.append(GOOD[0])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert (
        run(buffer.getvalue(), django_capture_on_commit_callbacks, name="医保.xlsx").rows_accepted
        == 1
    )
    parquet = io.BytesIO()
    pq.write_table(
        pa.table(
            {
                h: [str(v) for v in col]
                for h, col in zip(HEADER, zip(*GOOD[1:], strict=True), strict=True)
            }
        ),
        parquet,
    )
    assert (
        run(
            parquet.getvalue(), django_capture_on_commit_callbacks, name="医保.parquet"
        ).rows_accepted
        == 2
    )


def test_a_file_without_the_required_columns_is_refused_and_recorded(
    family: Family, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with pytest.raises(FeedImportError, match="缺少必填列：结算日期"):
        run(
            csv_file([["JS1", ID_HEAD]], header=["settlement_id", "id_number"]),
            django_capture_on_commit_callbacks,
        )
    assert FeedBatch.objects.get().status == "rejected"
    assert AuditEvent.objects.filter(action="import", object_type="feeds.batch").count() == 1


def test_only_feed_clients_push(personas: Personas, family: Family) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        feed_import(
            feed_id="medical_settlement",
            file_name="a.csv",
            content=csv_file(GOOD),
            actor=personas.town_officer,
        )


def test_the_command_prints_counts_and_reasons(
    family: Family, tmp_path: Path, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    path = tmp_path / "医保.csv"
    path.write_bytes(
        csv_file(
            [*GOOD, ["JS9", NOBODY, "2026-04-01", "门诊", "I10", "1", "1"]], encoding="gb18030"
        )
    )
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("feeds", "import", "medical_settlement", str(path), stdout=out)
    text = out.getvalue()
    assert "accepted 3, quarantined 1" in text
    assert "第5行" in text and MSG_UNKNOWN_PERSON in text


def test_files_stored_before_person_ids_are_refused_by_the_engine_until_resolved(
    family: Family, django_capture_on_commit_callbacks: Callable[..., Any], tmp_path: Path
) -> None:
    # given: records stored in the earlier layout, without person_id
    run(csv_file(GOOD), django_capture_on_commit_callbacks)
    feed = catalogue()["medical_settlement"]
    stored = sorted(tmp_path.glob("feeds/medical_settlement/v1/period=*/batch-*.parquet"))
    for path in stored:
        pq.write_table(pq.read_table(path).drop_columns(["person_id"]), path)
    sources = Sources(snapshot=tmp_path / "none", feeds_root=tmp_path / "feeds")
    # then: the engine says what to do instead of resolving them to nobody
    with pytest.raises(RuleError, match="feeds resolve-persons"):
        check_stored_layout(feed, sources.files_of(feed))
    # when
    out = io.StringIO()
    call_command("feeds", "resolve-persons", stdout=out)
    # then: every record has its person again, and a second pass has nothing to do
    assert "medical_settlement: 2 files rewritten" in out.getvalue()
    check_stored_layout(feed, sources.files_of(feed))
    table = read_feed(feed)
    ids = dict(Person.objects.values_list("id_number_index", "id"))
    assert table["person_id"].to_pylist() == [ids[i] for i in table["person_index"].to_pylist()]
    assert feed_store_resolve_persons() == {}
