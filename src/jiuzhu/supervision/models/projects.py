"""Purchase-of-service projects (政府购买服务项目) and their evaluation.

A project runs 发布 → 对接 → 服务 → 评价 → 提升: published with a budget, period, target
groups and items; matched with providers (each through a contract, whose orders in the
period are the project's orders); served; evaluated mid-term and at the end against
weighted indicators in four areas; then improved. Indicators are either computed from
the platform's data (``metric`` names a function in ``supervision.metrics``) or scored
by evaluators."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiuzhu.services.models.catalogue import MONEY
from jiuzhu.supervision import choices as c


class Project(models.Model):
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("project code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=c.ProjectStatus.choices, default="draft"
    )
    budget = models.DecimalField(_("budget (yuan)"), **MONEY)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    # National categories (registry's Category values) the project serves.
    target_groups = models.JSONField(_("target groups"), default=list, blank=True)
    target_households = models.PositiveIntegerField(_("households to serve"), default=0)
    target_person_times = models.PositiveIntegerField(_("person-times to serve"), default=0)
    items = models.ManyToManyField("services.ServiceItem", related_name="+", blank=True)
    improvement_plan = models.TextField(_("improvement plan (提升)"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_start", "code"]
        verbose_name = _("purchase-of-service project")
        verbose_name_plural = _("purchase-of-service projects")
        constraints = [
            models.CheckConstraint(condition=Q(budget__gte=0), name="project_budget_gte_0"),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="project_period_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ProjectProvider(models.Model):
    """对接: a provider taking part through one of its contracts, for an agreed sum."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="providers")
    provider = models.ForeignKey("services.Provider", on_delete=models.PROTECT, related_name="+")
    contract = models.ForeignKey(
        "services.ProviderContract", on_delete=models.PROTECT, related_name="projects"
    )
    amount = models.DecimalField(_("agreed sum (yuan)"), **MONEY)
    matched_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "id"]
        verbose_name = _("project provider")
        verbose_name_plural = _("project providers")
        constraints = [
            models.UniqueConstraint(fields=["project", "contract"], name="project_contract_once")
        ]

    def __str__(self) -> str:
        return f"{self.project_id} ← {self.provider_id}"


class Indicator(models.Model):
    """A weighted indicator of a project's evaluation framework. Weights of a project's
    indicators add up to 100 (checked when an evaluation is finalised)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="indicators")
    area = models.CharField(_("area"), max_length=16, choices=c.IndicatorArea.choices)
    name = models.CharField(_("indicator"), max_length=120)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2)
    method = models.CharField(_("method"), max_length=10, choices=c.IndicatorMethod.choices)
    # Computed indicators: the metric's key in supervision.metrics and the value that
    # earns full marks (e.g. satisfaction 4.5, revisit pass rate 0.95).
    metric = models.CharField(_("metric"), max_length=40, blank=True)
    target = models.DecimalField(
        _("target"), max_digits=10, decimal_places=4, null=True, blank=True
    )
    guidance = models.TextField(_("how to score"), blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["project_id", "position", "id"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [
            models.CheckConstraint(condition=Q(weight__gt=0), name="indicator_weight_gt_0"),
            models.CheckConstraint(
                condition=Q(method="scored") | ~Q(metric=""), name="computed_has_metric"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Evaluation(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="evaluations")
    stage = models.CharField(_("stage"), max_length=10, choices=c.EvaluationStage.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=c.EvaluationStatus.choices, default="draft"
    )
    # The period the computed indicators were measured over.
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    evaluators = models.CharField(_("evaluators"), max_length=200, blank=True)
    total = models.DecimalField(
        _("total score"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    grade = models.CharField(_("grade"), max_length=12, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finalised_at = models.DateTimeField(null=True, blank=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["project_id", "period_end"]
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [
            models.UniqueConstraint(fields=["project", "stage"], name="one_evaluation_per_stage")
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.stage}"


class EvaluationScore(models.Model):
    """One indicator's result in one evaluation: the measured value (computed ones),
    the score out of 100, and the weighted points it contributes."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="scores")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="scores")
    value = models.DecimalField(
        _("measured"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    score = models.DecimalField(
        _("score (0–100)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    scored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["evaluation_id", "indicator__position", "indicator_id"]
        verbose_name = _("indicator score")
        verbose_name_plural = _("indicator scores")
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "indicator"], name="score_once"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100),
                name="score_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.evaluation_id}/{self.indicator_id}"
