"""Who serves: contracted providers (organisations with contracts and staff) and
volunteers/donors with a verified identity. The directory is exported as Open Referral
HSDS 3.0 (services/hsds.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiuzhu.core.masking import mask_name
from jiuzhu.services import choices as c
from jiuzhu.services.models.catalogue import MONEY, ServiceItem

COORD: dict[str, Any] = {"max_digits": 9, "decimal_places": 6, "null": True, "blank": True}


class Provider(models.Model):
    """An organisation that delivers services: a social organisation, social-work agency,
    elderly-care centre, enterprise or charity. Its phone and address are the
    organisation's, public, not personal data."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=c.ProviderKind.choices)
    # 统一社会信用代码 (18 characters); unique when given.
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    description = models.TextField(_("description"), blank=True)
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    website = models.URLField(_("website"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    # The county (or town) where it is registered with the bureau; staff of that region
    # manage it.
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    # Where its workers set out from: dispatch measures distance from here.
    lat = models.DecimalField(_("latitude"), **COORD)
    lon = models.DecimalField(_("longitude"), **COORD)
    # Set by the supervision app (traffic lights); a red provider receives nothing new.
    light = models.CharField(
        _("traffic light"), max_length=8, choices=c.Light.choices, default=c.Light.GREEN
    )
    # Kept up to date by order ratings (orders service), read by dispatch.
    rating_sum = models.PositiveIntegerField(default=0)
    rating_count = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("service provider")
        verbose_name_plural = _("service providers")
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"], condition=~Q(credit_code=""), name="provider_credit_code"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def rating(self) -> float | None:
        return self.rating_sum / self.rating_count if self.rating_count else None


class ProviderContract(models.Model):
    """A purchase-of-service contract: which items, where, how many orders a day, at
    what price, for which period."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="contracts")
    number = models.CharField(_("contract number"), max_length=40)
    # Regions served (towns or villages; a county serves all of it).
    areas = models.ManyToManyField("regions.Region", related_name="+", verbose_name=_("areas"))
    capacity_per_day = models.PositiveIntegerField(_("orders per day"))
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))
    status = models.CharField(
        _("status"), max_length=12, choices=c.ContractStatus.choices, default="active"
    )
    budget = models.DecimalField(_("budget (yuan)"), null=True, blank=True, **MONEY)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-valid_to", "id"]
        verbose_name = _("provider contract")
        verbose_name_plural = _("provider contracts")
        constraints = [
            models.UniqueConstraint(fields=["provider", "number"], name="contract_number"),
            models.CheckConstraint(
                condition=Q(valid_to__gte=models.F("valid_from")), name="contract_to_after_from"
            ),
            models.CheckConstraint(condition=Q(capacity_per_day__gte=1), name="contract_cap_1"),
        ]

    def __str__(self) -> str:
        return f"{self.provider_id} {self.number}"


class ContractItem(models.Model):
    """A catalogue item under a contract, at the contract's price."""

    contract = models.ForeignKey(ProviderContract, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="+")
    price = models.DecimalField(_("price (yuan per unit)"), **MONEY)

    class Meta:
        ordering = ["contract", "item"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "item"], name="contract_item_unique"),
            models.CheckConstraint(condition=Q(price__gte=0), name="contract_item_price_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id}:{self.item_id}"


class ProviderMember(models.Model):
    """A user (role provider_staff) who works for a provider: a manager answers offers,
    a care worker serves orders."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="members")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="provider_membership"
    )
    is_manager = models.BooleanField(_("manager"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["provider", "-is_manager", "id"]
        verbose_name = _("provider staff member")
        verbose_name_plural = _("provider staff")

    def __str__(self) -> str:
        return f"{self.user_id}@{self.provider_id}"


class Volunteer(models.Model):
    """A volunteer or donor who claims needs. Identity is verified by staff against the
    ID number (encrypted, blind index, masked like the registry's)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="volunteer"
    )
    kind = models.CharField(
        _("kind"), max_length=12, choices=c.VolunteerKind.choices, default="volunteer"
    )
    name = models.CharField(_("name"), max_length=50)
    id_number_encrypted = models.TextField()
    id_number_index = models.CharField(max_length=64)
    id_number_masked = models.CharField(_("ID number"), max_length=18)
    phone_encrypted = models.TextField(blank=True)
    phone_index = models.CharField(max_length=64, blank=True)
    phone_masked = models.CharField(_("phone"), max_length=16, blank=True)
    # Where they are willing to help (a town or village); "near them" is measured from
    # here or from the coordinates.
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    lat = models.DecimalField(_("latitude"), **COORD)
    lon = models.DecimalField(_("longitude"), **COORD)
    skills = models.JSONField(_("skills"), default=list, blank=True)  # Skill codes
    # {"weekdays": [1..7], "from": "09:00", "to": "17:00"}; empty: any time.
    availability = models.JSONField(_("availability"), default=dict, blank=True)
    # A volunteer team or company they act for, if any.
    organisation = models.ForeignKey(
        Provider,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="volunteers",
        verbose_name=_("organisation"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=c.VolunteerStatus.choices, default="pending"
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    hours_served = models.DecimalField(_("hours served"), max_digits=8, decimal_places=1, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")
        # One volunteer record per person (the blind index of the ID number).
        constraints = [
            models.UniqueConstraint(fields=["id_number_index"], name="volunteer_id_unique")
        ]

    def __str__(self) -> str:
        return f"volunteer {self.pk}"

    @property
    def name_masked(self) -> str:
        return mask_name(self.name)
