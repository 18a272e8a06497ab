"""Code lists of the channels app: call outcomes, ticket reasons and statuses,
notification channels and statuses."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CallOutcome(models.TextChoices):
    NEED = "need", _("urgent need created")
    TICKET = "ticket", _("call ticket opened")
    DUPLICATE = "duplicate", _("repeat of an earlier call")


class TicketReason(models.TextChoices):
    UNKNOWN_NUMBER = "unknown_number", _("the number is not registered")
    AMBIGUOUS_NUMBER = "ambiguous_number", _("the number belongs to several households")
    UNKNOWN_KEY = "unknown_key", _("a key with no service assigned")
    NO_ITEM = "no_item", _("the key's service is not in the catalogue")


class TicketStatus(models.TextChoices):
    OPEN = "open", _("open")
    LINKED = "linked", _("linked to a household")
    CLOSED = "closed", _("closed")


class NotificationChannel(models.TextChoices):
    IN_APP = "in_app", _("in the app")
    SMS = "sms", _("SMS")


class NotificationStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
