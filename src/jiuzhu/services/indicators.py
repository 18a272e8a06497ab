"""The indicator codes shared with the assessment app (the contract, docs/services.md).

Catalogue items name the indicators they address; a plan proposes items for the
indicators an assessment found in need of help. The assessment app's instruments are
the source of truth for their labels; these are the codes of the two default instruments,
used to validate catalogue items and to label filters when no instrument says otherwise.
Pure Python: no Django.
"""

from __future__ import annotations

# instrument → dimension (code, label) → indicators (code, label)
FAMILY_NEEDS: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "living",
        "生活保障",
        [
            ("living_income", "收入能否维持基本生活"),
            ("living_housing", "住房安全与居住条件"),
            ("living_food", "饮食与日常生活用品"),
            ("living_utilities", "水电气暖与家居环境"),
        ],
    ),
    (
        "health",
        "健康医疗",
        [
            ("health_chronic", "慢性病与重病"),
            ("health_disability", "残疾与康复"),
            ("health_medical_cost", "医疗费用负担"),
            ("health_mental", "心理与精神状况"),
        ],
    ),
    (
        "education",
        "教育支持",
        [
            ("education_enrolment", "子女就学"),
            ("education_cost", "教育费用负担"),
            ("education_tutoring", "学业辅导与课后照看"),
        ],
    ),
    (
        "employment",
        "就业服务",
        [
            ("employment_status", "劳动力就业状况"),
            ("employment_skills", "职业技能"),
            ("employment_barriers", "就业障碍"),
        ],
    ),
    (
        "social",
        "社会支持",
        [
            ("social_family", "亲属支持"),
            ("social_community", "社区参与与邻里关系"),
            ("social_isolation", "孤独与精神慰藉"),
        ],
    ),
    (
        "care",
        "家庭照顾",
        [
            ("care_selfcare", "成员生活自理"),
            ("care_elderly", "老人照料"),
            ("care_children", "儿童与残疾人照护"),
        ],
    ),
]

SELF_CARE_6: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "self_care",
        "生活自理能力",
        [
            ("eating", "吃饭"),
            ("dressing", "穿衣"),
            ("transfer", "上下床"),
            ("toileting", "如厕"),
            ("walking", "室内行走"),
            ("bathing", "洗澡"),
        ],
    ),
]

CONTRACT_INSTRUMENTS = {"family_needs": FAMILY_NEEDS, "self_care_6": SELF_CARE_6}


def indicator_labels() -> dict[str, tuple[str, str]]:
    """code → (dimension label, indicator label) for every indicator of the contract."""
    labels: dict[str, tuple[str, str]] = {}
    for dimensions in CONTRACT_INSTRUMENTS.values():
        for _code, dimension, indicators in dimensions:
            for code, label in indicators:
                labels[code] = (dimension, label)
    return labels


def indicator_dimensions() -> dict[str, str]:
    """indicator code → dimension code."""
    return {
        code: dimension
        for dimensions in CONTRACT_INSTRUMENTS.values()
        for dimension, _label, indicators in dimensions
        for code, _text in indicators
    }


CONTRACT_INDICATORS: frozenset[str] = frozenset(indicator_labels())
