"""Revisits (回访) and complaints. A monthly batch draws a stratified sample of completed
orders (``supervision.sampling``); each drawn order becomes a revisit to do at home or by
phone. A failed revisit flags the order here (services' tables are not written) and
counts against the provider's revisit pass rate."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiuzhu.registry.models import HouseholdScoped
from jiuzhu.supervision import choices as c


class RevisitBatch(models.Model):
    """One month's draw for one county: what was drawn from, at what rate, with which
    seed, so an auditor can draw it again and get the same sample."""

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    period = models.DateField(_("month"))  # first day of the month
    rate = models.DecimalField(_("sampling rate"), max_digits=5, decimal_places=4)
    minimum = models.PositiveIntegerField(_("minimum sample"))
    phone_minimum = models.PositiveIntegerField(_("minimum by phone"), default=0)
    seed = models.BigIntegerField()
    completed_orders = models.PositiveIntegerField(_("completed orders"))
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    drawn_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period", "region__code"]
        verbose_name = _("revisit batch")
        verbose_name_plural = _("revisit batches")
        constraints = [
            models.UniqueConstraint(fields=["region", "period"], name="one_batch_per_month"),
        ]

    def __str__(self) -> str:
        return f"revisits {self.region_id} {self.period:%Y-%m}"


class Revisit(HouseholdScoped, models.Model):
    batch = models.ForeignKey(
        RevisitBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="revisits"
    )
    source = models.CharField(_("source"), max_length=10, choices=c.RevisitSource.choices)
    order = models.ForeignKey(
        "services.ServiceOrder", on_delete=models.PROTECT, related_name="revisits"
    )
    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="revisits"
    )
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(
        "services.Provider", on_delete=models.PROTECT, related_name="revisits"
    )
    method = models.CharField(_("method"), max_length=8, choices=c.RevisitMethod.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=c.RevisitStatus.choices, default="pending"
    )
    due_date = models.DateField(_("due"))
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # The findings: did the service happen as recorded (time, person, steps), and what the
    # beneficiary says. ``passed`` is False when the record did not hold: that flags the
    # order and counts against the provider.
    service_happened = models.BooleanField(_("service happened"), null=True, blank=True)
    matches_record = models.BooleanField(_("as recorded"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    passed = models.BooleanField(_("passed"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    scope_region_lookup = "region__code"

    class Meta:
        ordering = ["status", "due_date", "id"]
        verbose_name = _("revisit")
        verbose_name_plural = _("revisits")
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "order"], condition=Q(batch__isnull=False), name="revisit_once"
            ),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True)
                | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="revisit_satisfaction_1_5",
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(passed__isnull=False), name="revisit_done_judged"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"], name="revisit_status_due"),
            models.Index(fields=["provider", "done_at"], name="revisit_provider_done"),
        ]

    def __str__(self) -> str:
        return f"revisit {self.pk} of order {self.order_id}"


class Complaint(HouseholdScoped, models.Model):
    """A complaint about a provider's service (supervision phone 监督电话, a revisit, a
    visit, online). Upheld complaints count in the provider's complaint rate."""

    provider = models.ForeignKey(
        "services.Provider", on_delete=models.PROTECT, related_name="complaints"
    )
    order = models.ForeignKey(
        "services.ServiceOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
    )
    household = models.ForeignKey(
        "registry.Household",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
    )
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=8, choices=c.ComplaintChannel.choices)
    revisit = models.ForeignKey(
        Revisit, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints"
    )
    text = models.TextField(_("complaint"))
    status = models.CharField(
        _("status"), max_length=10, choices=c.ComplaintStatus.choices, default="open"
    )
    finding = models.TextField(_("finding"), blank=True)
    received_at = models.DateTimeField(_("received at"))
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    scope_region_lookup = "region__code"

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        indexes = [models.Index(fields=["provider", "received_at"], name="complaint_provider")]

    def __str__(self) -> str:
        return f"complaint {self.pk} about {self.provider_id}"
