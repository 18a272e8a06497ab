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
