"""Needs (需求 / 微心愿) and claims (认领).

A need has two faces. The public face is ``public_title`` + ``public_summary`` + the
village's name + coarse coordinates (``public_lat``/``public_lon``, rounded to about a
kilometre): nothing that names, locates or identifies anyone. Everything else (the
beneficiary, ``details``, the precise place, the phone) is protected, released only to an
approved claimant or to the provider an order is assigned to. A need is published to the
public only with the beneficiary's recorded consent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiuzhu.registry.models import HouseholdScoped
from jiuzhu.services import choices as c
from jiuzhu.services.models.catalogue import MONEY, PlanItem, ServiceItem
from jiuzhu.services.models.providers import COORD, Provider


class Need(HouseholdScoped, models.Model):
    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="needs"
    )
    person = models.ForeignKey(
        "registry.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("beneficiary"),
    )
    # The household's village, copied for indexed scoping and for the public face.
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("source"), max_length=12, choices=c.NeedSource.choices)
    # The id of what it came from (plan item, warning, visit, call event), as text.
    source_ref = models.CharField(max_length=40, blank=True)
    route = models.CharField(_("route"), max_length=12, choices=c.Route.choices)
    funding = models.CharField(_("funding"), max_length=12, choices=c.Funding.choices)
    # A catalogue item, or a free-form item / wish in ``title``.
    item = models.ForeignKey(
        ServiceItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("item"),
    )
    # Voucher funding: the plan item whose entitlement the orders debit.
    plan_item = models.ForeignKey(
        PlanItem, on_delete=models.PROTECT, null=True, blank=True, related_name="needs"
    )
    quantity = models.DecimalField(_("quantity"), max_digits=8, decimal_places=2, default=1)
    title = models.CharField(_("what is needed"), max_length=100)
    details = models.TextField(_("details (protected)"), blank=True)
    public_title = models.CharField(_("public title"), max_length=60, blank=True)
    public_summary = models.CharField(_("public summary"), max_length=300, blank=True)
    public_lat = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    public_lon = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    lat = models.DecimalField(_("latitude"), **COORD)
    lon = models.DecimalField(_("longitude"), **COORD)
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=c.Urgency.choices, default=c.Urgency.NORMAL
    )
    window_start = models.DateTimeField(_("from"), null=True, blank=True)
    window_end = models.DateTimeField(_("until"), null=True, blank=True)
    estimated_value = models.DecimalField(
        _("estimated value (yuan)"), null=True, blank=True, **MONEY
    )
    status = models.CharField(
        _("status"), max_length=12, choices=c.NeedStatus.choices, default=c.NeedStatus.DRAFT
    )
    # Consent to publish (required before ``published``).
    consent_by = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    consent_how = models.CharField(
        _("consent given"), max_length=8, choices=c.ConsentHow.choices, blank=True
    )
    consent_at = models.DateTimeField(_("consent recorded at"), null=True, blank=True)
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)
    confirmed_by = models.CharField(
        _("confirmed by"), max_length=12, choices=c.ConfirmedBy.choices, blank=True
    )
    confirmed_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_reason = models.CharField(_("reason"), max_length=200, blank=True)
    # Deadlines (clocks): claimed or dispatched by, started by, finished by.
    assign_due_at = models.DateTimeField(_("claim or dispatch by"), null=True, blank=True)
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
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        indexes = [
            models.Index(fields=["status", "route"], name="need_status_route"),
            models.Index(fields=["region", "status"], name="need_region_status"),
        ]
        constraints = [
            # Published needs always carry a recorded consent.
            models.CheckConstraint(
                condition=Q(published_at__isnull=True) | Q(consent_at__isnull=False),
                name="need_published_has_consent",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="need_quantity_gt_0"),
        ]

    def __str__(self) -> str:
        return f"need {self.pk}"


class Claim(models.Model):
    """A volunteer's, organisation's or donor's claim on a published need. The claim
    locks the need until ``expires_at``; at most one active claim per need."""

    need = models.ForeignKey(Need, on_delete=models.PROTECT, related_name="claims")
    claimant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claims"
    )
    claimant_kind = models.CharField(max_length=12, choices=c.ClaimantKind.choices)
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=c.ClaimStatus.choices, default="pending"
    )
    message = models.CharField(_("message"), max_length=300, blank=True)
    claimed_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("held until"))
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_note = models.CharField(max_length=200, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    delivery_note = models.CharField(_("delivery note"), max_length=300, blank=True)
    delivery_photo = models.FileField(upload_to="claims/%Y/%m/", blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["-claimed_at", "-id"]
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        constraints = [
            models.UniqueConstraint(
                fields=["need"],
                condition=Q(status__in=c.ACTIVE_CLAIM_STATUSES),
                name="one_active_claim_per_need",
            )
        ]

    def __str__(self) -> str:
        return f"claim {self.pk} on need {self.need_id}"
