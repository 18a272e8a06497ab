"""An evaluation's report (项目绩效评估报告): as an Excel workbook and as a printable page
with the same content.

1. Summary: the project, its period, budget, providers and agreed sums, the
   evaluation's window, total, grade, evaluators and summary.
2. Indicators by area: weight, method, measured value, target (as due by the window's
   end), score, weighted points, and each area's subtotal.
3. The project's orders in the window per provider and item: count, served, mean
   rating, amount. No person appears anywhere: no names, phones, addresses.

Exports are audited (``report_export``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Avg
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.services import audit_record
from jiuzhu.supervision import choices as c
from jiuzhu.supervision import project_selectors as sel
from jiuzhu.supervision.metrics import METRICS, due_target
from jiuzhu.supervision.models import Evaluation, EvaluationScore, Indicator
from jiuzhu.supervision.services.evaluations import grade_label

CENT = Decimal("0.01")


@dataclass
class IndicatorLine:
    indicator: Indicator
    method_label: str
    metric_label: str
    unit: str
    value: Decimal | None
    target: Decimal | None
    score: Decimal | None
    points: Decimal | None
    note: str


@dataclass
class AreaBlock:
    area: str
    label: str
    lines: list[IndicatorLine] = field(default_factory=list)
    weight: Decimal = Decimal(0)
    points: Decimal = Decimal(0)


@dataclass
class Report:
    evaluation: Evaluation
    stage_label: str
    status_label: str
    grade_label: str
    providers: list[Any]
    matched_total: Decimal
    areas: list[AreaBlock]
    weight_total: Decimal
    points_total: Decimal
    orders: list[sel.OrderRow]
    orders_total: sel.OrderRow


def report_data(evaluation: Evaluation) -> Report:
    project = evaluation.project
    scores = {
        row.indicator_id: row for row in EvaluationScore.objects.filter(evaluation=evaluation)
    }
    areas: list[AreaBlock] = []
    for area, label, indicators in sel.indicators_by_area(sel.project_indicators(project)):
        block = AreaBlock(area=area, label=label)
        for indicator in indicators:
            row = scores.get(indicator.pk)
            metric = METRICS.get(indicator.metric) if indicator.metric else None
            target = (
                due_target(metric, indicator.target, project, evaluation.period_end)
                if metric is not None
                else None
            )
            score = row.score if row is not None else None
            # Exact (weight and score have two places: at most six); only the total is
            # rounded, as the evaluation's total is, so the lines add up to it.
            points = (indicator.weight * score / 100).normalize() if score is not None else None
            block.lines.append(
                IndicatorLine(
                    indicator=indicator,
                    method_label=str(c.IndicatorMethod(indicator.method).label),
                    metric_label=str(metric.label) if metric else "",
                    unit=str(metric.unit) if metric else "",
                    value=row.value if row is not None else None,
                    target=target,
                    score=score,
                    points=points,
                    note=row.note if row is not None else "",
                )
            )
            block.weight += indicator.weight
            block.points += points or 0
        areas.append(block)
    orders = sel.project_order_table(project, evaluation.period_start, evaluation.period_end)
    rated = [(r.mean_rating, r.orders) for r in orders if r.mean_rating is not None]
    total_row = sel.OrderRow(
        provider=_("Total"),
        item="",
        orders=sum(r.orders for r in orders),
        served=sum(r.served for r in orders),
        mean_rating=_overall_rating(project, evaluation) if rated else None,
        amount=sum((r.amount for r in orders), Decimal(0)),
    )
    return Report(
        evaluation=evaluation,
        stage_label=str(c.EvaluationStage(evaluation.stage).label),
        status_label=str(c.EvaluationStatus(evaluation.status).label),
        grade_label=grade_label(evaluation.grade),
        providers=sel.project_providers(project),
        matched_total=sel.matched_total(project),
        areas=areas,
        weight_total=sum((a.weight for a in areas), Decimal(0)),
        points_total=sum((a.points for a in areas), Decimal(0)).quantize(
            CENT, rounding=ROUND_HALF_UP
        ),
        orders=orders,
        orders_total=total_row,
    )


def _overall_rating(project: Any, evaluation: Evaluation) -> Decimal | None:
    mean = (
        sel.project_orders(project, evaluation.period_start, evaluation.period_end)
        .filter(rating__isnull=False)
        .aggregate(m=Avg("rating"))["m"]
    )
    return Decimal(str(mean)).quantize(CENT) if mean is not None else None


def _n(value: Decimal | None) -> float | int | str:
    if value is None:
        return ""
    return int(value) if value == value.to_integral_value() else float(value)


def evaluation_report_xlsx(evaluation: Evaluation) -> bytes:
    """The report as a workbook of three sheets (summary, indicators, orders)."""
    data = report_data(evaluation)
    project = evaluation.project
    book = Workbook()
    bold = Font(bold=True)

    summary = book.active
    assert summary is not None
    summary.title = _("Summary")[:31]
    summary.append([_("Evaluation report of a purchase-of-service project")])
    summary["A1"].font = Font(bold=True, size=14)
    rows: list[list[Any]] = [
        [_("Project code"), project.code],
        [_("Project"), project.name],
        [_("Region"), project.region.name],
        [_("Project period"), f"{project.period_start:%Y-%m-%d} – {project.period_end:%Y-%m-%d}"],
        [_("Budget (yuan)"), _n(project.budget)],
        [_("Agreed with providers (yuan)"), _n(data.matched_total)],
        [_("Households to serve"), project.target_households],
        [_("Person-times to serve"), project.target_person_times],
        [_("Stage"), data.stage_label],
        [
            _("Evaluated period"),
            f"{evaluation.period_start:%Y-%m-%d} – {evaluation.period_end:%Y-%m-%d}",
        ],
        [_("Status"), data.status_label],
        [_("Total score"), _n(evaluation.total)],
        [_("Grade"), data.grade_label],
        [_("Evaluators"), evaluation.evaluators],
        [_("Summary"), evaluation.summary],
    ]
    for row in rows:
        summary.append(row)
    summary.append([])
    summary.append([_("Provider"), _("Contract"), _("Agreed sum (yuan)")])
    for cell in summary[summary.max_row]:
        cell.font = bold
    for pp in data.providers:
        summary.append([pp.provider.name, pp.contract.number, _n(pp.amount)])
    summary.column_dimensions["A"].width = 28
    summary.column_dimensions["B"].width = 60
    for row_cells in summary.iter_rows(min_row=2):
        row_cells[1].alignment = Alignment(wrap_text=True, vertical="top")

    sheet = book.create_sheet(_("Indicators")[:31])
    header = [
        _("Area"), _("Indicator"), _("Weight"), _("Method"), _("Metric"), _("Measured"),
        _("Target"), _("Score"), _("Weighted points"), _("Note"),
    ]  # fmt: skip
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = bold
    for block in data.areas:
        for line in block.lines:
            sheet.append(
                [
                    block.label,
                    line.indicator.name,
                    _n(line.indicator.weight),
                    line.method_label,
                    line.metric_label,
                    _n(line.value),
                    _n(line.target),
                    _n(line.score),
                    _n(line.points),
                    line.note,
                ]
            )
        sheet.append(
            [f"{block.label} · {_('subtotal')}", "", _n(block.weight), "", "", "", "", "",
             _n(block.points), ""]
        )  # fmt: skip
        for cell in sheet[sheet.max_row]:
            cell.font = bold
    sheet.append(
        [_("Total"), "", _n(data.weight_total), "", "", "", "", "", _n(data.points_total), ""]
    )
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 28

    orders = book.create_sheet(_("Orders")[:31])
    orders.append(
        [
            _("Provider"),
            _("Service"),
            _("Orders"),
            _("Served"),
            _("Mean rating"),
            _("Amount (yuan)"),
        ]
    )
    for cell in orders[1]:
        cell.font = bold
    for r in data.orders:
        orders.append([r.provider, r.item, r.orders, r.served, _n(r.mean_rating), _n(r.amount)])
    t = data.orders_total
    orders.append([t.provider, "", t.orders, t.served, _n(t.mean_rating), _n(t.amount)])
    for cell in orders[orders.max_row]:
        cell.font = bold
    orders.column_dimensions["A"].width = 34
    orders.column_dimensions["B"].width = 20

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def report_file_name(evaluation: Evaluation) -> str:
    return f"evaluation-{evaluation.project.code}-{evaluation.stage}.xlsx"


def report_export(*, actor: User, evaluation: Evaluation, file_format: str = "xlsx") -> bytes:
    """The report for a reader of the project (``SUPERVISE`` or ``MANAGE_PROJECTS`` in
    its area), audited as an export; ``file_format`` "xlsx" or "print" (the page, which
    renders ``report_data``, records the audit through this call and gets b"")."""
    if not sel.projects_visible(actor).filter(pk=evaluation.project_id).exists():
        raise PermissionDenied(_("You may not read this project."))
    content = evaluation_report_xlsx(evaluation) if file_format == "xlsx" else b""
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="supervision.evaluation_report",
        object_id=evaluation.pk,
        region_code=evaluation.project.region_id,
        detail={
            "project": evaluation.project.code,
            "stage": evaluation.stage,
            "format": file_format,
        },
    )
    return content
