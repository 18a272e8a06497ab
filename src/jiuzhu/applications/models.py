"""Applications for assistance and what decides them (一门受理、协同办理).

One application may ask for several kinds of help at once. Kinds of help and the
economic standards they are judged by are configuration: a county adds a kind, and a new
低保 standard is a new dated row, never an edit, so every past check can be re-read
against the figures it used.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiuzhu.registry.choices import AreaType, Category

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class AssistanceKind(models.Model):
    """A kind of help one can apply for: the national ones, and any a county adds."""

    class AmountRule(models.TextChoices):
        # 低保: the gap between the standard and per-capita income, per member, with a floor
        GAP_TO_STANDARD = "gap_to_standard", _("gap to the standard, per member")
        # 特困: at least 1.3 × the local 低保 standard, per person supported
        FACTOR_OF_STANDARD = "factor_of_standard", _("a factor of the standard, per person")
        FIXED_MONTHLY = "fixed_monthly", _("fixed monthly amount")
        ONE_OFF = "one_off", _("one-off payment")
        NONE = "none", _("no payment (status only)")

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=50)
    name_en = models.CharField(_("name (English)"), max_length=80)

    class IncomeTest(models.TextChoices):
        # per-capita income below the 低保 standard, assets within limits
        DIBAO = "dibao", _("below the 低保 standard")
        # below the marginal factor × the standard, assets within limits
        MARGINAL = "marginal", _("below the 低保边缘 line")
        # below last year's disposable income, assets within limits, rigid share reached
        RIGID = "rigid", _("rigid-expenditure hardship")
        NONE = "none", _("no economic test")

    # The national category an enrolment in this kind is counted under.
    category = models.CharField(_("category"), max_length=24, choices=Category.choices)
    income_test = models.CharField(
        _("economic test"), max_length=12, choices=IncomeTest.choices, default=IncomeTest.DIBAO
    )
    amount_rule = models.CharField(
        _("amount rule"), max_length=20, choices=AmountRule.choices, default=AmountRule.NONE
    )
    # Parameters of the amount rule, e.g. {"floor": "30"} or {"monthly": "120"}.
    amount_parameters = models.JSONField(_("amount parameters"), default=dict, blank=True)
    review_months = models.PositiveSmallIntegerField(_("review every (months)"), default=12)
    # Households with a working-age member able to work: their income changes more often.
    review_months_with_workers = models.PositiveSmallIntegerField(
        _("review every (months), households with workers"), default=6
    )
    # 渐退: income above the line keeps the benefit this many months more (0 = ends at once)
    graded_exit_months = models.PositiveSmallIntegerField(
        _("graded exit (months)"),
        default=6,
        validators=[MinValueValidator(0), MaxValueValidator(12)],
    )
    # 审核确认 within this many working days of submission (低保审核确认办法: 30)
    decision_days = models.PositiveSmallIntegerField(
        _("time limit for the decision (working days)"), default=30
    )
    disclosure_days = models.PositiveSmallIntegerField(
        _("public disclosure (days; 0 = none)"), default=7
    )
    required_documents = models.JSONField(_("required documents"), default=list, blank=True)
    is_builtin = models.BooleanField(default=False)
    # A kind a county added applies in that county only; built-in kinds everywhere.
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_builtin", "code"]

    def __str__(self) -> str:
        return self.name_zh


class Standard(models.Model):
    """One dated value of an economic standard for part of the country.

    The value in force for a household is the one of the longest region prefix, the
    household's urban/rural type before "both", and the latest ``valid_from`` on or
    before the day asked about. Rows are never changed: a new standard is a new row.
    """

    class Name(models.TextChoices):
        DIBAO_MONTHLY = "dibao_monthly", _("低保 standard (yuan per person a month)")
        MARGINAL_FACTOR = "marginal_factor", _("低保边缘 factor of the 低保 standard")
        DISPOSABLE_INCOME = (
            "disposable_income",
            _("per-capita disposable income of last year (yuan)"),
        )
        RIGID_SHARE = "rigid_share", _("rigid expenditure share of household income")
        DEPOSIT_MONTHS = (
            "deposit_months",
            _("per-capita deposits limit (months of the 低保 standard)"),
        )
        VEHICLE_LIMIT = "vehicle_limit", _("vehicle value limit (yuan; 0 = no vehicle)")
        BUSINESS_LIMIT = "business_limit", _("registered business capital limit (yuan)")
        HOUSING_LIMIT = "housing_limit", _("property limit (number of homes)")

    name = models.CharField(_("standard"), max_length=24, choices=Name.choices)
    # None: the national default.
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    area_type = models.CharField(
        _("urban or rural"), max_length=8, choices=AreaType.choices, blank=True
    )
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=4)
    valid_from = models.DateField(_("valid from"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "region_id", "area_type", "-valid_from", "-id"]
        indexes = [models.Index(fields=["name", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.name} {self.region_id or '*'} {self.area_type or '*'} {self.valid_from}"


class Application(models.Model):
    class Channel(models.TextChoices):
        SELF = "self", _("by the applicant")
        ON_BEHALF = "on_behalf", _("by a worker on the applicant's behalf (帮办代办)")
        WARNING = "warning", _("from a verified warning")
        POLICY = "policy", _("from a policy match")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted")
        DECIDED = "decided", _("decided")
        DISCLOSED = "disclosed", _("on public disclosure")
        CONFIRMED = "confirmed", _("confirmed")
        WITHDRAWN = "withdrawn", _("withdrawn")

    class Tier(models.TextChoices):
        TOWN = "town", _("town (审核确认)")
        COUNTY = "county", _("county (提级复审)")

    number = models.CharField(_("application number"), max_length=32, unique=True)
    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="applications"
    )
    # The household's village, copied so that worklists are scoped by an indexed prefix.
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    applicant = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    source_warning = models.ForeignKey(
        "monitoring.Warning", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(_("reason for applying"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    # Who decides now, and by when (the legal time limit); overdue goes to the county.
    tier = models.CharField(_("decided at"), max_length=8, choices=Tier.choices, default=Tier.TOWN)
    due_at = models.DateTimeField(_("decision due"), null=True, blank=True)
    referred_up_at = models.DateTimeField(_("referred to the county"), null=True, blank=True)
    referral_reason = models.TextField(_("why it went to the county"), blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)

    scope_region_lookup = "region__code"

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["region", "status"])]

    def __str__(self) -> str:
        return self.number

    @classmethod
    def scope_assigned(cls, user: Any) -> Q | None:
        # Whoever entered an application keeps seeing it, wherever the household moved.
        return Q(entered_by=user)


class RequestedKind(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="kinds")
    kind = models.ForeignKey(AssistanceKind, on_delete=models.PROTECT, related_name="+")
    # 临时救助 and other one-off help: what the applicant asks for.
    requested_amount = models.DecimalField(_("amount requested"), **MONEY, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "kind"], name="one_request_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.application_id}:{self.kind_id}"


class DeclaredFigure(models.Model):
    """What the household declares (申报): compared with what the check finds."""

    class Item(models.TextChoices):
        INCOME = "income", _("income a year")
        DEPOSITS = "deposits", _("deposits")
        VEHICLES = "vehicles", _("vehicles")
        HOMES = "homes", _("homes")
        BUSINESSES = "businesses", _("businesses")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="declared")
    item = models.CharField(_("item"), max_length=12, choices=Item.choices)
    # For income: the income kind (wages, business…); blank for the other items.
    detail = models.CharField(_("detail"), max_length=16, blank=True)
    amount = models.DecimalField(_("amount or count"), **MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application", "item", "detail"], name="one_declaration_per_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item}:{self.detail} {self.amount}"


class Document(models.Model):
    class Kind(models.TextChoices):
        ID_CARD = "id_card", _("ID card")
        HUKOU = "hukou", _("household register (户口簿)")
        INCOME_PROOF = "income_proof", _("proof of income")
        MEDICAL_BILLS = "medical_bills", _("medical bills")
        DISABILITY_CERTIFICATE = "disability_cert", _("disability certificate")
        AUTHORISATION = "authorisation", _("authorisation for the economic check")
        OTHER = "other", _("other")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("document"), max_length=16, choices=Kind.choices)
    file = models.FileField(upload_to="applications/%Y/%m/")
    content_type = models.CharField(max_length=40)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.sha256[:12]}"


class CheckAuthorisation(models.Model):
    """The household's written authorisation for the economic check (核对授权书):
    without it, the check does not run."""

    application = models.OneToOneField(
        Application, on_delete=models.CASCADE, related_name="authorisation"
    )
    signed_on = models.DateField(_("signed on"))
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+")
    # The adult members who signed (person ids), as the form lists them.
    signers = models.JSONField(_("signed by"), default=list)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"authorisation {self.application_id} {self.signed_on}"


class Decision(models.Model):
    """The decision on one kind asked for (审核确认). The maker is never the person who
    entered the application; an exception (一事一议) needs a second approver."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    class Status(models.TextChoices):
        FINAL = "final", _("final")
        AWAITING_SECOND = "awaiting_second", _("awaiting the second approver")
        REVOKED = "revoked", _("revoked after an upheld objection")

    requested = models.ForeignKey(RequestedKind, on_delete=models.PROTECT, related_name="decisions")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    tier = models.CharField(_("decided at"), max_length=8, choices=Application.Tier.choices)
    is_exception = models.BooleanField(_("exception (一事一议)"), default=False)
    reasons = models.TextField(_("reasons"))
    economic_check = models.ForeignKey(
        "EconomicCheck", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    monthly_amount = models.DecimalField(_("monthly amount"), **MONEY, default=0)
    one_off_amount = models.DecimalField(_("one-off amount"), **MONEY, default=0)
    amount_explanation = models.CharField(_("how the amount was computed"), max_length=300)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    made_at = models.DateTimeField(auto_now_add=True)
    second_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    second_reasons = models.TextField(_("second approver's reasons"), blank=True)
    second_at = models.DateTimeField(null=True, blank=True)
    # The registry enrolment this approval became on confirmation.
    enrolment = models.ForeignKey(
        "registry.Enrolment", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            # one live decision per kind asked for; a revoked one may be followed by another
            models.UniqueConstraint(
                fields=["requested"],
                condition=~Q(status="revoked"),
                name="one_live_decision_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.outcome} {self.requested_id}"


class UrgentRelief(models.Model):
    """先行救助: urgent temporary help paid at once; the file is completed afterwards,
    within a deadline."""

    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="urgent_relief"
    )
    # The approval of the temporary help it paid (its payment month is ``paid_at``'s).
    decision = models.OneToOneField(
        Decision, on_delete=models.PROTECT, null=True, blank=True, related_name="urgent_relief"
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    reasons = models.TextField(_("reasons"))
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    paid_at = models.DateTimeField(auto_now_add=True)
    file_due = models.DateField(_("file to be completed by"))
    completed_at = models.DateTimeField(_("file completed"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("reported overdue"), null=True, blank=True)

    def __str__(self) -> str:
        return f"先行救助 {self.application_id} {self.amount}"


class Disclosure(models.Model):
    """Public disclosure (公示) of an approved application for a set period.

    What the public sees is built by ``disclosure.public_entry`` from an allow-list of
    fields — never from this row directly."""

    class Status(models.TextChoices):
        RUNNING = "running", _("on display")
        ENDED = "ended", _("period ended, taken down")
        WITHDRAWN = "withdrawn", _("withdrawn after an objection")

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="disclosures"
    )
    # The village of the household; the town and county pages list it too.
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.RUNNING
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(auto_now_add=True)
    taken_down_at = models.DateTimeField(_("taken down"), null=True, blank=True)
    # Short public reference for the QR code and objections (no personal data).
    reference = models.CharField(max_length=16, unique=True)

    scope_region_lookup = "region__code"

    class Meta:
        ordering = ["-starts_on", "-id"]
        indexes = [models.Index(fields=["status", "ends_on"])]

    def __str__(self) -> str:
        return self.reference

    @classmethod
    def scope_assigned(cls, user: Any) -> Q | None:
        return None


class Objection(models.Model):
    """An objection raised during disclosure (异议): it must be resolved before the case
    is confirmed; an upheld objection sends the case back to be decided again."""

    class Resolution(models.TextChoices):
        UPHELD = "upheld", _("upheld: the case is decided again")
        DISMISSED = "dismissed", _("dismissed")

    disclosure = models.ForeignKey(Disclosure, on_delete=models.PROTECT, related_name="objections")
    received_at = models.DateTimeField(_("received"))
    channel = models.CharField(_("received by"), max_length=40)
    content = models.TextField(_("objection"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField(
        _("resolution"), max_length=12, choices=Resolution.choices, blank=True
    )
    resolution_notes = models.TextField(_("how it was resolved"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"objection {self.pk} to {self.disclosure_id}"


class Review(models.Model):
    """A review of an enrolment (动态管理): scheduled, or opened by new department data.

    Its outcome is to continue, a graded exit (the benefit runs until ``exit_on``) or an
    end now. A review the system could settle from the data alone is ``silent``
    (静默认证): nobody visited or asked the household."""

    class Trigger(models.TextChoices):
        SCHEDULED = "scheduled", _("scheduled")
        RECHECK = "recheck", _("new department data")

    class Outcome(models.TextChoices):
        CONTINUE = "continue", _("continues")
        GRADED_EXIT = "graded_exit", _("graded exit (渐退)")
        ENDED = "ended", _("ended")

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="reviews")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    trigger = models.CharField(_("trigger"), max_length=12, choices=Trigger.choices)
    reason = models.CharField(_("why"), max_length=300, blank=True)
    # A re-check opened by this warning (each warning opens at most one).
    source_warning = models.ForeignKey(
        "monitoring.Warning", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    due_on = models.DateField(_("due"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    silent = models.BooleanField(_("silent certification (静默认证)"), default=False)
    economic_check = models.ForeignKey(
        "EconomicCheck", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    exit_on = models.DateField(_("benefit runs until"), null=True, blank=True)
    exit_done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_region_lookup = "region__code"

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["decision"], condition=Q(outcome=""), name="one_open_review_per_approval"
            )
        ]

    def __str__(self) -> str:
        return f"review {self.pk} of {self.decision_id}"

    @classmethod
    def scope_assigned(cls, user: Any) -> Q | None:
        return None


class PaymentList(models.Model):
    """The month's payment list (发放名册) of an area, for the bank. Rebuilding a month
    adds a new version; earlier versions stay as they were handed over."""

    month = models.DateField(_("month"))  # first day
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveSmallIntegerField(default=1)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    total = models.DecimalField(_("total"), **MONEY, default=0)
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    built_at = models.DateTimeField(auto_now_add=True)

    scope_region_lookup = "region__code"

    class Meta:
        ordering = ["-month", "region_id", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "region", "version"], name="one_payment_list_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.month:%Y-%m} v{self.version}"

    @classmethod
    def scope_assigned(cls, user: Any) -> Q | None:
        return None


class PaymentLine(models.Model):
    class Kind(models.TextChoices):
        MONTHLY = "monthly", _("monthly")
        ONE_OFF = "one_off", _("one-off")

    payment_list = models.ForeignKey(PaymentList, on_delete=models.CASCADE, related_name="lines")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="+")
    payee = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="+")
    assistance = models.ForeignKey(AssistanceKind, on_delete=models.PROTECT, related_name="+")
    payment = models.CharField(_("payment"), max_length=8, choices=Kind.choices)
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        ordering = ["household__region_id", "household__number", "assistance__code"]

    def __str__(self) -> str:
        return f"{self.household_id} {self.amount}"


class EconomicCheck(models.Model):
    """One household economic check (家庭经济状况核对) and its full report."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="checks")
    as_of = models.DateField(_("as of"))
    members = models.PositiveSmallIntegerField(_("members counted"))
    annual_income = models.DecimalField(_("household income a year"), **MONEY)
    per_capita_monthly_income = models.DecimalField(_("per-capita income a month"), **MONEY)
    # sources, figures, standards, verdicts per kind, discrepancies (see check.py)
    report = models.JSONField(default=dict)
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    run_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-run_at", "-id"]

    def __str__(self) -> str:
        return f"check {self.pk} of {self.application_id}"


class SelfApplication(models.Model):
    """What an applicant sent from the public mobile form (自助申请). It always gets a
    reference and goes to the village's worklist; when the ID number and name match a
    living registry member, a draft application is started for the household too. The
    answer to the applicant never says which happened, so the form cannot be used to
    learn who is in the registry."""

    class Status(models.TextChoices):
        NEW = "new", _("to contact")
        CLOSED = "closed", _("handled")

    reference = models.CharField(max_length=16, unique=True)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    name_masked = models.CharField(_("name"), max_length=50)
    name_encrypted = models.TextField()
    id_number_encrypted = models.TextField()
    id_number_masked = models.CharField(_("ID number"), max_length=18)
    phone_encrypted = models.TextField()
    phone_masked = models.CharField(_("phone"), max_length=16)
    kinds = models.JSONField(_("kinds of help"), default=list)
    reason = models.TextField(_("reason for applying"))
    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, null=True, blank=True, related_name="self_form"
    )
    # HMAC of the sender's address: counts submissions per address without keeping it.
    client_index = models.CharField(max_length=64, db_index=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.NEW)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    handling_note = models.TextField(_("what was done"), blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)

    scope_region_lookup = "region__code"

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["region", "status"])]

    def __str__(self) -> str:
        return self.reference

    @classmethod
    def scope_assigned(cls, user: Any) -> Q | None:
        return None
