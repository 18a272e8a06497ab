"""Importing a department file: validate every row, quarantine what is wrong (with the
reason), store the rest as Parquet keyed by blind index, keep the history.

A batch is all or nothing: the accepted rows land together, with the quarantine report,
or not at all. Importing the same file again changes nothing (status ``duplicate``), and
rows already stored by an earlier batch are counted, not stored twice.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.core.crypto import field_cipher
from jiuzhu.core.masking import mask_id_number
from jiuzhu.core.tabular import UnreadableFile, read_csv_rows, read_excel_sheets
from jiuzhu.feeds import storage
from jiuzhu.feeds.models import BatchStatus, FeedBatch, QuarantinedRow
from jiuzhu.feeds.schema import Feed, catalogue, validate_row
from jiuzhu.registry.models import Person
from jiuzhu.registry.protected import ID_COLUMN

MAX_BYTES = 200 * 1024 * 1024
SUFFIXES = (".csv", ".xlsx", ".xls", ".parquet")
MSG_UNKNOWN_PERSON = "系统中没有此人（身份证号码未登记）"


class FeedImportError(Exception):
    """The file as a whole is refused (unknown feed, unreadable, no matching header)."""


@dataclass(frozen=True)
class ParsedFile:
    rows: list[tuple[int, dict[str, Any]]]  # (row number as the department sees it, cells)


def _header_map(feed: Feed) -> dict[str, str]:
    names: dict[str, str] = {}
    for column in feed.columns:
        for alias in (column.name, column.label_zh, column.label_en):
            names[alias.strip().lower()] = column.name
    return names


def _parse(feed: Feed, file_name: str, content: bytes) -> ParsedFile:
    suffix = PurePath(file_name).suffix.lower()
    if suffix not in SUFFIXES:
        raise FeedImportError("只能导入CSV、Excel（.xlsx、.xls）或Parquet文件")
    if len(content) > MAX_BYTES:
        raise FeedImportError("文件超过200MB，请分批导入")
    if suffix == ".parquet":
        try:
            table = pq.read_table(io.BytesIO(content))
        except Exception as exc:  # pyarrow raises several kinds for bad files
            raise FeedImportError("无法读取Parquet文件") from exc
        grid: list[list[Any]] = [table.column_names]
        grid.extend(list(r.values()) for r in table.to_pylist())
    else:
        try:
            grid = read_csv_rows(content) if suffix == ".csv" else read_excel_sheets(content)[0]
        except UnreadableFile as exc:
            raise FeedImportError(str(exc)) from exc
    if not grid:
        raise FeedImportError("文件是空的")
    lookup = _header_map(feed)
    header = [lookup.get(str(h or "").strip().lower(), "") for h in grid[0]]
    missing = [c.label_zh for c in feed.columns if c.required and c.name not in header]
    if missing:
        raise FeedImportError(f"缺少必填列：{'、'.join(missing)}")
    rows = []
    for number, cells in enumerate(grid[1:], start=2):
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        rows.append((number, {h: v for h, v in zip(header, cells, strict=False) if h}))
    return ParsedFile(rows=rows)


def _masked(feed: Feed, cells: dict[str, Any]) -> dict[str, str]:
    shown: dict[str, str] = {}
    for column in feed.columns:
        value = cells.get(column.name)
        text = "" if value is None else str(value).strip()
        shown[column.name] = mask_id_number(text) if column.type == "id_number" else text[:100]
    return shown


def _registered(indexes: Sequence[str]) -> dict[str, int]:
    """Blind index → person id of the registered persons among ``indexes``."""
    found: dict[str, int] = {}
    unique = sorted(set(indexes))
    for start in range(0, len(unique), 2000):
        chunk = unique[start : start + 2000]
        found.update(
            Person.objects.filter(id_number_index__in=chunk).values_list("id_number_index", "id")
        )
    return found


def feed_store_resolve_persons() -> dict[str, int]:
    """Add ``person_id`` to stored files written before records carried it (ADR 13):
    each record's blind index is looked up in the registry as the importer does. Files
    are rewritten under a temporary name and swapped in. Returns files rewritten per feed.
    """
    rewritten: dict[str, int] = {}
    for feed in catalogue().values():
        schema = storage.arrow_schema(feed)
        for path in sorted(storage.feed_directory(feed).glob("period=*/batch-*.parquet")):
            if "person_id" in pq.read_schema(path).names:
                continue
            table = pq.read_table(path)
            indexes = table["person_index"].to_pylist()
            found = _registered(indexes)
            table = table.append_column(
                "person_id", pa.array([found.get(i) for i in indexes], pa.int64())
            )
            table = table.select(schema.names).cast(schema)
            temporary = path.with_suffix(".parquet.tmp")
            pq.write_table(table, temporary, compression="zstd")
            os.replace(temporary, path)
            rewritten[feed.id] = rewritten.get(feed.id, 0) + 1
    return rewritten


def feed_import(
    *,
    feed_id: str,
    file_name: str,
    content: bytes,
    actor: User | None,
    source: str = "cli",
    today: datetime.date | None = None,
) -> FeedBatch:
    """Import one file of one feed; returns the batch with its counts (quarantined rows in
    ``batch.quarantine``). ``actor`` None is an operator on the command line."""
    if actor is not None and not user_has_perm(actor, Perm.PUSH_FEEDS):
        raise PermissionDenied
    feed = catalogue().get(feed_id)
    if feed is None:
        raise FeedImportError(f"未知的数据类别：{feed_id}")
    digest = hashlib.sha256(content).hexdigest()
    earlier = FeedBatch.objects.filter(
        feed=feed.id, sha256=digest, status=BatchStatus.IMPORTED
    ).first()
    if earlier is not None:
        return _record(
            feed,
            file_name,
            digest,
            source,
            actor,
            status=BatchStatus.DUPLICATE,
            message=f"与第{earlier.pk}批相同，未重复导入",
        )
    try:
        parsed = _parse(feed, file_name, content)
    except FeedImportError as exc:
        _record(
            feed, file_name, digest, source, actor, status=BatchStatus.REJECTED, message=str(exc)
        )
        raise
    today = today or timezone.localdate()
    cipher = field_cipher()
    key_hash = storage.natural_key_hasher(cipher.index_key, feed)
    person_stored = storage.stored_name(feed.column(feed.person_column), feed)
    accepted: list[dict[str, Any]] = []
    quarantined: list[QuarantinedRow] = []
    seen: dict[str, int] = {}
    candidates: list[tuple[int, dict[str, Any], dict[str, Any], str]] = []
    for number, cells in parsed.rows:
        values, errors = validate_row(feed, cells, today=today)
        if errors:
            quarantined.append(
                QuarantinedRow(row_number=number, errors=errors, values=_masked(feed, cells))
            )
            continue
        key = key_hash([str(values[k]) for k in feed.natural_key])
        if key in seen:
            quarantined.append(
                QuarantinedRow(
                    row_number=number,
                    errors={"": f"与第{seen[key]}行重复"},
                    values=_masked(feed, cells),
                )
            )
            continue
        seen[key] = number
        candidates.append((number, cells, values, key))
    person_indexes = [
        cipher.blind_index(v[feed.person_column], column=ID_COLUMN) for _, _, v, _ in candidates
    ]
    registered = _registered(person_indexes)
    event = feed.event_date_column
    periods = {storage.period_of(feed, v[event]) for _, _, v, _ in candidates}
    already = storage.stored_key_hashes(feed, periods)
    rows_already = 0
    for (number, cells, values, key), index in zip(candidates, person_indexes, strict=True):
        if index not in registered:
            quarantined.append(
                QuarantinedRow(
                    row_number=number,
                    errors={feed.person_column: MSG_UNKNOWN_PERSON},
                    values=_masked(feed, cells),
                )
            )
            continue
        if key in already:
            rows_already += 1
            continue
        stored = {storage.stored_name(c, feed): values[c.name] for c in feed.columns}
        stored[person_stored] = index
        stored["person_id"] = registered[index]
        for column in feed.columns:  # any other ID column is indexed, never kept in clear
            if column.type == "id_number" and column.name != feed.person_column:
                stored[storage.stored_name(column, feed)] = cipher.blind_index(
                    values[column.name], column=ID_COLUMN
                )
        stored["key_hash"] = key
        accepted.append(stored)
    quarantined.sort(key=lambda q: q.row_number)
    with transaction.atomic():
        batch = _record(
            feed,
            file_name,
            digest,
            source,
            actor,
            status=BatchStatus.IMPORTED,
            rows_total=len(parsed.rows),
            rows_accepted=len(accepted),
            rows_quarantined=len(quarantined),
            rows_already_stored=rows_already,
        )
        for row in quarantined:
            row.batch = batch
        QuarantinedRow.objects.bulk_create(quarantined, batch_size=1000)
        for stored in accepted:
            stored["batch_id"] = batch.pk
        files = storage.write_batch(feed, batch.pk, accepted)
        transaction.on_commit(lambda: storage.publish(files))
    return batch


def _record(
    feed: Feed,
    file_name: str,
    digest: str,
    source: str,
    actor: User | None,
    *,
    status: str,
    message: str = "",
    **counts: int,
) -> FeedBatch:
    batch = FeedBatch.objects.create(
        feed=feed.id,
        feed_version=feed.version,
        file_name=file_name[:200],
        sha256=digest,
        source=source,
        imported_by=actor,
        status=status,
        message=message[:300],
        **counts,
    )
    audit_record(
        actor=actor,
        action=AuditAction.IMPORT,
        object_type="feeds.batch",
        object_id=batch.pk,
        region_code=(actor.region_id or "") if actor is not None else "",
        detail={"feed": feed.id, "file_name": file_name[:200], "status": status, **counts},
    )
    return batch
