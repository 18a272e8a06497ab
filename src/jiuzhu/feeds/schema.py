"""The feed catalogue: one YAML file per department feed, read into typed definitions.

No Django here: the rule engine reads the same definitions. A definition names its
columns and their types, the natural key that makes a re-import idempotent, the column
holding the person's ID number (turned into the blind index on import, never stored in
clear) and the event date that partitions the stored Parquet. Adding a feed is adding a
YAML file; nothing in the engine changes. See docs/feeds.md.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from jiuzhu.core.idnumbers import InvalidIdNumber, parse_id_number

CATALOGUE_DIR = Path(__file__).parent / "catalogue"
FEED_ID = re.compile(r"^[a-z][a-z0-9_]{2,40}$")
# ICD-10 as used in Chinese medical insurance (国家医保版): a letter, two digits, then an
# optional dot and up to four more characters (I10, C34.1, E11.900).
ICD10 = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")
TYPES = (
    "string",
    "id_number",
    "date",
    "datetime",
    "enum",
    "icd10",
    "decimal",
    "integer",
    "boolean",
    "region_code",
)
PARTITIONS = ("month", "year")


class CatalogueError(ValueError):
    """A feed definition is malformed (said with the file and the place)."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    label_zh: str
    label_en: str
    required: bool = True
    values: Mapping[str, str] = field(default_factory=dict)  # enum: code → Chinese label
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    not_future: bool = False
    max_length: int = 200


@dataclass(frozen=True)
class Feed:
    id: str
    version: int
    name_zh: str
    name_en: str
    department_zh: str
    department_en: str
    description: str
    person_column: str
    event_date_column: str
    natural_key: tuple[str, ...]
    partition: str
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


_FEED_KEYS = {
    "id",
    "version",
    "name",
    "department",
    "description",
    "person",
    "event_date",
    "natural_key",
    "partition",
    "columns",
}
_COLUMN_KEYS = {
    "name",
    "type",
    "label",
    "required",
    "values",
    "min",
    "max",
    "not_future",
    "max_length",
}


def _bilingual(value: Any, where: str) -> tuple[str, str]:
    if not isinstance(value, dict) or not value.get("zh") or not value.get("en"):
        raise CatalogueError(f"{where}: needs zh and en")
    return str(value["zh"]), str(value["en"])


def _decimal(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise CatalogueError(f"{where}: not a number") from exc


def _column(raw: Any, where: str) -> Column:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: a column is a mapping")
    unknown = set(raw) - _COLUMN_KEYS
    if unknown:
        raise CatalogueError(f"{where}: unknown keys {sorted(unknown)}")
    name = str(raw.get("name", ""))
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise CatalogueError(f"{where}: column name {name!r} must be snake_case")
    kind = raw.get("type")
    if kind not in TYPES:
        raise CatalogueError(f"{where}.{name}: type must be one of {', '.join(TYPES)}")
    label_zh, label_en = _bilingual(raw.get("label"), f"{where}.{name}.label")
    values = raw.get("values") or {}
    if kind == "enum" and (not isinstance(values, dict) or not values):
        raise CatalogueError(f"{where}.{name}: an enum lists its values (code: 中文)")
    return Column(
        name=name,
        type=kind,
        label_zh=label_zh,
        label_en=label_en,
        required=bool(raw.get("required", True)),
        values={str(k): str(v) for k, v in values.items()},
        minimum=_decimal(raw.get("min"), f"{where}.{name}.min"),
        maximum=_decimal(raw.get("max"), f"{where}.{name}.max"),
        not_future=bool(raw.get("not_future", False)),
        max_length=int(raw.get("max_length", 200)),
    )


def feed_from_mapping(raw: Any, where: str) -> Feed:
    """Build and check one definition; every mistake names the file and the key."""
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: a feed definition is a mapping")
    unknown = set(raw) - _FEED_KEYS
    if unknown:
        raise CatalogueError(f"{where}: unknown keys {sorted(unknown)}")
    feed_id = str(raw.get("id", ""))
    if not FEED_ID.match(feed_id):
        raise CatalogueError(f"{where}: id {feed_id!r} must be snake_case, 3–41 characters")
    version = raw.get("version")
    if not isinstance(version, int) or version < 1:
        raise CatalogueError(f"{where}: version must be a positive integer")
    raw_columns = raw.get("columns")
    if not isinstance(raw_columns, list) or not raw_columns:
        raise CatalogueError(f"{where}: columns must be a non-empty list")
    columns = tuple(_column(c, f"{where}.columns[{i}]") for i, c in enumerate(raw_columns))
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise CatalogueError(f"{where}: duplicate column names")
    by_name = {c.name: c for c in columns}
    person = str(raw.get("person", ""))
    if by_name.get(person) is None or by_name[person].type != "id_number":
        raise CatalogueError(f"{where}: person must name an id_number column")
    event_date = str(raw.get("event_date", ""))
    if by_name.get(event_date) is None or by_name[event_date].type not in ("date", "datetime"):
        raise CatalogueError(f"{where}: event_date must name a date or datetime column")
    if not by_name[event_date].required or not by_name[person].required:
        raise CatalogueError(f"{where}: the person and event_date columns must be required")
    natural_key = tuple(str(k) for k in raw.get("natural_key") or [])
    if not natural_key or any(k not in by_name for k in natural_key):
        raise CatalogueError(f"{where}: natural_key must list existing columns")
    partition = raw.get("partition", "month")
    if partition not in PARTITIONS:
        raise CatalogueError(f"{where}: partition must be month or year")
    name_zh, name_en = _bilingual(raw.get("name"), f"{where}.name")
    department_zh, department_en = _bilingual(raw.get("department"), f"{where}.department")
    return Feed(
        id=feed_id,
        version=version,
        name_zh=name_zh,
        name_en=name_en,
        department_zh=department_zh,
        department_en=department_en,
        description=str(raw.get("description", "")).strip(),
        person_column=person,
        event_date_column=event_date,
        natural_key=natural_key,
        partition=partition,
        columns=columns,
    )


def load_catalogue(directory: Path = CATALOGUE_DIR) -> dict[str, Feed]:
    """Every ``*.yaml`` in ``directory``; the file name must equal the feed id."""
    feeds: dict[str, Feed] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise CatalogueError(f"{path.name}: not valid YAML ({exc})") from exc
        feed = feed_from_mapping(raw, path.name)
        if feed.id != path.stem:
            raise CatalogueError(f"{path.name}: id {feed.id!r} differs from the file name")
        feeds[feed.id] = feed
    return feeds


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Feed]:
    return load_catalogue()


# -- values ------------------------------------------------------------------------------


class InvalidValue(ValueError):
    """Carries a Chinese message fit for the quarantine report."""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_value(column: Column, value: Any, *, today: datetime.date) -> Any:
    """The typed value of one cell, or InvalidValue; None for an empty optional cell."""
    text = _text(value)
    if not text:
        if column.required:
            raise InvalidValue(f"“{column.label_zh}”不能为空")
        return None
    kind = column.type
    if kind == "string":
        if len(text) > column.max_length:
            raise InvalidValue(f"“{column.label_zh}”超过{column.max_length}个字符")
        return text
    if kind == "id_number":
        try:
            return parse_id_number(text).number
        except InvalidIdNumber as exc:
            raise InvalidValue(str(exc)) from exc
    if kind == "region_code":
        if not re.fullmatch(r"[0-9]{6}([0-9]{3}([0-9]{3})?)?", text):
            raise InvalidValue(f"“{column.label_zh}”应为6、9或12位区划代码")
        return text
    if kind == "icd10":
        code = text.upper()
        if not ICD10.match(code):
            raise InvalidValue(f"“{text}”不是有效的ICD-10编码")
        return code
    if kind == "enum":
        if text in column.values:
            return text
        by_label = {label: code for code, label in column.values.items()}
        if text in by_label:
            return by_label[text]
        allowed = "、".join(column.values.values())
        raise InvalidValue(f"“{column.label_zh}”的值“{text}”无法识别，可填：{allowed}")
    if kind == "boolean":
        truthy, falsy = {"1", "true", "是", "y", "yes"}, {"0", "false", "否", "n", "no"}
        if text.lower() in truthy:
            return True
        if text.lower() in falsy:
            return False
        raise InvalidValue(f"“{column.label_zh}”应填是或否")
    if kind in ("decimal", "integer"):
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation as exc:
            raise InvalidValue(f"“{column.label_zh}”的值“{text}”不是数字") from exc
        if not number.is_finite():
            raise InvalidValue(f"“{column.label_zh}”的值“{text}”不是数字")
        if kind == "integer" and number != number.to_integral_value():
            raise InvalidValue(f"“{column.label_zh}”应为整数")
        if column.minimum is not None and number < column.minimum:
            raise InvalidValue(f"“{column.label_zh}”不能小于{column.minimum}")
        if column.maximum is not None and number > column.maximum:
            raise InvalidValue(f"“{column.label_zh}”不能大于{column.maximum}")
        return int(number) if kind == "integer" else number
    # date / datetime
    parsed: datetime.date
    if isinstance(value, datetime.datetime):
        parsed = value if kind == "datetime" else value.date()
    elif isinstance(value, datetime.date):
        parsed = value
    else:
        try:
            if kind == "date":
                parsed = datetime.date.fromisoformat(text.replace("/", "-"))
            else:
                parsed = datetime.datetime.fromisoformat(text.replace("/", "-"))
        except ValueError as exc:
            raise InvalidValue(f"“{column.label_zh}”的值“{text}”不是有效的日期") from exc
    day = parsed.date() if isinstance(parsed, datetime.datetime) else parsed
    if column.not_future and day > today:
        raise InvalidValue(f"“{column.label_zh}”{day}晚于今天")
    return parsed


def validate_row(
    feed: Feed, row: Mapping[str, Any], *, today: datetime.date
) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed values and, per column, the Chinese reason a value was refused."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for column in feed.columns:
        try:
            values[column.name] = parse_value(column, row.get(column.name), today=today)
        except InvalidValue as exc:
            errors[column.name] = str(exc)
    return values, errors
