"""Service orders (三单制: 点单 → 派单 → 接单 → service → rating), offers to providers,
and the entitlement debits (service vouchers) that orders make against a plan."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiuzhu.registry.models import HouseholdScoped
from jiuzhu.services import choices as c
from jiuzhu.services.models.catalogue import MONEY, PlanItem, ServiceItem, ServicePlan
from jiuzhu.services.models.needs import Need
from jiuzhu.services.models.providers import COORD, Provider, ProviderContract


class ServiceOrder(HouseholdScoped, models.Model):
    need = models.ForeignKey(Need, on_delete=models.PROTECT, related_name="orders")
    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="service_orders"
    )
    person = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(
        ServiceItem, on_delete=models.PROTECT, related_name="+", verbose_name=_("item")
    )
    funding = models.CharField(_("funding"), max_length=12, choices=c.Funding.choices)
    plan = models.ForeignKey(
        ServicePlan, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    plan_item = models.ForeignKey(
        PlanItem, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    quantity = models.DecimalField(_("quantity"), max_digits=8, decimal_places=2, default=1)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    amount = models.DecimalField(_("amount (yuan)"), **MONEY)
    # What it uses of the plan's entitlement, in the plan's unit (yuan or hours); 0 if
    # not funded by a voucher.
    charge = models.DecimalField(_("entitlement used"), default=0, **MONEY)
    urgency = models.CharField(_("urgency"), max_length=10, choices=c.Urgency.choices)
    service_date = models.DateField(_("service date"))
    window_start = models.DateTimeField(_("from"), null=True, blank=True)
    window_end = models.DateTimeField(_("until"), null=True, blank=True)
    lat = models.DecimalField(_("latitude"), **COORD)
    lon = models.DecimalField(_("longitude"), **COORD)
    status = models.CharField(
        _("status"), max_length=12, choices=c.OrderStatus.choices, default=c.OrderStatus.PENDING
    )
    # Set when a provider accepts (the contract whose capacity and price apply).
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    contract = models.ForeignKey(
        ProviderContract, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_orders",
        verbose_name=_("care worker"),
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    check_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    check_in_lat = models.DecimalField(**COORD)
    check_in_lon = models.DecimalField(**COORD)
    check_in_photo = models.FileField(upload_to="orders/%Y/%m/", blank=True)
    # The item's steps (明白纸) copied at check-in, each ticked:
    # [{"action": "…", "requirement": "…", "done": true, "at": "ISO time"}]
    checklist = models.JSONField(_("checklist"), default=list, blank=True)
    check_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    check_out_lat = models.DecimalField(**COORD)
    check_out_lon = models.DecimalField(**COORD)
    check_out_photo = models.FileField(upload_to="orders/%Y/%m/", blank=True)
    service_note = models.TextField(_("service note"), blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.CharField(_("comment"), max_length=300, blank=True)
    rated_how = models.CharField(
        _("rated how"), max_length=8, choices=c.RatedHow.choices, blank=True
    )
    rated_at = models.DateTimeField(null=True, blank=True)
    rated_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Cancelled, no-show or disputed: why, and who said so.
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # A no-show: who was not there (services.choices.Absent); a provider's no-show counts
    # against it in supervision's scorecard.
    absent = models.CharField(_("absent"), max_length=12, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Deadlines (clocks).
    dispatch_due_at = models.DateTimeField(_("dispatch by"), null=True, blank=True)
    start_due_at = models.DateTimeField(_("start by"), null=True, blank=True)
    finish_due_at = models.DateTimeField(_("finish by"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    scope_region_lookup = "region__code"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("service order")
        verbose_name_plural = _("service orders")
        indexes = [
            models.Index(fields=["status", "service_date"], name="order_status_date"),
            models.Index(fields=["provider", "service_date"], name="order_provider_date"),
            models.Index(fields=["region", "status"], name="order_region_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="order_rating_1_5",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_quantity_gt_0"),
            models.CheckConstraint(condition=Q(charge__gte=0), name="order_charge_gte_0"),
        ]

    def __str__(self) -> str:
        return f"order {self.pk}"


class DispatchOffer(models.Model):
    """One offer of an order to a provider (派单). At most one open offer per order; a
    decline or silence past ``expires_at`` lets dispatch offer it to the next provider."""

    order = models.ForeignKey(ServiceOrder, on_delete=models.PROTECT, related_name="offers")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="offers")
    contract = models.ForeignKey(ProviderContract, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=12, choices=c.OfferStatus.choices, default="offered"
    )
    offered_by = models.CharField(max_length=12, choices=c.OfferedBy.choices)
    dispatcher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # What the optimiser weighed: kilometres and the combined cost.
    distance_km = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    cost = models.BigIntegerField(null=True, blank=True)
    offered_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("answer by"))
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["-offered_at", "-id"]
        verbose_name = _("dispatch offer")
        verbose_name_plural = _("dispatch offers")
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=Q(status="offered"), name="one_open_offer_per_order"
            )
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="offer_status_expires")]

    def __str__(self) -> str:
        return f"offer {self.pk} of order {self.order_id} to {self.provider_id}"


class EntitlementDebit(HouseholdScoped, models.Model):
    """An entry against a plan's entitlement (the service voucher): a debit when an
    order is placed, a release (negative amount) when it is cancelled or not served.
    Append-only; the balance is the plan's total minus the sum of its entries."""

    plan = models.ForeignKey(ServicePlan, on_delete=models.PROTECT, related_name="debits")
    plan_item = models.ForeignKey(
        PlanItem, on_delete=models.PROTECT, null=True, blank=True, related_name="debits"
    )
    order = models.ForeignKey(
        ServiceOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="debits"
    )
    stage = models.PositiveSmallIntegerField(_("stage"))
    kind = models.CharField(max_length=8, choices=c.DebitKind.choices)
    # In the plan's unit; positive for a debit, negative for a release.
    amount = models.DecimalField(_("amount"), **MONEY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    scope_household_path = "plan__household"
    scope_region_lookup = "plan__region__code"

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("entitlement debit")
        verbose_name_plural = _("entitlement debits")
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="debit") & Q(amount__gt=0))
                | (Q(kind="release") & Q(amount__lt=0)),
                name="debit_sign_matches_kind",
            ),
            # One debit and at most one release per order.
            models.UniqueConstraint(
                fields=["order", "kind"], condition=Q(order__isnull=False), name="debit_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} plan {self.plan_id}"
