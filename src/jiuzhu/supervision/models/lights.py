"""Provider scorecards and traffic lights (红绿灯准入退出), with their history.

A county's ``SupervisionConfig`` holds the thresholds and the revisit settings. Each
period a ``ProviderScore`` row freezes the figures and the light they earn
(``supervision.lights.judge``). Every change of light is a ``LightDecision`` — computed
from a scorecard or decided by staff, always with who and why — and the provider's
current light is copied to ``services.Provider.light`` through services' own service
function. Yellow opens a ``Rectification`` with a due date; red stops new dispatches and
opens an ``ExitReview``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiuzhu.services.choices import Light
from jiuzhu.supervision import choices as c

RATE: dict[str, Any] = {"max_digits": 6, "decimal_places": 4, "null": True, "blank": True}


class SupervisionConfig(models.Model):
    """Per county: the light thresholds and the revisit sampling settings. ``bounds``
    is {figure: {"green": "0.90", "red": "0.75", "higher_is_better": true}} for the
    figures of ``supervision.lights.Scorecard``; missing figures take the defaults."""

    region = models.OneToOneField(
        "regions.Region", on_delete=models.PROTECT, related_name="supervision_config"
    )
    min_volume = models.PositiveIntegerField(_("minimum orders to judge"), default=10)
    bounds = models.JSONField(_("thresholds"), default=dict, blank=True)
    revisit_rate = models.DecimalField(
        _("revisit rate"), max_digits=5, decimal_places=4, default="0.0500"
    )
    revisit_minimum = models.PositiveIntegerField(_("minimum revisits a month"), default=20)
    phone_minimum = models.PositiveIntegerField(_("minimum by phone a month"), default=20)
    rectification_days = models.PositiveIntegerField(_("days to rectify"), default=30)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("supervision settings")
        verbose_name_plural = _("supervision settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(revisit_rate__gt=0, revisit_rate__lte=1), name="revisit_rate_0_1"
            )
        ]

    def __str__(self) -> str:
        return f"supervision settings {self.region_id}"


class ProviderScore(models.Model):
    """A provider's scorecard for one period (a month), frozen when computed."""

    provider = models.ForeignKey(
        "services.Provider", on_delete=models.PROTECT, related_name="scores"
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))  # inclusive
    volume = models.PositiveIntegerField(_("orders completed"))
    satisfaction = models.DecimalField(
        _("satisfaction"), max_digits=4, decimal_places=2, null=True, blank=True
    )
    on_time_rate = models.DecimalField(_("on-time rate"), **RATE)
    revisit_pass_rate = models.DecimalField(_("revisit pass rate"), **RATE)
    complaint_rate = models.DecimalField(_("complaint rate"), **RATE)
    no_show_rate = models.DecimalField(_("no-show rate"), **RATE)
    revisits = models.PositiveIntegerField(_("revisits"), default=0)
    complaints = models.PositiveIntegerField(_("complaints upheld"), default=0)
    light = models.CharField(
        _("traffic light"), max_length=8, choices=Light.choices, null=True, blank=True
    )
    reasons = models.JSONField(default=list, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_start", "provider_id"]
        verbose_name = _("provider scorecard")
        verbose_name_plural = _("provider scorecards")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "period_start"], name="one_score_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"score {self.provider_id} {self.period_start}"


class LightDecision(models.Model):
    """Append-only history of a provider's light: every change, who made it and why."""

    provider = models.ForeignKey(
        "services.Provider", on_delete=models.PROTECT, related_name="light_decisions"
    )
    score = models.ForeignKey(
        ProviderScore, on_delete=models.PROTECT, null=True, blank=True, related_name="decisions"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=c.DecisionKind.choices)
    from_light = models.CharField(_("from"), max_length=8, choices=Light.choices)
    to_light = models.CharField(_("to"), max_length=8, choices=Light.choices)
    reason = models.TextField(_("reason"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at", "-id"]
        verbose_name = _("traffic-light decision")
        verbose_name_plural = _("traffic-light decisions")

    def __str__(self) -> str:
        return f"{self.provider_id}: {self.from_light} → {self.to_light}"


class Rectification(models.Model):
    """Opened by a yellow light: the provider must rectify by ``due_date``."""

    provider = models.ForeignKey(
        "services.Provider", on_delete=models.PROTECT, related_name="rectifications"
    )
    decision = models.ForeignKey(
        LightDecision, on_delete=models.PROTECT, related_name="rectifications"
    )
    issues = models.TextField(_("what must be rectified"))
    due_date = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=10, choices=c.RectificationStatus.choices, default="open"
    )
    report = models.TextField(_("provider's report"), blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    conclusion = models.TextField(_("conclusion"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["status", "due_date", "id"]
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        constraints = [
            models.UniqueConstraint(
                fields=["provider"],
                condition=Q(status__in=["open", "submitted"]),
                name="one_open_rectification",
            )
        ]

    def __str__(self) -> str:
        return f"rectification {self.pk} of {self.provider_id}"


class ExitReview(models.Model):
    """Opened by a red light: dispatch has stopped; the review ends in reinstatement or
    expulsion (the provider is deactivated and its contracts ended)."""

    provider = models.ForeignKey(
        "services.Provider", on_delete=models.PROTECT, related_name="exit_reviews"
    )
    decision = models.ForeignKey(
        LightDecision, on_delete=models.PROTECT, related_name="exit_reviews"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=c.ExitReviewStatus.choices, default="open"
    )
    conclusion = models.TextField(_("conclusion"), blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["status", "-opened_at"]
        verbose_name = _("exit review")
        verbose_name_plural = _("exit reviews")
        constraints = [
            models.UniqueConstraint(
                fields=["provider"], condition=Q(status="open"), name="one_open_exit_review"
            )
        ]

    def __str__(self) -> str:
        return f"exit review {self.pk} of {self.provider_id}"
