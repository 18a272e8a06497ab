"""Needs assessment (需求评估): instruments, their versions, and assessments.

An instrument's content (dimensions, indicators, answer scales, weights, scoring method,
cut-offs to tiers, tier labels and colours) is configuration stored as a validated JSON
definition (see ``definition.py``). Editing an instrument adds a version; versions are
never changed, and every assessment points at the version it used, so an old tier can
always be re-read against the rules that produced it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiuzhu.registry.models import HouseholdAssignment


class Instrument(models.Model):
    """An assessment instrument: national (no region) or a county's own (or own copy)."""

    class Kind(models.TextChoices):
        HOUSEHOLD = "household", _("per household")
        PERSON = "person", _("per person")

    # Stable across versions and across a county's copy of a national instrument: the
    # copy keeps the code and replaces the national one in that county.
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    kind = models.CharField(_("assessed"), max_length=12, choices=Kind.choices)
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
        help_text=_("Empty for a national instrument."),
    )
    copied_from = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="copies"
    )
    is_active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code", "region_id"]
        verbose_name = _("assessment instrument")
        verbose_name_plural = _("assessment instruments")
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=Q(region__isnull=True), name="instrument_national_code"
            ),
            models.UniqueConstraint(fields=["code", "region"], name="instrument_region_code"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.region_id or '*'})"


class InstrumentVersion(models.Model):
    """One published version of an instrument. Immutable: an edit is a new version."""

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    definition = models.JSONField(_("definition"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    reason = models.CharField(_("reason for the change"), max_length=300, blank=True)

    class Meta:
        ordering = ["instrument_id", "-number"]
        verbose_name = _("instrument version")
        verbose_name_plural = _("instrument versions")
        constraints = [
            models.UniqueConstraint(fields=["instrument", "number"], name="instrument_version")
        ]

    def __str__(self) -> str:
        return f"{self.instrument.code} v{self.number}"

    @property
    def method(self) -> str:
        return str(self.definition.get("scoring", {}).get("method", ""))


class Assessment(models.Model):
    """One needs assessment of a household (or of one member, for a person instrument)."""

    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="assessments"
    )
    # The household's village, copied so that lists are scoped by an indexed prefix.
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(
        "registry.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("person assessed"),
    )
    instrument_version = models.ForeignKey(
        InstrumentVersion,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("instrument version"),
    )
    answers = models.JSONField(_("answers"))  # {indicator code: option code}
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=1)
    tier = models.CharField(pgettext_lazy("assessment", "tier"), max_length=24)
    colour = models.CharField(_("colour"), max_length=8)
    needs = models.JSONField(_("needs"), default=list)  # indicator codes, instrument order
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assessed by"),
    )
    assessed_at = models.DateTimeField(_("assessed at"), db_index=True)
    warning = models.ForeignKey(
        "monitoring.Warning",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from warning"),
    )
    note = models.TextField(_("note"), blank=True)
    previous = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="next_assessments",
        verbose_name=_("previous assessment"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    scope_region_lookup = "region__code"

    class Meta:
        ordering = ["-assessed_at", "-id"]
        verbose_name = _("needs assessment")
        verbose_name_plural = _("needs assessments")
        indexes = [
            models.Index(fields=["region", "assessed_at"], name="assessment_region_at"),
            models.Index(fields=["household", "assessed_at"], name="assessment_household_at"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_version} {self.tier} household {self.household_id}"

    @classmethod
    def scope_assigned(cls, user: Any) -> Q | None:
        # The households put in the user's care, and what the user assessed.
        return Q(
            household_id__in=HouseholdAssignment.objects.filter(user=user).values("household_id")
        ) | Q(assessed_by=user)
