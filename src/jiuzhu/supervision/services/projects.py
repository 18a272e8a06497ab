"""Writes of purchase-of-service projects (政府购买服务项目) and their indicator frameworks.

A project runs 发布 → 对接 → 服务 → 评价 → 提升 (draft → published → matched → in_service →
evaluating → improving → closed), one step at a time, each step guarded:

- published (发布): a budget above zero, a period, at least one service item and an
  indicator framework whose weights add up to 100;
- matched (对接): at least one provider matched through a contract;
- in_service (服务), evaluating (评价): no further condition;
- improving (提升): a finalised final evaluation and an improvement plan;
- closed.

Only ``MANAGE_PROJECTS`` within the project's region writes; every change is audited.
Indicators may change while the project is a draft or published, never once an
evaluation of it is finalised.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.services import audit_record
from jiuzhu.regions.models import Level, Region
from jiuzhu.registry import choices as rc
from jiuzhu.services import choices as sc
from jiuzhu.services.models import ContractItem, ProviderContract, ServiceItem
from jiuzhu.services.services.common import decimal_in
from jiuzhu.supervision import choices as c
from jiuzhu.supervision import project_selectors as sel
from jiuzhu.supervision.metrics import METRICS
from jiuzhu.supervision.models import Evaluation, Indicator, Project, ProjectProvider

BUDGET_MAX = Decimal("1000000000")
TARGET_MAX = 10_000_000
S = c.ProjectStatus
EDITABLE_INDICATORS = (S.DRAFT, S.PUBLISHED)
MATCHING = (S.PUBLISHED, S.MATCHED, S.IN_SERVICE)
UNMATCHING = (S.PUBLISHED, S.MATCHED)


def target_group_choices() -> list[tuple[str, str]]:
    """Who a project may serve: the national categories and the services' target groups."""
    seen: dict[str, str] = {}
    for value, label in list(rc.Category.choices) + list(sc.TargetGroup.choices):
        seen.setdefault(value, str(label))
    return list(seen.items())


def _require(actor: User | None, project: Project | None = None, region_code: str = "") -> User:
    code = project.region_id if project is not None else region_code
    if actor is None or not sel.may_manage_region(actor, code):
        raise PermissionDenied(_("You may not manage projects of this area."))
    return actor


def _audit(actor: User, action: str, project: Project, detail: dict[str, Any]) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="supervision.project",
        object_id=project.pk,
        region_code=project.region_id,
        detail={"code": project.code, **detail},
    )


def _locked(project: Project) -> Project:
    return Project.objects.select_for_update().get(pk=project.pk)


# --- fields ----------------------------------------------------------------------------------


def _text(value: Any, field: str, *, required: bool, limit: int) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError({field: _("This field is required.")})
    if len(text) > limit:
        raise ValidationError({field: _("At most %(limit)s characters.") % {"limit": limit}})
    return text


def _date(value: Any, field: str) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value or "").strip())
    except ValueError as exc:
        raise ValidationError({field: _("Enter a date.")}) from exc


def _count(value: Any, field: str) -> int:
    try:
        number = int(str(value if value not in (None, "") else 0).strip())
    except ValueError as exc:
        raise ValidationError({field: _("Enter a whole number.")}) from exc
    if not 0 <= number <= TARGET_MAX:
        raise ValidationError(
            {
                field: _("Enter a figure between %(low)s and %(high)s.")
                % {"low": 0, "high": TARGET_MAX}
            }
        )
    return number


def _groups(values: Iterable[str] | None) -> list[str]:
    allowed = {value for value, _label in target_group_choices()}
    chosen = [str(v).strip() for v in (values or []) if str(v).strip()]
    unknown = [v for v in chosen if v not in allowed]
    if unknown:
        raise ValidationError({"target_groups": _("Choose target groups from the list.")})
    return list(dict.fromkeys(chosen))


def _items(codes: Iterable[str] | None) -> list[ServiceItem]:
    wanted = list(dict.fromkeys(str(code).strip() for code in (codes or []) if str(code).strip()))
    items = list(ServiceItem.objects.filter(code__in=wanted, is_active=True))
    if len(items) != len(wanted):
        raise ValidationError({"items": _("Choose service items from the catalogue.")})
    return items


def _period(start: Any, end: Any) -> tuple[datetime.date, datetime.date]:
    first, last = _date(start, "period_start"), _date(end, "period_end")
    if last < first:
        raise ValidationError({"period_end": _("The period ends before it starts.")})
    return first, last


# --- projects --------------------------------------------------------------------------------


@transaction.atomic
def project_create(
    *,
    actor: User | None,
    region_code: str,
    code: str,
    name: str,
    description: str = "",
    budget: Any,
    period_start: Any,
    period_end: Any,
    target_groups: Iterable[str] | None = None,
    target_households: Any = 0,
    target_person_times: Any = 0,
    item_codes: Iterable[str] | None = None,
) -> Project:
    """A draft project of a county or a town in the actor's area."""
    user = _require(actor, region_code=(region_code or "").strip())
    region = Region.objects.filter(code=(region_code or "").strip()).first()
    if region is None or region.level not in (Level.COUNTY, Level.TOWN):
        raise ValidationError({"region": _("Choose a county or a town.")})
    code = _text(code, "code", required=True, limit=32)
    if Project.objects.filter(code=code).exists():
        raise ValidationError({"code": _("Another project has this code.")})
    first, last = _period(period_start, period_end)
    project = Project.objects.create(
        region=region,
        code=code,
        name=_text(name, "name", required=True, limit=120),
        description=_text(description, "description", required=False, limit=5000),
        budget=decimal_in(budget, "budget", low=Decimal(0), high=BUDGET_MAX),
        period_start=first,
        period_end=last,
        target_groups=_groups(target_groups),
        target_households=_count(target_households, "target_households"),
        target_person_times=_count(target_person_times, "target_person_times"),
        created_by=user,
    )
    items = _items(item_codes)
    project.items.set(items)
    _audit(
        user,
        AuditAction.CREATE,
        project,
        {"budget": str(project.budget), "items": [i.code for i in items]},
    )
    return project


NOT_GIVEN: Any = object()


@transaction.atomic
def project_update(
    *,
    actor: User | None,
    project: Project,
    name: Any = NOT_GIVEN,
    description: Any = NOT_GIVEN,
    budget: Any = NOT_GIVEN,
    period_start: Any = NOT_GIVEN,
    period_end: Any = NOT_GIVEN,
    target_groups: Any = NOT_GIVEN,
    target_households: Any = NOT_GIVEN,
    target_person_times: Any = NOT_GIVEN,
    item_codes: Any = NOT_GIVEN,
    improvement_plan: Any = NOT_GIVEN,
) -> Project:
    """Change what is given. Budget, period, targets and items may change until the
    project is in service (the budget never below the sums agreed with providers);
    name, description and target groups until it is closed; the improvement plan while
    it is evaluated or improved."""
    user = _require(actor, project)
    project = _locked(project)
    if project.status == S.CLOSED:
        raise ValidationError({"status": _("A closed project cannot change.")})
    early = project.status in (S.DRAFT, S.PUBLISHED, S.MATCHED)
    before: dict[str, Any] = {
        "name": project.name,
        "budget": str(project.budget),
        "period": [str(project.period_start), str(project.period_end)],
        "targets": [project.target_households, project.target_person_times],
        "items": sorted(project.items.values_list("code", flat=True)),
    }
    changes: dict[str, Any] = {}

    def frozen(field: str) -> None:
        if not early:
            raise ValidationError(
                {field: _("Budget, period, targets and items cannot change once in service.")}
            )

    if name is not NOT_GIVEN:
        project.name = _text(name, "name", required=True, limit=120)
    if description is not NOT_GIVEN:
        project.description = _text(description, "description", required=False, limit=5000)
    if target_groups is not NOT_GIVEN:
        project.target_groups = _groups(target_groups)
    if budget is not NOT_GIVEN:
        value = decimal_in(budget, "budget", low=Decimal(0), high=BUDGET_MAX)
        if value != project.budget:
            frozen("budget")
            if value < sel.matched_total(project):
                raise ValidationError(
                    {"budget": _("The budget cannot be less than the sums agreed with providers.")}
                )
            if value <= 0 and project.status != S.DRAFT:
                raise ValidationError({"budget": _("A published project needs a budget.")})
            project.budget = value
    if period_start is not NOT_GIVEN or period_end is not NOT_GIVEN:
        first, last = _period(
            project.period_start if period_start is NOT_GIVEN else period_start,
            project.period_end if period_end is NOT_GIVEN else period_end,
        )
        if (first, last) != (project.period_start, project.period_end):
            frozen("period_start")
            project.period_start, project.period_end = first, last
    if target_households is not NOT_GIVEN:
        households = _count(target_households, "target_households")
        if households != project.target_households:
            frozen("target_households")
            project.target_households = households
    if target_person_times is not NOT_GIVEN:
        times = _count(target_person_times, "target_person_times")
        if times != project.target_person_times:
            frozen("target_person_times")
            project.target_person_times = times
    if improvement_plan is not NOT_GIVEN:
        text = _text(improvement_plan, "improvement_plan", required=False, limit=10000)
        if text != project.improvement_plan:
            if project.status not in (S.EVALUATING, S.IMPROVING):
                raise ValidationError(
                    {"improvement_plan": _("The improvement plan follows the evaluation.")}
                )
            project.improvement_plan = text
            changes["improvement_plan"] = "changed"
    if item_codes is not NOT_GIVEN:
        items = _items(item_codes)
        if sorted(i.code for i in items) != before["items"]:
            frozen("items")
            if project.status != S.DRAFT and not items:
                raise ValidationError({"items": _("A published project needs a service item.")})
            project.items.set(items)
    project.save()
    after = {
        "name": project.name,
        "budget": str(project.budget),
        "period": [str(project.period_start), str(project.period_end)],
        "targets": [project.target_households, project.target_person_times],
        "items": sorted(project.items.values_list("code", flat=True)),
    }
    changes.update({k: [before[k], v] for k, v in after.items() if before[k] != v})
    _audit(user, AuditAction.UPDATE, project, {"changes": changes})
    return project


def _publish_check(project: Project) -> None:
    errors: dict[str, list[str]] = {}
    if project.budget <= 0:
        errors.setdefault("budget", []).append(_("Give the project a budget above zero."))
    if not project.items.exists():
        errors.setdefault("items", []).append(_("Choose at least one service item."))
    indicators = Indicator.objects.filter(project=project)
    if not indicators.exists():
        errors.setdefault("indicators", []).append(_("Set up the project's indicators."))
    elif sel.weights_total(project) != 100:
        errors.setdefault("indicators", []).append(
            _("The indicators' weights add up to %(total)s, not 100.")
            % {"total": sel.weights_total(project).normalize()}
        )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def project_advance(
    *,
    actor: User | None,
    project: Project,
    to_status: str,
    note: str = "",
    improvement_plan: str | None = None,
) -> Project:
    """The next step of the lifecycle; no step is skipped and none goes back.
    ``improvement_plan``, when given with the step to 提升, is saved with it."""
    user = _require(actor, project)
    project = _locked(project)
    if to_status not in sel.LIFECYCLE:
        raise ValidationError({"status": _("Unknown project status.")})
    current = sel.LIFECYCLE.index(project.status)
    wanted = sel.LIFECYCLE.index(to_status)
    if wanted != current + 1:
        raise ValidationError(
            {
                "status": _(
                    "A project goes from “%(from)s” only to the next step, not to “%(to)s”."
                )
                % {"from": S(project.status).label, "to": S(to_status).label}
            }
        )
    if to_status == S.PUBLISHED:
        _publish_check(project)
    elif to_status == S.MATCHED:
        if not ProjectProvider.objects.filter(project=project).exists():
            raise ValidationError({"providers": _("Match at least one provider first.")})
    elif to_status == S.IMPROVING:
        if improvement_plan is not None:
            project.improvement_plan = _text(
                improvement_plan, "improvement_plan", required=False, limit=10000
            )
        if not Evaluation.objects.filter(
            project=project, stage=c.EvaluationStage.FINAL, status=c.EvaluationStatus.FINAL
        ).exists():
            raise ValidationError({"evaluation": _("Finalise the final evaluation first.")})
        if not project.improvement_plan.strip():
            raise ValidationError({"improvement_plan": _("Write the improvement plan first.")})
    before = project.status
    project.status = to_status
    project.save()
    _audit(
        user,
        AuditAction.UPDATE,
        project,
        {"status": [before, to_status], "note": (note or "").strip()[:500]},
    )
    return project


# --- matching (对接) -------------------------------------------------------------------------


@transaction.atomic
def project_match(
    *, actor: User | None, project: Project, contract: ProviderContract, amount: Any
) -> ProjectProvider:
    """Match a provider through one of its contracts for an agreed sum: the contract in
    force during the project, its provider active, of the project's county and not red,
    covering at least one of the project's items; all agreed sums within the budget."""
    user = _require(actor, project)
    project = _locked(project)
    if project.status not in MATCHING:
        raise ValidationError(
            {
                "status": _(
                    "Providers are matched once the project is published and before its evaluation."
                )
            }
        )
    value = decimal_in(amount, "amount", low=Decimal(0), high=BUDGET_MAX, low_inclusive=False)
    contract = ProviderContract.objects.select_related("provider").get(pk=contract.pk)
    provider = contract.provider
    today = timezone.localdate()
    if (
        contract.status != sc.ContractStatus.ACTIVE
        or contract.valid_to < max(today, project.period_start)
        or contract.valid_from > project.period_end
    ):
        raise ValidationError({"contract": _("The contract is not in force during the project.")})
    if not provider.is_active or not provider.region_id.startswith(project.region_id[:6]):
        raise ValidationError(
            {"contract": _("The provider is not active in the project's county.")}
        )
    if provider.light == sc.Light.RED:
        raise ValidationError({"contract": _("A provider on red light cannot be matched.")})
    if not ContractItem.objects.filter(contract=contract, item__in=project.items.all()).exists():
        raise ValidationError({"contract": _("The contract covers none of the project's items.")})
    if ProjectProvider.objects.filter(project=project, contract=contract).exists():
        raise ValidationError({"contract": _("This contract is matched already.")})
    if sel.matched_total(project) + value > project.budget:
        raise ValidationError(
            {
                "amount": _("The agreed sums would exceed the budget (%(left)s yuan left).")
                % {"left": project.budget - sel.matched_total(project)}
            }
        )
    row = ProjectProvider.objects.create(
        project=project, provider=provider, contract=contract, amount=value
    )
    _audit(
        user,
        AuditAction.UPDATE,
        project,
        {"matched": {"provider": provider.pk, "contract": contract.number, "amount": str(value)}},
    )
    return row


@transaction.atomic
def project_unmatch(*, actor: User | None, project_provider: ProjectProvider) -> None:
    """Undo a match while the project is published or matched; a matched project keeps
    at least one provider."""
    project = project_provider.project
    user = _require(actor, project)
    project = _locked(project)
    if project.status not in UNMATCHING:
        raise ValidationError(
            {"status": _("Providers cannot be removed once the service started.")}
        )
    if project.status == S.MATCHED and ProjectProvider.objects.filter(project=project).count() <= 1:
        raise ValidationError({"providers": _("A matched project keeps at least one provider.")})
    detail = {
        "unmatched": {
            "provider": project_provider.provider_id,
            "contract": project_provider.contract.number,
            "amount": str(project_provider.amount),
        }
    }
    project_provider.delete()
    _audit(user, AuditAction.UPDATE, project, detail)


# --- indicators ------------------------------------------------------------------------------

A, E, M, SO = (
    c.IndicatorArea.ADMINISTRATION,
    c.IndicatorArea.EFFECT,
    c.IndicatorArea.MANAGEMENT,
    c.IndicatorArea.SOCIAL,
)

# (area, name, weight, metric, target, guidance). Targets of "share" metrics are
# fractions; the activity frequency's target is computed from the project (see below).
DEFAULT_FRAMEWORK: list[tuple[str, str, int, str, str | None, str]] = [
    (A, "服务对象需求档案更新及时率", 10, "need_file_timeliness", "0.90",
     "已服务家庭中，评价期末前90天内更新过需求评估或服务计划的比例，目标90%。"),
    (A, "回访核查通过率", 5, "revisit_pass_rate", "0.95",
     "对本项目服务记录的回访中，核实服务真实、与记录一致的比例，目标95%。"),
    (A, "资质合规与合同履约", 5, "", None,
     "查验承接机构资质、服务人员持证、合同条款履行和整改落实情况：完全合规100分；"
     "有轻微问题已整改80分；问题未整改60分以下。"),
    (E, "服务对象满意度", 15, "satisfaction", "4.5",
     "服务对象对项目订单的平均评分（1–5分），4.5分及以上得满分。"),
    (E, "服务活动开展频次", 10, "activity_frequency", None,
     "每月完成的项目服务次数，与计划频次（目标服务人次÷项目月数）相比。"),
    (E, "服务人次完成率", 5, "person_times", "1",
     "已完成服务人次占目标服务人次的比例，按评价期末应完成进度计算。"),
    (E, "服务户数覆盖率", 5, "coverage_households", "1",
     "已服务家庭数占目标户数的比例，按评价期末应完成进度计算。"),
    (E, "服务对象状况改善", 5, "", None,
     "抽查服务对象生活状况、照护需求缓解和能力提升情况：明显改善90–100分；"
     "有所改善70–89分；无明显变化60分以下。"),
    (M, "按时服务率", 10, "on_time_rate", "0.95",
     "按约定时间上门并在时限内完成的服务占比，目标95%。"),
    (M, "预算执行率", 10, "budget_execution", "0.95",
     "已完成服务金额占对接金额的比例，按评价期末应完成进度计算。"),
    (M, "项目管理规范性", 5, "", None,
     "查阅项目台账、一户一档服务档案、财务凭证和人员管理制度：齐全规范100分；"
     "基本齐全80分；缺失较多60分以下。"),
    (SO, "社会资源链接", 5, "", None,
     "链接慈善资金、爱心企业和志愿者参与服务的情况，结合项目记录和佐证材料评分。"),
    (SO, "宣传与公众认可", 5, "", None,
     "项目公示、宣传报道和社区居民、村（居）委会的评价。"),
    (SO, "品牌创建与典型案例", 5, "", None,
     "形成可推广的服务模式、优秀案例或服务品牌的情况。"),
]  # fmt: skip


def _frequency_target(project: Project) -> Decimal:
    """Services a month the project plans: its person-times over its months (20 when no
    person-times target is set)."""
    if not project.target_person_times:
        return Decimal(20)
    days = (project.period_end - project.period_start).days + 1
    months = max(Decimal(days) / (Decimal("365.25") / 12), Decimal(1))
    return (Decimal(project.target_person_times) / months).quantize(Decimal("0.01"))


def _indicators_editable(project: Project) -> None:
    if project.status not in EDITABLE_INDICATORS:
        raise ValidationError(
            {"indicators": _("Indicators change only while the project is a draft or published.")}
        )
    if Evaluation.objects.filter(project=project, status=c.EvaluationStatus.FINAL).exists():
        raise ValidationError({"indicators": _("An evaluation of this project is finalised.")})


@transaction.atomic
def indicators_default(*, project: Project, actor: User | None = None) -> list[Indicator]:
    """The default framework (行政监管 20, 服务成效 40, 项目管理 25, 社会影响 15) for a
    project that has no indicators yet. Without an actor it is the system's (the demo)."""
    if actor is not None:
        _require(actor, project)
    project = _locked(project)
    _indicators_editable(project)
    if Indicator.objects.filter(project=project).exists():
        raise ValidationError({"indicators": _("The project has indicators already.")})
    created = []
    for position, (area, name, weight, metric, target, guidance) in enumerate(
        DEFAULT_FRAMEWORK, start=1
    ):
        if metric == "activity_frequency":
            value: Decimal | None = _frequency_target(project)
        else:
            value = Decimal(target) if target is not None else None
        created.append(
            Indicator.objects.create(
                project=project,
                area=area,
                name=name,
                weight=Decimal(weight),
                method=c.IndicatorMethod.COMPUTED if metric else c.IndicatorMethod.SCORED,
                metric=metric,
                target=value,
                guidance=guidance,
                position=position * 10,
            )
        )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="supervision.indicators",
        object_id=project.pk,
        region_code=project.region_id,
        detail={"code": project.code, "default": len(created)},
    )
    return created


def _indicator_fields(
    *, area: Any, name: Any, weight: Any, method: Any, metric: Any, target: Any, guidance: Any
) -> dict[str, Any]:
    if area not in c.IndicatorArea.values:
        raise ValidationError({"area": _("Choose an area.")})
    if method not in c.IndicatorMethod.values:
        raise ValidationError({"method": _("Choose how the indicator is measured.")})
    fields: dict[str, Any] = {
        "area": area,
        "name": _text(name, "name", required=True, limit=120),
        "weight": decimal_in(
            weight, "weight", low=Decimal(0), high=Decimal(100), low_inclusive=False
        ),
        "method": method,
        "guidance": _text(guidance, "guidance", required=False, limit=5000),
        "metric": "",
        "target": None,
    }
    if method == c.IndicatorMethod.COMPUTED:
        if metric not in METRICS:
            raise ValidationError({"metric": _("Choose a metric.")})
        fields["metric"] = metric
        fields["target"] = decimal_in(
            target, "target", low=Decimal(0), high=Decimal(1_000_000), low_inclusive=False, places=4
        )
    return fields


@transaction.atomic
def indicator_add(
    *,
    actor: User | None,
    project: Project,
    area: str,
    name: str,
    weight: Any,
    method: str,
    metric: str = "",
    target: Any = None,
    guidance: str = "",
) -> Indicator:
    user = _require(actor, project)
    project = _locked(project)
    _indicators_editable(project)
    fields = _indicator_fields(
        area=area, name=name, weight=weight, method=method, metric=metric, target=target,
        guidance=guidance,
    )  # fmt: skip
    last = Indicator.objects.filter(project=project).order_by("-position").first()
    indicator = Indicator.objects.create(
        project=project, position=(last.position + 10) if last else 10, **fields
    )
    _audit(
        user, AuditAction.UPDATE, project, {"indicator_added": indicator.pk, "name": indicator.name}
    )
    return indicator


@transaction.atomic
def indicator_update(
    *,
    actor: User | None,
    indicator: Indicator,
    area: str,
    name: str,
    weight: Any,
    method: str,
    metric: str = "",
    target: Any = None,
    guidance: str = "",
) -> Indicator:
    project = indicator.project
    user = _require(actor, project)
    _locked(project)
    _indicators_editable(project)
    fields = _indicator_fields(
        area=area, name=name, weight=weight, method=method, metric=metric, target=target,
        guidance=guidance,
    )  # fmt: skip
    changes = {
        key: [str(getattr(indicator, key)), str(value)]
        for key, value in fields.items()
        if getattr(indicator, key) != value
    }
    for key, value in fields.items():
        setattr(indicator, key, value)
    indicator.save()
    _audit(user, AuditAction.UPDATE, project, {"indicator": indicator.pk, "changes": changes})
    return indicator


@transaction.atomic
def indicator_remove(*, actor: User | None, indicator: Indicator) -> None:
    project = indicator.project
    user = _require(actor, project)
    _locked(project)
    _indicators_editable(project)
    if indicator.scores.exists():
        raise ValidationError({"indicators": _("This indicator has been scored already.")})
    detail = {"indicator_removed": indicator.pk, "name": indicator.name}
    indicator.delete()
    _audit(user, AuditAction.UPDATE, project, detail)
