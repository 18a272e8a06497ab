"""The two instruments every installation starts with (national, version 1).

- ``family_needs``: Xiajiang's family needs assessment, 6 dimensions and 20 indicators
  (生活保障、健康医疗、教育支持、就业服务、社会支持、家庭照顾), each answered on a four-step
  difficulty scale; weighted score 0–100 into high (red) ≥ 60, medium (yellow) ≥ 30, low
  (blue) below. Weights and cut-offs are placeholders a county edits.
- ``self_care_6``: the national 6-item self-care assessment of 特困人员 (吃饭、穿衣、上下床、
  如厕、室内行走、洗澡): 0 items unable = able, 1–3 = partly lost, 4–6 = fully lost.

Indicator codes are shared with the service catalogue (``jiuzhu.services``): catalogue
items name the indicators they address. Change a code only together with the catalogue.
"""

from __future__ import annotations

from typing import Any

DIFFICULTY = [
    {"code": "0", "label": "无困难", "label_en": "no difficulty", "points": 0},
    {"code": "1", "label": "轻度困难", "label_en": "mild difficulty", "points": 1},
    {
        "code": "2",
        "label": "中度困难",
        "label_en": "moderate difficulty",
        "points": 2,
        "needs_help": True,
    },
    {
        "code": "3",
        "label": "严重困难",
        "label_en": "severe difficulty",
        "points": 3,
        "needs_help": True,
    },
]


def _indicators(*rows: tuple[str, str, str]) -> list[dict[str, Any]]:
    return [
        {"code": code, "label": label, "label_en": label_en, "weight": 1, "scale": "difficulty"}
        for code, label, label_en in rows
    ]


FAMILY_NEEDS: dict[str, Any] = {
    "scoring": {"method": "weighted"},
    "description": "6 个方面 20 项细化指标，逐项按困难程度评分，加权折算为 0–100 分，"
    "分高、中、低三档，以红、黄、蓝标识。",
    "scales": {"difficulty": DIFFICULTY},
    "dimensions": [
        {
            "code": "living",
            "label": "生活保障",
            "label_en": "basic living",
            "weight": 1,
            "indicators": _indicators(
                ("living_income", "收入能否维持基本生活", "income covers basic living"),
                ("living_housing", "住房安全与居住条件", "housing safety and conditions"),
                ("living_food", "饮食与日常生活用品", "food and daily necessities"),
                ("living_utilities", "水电气暖与家居环境", "water, power, heating and home"),
            ),
        },
        {
            "code": "health",
            "label": "健康医疗",
            "label_en": "health and medical care",
            "weight": 1,
            "indicators": _indicators(
                ("health_chronic", "慢性病与重病", "chronic and serious illness"),
                ("health_disability", "残疾与康复", "disability and rehabilitation"),
                ("health_medical_cost", "医疗费用负担", "burden of medical costs"),
                ("health_mental", "心理与精神状况", "psychological and mental state"),
            ),
        },
        {
            "code": "education",
            "label": "教育支持",
            "label_en": "education",
            "weight": 1,
            "indicators": _indicators(
                ("education_enrolment", "子女就学", "children's schooling"),
                ("education_cost", "教育费用负担", "burden of education costs"),
                ("education_tutoring", "学业辅导与课后照看", "tutoring and after-school care"),
            ),
        },
        {
            "code": "employment",
            "label": "就业服务",
            "label_en": "employment",
            "weight": 1,
            "indicators": _indicators(
                ("employment_status", "劳动力就业状况", "employment of working-age members"),
                ("employment_skills", "职业技能", "vocational skills"),
                ("employment_barriers", "就业障碍", "barriers to work"),
            ),
        },
        {
            "code": "social",
            "label": "社会支持",
            "label_en": "social support",
            "weight": 1,
            "indicators": _indicators(
                ("social_family", "亲属支持", "support from relatives"),
                ("social_community", "社区参与与邻里关系", "community and neighbours"),
                ("social_isolation", "孤独与精神慰藉", "loneliness and emotional comfort"),
            ),
        },
        {
            "code": "care",
            "label": "家庭照顾",
            "label_en": "care in the family",
            "weight": 1,
            "indicators": _indicators(
                ("care_selfcare", "成员生活自理", "members' self-care"),
                ("care_elderly", "老人照料", "care of the elderly"),
                ("care_children", "儿童与残疾人照护", "care of children and disabled members"),
            ),
        },
    ],
    "tiers": [
        {"code": "high", "label": "高", "label_en": "high", "colour": "red", "min_score": 60},
        {
            "code": "medium",
            "label": "中",
            "label_en": "medium",
            "colour": "yellow",
            "min_score": 30,
        },
        {"code": "low", "label": "低", "label_en": "low", "colour": "blue", "min_score": 0},
    ],
}

ABLE_UNABLE = [
    {"code": "able", "label": "能", "label_en": "able", "points": 0},
    {
        "code": "unable",
        "label": "不能",
        "label_en": "unable",
        "points": 1,
        "needs_help": True,
        "counted": True,
    },
]

SELF_CARE_6: dict[str, Any] = {
    "scoring": {"method": "count"},
    "description": "特困人员生活自理能力评估：6 项指标中，全部能完成为具备生活自理能力；"
    "1–3 项不能为部分丧失；4 项及以上不能为完全丧失生活自理能力。",
    "scales": {"able_unable": ABLE_UNABLE},
    "dimensions": [
        {
            "code": "self_care",
            "label": "生活自理能力",
            "label_en": "self-care",
            "indicators": [
                {"code": code, "label": label, "label_en": label_en, "scale": "able_unable"}
                for code, label, label_en in (
                    ("eating", "吃饭", "eating"),
                    ("dressing", "穿衣", "dressing"),
                    ("transfer", "上下床", "getting in and out of bed"),
                    ("toileting", "如厕", "using the toilet"),
                    ("walking", "室内行走", "walking indoors"),
                    ("bathing", "洗澡", "bathing"),
                )
            ],
        }
    ],
    "tiers": [
        {
            "code": "full",
            "label": "完全丧失生活自理能力",
            "label_en": "fully unable to look after themselves",
            "colour": "red",
            "min_count": 4,
            "max_count": 6,
        },
        {
            "code": "partial",
            "label": "部分丧失生活自理能力",
            "label_en": "partly unable to look after themselves",
            "colour": "yellow",
            "min_count": 1,
            "max_count": 3,
        },
        {
            "code": "able",
            "label": "具备生活自理能力",
            "label_en": "able to look after themselves",
            "colour": "blue",
            "min_count": 0,
            "max_count": 0,
        },
    ],
}

# code, name, English name, kind, definition
DEFAULT_INSTRUMENTS: list[tuple[str, str, str, str, dict[str, Any]]] = [
    ("family_needs", "家庭需求评估", "Family needs assessment", "household", FAMILY_NEEDS),
    (
        "self_care_6",
        "特困人员生活自理能力评估",
        "Self-care assessment of persons in extreme poverty",
        "person",
        SELF_CARE_6,
    ),
]
