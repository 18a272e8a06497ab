"""Reads of purchase-of-service projects (政府购买服务项目), their orders and evaluations.

Who sees what:

- Projects are the bureau's own records (budgets, providers, scores), not personal data.
  Users with ``SUPERVISE`` or ``MANAGE_PROJECTS`` read the projects of their area: a
  project whose region is their region, above it (a county project seen by a town
  officer) or below it (a town project seen by the county). Anything else answers 404
  like a project that does not exist.
- Only ``MANAGE_PROJECTS`` within the project's region changes anything
  (``may_manage_project``).

A project's orders are the service orders whose contract is one of the project's matched
contracts and whose service date falls in the project's period (``project_orders``).
Reports read only aggregates of them (counts, ratings, amounts), never who was served.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.regions.selectors import region_prefixes
from jiuzhu.services import choices as sc
from jiuzhu.services.models import ContractItem, ProviderContract, ServiceOrder
from jiuzhu.supervision import choices as c
from jiuzhu.supervision.models import Evaluation, Indicator, Project, ProjectProvider

# An order counts as served once the worker checked out (rated or not).
SERVED_STATUSES = (sc.OrderStatus.CHECKED_OUT, sc.OrderStatus.CLOSED)

# The lifecycle, in order: 发布 → 对接 → 服务 → 评价 → 提升, then closed.
LIFECYCLE: tuple[str, ...] = (
    c.ProjectStatus.DRAFT,
    c.ProjectStatus.PUBLISHED,
    c.ProjectStatus.MATCHED,
    c.ProjectStatus.IN_SERVICE,
    c.ProjectStatus.EVALUATING,
    c.ProjectStatus.IMPROVING,
    c.ProjectStatus.CLOSED,
)


def _area(user: Any) -> str:
    return str(getattr(user, "region_id", "") or "")


def may_read_projects(user: Any) -> bool:
    return user_has_perm(user, Perm.SUPERVISE) or user_has_perm(user, Perm.MANAGE_PROJECTS)


def may_manage_region(user: Any, region_code: str) -> bool:
    area = _area(user)
    return bool(user_has_perm(user, Perm.MANAGE_PROJECTS) and area and region_code.startswith(area))


def may_manage_project(user: Any, project: Project) -> bool:
    return may_manage_region(user, project.region_id)


def projects_visible(user: Any) -> QuerySet[Project]:
    queryset = Project.objects.select_related("region")
    if not may_read_projects(user):
        return queryset.none()
    area = _area(user)
    if not area:
        return queryset.none()
    return queryset.filter(
        Q(region__code__startswith=area) | Q(region_id__in=region_prefixes(area))
    )


def project_for(*, user: Any, project_id: int) -> Project:
    project = projects_visible(user).filter(pk=project_id).first()
    if project is None:
        raise Http404("Not found")
    return project


def evaluation_for(*, user: Any, evaluation_id: int) -> Evaluation:
    evaluation = (
        Evaluation.objects.select_related("project", "project__region")
        .filter(pk=evaluation_id, project__in=projects_visible(user))
        .first()
    )
    if evaluation is None:
        raise Http404("Not found")
    return evaluation


# --- a project's parts ---------------------------------------------------------------------


def project_providers(project: Project) -> list[ProjectProvider]:
    return list(
        ProjectProvider.objects.filter(project=project)
        .select_related("provider", "contract")
        .order_by("id")
    )


def project_indicators(project: Project) -> list[Indicator]:
    return list(Indicator.objects.filter(project=project).order_by("position", "id"))


def indicators_by_area(indicators: list[Indicator]) -> list[tuple[str, str, list[Indicator]]]:
    """(area, label, indicators) in the framework's order, empty areas left out."""
    groups = []
    for value, label in c.IndicatorArea.choices:
        rows = [i for i in indicators if i.area == value]
        if rows:
            groups.append((value, str(label), rows))
    return groups


def weights_total(project: Project) -> Decimal:
    total = Indicator.objects.filter(project=project).aggregate(s=Sum("weight"))["s"]
    return Decimal(total or 0)


def matched_total(project: Project) -> Decimal:
    total = ProjectProvider.objects.filter(project=project).aggregate(s=Sum("amount"))["s"]
    return Decimal(total or 0)


def project_evaluations(project: Project) -> list[Evaluation]:
    return list(Evaluation.objects.filter(project=project).order_by("period_end", "id"))


def last_final_evaluation(project: Project) -> Evaluation | None:
    return (
        Evaluation.objects.filter(project=project, status=c.EvaluationStatus.FINAL)
        .order_by("-period_end", "-id")
        .first()
    )


# --- the project's orders ------------------------------------------------------------------


def project_window(
    project: Project, start: datetime.date | None = None, end: datetime.date | None = None
) -> tuple[datetime.date, datetime.date]:
    """The asked window clipped to the project's period."""
    first = max(start or project.period_start, project.period_start)
    last = min(end or project.period_end, project.period_end)
    return first, last


def project_orders(
    project: Project, start: datetime.date | None = None, end: datetime.date | None = None
) -> QuerySet[ServiceOrder]:
    """Orders whose contract is one of the project's matched contracts and whose service
    date lies in the project's period (and in [start, end] when given)."""
    first, last = project_window(project, start, end)
    contracts = ProjectProvider.objects.filter(project=project).values("contract_id")
    return ServiceOrder.objects.filter(
        contract_id__in=contracts, service_date__gte=first, service_date__lte=last
    )


def served_orders(
    project: Project, start: datetime.date | None = None, end: datetime.date | None = None
) -> QuerySet[ServiceOrder]:
    return project_orders(project, start, end).filter(status__in=SERVED_STATUSES)


@dataclass(frozen=True)
class OrderRow:
    """Project orders of one provider and one item: no person in it."""

    provider: str
    item: str
    orders: int
    served: int
    mean_rating: Decimal | None
    amount: Decimal  # of the served orders


def project_order_table(
    project: Project, start: datetime.date | None = None, end: datetime.date | None = None
) -> list[OrderRow]:
    rows = (
        project_orders(project, start, end)
        .values("provider__name", "item__name_zh")
        .annotate(
            orders=Count("id"),
            served=Count("id", filter=Q(status__in=SERVED_STATUSES)),
            mean_rating=Avg("rating"),
            amount=Sum("amount", filter=Q(status__in=SERVED_STATUSES)),
        )
        .order_by("provider__name", "item__name_zh")
    )
    return [
        OrderRow(
            provider=row["provider__name"] or "",
            item=row["item__name_zh"] or "",
            orders=row["orders"],
            served=row["served"],
            mean_rating=(
                Decimal(str(row["mean_rating"])).quantize(Decimal("0.01"))
                if row["mean_rating"] is not None
                else None
            ),
            amount=Decimal(row["amount"] or 0),
        )
        for row in rows
    ]


# --- what may be matched -------------------------------------------------------------------


def contracts_matchable(project: Project, *, today: datetime.date | None = None) -> list[Any]:
    """Contracts the project could be matched with: in force, of an active provider of
    the project's county that is not red, covering at least one of the project's items,
    not matched yet."""
    today = today or timezone.localdate()
    items = project.items.values("pk")
    return list(
        ProviderContract.objects.filter(
            status=sc.ContractStatus.ACTIVE,
            valid_from__lte=project.period_end,
            valid_to__gte=max(project.period_start, today),
            provider__is_active=True,
            provider__region__code__startswith=project.region_id[:6],
            pk__in=ContractItem.objects.filter(item__in=items).values("contract_id"),
        )
        .exclude(provider__light=sc.Light.RED)
        .exclude(projects__project=project)
        .select_related("provider")
        .order_by("provider__name", "number")
    )
