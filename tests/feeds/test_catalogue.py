from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from jiuzhu.feeds.schema import (
    CatalogueError,
    catalogue,
    feed_from_mapping,
    load_catalogue,
    validate_row,
)

TODAY = datetime.date(2026, 6, 1)
EXPECTED_FEEDS = {
    "medical_settlement",
    "disability_registration",
    "death",
    "unemployment_registration",
    "social_insurance_contribution",
    "school_status",
    "housing_safety",
    "vehicle_registration",
    "property_registration",
    "business_registration",
    "water_meter_reading",
}


def test_the_catalogue_has_every_feed_the_bureau_needs() -> None:
    feeds = catalogue()
    assert set(feeds) == EXPECTED_FEEDS
    for feed in feeds.values():
        assert feed.version >= 1
        assert feed.name_zh and feed.name_en and feed.department_zh
        assert feed.column(feed.person_column).type == "id_number"
        assert set(feed.natural_key) <= {c.name for c in feed.columns}


def test_a_new_feed_is_a_yaml_file(tmp_path: Path) -> None:
    # given: a feed the engine has never heard of
    (tmp_path / "gas_meter_reading.yaml").write_text(
        yaml.safe_dump(
            {
                "id": "gas_meter_reading",
                "version": 1,
                "name": {"zh": "燃气表读数", "en": "Gas-meter readings"},
                "department": {"zh": "燃气公司", "en": "Gas utility"},
                "person": "id_number",
                "event_date": "read_at",
                "natural_key": ["meter", "read_at"],
                "columns": [
                    {"name": "meter", "type": "string", "label": {"zh": "表号", "en": "meter"}},
                    {
                        "name": "id_number",
                        "type": "id_number",
                        "label": {"zh": "身份证号码", "en": "ID"},
                    },
                    {"name": "read_at", "type": "datetime", "label": {"zh": "时间", "en": "time"}},
                    {
                        "name": "m3",
                        "type": "decimal",
                        "label": {"zh": "用气量", "en": "m³"},
                        "min": 0,
                    },
                ],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    # when
    feeds = load_catalogue(tmp_path)
    # then
    assert feeds["gas_meter_reading"].partition == "month"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"person": "meter"}, "person must name an id_number column"),
        ({"event_date": "m3"}, "event_date must name a date"),
        ({"natural_key": ["nope"]}, "natural_key"),
        ({"colour": "red"}, "unknown keys"),
        ({"version": 0}, "version"),
        ({"name": {"zh": "只有中文"}}, "needs zh and en"),
    ],
)
def test_malformed_definitions_are_refused_with_the_place(
    change: dict[str, object], message: str
) -> None:
    raw = {
        "id": "gas",
        "version": 1,
        "name": {"zh": "燃气", "en": "Gas"},
        "department": {"zh": "燃气公司", "en": "Gas utility"},
        "person": "id_number",
        "event_date": "read_at",
        "natural_key": ["meter"],
        "columns": [
            {"name": "meter", "type": "string", "label": {"zh": "表号", "en": "meter"}},
            {"name": "id_number", "type": "id_number", "label": {"zh": "身份证", "en": "ID"}},
            {"name": "read_at", "type": "datetime", "label": {"zh": "时间", "en": "time"}},
            {"name": "m3", "type": "decimal", "label": {"zh": "用气量", "en": "m³"}},
        ],
    }
    raw.update(change)
    with pytest.raises(CatalogueError, match=message):
        feed_from_mapping(raw, "gas.yaml")


def test_a_good_medical_row_is_typed() -> None:
    feed = catalogue()["medical_settlement"]
    values, errors = validate_row(
        feed,
        {
            "settlement_id": "JS2026000123",
            "id_number": "362423195803120018",
            "settled_on": "2026-05-03",
            "care_type": "住院",
            "icd10": "c34.1",
            "total_amount": "86,500.00",
            "out_of_pocket": 23100,
        },
        today=TODAY,
    )
    assert errors == {}
    assert values["care_type"] == "inpatient"
    assert values["icd10"] == "C34.1"
    assert values["total_amount"] == Decimal("86500.00")
    assert values["settled_on"] == datetime.date(2026, 5, 3)


def test_bad_values_get_chinese_reasons_per_column() -> None:
    feed = catalogue()["medical_settlement"]
    _, errors = validate_row(
        feed,
        {
            "settlement_id": "",
            "id_number": "362423195803120019",
            "settled_on": "2026-07-01",
            "care_type": "急诊",
            "icd10": "I1",
            "total_amount": "abc",
            "out_of_pocket": -5,
        },
        today=TODAY,
    )
    assert errors == {
        "settlement_id": "“结算单号”不能为空",
        "id_number": "身份证号码校验位错误",
        "settled_on": "“结算日期”2026-07-01晚于今天",
        "care_type": "“就诊类别”的值“急诊”无法识别，可填：住院、门诊、门诊慢特病",
        "icd10": "“I1”不是有效的ICD-10编码",
        "total_amount": "“医疗总费用”的值“abc”不是数字",
        "out_of_pocket": "“个人自付金额”不能小于0",
    }


def test_water_readings_take_timestamps_and_grades_are_integers() -> None:
    water = catalogue()["water_meter_reading"]
    values, errors = validate_row(
        water,
        {
            "meter_id": "SB-0001",
            "id_number": "362423195803120018",
            "read_at": "2026-05-31 23:00:00",
            "interval": "hour",
            "litres": "0.0",
        },
        today=TODAY,
    )
    assert errors == {} and values["read_at"] == datetime.datetime(2026, 5, 31, 23, 0)
    disability = catalogue()["disability_registration"]
    _, errors = validate_row(
        disability,
        {
            "certificate_number": "36242319580312001811",
            "id_number": "362423195803120018",
            "registered_on": "2026-01-02",
            "action": "新办",
            "disability_type": "肢体",
            "grade": "2.5",
        },
        today=TODAY,
    )
    assert errors == {"grade": "“残疾等级”应为整数"}


def test_docs_describe_every_feed_at_its_version() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "feeds.md").read_text()
    for feed in catalogue().values():
        assert f"`{feed.id}` v{feed.version}" in docs, f"docs/feeds.md lacks {feed.id}"
        for column in feed.columns:
            assert f"`{column.name}`" in docs
