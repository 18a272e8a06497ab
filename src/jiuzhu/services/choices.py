"""Code lists of the services app: catalogue categories, tiers and units, target groups,
entitlement units and periods, plan statuses."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Category(models.TextChoices):
    """The three national categories of service-type assistance."""

    CARE = "care", _("care services (照护服务)")
    DAILY_LIVING = "daily_living", _("daily-living services (生活服务)")
    CARING_SUPPORT = "caring_support", _("caring support (关爱服务)")


class Tier(models.TextChoices):
    """Dongsheng's four progressive tiers, from the basics to better outcomes."""

    BASIC = "basic", _("meet basic needs (保基本)")
    RELIEF = "relief", _("relieve difficulties (去困扰)")
    DEVELOPMENT = "development", _("promote development (促发展)")
    QUALITY = "quality", _("improve quality (增质效)")


class Unit(models.TextChoices):
    TIME = "time", _("time (次)")
    VISIT = "visit", _("home visit (上门)")
    PIECE = "piece", _("piece (件)")
    HOUR = "hour", _("hour (小时)")


class TargetGroup(models.TextChoices):
    """Who may receive an item or an entitlement. A household fits a group when an active
    enrolment or a living member puts it there (selectors.household_groups)."""

    DIBAO = "dibao", _("低保 households")
    TEKUN = "tekun", _("特困 persons (institutional or at home)")
    DIBAO_MARGINAL = "dibao_marginal", _("低保边缘 households")
    RIGID_EXPENDITURE = "rigid_expenditure", _("rigid-expenditure hardship households")
    RELAPSE_MONITORING = "relapse_monitoring", _("relapse-prevention monitoring households")
    UNSUPPORTED_CHILD = "unsupported_child", _("de-facto unsupported children and orphans")
    ELDERLY = "elderly", _("aged 60 and over")
    CHILDREN = "children", _("children under 18")
    DISABLED = "disabled", _("persons with a disability")
    SEVERE_DISABILITY = "severe_disability", _("severe disability (grade 1–2)")
    ILL = "ill", _("chronic or serious illness")
    WORKING_AGE = "working_age", _("aged 18–59 and able to work")
    SELF_CARE = "self_care", _("partly or fully unable to look after themselves")


class EntitlementUnit(models.TextChoices):
    YUAN = "yuan", _("yuan")
    HOURS = "hours", _("hours")


class Period(models.TextChoices):
    YEAR = "year", pgettext_lazy("period", "a year")
    MONTH = "month", pgettext_lazy("period", "a month")


class Opening(models.TextChoices):
    MONTHS = "months", _("a number of months after the plan starts")
    PREVIOUS_FULL = "previous_full", _("when the previous stage is fully chosen")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    AGREED = "agreed", _("agreed")
    CLOSED = "closed", _("closed")


class AgreedHow(models.TextChoices):
    IN_PERSON = "in_person", _("in person")
    PHONE = "phone", _("by phone")


class ChosenBy(models.TextChoices):
    WORKER = "worker", _("worker")
    BENEFICIARY = "beneficiary", _("beneficiary")


# "Any tier": the key of an entitlement amount that applies whatever the tier.
ANY_TIER = "*"


# --- Service delivery (issue 6): providers, volunteers, needs, claims, orders ---------


class ProviderKind(models.TextChoices):
    SOCIAL_ORG = "social_org", _("social organisation (社会组织)")
    SOCIAL_WORK = "social_work", _("social-work agency (社工机构)")
    ELDERLY_CARE = "elderly_care", _("elderly-care service centre (养老服务中心)")
    ENTERPRISE = "enterprise", _("enterprise (企业)")
    CHARITY = "charity", _("charitable organisation (慈善组织)")


class Light(models.TextChoices):
    """A provider's traffic light (红绿灯). The supervision app decides it; services only
    reads it: red receives nothing new."""

    GREEN = "green", _("green")
    YELLOW = "yellow", _("yellow")
    RED = "red", _("red")


class ContractStatus(models.TextChoices):
    ACTIVE = "active", _("in force")
    SUSPENDED = "suspended", _("suspended")
    ENDED = "ended", _("ended")


class VolunteerKind(models.TextChoices):
    VOLUNTEER = "volunteer", _("volunteer")
    DONOR = "donor", _("donor (爱心人士)")


class VolunteerStatus(models.TextChoices):
    PENDING = "pending", _("awaiting verification")
    VERIFIED = "verified", _("verified")
    SUSPENDED = "suspended", _("suspended")


class Skill(models.TextChoices):
    COMPANIONSHIP = "companionship", _("companionship and chatting")
    CLEANING = "cleaning", _("cleaning")
    COOKING = "cooking", _("cooking and meal delivery")
    HAIRCUT = "haircut", _("haircut and grooming")
    REPAIR = "repair", _("home repairs")
    TUTORING = "tutoring", _("tutoring")
    HEALTH = "health", _("health checks")
    COUNSELLING = "counselling", _("counselling")
    ERRANDS = "errands", _("errands and shopping")
    LEGAL = "legal", _("legal advice")
    TRANSPORT = "transport", _("transport")


class NeedSource(models.TextChoices):
    PLAN = "plan", _("service plan")
    WARNING = "warning", _("verified warning")
    VISIT = "visit", _("visit")
    WISH = "wish", _("micro-wish (微心愿)")
    CALL = "call", _("one-key call")
    STAFF = "staff", _("entered by staff")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("normal")
    URGENT = "urgent", _("urgent")
    CRITICAL = "critical", _("critical")


class Funding(models.TextChoices):
    """Who pays: the household's entitlement (voucher), a purchase-of-service project,
    a charity, or nobody (a volunteer or donor claims it)."""

    VOUCHER = "voucher", _("service voucher (entitlement)")
    PROJECT = "project", _("purchase-of-service project")
    CHARITY = "charity", _("charity")
    SELF_CLAIM = "self_claim", _("claimed by a volunteer or donor")


class Route(models.TextChoices):
    """How a need reaches someone who serves it: claimed on the public market (红哨子 /
    微心愿) or dispatched to a contracted provider (三单制)."""

    CLAIM = "claim", _("claiming (认领)")
    DISPATCH = "dispatch", _("dispatch (派单)")


class NeedStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published, open for claiming")
    CLAIMED = "claimed", _("claimed")
    DISPATCHING = "dispatching", _("being dispatched")
    IN_SERVICE = "in_service", _("in service")
    FULFILLED = "fulfilled", _("fulfilled")
    CANCELLED = "cancelled", _("cancelled")
    EXPIRED = "expired", _("expired")


class ConsentHow(models.TextChoices):
    SIGNED = "signed", _("signed form")
    VERBAL = "verbal", _("verbally, in person")
    PHONE = "phone", _("by phone")
    APP = "app", _("in the app")


class ClaimantKind(models.TextChoices):
    VOLUNTEER = "volunteer", _("volunteer")
    ORGANISATION = "organisation", _("organisation")
    DONOR = "donor", _("donor")


class ClaimStatus(models.TextChoices):
    PENDING = "pending", _("claimed, awaiting approval")
    APPROVED = "approved", _("approved")
    DELIVERED = "delivered", _("delivered, awaiting confirmation")
    COMPLETED = "completed", _("completed")
    REJECTED = "rejected", _("rejected")
    WITHDRAWN = "withdrawn", _("withdrawn")
    EXPIRED = "expired", _("expired")


# A claim in one of these holds the need: at most one per need (a database constraint).
ACTIVE_CLAIM_STATUSES = ("pending", "approved", "delivered")


class ConfirmedBy(models.TextChoices):
    BENEFICIARY = "beneficiary", _("the beneficiary")
    STAFF = "staff", _("staff")


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("ordered, awaiting dispatch (点单)")
    OFFERED = "offered", _("offered to a provider (派单)")
    ACCEPTED = "accepted", _("accepted (接单)")
    IN_SERVICE = "in_service", _("in service (checked in)")
    CHECKED_OUT = "checked_out", _("served, awaiting rating")
    CLOSED = "closed", _("closed")
    CANCELLED = "cancelled", _("cancelled")
    NO_SHOW = "no_show", _("no-show")
    DISPUTED = "disputed", _("disputed")


# Orders in these hold a provider's capacity for the day and the household's voucher.
OPEN_ORDER_STATUSES = ("pending", "offered", "accepted", "in_service", "checked_out")


class OfferStatus(models.TextChoices):
    OFFERED = "offered", _("offered")
    ACCEPTED = "accepted", _("accepted")
    DECLINED = "declined", _("declined")
    EXPIRED = "expired", _("no answer in time")
    WITHDRAWN = "withdrawn", _("withdrawn by the dispatcher")


class OfferedBy(models.TextChoices):
    OPTIMISER = "optimiser", _("optimiser")
    DISPATCHER = "dispatcher", _("dispatcher (override)")


class RatedHow(models.TextChoices):
    APP = "app", _("by the beneficiary in the app")
    STAFF = "staff", _("recorded by staff in person")
    PHONE = "phone", _("recorded by staff by phone")


class DebitKind(models.TextChoices):
    DEBIT = "debit", _("debit")
    RELEASE = "release", _("release")
