"""The household registry: households, members, economic data, enrolments, timeline.

Personal data models declare ``scope_region_lookup`` and ``scope_assigned`` so that
``jiuzhu.accounts.scoping`` can limit every query to what the user may see.
ID and phone numbers are never stored in clear: see ``jiuzhu.core.crypto``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiuzhu.core.masking import mask_name
from jiuzhu.registry import choices as c

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class HouseholdScoped:
    """Scoping for personal data that hangs off a household (see accounts.scoping).

    ``scope_household_path`` is the lookup from the model to its household ("" for the
    household itself); ``scope_region_lookup`` names the region code the same way.
    """

    scope_household_path: str = "household"
    scope_region_lookup: str = "household__region__code"

    @classmethod
    def _scope_prefix(cls) -> str:
        return f"{cls.scope_household_path}__" if cls.scope_household_path else ""

    @classmethod
    def scope_assigned(cls, user: Any) -> Q | None:
        key = f"{cls._scope_prefix()}id__in" if cls.scope_household_path else "pk__in"
        return Q(**{key: HouseholdAssignment.objects.filter(user=user).values("household_id")})


class Household(HouseholdScoped, models.Model):
    number = models.CharField(_("household number"), max_length=32, unique=True)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    area_type = models.CharField(
        _("urban or rural"), max_length=8, choices=c.AreaType.choices, default=c.AreaType.RURAL
    )
    # db_index (not Meta.indexes): on PostgreSQL Django then adds a varchar_pattern_ops
    # index too, which prefix search (LIKE '王%') needs.
    head_name = models.CharField(_("head of household"), max_length=50, blank=True, db_index=True)
    member_count = models.PositiveSmallIntegerField(_("members"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    scope_household_path = ""
    scope_region_lookup = "region__code"

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return self.number

    @property
    def head_name_masked(self) -> str:
        return mask_name(self.head_name)


class HouseholdAssignment(models.Model):
    """A household put in the care of one worker (caseworker, adviser) outside their area."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["household", "user"], name="unique_assignment")
        ]

    def __str__(self) -> str:
        return f"{self.household_id} → {self.user_id}"


class Person(HouseholdScoped, models.Model):
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="members")
    # The household's village, copied so that scoping and name search need no join with
    # the household table (5.8 M persons at Dezhou scale). Services keep it in step.
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    name = models.CharField(_("name"), max_length=50)
    sex = models.CharField(_("sex"), max_length=1, choices=c.Sex.choices)
    birth_date = models.DateField(_("date of birth"))
    # Encrypted (AES-GCM) with an HMAC blind index for exact look-up; the masked form is
    # kept so that lists never decrypt anything.
    id_number_encrypted = models.TextField()
    # Exact-match only: indexed in Meta, so PostgreSQL gets no pattern-ops copy (Django
    # adds one for field-level unique/db_index), which would double the cost of loading.
    id_number_index = models.CharField(max_length=64)
    id_number_masked = models.CharField(_("ID number"), max_length=18)
    phone_encrypted = models.TextField(blank=True)
    phone_index = models.CharField(max_length=64, blank=True)
    phone_masked = models.CharField(_("phone"), max_length=16, blank=True)
    relationship = models.CharField(
        _("relationship to head"), max_length=16, choices=c.Relationship.choices
    )
    hukou_type = models.CharField(
        _("hukou type"), max_length=20, choices=c.HukouType.choices, blank=True
    )
    hukou_address = models.CharField(_("hukou address"), max_length=200, blank=True)
    marital_status = models.CharField(
        _("marital status"), max_length=12, choices=c.MaritalStatus.choices, blank=True
    )
    education = models.CharField(
        _("education"), max_length=12, choices=c.Education.choices, blank=True
    )
    health = models.CharField(
        _("health"), max_length=12, choices=c.Health.choices, default=c.Health.HEALTHY
    )
    disability_type = models.CharField(
        _("disability type"), max_length=16, choices=c.DisabilityType.choices, blank=True
    )
    disability_grade = models.PositiveSmallIntegerField(
        _("disability grade"), null=True, blank=True, choices=[(g, str(g)) for g in (1, 2, 3, 4)]
    )
    labour_capacity = models.CharField(
        _("labour capacity"), max_length=8, choices=c.LabourCapacity.choices, blank=True
    )
    employment = models.CharField(
        _("employment"), max_length=12, choices=c.Employment.choices, blank=True
    )
    # The 6-item self-care assessment: True = can do it unaided.
    can_eat = models.BooleanField(_("eating"), default=True)
    can_dress = models.BooleanField(_("dressing"), default=True)
    can_transfer = models.BooleanField(_("getting in and out of bed"), default=True)
    can_use_toilet = models.BooleanField(_("using the toilet"), default=True)
    can_walk_indoors = models.BooleanField(_("walking indoors"), default=True)
    can_bathe = models.BooleanField(_("bathing"), default=True)
    is_deceased = models.BooleanField(_("deceased"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    scope_region_lookup = "region__code"

    # What a worker may record or change about a member (services.person_create/update,
    # the roster and the synth loader all take this list). Sex and birth date come from
    # the ID number; the protected numbers have their own functions.
    ATTRIBUTE_FIELDS = (
        "name",
        "relationship",
        "hukou_type",
        "hukou_address",
        "marital_status",
        "education",
        "health",
        "disability_type",
        "disability_grade",
        "labour_capacity",
        "employment",
        "can_eat",
        "can_dress",
        "can_transfer",
        "can_use_toilet",
        "can_walk_indoors",
        "can_bathe",
        "is_deceased",
    )
    SELF_CARE_FIELDS = (
        "can_eat",
        "can_dress",
        "can_transfer",
        "can_use_toilet",
        "can_walk_indoors",
        "can_bathe",
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        constraints = [
            models.UniqueConstraint(fields=["id_number_index"], name="person_unique_id_number")
        ]
        indexes = [
            models.Index(fields=["phone_index"], name="person_phone_index"),
            # Name prefix search within an area: LIKE '王建%' AND region LIKE '360823100%'.
            # The pattern opclasses matter on PostgreSQL only; other databases ignore them.
            models.Index(
                fields=["name", "region"],
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
                name="person_name_region",
            ),
        ]

    def __str__(self) -> str:
        return self.name_masked

    @property
    def name_masked(self) -> str:
        return mask_name(self.name)

    @property
    def self_care(self) -> c.SelfCare:
        unable = sum(1 for f in self.SELF_CARE_FIELDS if not getattr(self, f))
        if unable == 0:
            return c.SelfCare.ABLE
        if unable <= 3:
            return c.SelfCare.PARTIAL
        return c.SelfCare.UNABLE


class Illness(HouseholdScoped, models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="illnesses")
    icd10 = models.CharField(_("ICD-10 code"), max_length=8)
    name = models.CharField(_("diagnosis"), max_length=100)
    is_serious = models.BooleanField(_("serious illness"), default=False)
    diagnosed_on = models.DateField(_("diagnosed on"), null=True, blank=True)

    scope_household_path = "person__household"
    scope_region_lookup = "person__region__code"

    class Meta:
        verbose_name = _("illness")
        verbose_name_plural = _("illnesses")

    def __str__(self) -> str:
        return f"{self.icd10} {self.name}"


class Income(HouseholdScoped, models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="incomes")
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=c.IncomeKind.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    annual_amount = models.DecimalField(_("amount per year"), **MONEY)

    class Meta:
        verbose_name = _("income")
        verbose_name_plural = _("incomes")

    def __str__(self) -> str:
        return f"{self.kind} {self.year}"


class Asset(HouseholdScoped, models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="assets")
    kind = models.CharField(_("kind"), max_length=16, choices=c.AssetKind.choices)
    description = models.CharField(_("description"), max_length=200, blank=True)
    value = models.DecimalField(_("value"), **MONEY)
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Units, square metres of housing or mu of land."),
    )

    class Meta:
        verbose_name = _("asset")
        verbose_name_plural = _("assets")

    def __str__(self) -> str:
        return self.kind


class Expenditure(HouseholdScoped, models.Model):
    """Rigid expenditure (刚性支出): medical and education costs the household must bear."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="expenditures")
    kind = models.CharField(_("kind"), max_length=16, choices=c.ExpenditureKind.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        verbose_name = _("rigid expenditure")
        verbose_name_plural = _("rigid expenditures")

    def __str__(self) -> str:
        return f"{self.kind} {self.year}"


class Enrolment(HouseholdScoped, models.Model):
    """One spell of assistance in one category. Rows are never deleted: an ended spell
    stays, so the list of a household's enrolments is its history."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="enrolments")
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enrolments",
        help_text=_("Empty when the whole household is enrolled."),
    )
    category = models.CharField(_("category"), max_length=24, choices=c.Category.choices)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=c.EnrolmentStatus.choices,
        default=c.EnrolmentStatus.ACTIVE,
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    monthly_amount = models.DecimalField(_("monthly amount"), **MONEY, default=0)
    end_reason = models.CharField(_("reason for ending"), max_length=200, blank=True)
    source = models.CharField(
        _("source"),
        max_length=32,
        blank=True,
        help_text=_("How it was recorded: roster import, synth, …"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        indexes = [models.Index(fields=["category", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="enrolment_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.start_date}"


class TimelineEvent(HouseholdScoped, models.Model):
    """One step of the household's assistance chain (救助链). Other apps add events only
    through ``jiuzhu.registry.timeline.timeline_add``."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="timeline")
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    kind = models.CharField(_("kind"), max_length=40)
    source = models.CharField(_("source"), max_length=32)
    summary = models.CharField(_("summary"), max_length=300)
    detail = models.JSONField(default=dict, blank=True)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        indexes = [models.Index(fields=["household", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d} {self.kind}"
