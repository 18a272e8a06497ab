"""Monitoring runs, warnings, their assignment and escalation, and verification visits.

A run of the rule engine yields candidate warnings; each new (household, rule, event key)
becomes one :class:`Warning` — the database refuses a second one, so re-runs are
idempotent. A warning is assigned to the responsible worker of the household's village
(or up the tree), has a deadline by level, escalates to the town and then the county when
it is overdue, and is closed by a verification visit with an outcome.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    RED = "red", _("red")
    YELLOW = "yellow", _("yellow")
    BLUE = "blue", _("blue")


LEVEL_ORDER = {Level.RED: 0, Level.YELLOW: 1, Level.BLUE: 2}


class MonitoringRun(models.Model):
    class Mode(models.TextChoices):
        FULL = "full", _("full pass")
        INCREMENTAL = "incremental", _("incremental")

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    as_of = models.DateField(_("as of"))
    engine = models.CharField(_("engine"), max_length=16)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    trigger = models.CharField(_("trigger"), max_length=16)  # cli | schedule | web | demo
    pack = models.CharField(_("rule pack"), max_length=64)
    # What the run used, so any warning can be traced to the exact rule text and values.
    rule_versions = models.JSONField(_("rule versions"), default=dict)
    parameters = models.JSONField(_("parameter values"), default=dict)
    candidate_counts = models.JSONField(_("candidates per rule"), default=dict)
    # Per feed, the event dates read ({"since": …, "until": …}; engine.windows).
    feed_windows = models.JSONField(_("feed windows read"), default=dict)
    seconds = models.JSONField(default=dict)
    households_considered = models.PositiveIntegerField(null=True, blank=True)
    # Feed batches with an id up to this one were seen by this run (incremental runs
    # consider households touched by later batches).
    feed_watermark = models.BigIntegerField(default=0)
    new_warnings = models.PositiveIntegerField(_("new warnings"), default=0)
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.mode}, {self.as_of})"


class ParameterOverride(models.Model):
    """A county admin's value for one rule parameter in part of the area.

    Rows are never changed: a new value adds a row and retires the one before it
    (``retired_at``), so the history of every threshold is kept.
    """

    rule_id = models.CharField(_("rule"), max_length=64)
    parameter = models.CharField(_("parameter"), max_length=64)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    value = models.JSONField(_("value"))
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(_("set at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["rule_id", "parameter", "region_id", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule_id", "parameter", "region"],
                condition=Q(retired_at__isnull=True),
                name="one_current_override",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}.{self.parameter} @ {self.region_id} = {self.value}"


class Warning(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CONTACTED = "contacted", _("contact made, visit pending")
        CLOSED = "closed", _("verified and closed")

    class Tier(models.IntegerChoices):
        """Who answers for the warning now: it moves up when a deadline passes."""

        VILLAGE = 0, _("village")
        TOWN = 1, _("town")
        COUNTY = 2, _("county")

    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="+")
    # The household's village, copied for fast scoping (as persons do, ADR 9).
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    rule_id = models.CharField(_("rule"), max_length=64)
    rule_version = models.PositiveIntegerField(_("rule version"))
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    event_key = models.CharField(_("event"), max_length=200)
    event_date = models.DateField(_("event date"))
    evidence = models.JSONField(_("evidence"), default=dict)
    explanation = models.CharField(_("explanation"), max_length=500)
    run = models.ForeignKey(MonitoringRun, on_delete=models.PROTECT, related_name="warnings")
    raised_at = models.DateTimeField(_("raised at"))
    deadline_hours = models.PositiveIntegerField(_("deadline (hours)"))
    due_at = models.DateTimeField(_("due by"), db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    tier = models.PositiveSmallIntegerField(_("tier"), choices=Tier.choices, default=Tier.VILLAGE)
    assigned_region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=24, blank=True)

    scope_region_lookup = "region__code"

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "rule_id", "event_key"], name="one_warning_per_event"
            )
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="warning_open_due"),
            models.Index(fields=["region", "status"], name="warning_region_status"),
            models.Index(fields=["assigned_to", "status"], name="warning_assignee_status"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.level} household {self.household_id}"

    @classmethod
    def scope_assigned(cls, user: Any) -> Q | None:
        # A worker always sees what is assigned to them, inside their area or not.
        return Q(assigned_to=user)


class WarningEvent(models.Model):
    """The history of one warning: raised, assigned, escalated, contacted, verified."""

    class Kind(models.TextChoices):
        RAISED = "raised", _("raised")
        ASSIGNED = "assigned", _("assigned")
        ESCALATED = "escalated", _("escalated")
        CONTACT = "contact", _("emergency contact called")
        VISIT_ORDERED = "visit_ordered", _("visit ordered")
        VERIFIED = "verified", _("verified")

    warning = models.ForeignKey(Warning, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    detail = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"


class Outcome(models.TextChoices):
    ENROLLED = "enrolled", _("enrolled in assistance")
    REFERRED = "referred", _("referred to services")
    NOT_ELIGIBLE = "not_eligible", _("not eligible")
    FALSE_ALARM = "false_alarm", _("false alarm")
    MOVED = "moved", _("moved away")
    DECEASED = "deceased", _("deceased")


class ContactAttempt(models.Model):
    """A phone call to the emergency contact (the first step of the water-meter chain)."""

    warning = models.ForeignKey(Warning, on_delete=models.CASCADE, related_name="contacts")
    called_at = models.DateTimeField(_("called at"))
    caller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reached = models.BooleanField(_("reached"))
    person_safe = models.BooleanField(_("person confirmed safe"), default=False)
    note = models.CharField(_("note"), max_length=300, blank=True)

    def __str__(self) -> str:
        return f"call {self.called_at:%Y-%m-%d %H:%M} reached={self.reached}"


class VerificationVisit(models.Model):
    warning = models.OneToOneField(Warning, on_delete=models.PROTECT, related_name="visit")
    visited_at = models.DateTimeField(_("visited at"))
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    findings = models.TextField(_("findings"))
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    outcome = models.CharField(_("outcome"), max_length=24, choices=Outcome.choices)
    category = models.CharField(_("category enrolled in"), max_length=24, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    need_summary = models.CharField(_("service needed"), max_length=300, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"visit {self.visited_at:%Y-%m-%d} {self.outcome}"


class VisitPhoto(models.Model):
    visit = models.ForeignKey(VerificationVisit, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to="visits/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.sha256[:12]


class ReferralNeed(models.Model):
    """A need created when a visit refers the household to services.

    The services module (a later issue) takes these over as its needs; until then they
    are listed here so nothing a visit found is lost.
    """

    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    warning = models.OneToOneField(Warning, on_delete=models.PROTECT, related_name="need")
    summary = models.CharField(_("service needed"), max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    scope_region_lookup = "region__code"

    def __str__(self) -> str:
        return self.summary

    @classmethod
    def scope_assigned(cls, user: Any) -> Q | None:
        return None
