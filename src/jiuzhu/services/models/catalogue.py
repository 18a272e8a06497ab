"""The service catalogue (服务清单), entitlement rules and service plans (一户一策).

Catalogue items and entitlement rules are configuration a county admin edits; every
version is kept as a ``ConfigRevision`` row (and audited), and an item that a plan uses
can only be retired, never deleted (PROTECT). Plans copy what they were made from (the
entitlement's amount and stages, each item's price at the time), so a later edit of the
configuration never changes a plan already agreed with a household.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiuzhu.registry.models import HouseholdScoped
from jiuzhu.services import choices as c

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}


class ServiceItem(models.Model):
    """One service a household can receive, with its standard procedure (明白纸)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=60)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    category = models.CharField(_("category"), max_length=16, choices=c.Category.choices)
    tier = models.CharField(
        pgettext_lazy("catalogue", "tier"), max_length=12, choices=c.Tier.choices
    )
    unit = models.CharField(_("unit"), max_length=8, choices=c.Unit.choices)
    price = models.DecimalField(_("price (yuan per unit)"), **MONEY)
    # What one unit takes a worker, so that entitlements counted in hours (Licang's 45 / 60
    # hours of home care a month) can be charged for items not sold by the hour.
    hours_per_unit = models.DecimalField(
        _("hours per unit"), max_digits=6, decimal_places=2, default=1
    )
    description = models.TextField(_("description"), blank=True)
    # TargetGroup codes; empty: anyone assessed may receive it.
    target_groups = models.JSONField(_("who may receive it"), default=list, blank=True)
    # Indicator codes (the assessment contract) this item helps with.
    indicators = models.JSONField(_("indicators addressed"), default=list, blank=True)
    # The standard procedure, in order: [{"action": "工具消毒", "requirement": "…"}, …]
    steps = models.JSONField(_("steps"), default=list, blank=True)
    # None: a default item offered everywhere; else the county (or city) that added it.
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
    )
    is_builtin = models.BooleanField(default=False)
    is_active = models.BooleanField(_("offered"), default=True)
    revision = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tier", "category", "code"]
        verbose_name = _("service item")
        verbose_name_plural = _("service items")
        constraints = [models.CheckConstraint(condition=Q(price__gte=0), name="item_price_gte_0")]

    def __str__(self) -> str:
        return self.name_zh


class EntitlementRule(models.Model):
    """What a household may choose within: an amount per tier, for a period, in stages.

    ``amounts`` maps an assessment tier code (or ``"*"`` for any tier) to the amount per
    period; ``shares`` are the stages in percent (summing to 100); a stage opens
    ``open_after_months[k]`` months after the plan starts (``opening = months``) or when
    the previous stage is fully chosen (``previous_full``). See services/stages.py.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    unit = models.CharField(_("unit"), max_length=8, choices=c.EntitlementUnit.choices)
    period = models.CharField(_("period"), max_length=8, choices=c.Period.choices)
    amounts = models.JSONField(_("amount per tier"), default=dict)
    shares = models.JSONField(_("stages (percent)"), default=list)
    opening = models.CharField(
        _("a stage opens"), max_length=16, choices=c.Opening.choices, default=c.Opening.MONTHS
    )
    open_after_months = models.JSONField(_("months after the start"), default=list)
    # Instrument codes whose assessments this rule applies to; empty: any.
    instruments = models.JSONField(_("assessment instruments"), default=list, blank=True)
    target_groups = models.JSONField(_("who it applies to"), default=list, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
    )
    is_builtin = models.BooleanField(default=False)
    is_active = models.BooleanField(_("active"), default=True)
    note = models.TextField(_("note"), blank=True)
    revision = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_active", "code"]
        verbose_name = _("entitlement rule")
        verbose_name_plural = _("entitlement rules")

    def __str__(self) -> str:
        return self.name_zh


class ConfigRevision(models.Model):
    """One version of a catalogue item or an entitlement rule: the whole of it as it
    became, and what changed (field → [old, new]). Never changed or deleted."""

    class Kind(models.TextChoices):
        ITEM = "item", _("service item")
        RULE = "rule", _("entitlement rule")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField()
    number = models.PositiveIntegerField()
    data = models.JSONField(default=dict)
    changes = models.JSONField(default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "object_id", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id", "number"], name="config_revision_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} r{self.number}"


class ServicePlan(HouseholdScoped, models.Model):
    """A household's service plan (一户一策): made from an assessment, within an entitlement
    whose terms it copies (amount for the tier, stages, how they open), chosen with the
    beneficiary, agreed by them, and closed at the end."""

    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="service_plans"
    )
    # The household's village, copied so that lists are scoped by an indexed prefix.
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    assessment = models.ForeignKey(
        "assessment.Assessment",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("assessment"),
    )
    rule = models.ForeignKey(
        EntitlementRule,
        on_delete=models.PROTECT,
        related_name="plans",
        verbose_name=_("entitlement"),
    )
    tier = models.CharField(pgettext_lazy("assessment", "tier"), max_length=24)
    colour = models.CharField(_("colour"), max_length=8, blank=True)
    unit = models.CharField(_("unit"), max_length=8, choices=c.EntitlementUnit.choices)
    period = models.CharField(_("period"), max_length=8, choices=c.Period.choices)
    total = models.DecimalField(_("entitlement per period"), **MONEY)
    shares = models.JSONField(_("stages (percent)"), default=list)
    opening = models.CharField(_("a stage opens"), max_length=16, choices=c.Opening.choices)
    open_after_months = models.JSONField(default=list)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    status = models.CharField(
        _("status"), max_length=8, choices=c.PlanStatus.choices, default=c.PlanStatus.DRAFT
    )
    agreed_by = models.ForeignKey(
        "registry.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agreed by"),
    )
    agreed_how = models.CharField(
        _("agreed how"), max_length=12, choices=c.AgreedHow.choices, blank=True
    )
    agreed_at = models.DateTimeField(_("agreed at"), null=True, blank=True)
    agreement_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    close_reason = models.CharField(_("reason for closing"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    scope_household_path = "household"
    scope_region_lookup = "region__code"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("service plan")
        verbose_name_plural = _("service plans")
        constraints = [
            # One current plan a household: a new one needs the old one closed.
            models.UniqueConstraint(
                fields=["household"],
                condition=~Q(status="closed"),
                name="one_open_service_plan",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="plan_end_after_start",
            ),
        ]
        indexes = [models.Index(fields=["region", "status"], name="plan_region_status")]

    def __str__(self) -> str:
        return f"plan {self.pk} household {self.household_id}"


class PlanItem(HouseholdScoped, models.Model):
    """One chosen service in a plan: how many, at the price of the day, in which stage,
    for which indicator, chosen by whom. Removing one keeps the row (removed_at)."""

    plan = models.ForeignKey(ServicePlan, on_delete=models.PROTECT, related_name="items")
    item = models.ForeignKey(
        ServiceItem, on_delete=models.PROTECT, related_name="plan_items", verbose_name=_("item")
    )
    indicator = models.CharField(_("indicator"), max_length=40, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=8, decimal_places=2)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    amount = models.DecimalField(_("amount (yuan)"), **MONEY)
    # What it uses of the entitlement, in the plan's unit (yuan, or hours).
    charge = models.DecimalField(_("entitlement used"), **MONEY)
    stage = models.PositiveSmallIntegerField(_("stage"))
    chosen_by = models.CharField(_("chosen by"), max_length=12, choices=c.ChosenBy.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    removal_reason = models.CharField(max_length=200, blank=True)

    scope_household_path = "plan__household"
    scope_region_lookup = "plan__region__code"

    class Meta:
        ordering = ["stage", "added_at", "id"]
        verbose_name = _("plan item")
        verbose_name_plural = _("plan items")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="plan_item_quantity_gt_0"),
            models.CheckConstraint(condition=Q(stage__gte=1), name="plan_item_stage_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} × {self.quantity} (stage {self.stage})"
