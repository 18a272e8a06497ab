"""The built-in kinds of help and national default standards.

The 低保 standards are the national averages at the end of September 2025 (828 yuan urban,
616 rural, per person a month); per-capita disposable income is the national figure of
2024 (urban 54 188, rural 23 119 yuan). Everything else is a placeholder a county replaces
with its own dated rows (docs/applications.md): a county's row always wins over these.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import migrations

KINDS = [
    {
        "code": "dibao",
        "name_zh": "最低生活保障",
        "name_en": "Minimum living allowance (低保)",
        "category": "dibao",
        "income_test": "dibao",
        "amount_rule": "gap_to_standard",
        "amount_parameters": {"floor": "30"},
        "review_months": 12,
        "required_documents": ["id_card", "hukou", "authorisation"],
    },
    {
        "code": "tekun_dispersed",
        "name_zh": "特困人员救助供养（分散）",
        "name_en": "Extreme-poverty support at home (特困分散)",
        "category": "tekun_dispersed",
        "income_test": "dibao",
        "amount_rule": "factor_of_standard",
        "amount_parameters": {"factor": "1.3"},
        "review_months": 12,
        "required_documents": ["id_card", "hukou", "authorisation"],
    },
    {
        "code": "dibao_marginal",
        "name_zh": "低保边缘家庭",
        "name_en": "Near-dibao household (低保边缘)",
        "category": "dibao_marginal",
        "income_test": "marginal",
        "amount_rule": "none",
        "amount_parameters": {},
        "review_months": 12,
        "required_documents": ["id_card", "hukou", "authorisation"],
    },
    {
        "code": "rigid_expenditure",
        "name_zh": "刚性支出困难家庭",
        "name_en": "Rigid-expenditure hardship (刚性支出困难)",
        "category": "rigid_expenditure",
        "income_test": "rigid",
        "amount_rule": "none",
        "amount_parameters": {},
        "review_months": 12,
        "required_documents": ["id_card", "hukou", "authorisation", "medical_bills"],
    },
    {
        "code": "temporary",
        "name_zh": "临时救助",
        "name_en": "Temporary assistance (临时救助)",
        "category": "temporary",
        "income_test": "none",
        "amount_rule": "one_off",
        "amount_parameters": {"max": "5000"},
        "review_months": 0,
        "required_documents": ["id_card"],
    },
]

VALID_FROM = datetime.date(2025, 10, 1)
STANDARDS: list[tuple[str, str, str, str]] = [
    # name, area type ("" both), value, reason
    ("dibao_monthly", "urban", "828", "全国城市平均低保标准（2025年9月底）"),
    ("dibao_monthly", "rural", "616", "全国农村平均低保标准（2025年9月底）"),
    ("marginal_factor", "", "1.5", "低保边缘：低于低保标准1.5倍"),
    ("disposable_income", "urban", "54188", "2024年全国城镇居民人均可支配收入"),
    ("disposable_income", "rural", "23119", "2024年全国农村居民人均可支配收入"),
    ("rigid_share", "", "0.5", "默认值：医疗教育支出占家庭收入比例，由县级设定"),
    ("deposit_months", "", "24", "默认值：人均存款不超过24个月低保标准，由县级设定"),
    ("vehicle_limit", "", "0", "默认值：除摩托车、三轮车、农用车外名下无机动车"),
    ("business_limit", "", "50000", "默认值：登记注册资本上限，由县级设定"),
    ("housing_limit", "", "1", "默认值：拥有两套及以上住房的不予纳入"),
]


def forwards(apps: Any, schema_editor: Any) -> None:
    kind = apps.get_model("applications", "AssistanceKind")
    standard = apps.get_model("applications", "Standard")
    for values in KINDS:
        kind.objects.update_or_create(code=values["code"], defaults={**values, "is_builtin": True})
    for name, area_type, value, reason in STANDARDS:
        if not standard.objects.filter(name=name, region__isnull=True, area_type=area_type).exists():
            standard.objects.create(
                name=name,
                area_type=area_type,
                value=Decimal(value),
                valid_from=VALID_FROM,
                reason=reason,
            )


def backwards(apps: Any, schema_editor: Any) -> None:
    apps.get_model("applications", "AssistanceKind").objects.filter(is_builtin=True).delete()
    apps.get_model("applications", "Standard").objects.filter(region__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("applications", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
