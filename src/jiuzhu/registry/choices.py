"""Code lists of the household file (cf. MZ/T 073-2024 data elements, GB/T 2261)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AreaType(models.TextChoices):
    URBAN = "urban", _("urban")
    RURAL = "rural", _("rural")


class HukouType(models.TextChoices):
    AGRICULTURAL = "agricultural", _("agricultural hukou")
    NON_AGRICULTURAL = "non_agricultural", _("non-agricultural hukou")
    RESIDENT = "resident", _("unified resident hukou")


class Sex(models.TextChoices):
    MALE = "M", _("male")
    FEMALE = "F", _("female")


class Relationship(models.TextChoices):
    HEAD = "head", _("head of household")
    SPOUSE = "spouse", _("spouse")
    CHILD = "child", _("child")
    CHILD_IN_LAW = "child_in_law", _("son- or daughter-in-law")
    GRANDCHILD = "grandchild", _("grandchild")
    PARENT = "parent", _("parent")
    GRANDPARENT = "grandparent", _("grandparent")
    SIBLING = "sibling", _("sibling")
    OTHER = "other", _("other relative")


class MaritalStatus(models.TextChoices):
    UNMARRIED = "unmarried", _("unmarried")
    MARRIED = "married", _("married")
    WIDOWED = "widowed", _("widowed")
    DIVORCED = "divorced", _("divorced")


class Education(models.TextChoices):
    NONE = "none", _("no schooling")
    PRESCHOOL = "preschool", _("pre-school")
    PRIMARY = "primary", _("primary school")
    JUNIOR = "junior", _("junior secondary")
    SENIOR = "senior", _("senior secondary / vocational")
    COLLEGE = "college", _("college and above")


class Health(models.TextChoices):
    HEALTHY = "healthy", _("healthy")
    CHRONIC = "chronic", _("chronic illness")
    SERIOUS = "serious", _("serious illness")
    DISABLED = "disabled", _("disabled")


class DisabilityType(models.TextChoices):
    """The six kinds of the disability certificate, plus multiple."""

    VISUAL = "visual", _("visual")
    HEARING = "hearing", _("hearing")
    SPEECH = "speech", _("speech")
    PHYSICAL = "physical", _("physical")
    INTELLECTUAL = "intellectual", _("intellectual")
    MENTAL = "mental", _("mental")
    MULTIPLE = "multiple", _("multiple")


class LabourCapacity(models.TextChoices):
    FULL = "full", _("able to work")
    PARTIAL = "partial", _("partly able to work")
    NONE = "none", _("unable to work")


class Employment(models.TextChoices):
    EMPLOYED = "employed", _("employed")
    FLEXIBLE = "flexible", _("flexible / casual work")
    FARMING = "farming", _("farming")
    MIGRANT = "migrant", _("migrant worker")
    UNEMPLOYED = "unemployed", _("unemployed")
    STUDENT = "student", _("student")
    RETIRED = "retired", _("retired")
    NOT_WORKING = "not_working", _("not working (child, elder, ill)")


class SelfCare(models.TextChoices):
    """Derived from the 6-item assessment (特困人员生活自理能力评估)."""

    ABLE = "able", _("able to look after themselves")
    PARTIAL = "partial", _("partly unable to look after themselves")
    UNABLE = "unable", _("fully unable to look after themselves")


class IncomeKind(models.TextChoices):
    WAGES = "wages", _("wages")
    BUSINESS = "business", _("business income")
    AGRICULTURE = "agriculture", _("farming income")
    PROPERTY = "property", _("property income")
    TRANSFER = "transfer", _("transfer income")
    PENSION = "pension", _("pension")
    SUPPORT = "support", _("support from relatives")
    OTHER = "other", _("other income")


class AssetKind(models.TextChoices):
    HOUSING = "housing", _("housing")
    VEHICLE = "vehicle", _("vehicle")
    BUSINESS = "business", _("business")
    DEPOSIT = "deposit", _("deposits")
    SECURITIES = "securities", _("securities and insurance")
    LAND = "land", _("land")
    OTHER = "other", _("other assets")


class ExpenditureKind(models.TextChoices):
    MEDICAL = "medical", _("medical")
    EDUCATION = "education", _("education")
    OTHER = "other", _("other rigid expenditure")


class Category(models.TextChoices):
    """National categories of assistance (国办发〔2023〕39号 and related rules)."""

    DIBAO = "dibao", _("minimum living allowance (低保)")
    TEKUN_CENTRALISED = "tekun_centralised", _("extreme poverty, institutional care (特困集中)")
    TEKUN_DISPERSED = "tekun_dispersed", _("extreme poverty, home care (特困分散)")
    DIBAO_MARGINAL = "dibao_marginal", _("near-dibao household (低保边缘)")
    RIGID_EXPENDITURE = "rigid_expenditure", _("rigid-expenditure hardship (刚性支出困难)")
    RELAPSE_MONITORING = "relapse_monitoring", _("relapse-prevention monitoring (防止返贫监测)")
    TEMPORARY = "temporary", _("temporary assistance (临时救助)")
    UNSUPPORTED_CHILD = "unsupported_child", _("de-facto unsupported child (事实无人抚养儿童)")
    ORPHAN = "orphan", _("orphan (孤儿)")
    OTHER = "other", _("other persons in hardship (其他困难人员)")


# Chinese names accepted in rosters (台账), mapped to categories.
CATEGORY_BY_CHINESE_NAME = {
    "低保": Category.DIBAO,
    "最低生活保障": Category.DIBAO,
    "特困集中": Category.TEKUN_CENTRALISED,
    "特困集中供养": Category.TEKUN_CENTRALISED,
    "特困分散": Category.TEKUN_DISPERSED,
    "特困分散供养": Category.TEKUN_DISPERSED,
    "低保边缘": Category.DIBAO_MARGINAL,
    "刚性支出困难": Category.RIGID_EXPENDITURE,
    "防止返贫监测": Category.RELAPSE_MONITORING,
    "防止返贫监测对象": Category.RELAPSE_MONITORING,
    "临时救助": Category.TEMPORARY,
    "事实无人抚养儿童": Category.UNSUPPORTED_CHILD,
    "孤儿": Category.ORPHAN,
    "其他困难人员": Category.OTHER,
}


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    SUSPENDED = "suspended", _("suspended")
    ENDED = "ended", _("ended")
