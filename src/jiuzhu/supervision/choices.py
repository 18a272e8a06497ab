"""Choices of the supervision app (revisits, complaints, lights, projects, evaluations)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RevisitMethod(models.TextChoices):
    HOME = "home", _("home visit")
    PHONE = "phone", _("phone call")


class RevisitStatus(models.TextChoices):
    PENDING = "pending", _("to do")
    DONE = "done", _("done")
    UNREACHABLE = "unreachable", _("unreachable")


class RevisitSource(models.TextChoices):
    SAMPLE = "sample", _("monthly sample")
    AD_HOC = "ad_hoc", _("added by staff")
    COMPLAINT = "complaint", _("after a complaint")


class ComplaintChannel(models.TextChoices):
    PHONE = "phone", _("supervision phone")
    REVISIT = "revisit", _("revisit")
    VISIT = "visit", _("in person")
    ONLINE = "online", _("online")


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("open")
    UPHELD = "upheld", _("upheld")
    DISMISSED = "dismissed", _("dismissed")


class DecisionKind(models.TextChoices):
    COMPUTED = "computed", _("from the scorecard")
    OVERRIDE = "override", _("decided by staff")
    EXIT_REVIEW = "exit_review", _("exit review conclusion")
    RECTIFIED = "rectified", _("rectification accepted")


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("open")
    SUBMITTED = "submitted", _("report submitted")
    ACCEPTED = "accepted", _("accepted")
    REJECTED = "rejected", _("rejected")


class ExitReviewStatus(models.TextChoices):
    OPEN = "open", _("under review")
    REINSTATED = "reinstated", _("reinstated (yellow, must rectify)")
    EXPELLED = "expelled", _("expelled")


class ProjectStatus(models.TextChoices):
    """发布 → 对接 → 服务 → 评价 → 提升, then closed."""

    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published (发布)")
    MATCHED = "matched", _("matched with providers (对接)")
    IN_SERVICE = "in_service", _("in service (服务)")
    EVALUATING = "evaluating", _("under evaluation (评价)")
    IMPROVING = "improving", _("improvement (提升)")
    CLOSED = "closed", pgettext_lazy("project", "closed")


class IndicatorArea(models.TextChoices):
    ADMINISTRATION = "administration", _("administrative supervision (行政监管)")
    EFFECT = "effect", _("service effect (服务成效)")
    MANAGEMENT = "management", _("project management (项目管理)")
    SOCIAL = "social", _("social impact (社会影响)")


class IndicatorMethod(models.TextChoices):
    COMPUTED = "computed", _("computed from the platform's data")
    SCORED = "scored", _("scored by evaluators")


class EvaluationStage(models.TextChoices):
    MID_TERM = "mid_term", _("mid-term evaluation")
    FINAL = "final", _("final evaluation")


class EvaluationStatus(models.TextChoices):
    DRAFT = "draft", _("being scored")
    FINAL = "final", _("finalised")
