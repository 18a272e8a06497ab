"""Demo purchase-of-service projects for the synthetic county, after the demo's month of
service activity:

- 「<county>2026年困难老人居家照护服务项目」 (300 000 yuan): matched with every
  contract in force for its care items that served orders in the county (280 000 yuan
  shared out by the orders each served; the providers are the directory's demo ones),
  the default indicators, in service since the first day of the month three months ago
  for a year, with a finalised mid-term evaluation —
  the computed indicators measured from the platform's data, the scored ones given
  realistic scores and notes — so the report is complete;
- 「<county>2026年困境儿童关爱服务项目」 (120 000 yuan): published, waiting for providers.

Everything goes through the services (checked and audited, as ``actor``, the county
admin). Deterministic; idempotent: a project whose code exists is left alone.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Count, Q

from jiuzhu.accounts.models import User
from jiuzhu.core.dates import add_months
from jiuzhu.regions.models import Region
from jiuzhu.services import choices as sc
from jiuzhu.services.models import ContractItem, ProviderContract, ServiceItem
from jiuzhu.supervision import choices as c
from jiuzhu.supervision.models import EvaluationScore, Project
from jiuzhu.supervision.project_selectors import SERVED_STATUSES
from jiuzhu.supervision.services.evaluations import (
    evaluation_finalise,
    evaluation_score,
    evaluation_start,
)
from jiuzhu.supervision.services.projects import (
    indicators_default,
    project_advance,
    project_create,
    project_match,
)

S = c.ProjectStatus
CARE_ITEMS = [
    "home_care_hour", "bathing", "meal_delivery", "canteen_meal", "cleaning_help",
    "house_cleaning", "hair_cut", "personal_hygiene", "health_check", "home_visit",
    "companionship", "phone_greeting", "counselling",
]  # fmt: skip
CHILD_ITEMS = ["child_care_visit", "after_school_care", "tutoring", "school_help", "study_corner"]
# Scored indicators of the default framework: (score, note) for the mid-term evaluation.
SCORED = {
    "资质合规与合同履约": ("92", "两家机构资质齐全，护理员持证上岗；合同约定的服务频次基本落实。"),
    "服务对象状况改善": ("85", "入户抽查10户，8户照护需求明显缓解，2户变化不明显。"),
    "项目管理规范性": ("88", "服务台账和一户一档较完整，个别服务记录照片缺失，已要求补齐。"),
    "社会资源链接": ("80", "链接爱心企业捐赠助餐券一批，志愿者参与服务12人次。"),
    "宣传与公众认可": ("78", "已在县、乡、村三级公示，村（居）委会评价较好，宣传报道偏少。"),
    "品牌创建与典型案例": ("75", "初步形成“助浴+助餐”组合服务做法，典型案例待总结。"),
}
NOTHING_MEASURED = ("85", "本期尚无可计算的数据，评估组按入户抽查和台账核查评分。")


def _contracts(
    county_code: str, start: datetime.date, today: datetime.date, items: list[str]
) -> list[ProviderContract]:
    """The contracts in force covering the items whose providers served orders since
    ``start``, most orders first (name order breaks ties), one per provider: the demo's
    project buys the care that the month of demo activity delivered."""
    candidates = (
        ProviderContract.objects.filter(
            status=sc.ContractStatus.ACTIVE,
            valid_from__lte=today,
            valid_to__gte=today,
            provider__is_active=True,
            provider__region__code__startswith=county_code,
            pk__in=ContractItem.objects.filter(item__code__in=items).values("contract_id"),
        )
        .exclude(provider__light=sc.Light.RED)
        .annotate(
            served=Count(
                "orders",
                filter=Q(
                    orders__status__in=SERVED_STATUSES,
                    orders__service_date__gte=start,
                    orders__service_date__lte=today,
                ),
            )
        )
        .select_related("provider")
        .order_by("-served", "provider__name", "id")
    )
    chosen: list[ProviderContract] = []
    for contract in candidates:
        if contract.served and all(k.provider_id != contract.provider_id for k in chosen):
            chosen.append(contract)
    return chosen


def _shares(contracts: list[ProviderContract], total: Decimal) -> list[Decimal]:
    """``total`` shared out by the orders each contract served, in hundreds of yuan."""
    served = [Decimal(getattr(contract, "served", 0) or 1) for contract in contracts]
    whole = sum(served, Decimal(0))
    return [(total * part / whole / 100).quantize(Decimal(1)) * 100 for part in served]


def _covered(contracts: list[ProviderContract], wanted: list[str]) -> list[str]:
    offered = set(
        ContractItem.objects.filter(contract__in=contracts).values_list("item__code", flat=True)
    )
    return [code for code in wanted if code in offered]


def _existing(codes: list[str]) -> list[str]:
    active = set(
        ServiceItem.objects.filter(code__in=codes, is_active=True).values_list("code", flat=True)
    )
    return [code for code in codes if code in active]


def _care_project(county: Region, today: datetime.date, actor: User) -> Project:
    code = f"{county.code}-{today.year}-XM01"
    existing = Project.objects.filter(code=code).first()
    if existing is not None:
        return existing
    start = add_months(today.replace(day=1), -3)
    end = datetime.date(start.year + 1, start.month, 1) - datetime.timedelta(days=1)
    contracts = _contracts(county.code, start, today, CARE_ITEMS)
    items = _covered(contracts, CARE_ITEMS) or _existing(CARE_ITEMS)
    project = project_create(
        actor=actor,
        region_code=county.code,
        code=code,
        name=f"{county.name}{today.year}年困难老人居家照护服务项目（示例）",
        description=(
            "面向低保、特困和低保边缘家庭中的失能、半失能及高龄老人，通过政府购买服务，"
            "由专业养老服务机构和社工机构提供助浴、助餐、助洁、居家照护和探访关爱等上门服务。"
            "（演示数据，虚构）"
        ),
        budget=Decimal("300000"),
        period_start=start,
        period_end=end,
        target_groups=["dibao", "tekun_dispersed", "dibao_marginal", "elderly"],
        target_households=60,
        target_person_times=1200,
        item_codes=items,
    )
    indicators_default(project=project, actor=actor)
    project = project_advance(
        actor=actor, project=project, to_status=S.PUBLISHED, note="县民政局发布"
    )
    for contract, amount in zip(contracts, _shares(contracts, Decimal("280000")), strict=True):
        project_match(actor=actor, project=project, contract=contract, amount=amount)
    if not contracts:
        return project  # no provider in force: the project waits, published
    project = project_advance(
        actor=actor, project=project, to_status=S.MATCHED, note="签订服务协议"
    )
    project = project_advance(actor=actor, project=project, to_status=S.IN_SERVICE, note="服务启动")
    evaluation = evaluation_start(
        actor=actor, project=project, stage=c.EvaluationStage.MID_TERM, period_end=today
    )
    rows = EvaluationScore.objects.filter(evaluation=evaluation).select_related("indicator")
    for row in rows.order_by("indicator__position"):
        if row.score is not None:
            continue
        score, note = SCORED.get(row.indicator.name, NOTHING_MEASURED)
        evaluation_score(
            actor=actor, evaluation=evaluation, indicator=row.indicator, score=score, note=note
        )
    evaluation_finalise(
        actor=actor,
        evaluation=evaluation,
        evaluators="峡江县民政局社会救助股、第三方评估机构（示例）",
        summary=(
            "项目按计划推进，服务对象满意度较高，按时服务情况良好；"
            "需加快服务进度、及时更新困难群众需求档案，加强宣传和典型案例总结。（演示数据）"
        ),
    )
    return project


def _children_project(county: Region, today: datetime.date, actor: User) -> Project:
    code = f"{county.code}-{today.year}-XM02"
    existing = Project.objects.filter(code=code).first()
    if existing is not None:
        return existing
    start = add_months(today.replace(day=1), 1)
    end = datetime.date(start.year + 1, start.month, 1) - datetime.timedelta(days=1)
    project = project_create(
        actor=actor,
        region_code=county.code,
        code=code,
        name=f"{county.name}{today.year}年困境儿童关爱服务项目（示例）",
        description="为事实无人抚养儿童和低保家庭儿童提供探访关爱、课后照看和学业辅导。（演示数据，虚构）",
        budget=Decimal("120000"),
        period_start=start,
        period_end=end,
        target_groups=["unsupported_child", "orphan", "children"],
        target_households=30,
        target_person_times=360,
        item_codes=_existing(CHILD_ITEMS),
    )
    indicators_default(project=project, actor=actor)
    return project_advance(
        actor=actor, project=project, to_status=S.PUBLISHED, note="公开征集承接机构"
    )


def seed_projects(*, county_code: str, today: datetime.date, actor: User) -> list[Project]:
    """The demo's two projects (see the module's docstring); ``actor`` manages projects
    of the county (the demo's county admin)."""
    county = Region.objects.get(code=county_code)
    return [_care_project(county, today, actor), _children_project(county, today, actor)]
