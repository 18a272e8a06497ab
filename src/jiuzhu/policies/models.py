"""The policy library (政策库), its matching runs, and what they found (政策找人).

A policy of any department is described in words for people (conditions, benefit, how to
apply, a phone number) and, where it can be, by an eligibility rule in SQL over the
registry snapshot that the engine runs for every household (docs/policies.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiuzhu.registry.choices import Category
from jiuzhu.registry.models import HouseholdScoped


class Theme(models.TextChoices):
    """The guide's modules, after Zaozhuang's seven and Qingzhou's nine classes."""

    BASIC_LIVING = "basic_living", _("basic living")
    MEDICAL = "medical", _("medical care")
    EDUCATION = "education", _("education")
    HOUSING = "housing", _("housing")
    EMPLOYMENT = "employment", _("employment")
    ELDERLY = "elderly", _("older people")
    DISABILITY = "disability", _("disability")
    CHILDREN = "children", _("children")
    EMERGENCY = "emergency", _("emergencies and temporary help")
    OTHER = "other", _("other help")


class GuideTag(models.TextChoices):
    """What the public questionnaire asks about; a policy lists the answers it fits."""

    LOW_INCOME = "low_income", _("low income")
    ELDERLY = "elderly", _("aged 60 or over")
    DISABLED = "disabled", _("disability")
    SERIOUS_ILLNESS = "serious_illness", _("serious or chronic illness")
    STUDENT = "student", _("a child at school or university")
    CHILD = "child", _("a child under 18")
    UNEMPLOYED = "unemployed", _("out of work")
    HOUSING = "housing", _("housing difficulty")
    EMERGENCY = "emergency", _("a sudden accident or disaster")
    LIVES_ALONE = "lives_alone", _("living alone")


class Policy(models.Model):
    """One policy as the county publishes it. Edits make a new revision; the row holds
    the current text, so the guide and the matcher always read one place."""

    # None: a national or province-wide policy offered in every county's library.
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
    )
    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=100)
    department = models.CharField(_("department"), max_length=60)
    theme = models.CharField(_("theme"), max_length=20, choices=Theme.choices)
    summary = models.TextField(_("summary"), max_length=600)
    conditions_text = models.TextField(_("conditions"), max_length=2000)
    benefit = models.TextField(_("benefit"), max_length=1000)
    how_to_apply = models.TextField(_("how to apply"), max_length=1000)
    phone = models.CharField(_("contact phone"), max_length=40)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    is_public = models.BooleanField(_("shown in the public guide"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    guide_tags = models.JSONField(_("fits these answers"), default=list, blank=True)
    # The machine-checkable rule: one SELECT over the documented input tables returning
    # household_id, evidence and explanation (docs/policies.md). Empty: words only.
    rule_sql = models.TextField(_("eligibility rule (SQL)"), blank=True)
    rule_version = models.PositiveIntegerField(_("rule version"), default=1)
    # Enrolment in this category means the household already has the policy; a
    # household enrolled but no longer matching is reported as no longer eligible.
    enrolment_category = models.CharField(
        _("enrolment category"), max_length=24, choices=Category.choices, blank=True
    )
    # An applications.AssistanceKind code: a match can start an application of it.
    assistance_kind = models.SlugField(_("kind of assistance"), max_length=32, blank=True)
    revision = models.PositiveIntegerField(_("revision"), default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
        ordering = ["theme", "name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "code"], name="policy_code_unique_in_region"),
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(region__isnull=True),
                name="policy_code_unique_national",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="policy_valid_until_after_from",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_rule(self) -> bool:
        return bool(self.rule_sql.strip())


class PolicyRevision(models.Model):
    """Every saved state of a policy, who saved it and why: the library's history."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    data = models.JSONField()
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["policy", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="policy_revision_unique")
        ]

    def __str__(self) -> str:
        return f"{self.policy_id} r{self.number}"


class PolicyRun(models.Model):
    """One matching pass over the registry snapshot."""

    as_of = models.DateField()
    engine = models.CharField(max_length=12, default="duckdb")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    households = models.PositiveIntegerField(default=0)
    policies = models.JSONField(default=dict)  # code → rule version
    counts = models.JSONField(default=dict)  # code → {may_qualify, no_longer_eligible}
    seconds = models.JSONField(default=dict)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"policy run {self.as_of}"


class PolicyMatch(HouseholdScoped, models.Model):
    """A household that probably qualifies for a policy it does not have, or has one it
    probably no longer qualifies for. It is also the outreach task of the responsible
    worker: one row per (household, policy, kind) for as long as runs keep finding it."""

    class Kind(models.TextChoices):
        MAY_QUALIFY = "may_qualify", _("may qualify")
        NO_LONGER_ELIGIBLE = "no_longer_eligible", _("enrolled but may no longer qualify")

    class Status(models.TextChoices):
        OPEN = "open", _("to contact")
        CONTACTED = "contacted", _("contacted")
        APPLIED = "applied", _("application started")
        DISMISSED = "dismissed", _("not pursued")
        GONE = "gone", _("no longer found")

    household = models.ForeignKey(
        "registry.Household", on_delete=models.CASCADE, related_name="policy_matches"
    )
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="matches")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    evidence = models.JSONField(default=dict)
    explanation = models.CharField(max_length=500)
    rule_version = models.PositiveIntegerField(default=1)
    first_run = models.ForeignKey(PolicyRun, on_delete=models.PROTECT, related_name="+")
    last_run = models.ForeignKey(PolicyRun, on_delete=models.PROTECT, related_name="+")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_on = models.DateField(null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    application = models.ForeignKey(
        "applications.Application",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["status", "due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "policy", "kind"], name="policy_match_unique"
            )
        ]
        indexes = [models.Index(fields=["status", "kind"])]

    def __str__(self) -> str:
        return f"{self.household_id} {self.policy_id} {self.kind}"
