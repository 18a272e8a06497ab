"""Writes to the region tree: the NBS-format importer, the demo-county fixture and the
demo seats of its synthetic places."""

from __future__ import annotations

import csv
import json
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from jiuzhu.regions.models import CODE_LENGTHS, LEVEL_BY_LENGTH, Level, Region

# The public NBS-format lists (the "Administrative-divisions-of-China" layout): one file a
# level, each row naming its own code and its parent's.
NBS_FILES: list[tuple[str, Level, str | None]] = [
    ("provinces.csv", Level.PROVINCE, None),
    ("cities.csv", Level.CITY, "provinceCode"),
    ("areas.csv", Level.COUNTY, "cityCode"),
    ("streets.csv", Level.TOWN, "areaCode"),
    ("villages.csv", Level.VILLAGE, "streetCode"),
]


class RegionImportError(Exception):
    pass


@dataclass
class RegionImportResult:
    counts: dict[str, int] = field(default_factory=dict)
    created: int = 0
    updated: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def normalise_code(raw: str, level: Level) -> str:
    """Accept both short codes (36, 3608…) and the 12-digit padded form (360000000000)."""
    code = raw.strip()
    length = CODE_LENGTHS[level]
    if not code.isdigit():
        raise RegionImportError(f"区划代码必须是数字：{raw!r}")
    if len(code) == 12 and length < 12:
        if code[length:].strip("0"):
            raise RegionImportError(f"区划代码 {raw} 与层级不符")
        code = code[:length]
    if len(code) != length:
        raise RegionImportError(f"区划代码 {raw} 应为{length}位")
    return code


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        yield from csv.DictReader(handle)


@transaction.atomic
def regions_import_nbs(
    *, directory: Path, progress: Callable[[str, int], None] | None = None
) -> RegionImportResult:
    """Load (or refresh) the tree from a directory of NBS-format CSVs.

    Files are read province-first so that every parent exists before its children; a
    row whose parent is unknown stops the import (the transaction keeps the tree whole).
    Re-importing the same files changes nothing.
    """
    present = [
        (name, level, parent_col)
        for name, level, parent_col in NBS_FILES
        if (directory / name).exists()
    ]
    if not present:
        raise RegionImportError(f"{directory} 中没有区划文件（provinces.csv 等）")
    result = RegionImportResult()
    existing = set(Region.objects.values_list("code", flat=True))
    known = set(existing)
    for name, level, parent_col in present:
        batch: list[Region] = []
        for line_no, row in enumerate(_rows(directory / name), start=2):
            try:
                code = normalise_code(row["code"], level)
                parent = None
                if parent_col is not None:
                    parent = normalise_code(row[parent_col], Level(level - 1))
                    if parent not in known:
                        raise RegionImportError(f"上级区划 {parent} 不存在")
                    if not code.startswith(parent):
                        raise RegionImportError(f"区划代码 {code} 不在上级 {parent} 之下")
            except (KeyError, RegionImportError) as exc:
                raise RegionImportError(f"{name} 第{line_no}行：{exc}") from exc
            batch.append(Region(code=code, name=row["name"].strip(), level=level, parent_id=parent))
            known.add(code)
        Region.objects.bulk_create(
            batch,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=["name", "level", "parent"],
        )
        result.counts[name] = len(batch)
        result.created += sum(1 for r in batch if r.code not in existing)
        if progress:
            progress(name, len(batch))
    result.updated = result.total - result.created
    return result


DEMO_FIXTURE = Path(__file__).parent / "fixtures" / "xiajiang.json"


@transaction.atomic
def regions_load_demo_county() -> int:
    """The demo county: 峡江县 with its real towns (public facts) and synthetic villages.

    Villages carry ``is_synthetic`` and a name ending in （虚构） so nobody mistakes them
    for real ones.
    """
    data = json.loads(DEMO_FIXTURE.read_text(encoding="utf-8"))
    rows: list[Region] = []
    for item in data["regions"]:
        rows.append(
            Region(
                code=item["code"],
                name=item["name"],
                level=LEVEL_BY_LENGTH[len(item["code"])],
                parent_id=item.get("parent"),
                is_synthetic=item.get("synthetic", False),
            )
        )
    Region.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name", "level", "parent", "is_synthetic"],
    )
    return len(rows)


# Xiajiang's county seat (巴邱镇), roughly: the demo county's synthetic places sit around it.
XIAJIANG_SEAT = (27.58, 115.14)
KM_PER_DEGREE_LAT = 111.32


def _offset(lat: float, lon: float, km: float, bearing: float) -> tuple[float, float]:
    """The point ``km`` from (lat, lon) towards ``bearing`` (radians from north); a flat
    approximation, good to metres over the tens of kilometres of a county."""
    dlat = km * math.cos(bearing) / KM_PER_DEGREE_LAT
    dlon = km * math.sin(bearing) / (KM_PER_DEGREE_LAT * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def _degrees(value: float) -> Decimal:
    return Decimal(str(round(value, 6))).quantize(Decimal("0.000001"))


@transaction.atomic
def regions_place_synthetic(*, county_code: str, seed: int = 0) -> int:
    """Give the synthetic regions of a county deterministic seats (WGS-84): each town
    5–20 km from the county seat in its own sector, each village 0.5–4 km from its town.

    Only rows marked ``is_synthetic`` are written: a real division's coordinates are
    public facts an administrator may have loaded, and a made-up seat must never replace
    them. A real town (or county) without coordinates is still given an anchor in memory
    so that its synthetic villages gather around one place; one with coordinates is the
    anchor itself. Each place draws from its own generator (county, seed, code), so
    adding a village moves nobody else. Returns how many rows were written.
    """
    county = Region.objects.filter(code=county_code, level=Level.COUNTY).first()
    if county is None:
        raise ValueError(f"no county {county_code}")
    rows = list(Region.objects.filter(code__startswith=county.code).order_by("code"))

    def rng(code: str) -> random.Random:
        return random.Random(f"{county.code}:{seed}:{code}")

    def stored(region: Region) -> tuple[float, float] | None:
        if region.is_synthetic or region.lat is None or region.lon is None:
            return None
        return float(region.lat), float(region.lon)

    anchors: dict[str, tuple[float, float]] = {county.code: stored(county) or XIAJIANG_SEAT}
    changed: list[Region] = []

    def place(region: Region, point: tuple[float, float]) -> None:
        anchors[region.code] = point
        if region.is_synthetic:
            region.lat, region.lon = _degrees(point[0]), _degrees(point[1])
            changed.append(region)

    if county.is_synthetic:
        place(county, anchors[county.code])
    towns = [r for r in rows if r.level == Level.TOWN]
    for index, town in enumerate(towns):
        draw = rng(town.code)
        # Towns spread round the seat, one sector each, so that none sit on top of another.
        sector = 2 * math.pi / max(len(towns), 1)
        bearing = sector * (index + draw.uniform(0.15, 0.85))
        point = stored(town) or _offset(*anchors[county.code], draw.uniform(5, 20), bearing)
        place(town, point)
    for village in (r for r in rows if r.level == Level.VILLAGE):
        draw = rng(village.code)
        parent = anchors.get(village.code[:9], anchors[county.code])
        place(village, _offset(*parent, draw.uniform(0.5, 4), draw.uniform(0, 2 * math.pi)))
    Region.objects.bulk_update(changed, ["lat", "lon"], batch_size=1000)
    return len(changed)
