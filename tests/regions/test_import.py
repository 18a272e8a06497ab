from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from jiuzhu.regions.models import Level, Region
from jiuzhu.regions.selectors import region_full_name
from jiuzhu.regions.services import regions_import_nbs, regions_load_demo_county

# ../shared next to the checkout, or JIUZHU_SHARED_DIR (CI sets it for a clone elsewhere).
SHARED = Path(os.environ.get("JIUZHU_SHARED_DIR") or Path(__file__).resolve().parents[3] / "shared")
SHARED_REGIONS = SHARED / "data" / "regions"


@pytest.mark.django_db
@pytest.mark.skipif(not SHARED_REGIONS.exists(), reason="../shared/data/regions not present")
def test_import_the_public_nbs_lists_and_again_changes_nothing() -> None:
    # when
    first = regions_import_nbs(directory=SHARED_REGIONS)
    count = Region.objects.count()
    second = regions_import_nbs(directory=SHARED_REGIONS)
    # then
    assert first.counts["provinces.csv"] == 31
    assert first.counts["streets.csv"] > 40_000
    assert count == first.total
    assert Region.objects.count() == count
    assert second.created == 0
    xiajiang = Region.objects.get(code="360823")
    assert xiajiang.name == "峡江县" and xiajiang.level == Level.COUNTY
    assert xiajiang.parent_id == "3608"
    assert Region.objects.filter(parent_id="360823", level=Level.TOWN).count() == 12
    assert region_full_name(code="360823102") == "江西省吉安市峡江县巴邱镇"


def write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text, encoding="utf-8")


@pytest.mark.django_db
def test_twelve_digit_codes_and_villages_are_accepted(tmp_path: Path) -> None:
    write(tmp_path, "provinces.csv", 'code,name\n360000000000,"江西省"\n')
    write(tmp_path, "cities.csv", "code,name,provinceCode\n360800000000,吉安市,36\n")
    write(tmp_path, "areas.csv", "code,name,cityCode,provinceCode\n360823,峡江县,3608,36\n")
    write(
        tmp_path,
        "streets.csv",
        "code,name,areaCode,provinceCode,cityCode\n360823100,水边镇,360823,36,3608\n",
    )
    write(
        tmp_path,
        "villages.csv",
        "code,name,streetCode,provinceCode,cityCode,areaCode\n"
        "360823100201,某村委会,360823100,36,3608,360823\n",
    )
    result = regions_import_nbs(directory=tmp_path)
    assert result.total == 5
    assert Region.objects.get(code="360823100201").level == Level.VILLAGE


@pytest.mark.django_db
def test_an_orphan_row_stops_the_import_and_keeps_the_tree_whole(tmp_path: Path) -> None:
    write(tmp_path, "provinces.csv", "code,name\n36,江西省\n")
    write(tmp_path, "cities.csv", "code,name,provinceCode\n3608,吉安市,36\n3708,济宁市,37\n")
    with pytest.raises(CommandError, match=r"cities\.csv 第3行：上级区划 37 不存在"):
        call_command("regions", "import", str(tmp_path))
    assert not Region.objects.exists()


@pytest.mark.django_db
def test_bad_code_length_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "provinces.csv", "code,name\n360,江西省\n")
    with pytest.raises(CommandError, match="应为2位"):
        call_command("regions", "import", str(tmp_path))


@pytest.mark.django_db
def test_empty_directory_is_reported(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="没有区划文件"):
        call_command("regions", "import", str(tmp_path))


@pytest.mark.django_db
def test_demo_county_marks_its_villages_synthetic() -> None:
    regions_load_demo_county()
    towns = Region.objects.filter(parent_id="360823")
    villages = Region.objects.filter(level=Level.VILLAGE)
    assert towns.count() == 12 and not towns.filter(is_synthetic=True).exists()
    assert villages.count() > 0
    assert not villages.filter(is_synthetic=False).exists()
    assert all(v.name.endswith("（虚构）") for v in villages)
    assert all(v.code.startswith(v.parent_id) for v in villages)
