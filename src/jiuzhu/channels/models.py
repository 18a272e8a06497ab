"""Channels' records: calls from the telephony gateway, call tickets, notifications.

A call's number is personal data: it is kept like a registry phone (AES-GCM ciphertext,
the registry's blind index so that it finds the person, and a masked copy for lists).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiuzhu.channels import choices as c
from jiuzhu.registry.models import HouseholdAssignment, HouseholdScoped


class CallEvent(HouseholdScoped, models.Model):
    """One key press reported by the gateway (一键呼叫). Never changed after it is made,
    except to note the household a ticket was later linked to."""

    # The gateway's id of the call: a second delivery of the same id is a replay.
    call_id = models.CharField(_("call id"), max_length=64, unique=True)
    caller_encrypted = models.TextField()
    caller_index = models.CharField(max_length=64)
    caller_masked = models.CharField(_("caller"), max_length=16)
    key = models.CharField(_("key pressed"), max_length=8)
    pressed_at = models.DateTimeField(_("pressed at"))
    received_at = models.DateTimeField(_("received at"))
    # The county the call came in for (the caller's household's, the payload's or the
    # gateway's setting); null when nobody said.
    county = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=c.CallOutcome.choices)
    # A repeated press within the de-duplication window points at the first call.
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="repeats"
    )
    need = models.ForeignKey(
        "services.Need", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # What the key meant when the call came in (the key map can change later).
    item_code = models.CharField(max_length=40, blank=True)
    urgency = models.CharField(max_length=10, blank=True)

    scope_region_lookup = "household__region__code"

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        indexes = [
            models.Index(fields=["caller_index", "received_at"], name="call_caller_received"),
        ]

    def __str__(self) -> str:
        return f"call {self.pk}"


class CallTicket(models.Model):
    """A call the platform could not turn into a need by itself: an unknown number, a
    number shared by several households, a key with no service. Staff of the county
    link it to a household (which makes the need) or close it with a note."""

    event = models.OneToOneField(CallEvent, on_delete=models.PROTECT, related_name="ticket")
    county = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=c.TicketReason.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=c.TicketStatus.choices, default=c.TicketStatus.OPEN
    )
    # Known when the caller is registered (an unknown key) or once staff link it.
    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    need = models.ForeignKey(
        "services.Need", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("opened at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("call ticket")
        verbose_name_plural = _("call tickets")
        indexes = [models.Index(fields=["county", "status"], name="ticket_county_status")]

    def __str__(self) -> str:
        return f"call ticket {self.pk}"

    @classmethod
    def scope_q(cls, user: Any) -> Q | None:
        """Staff of the ticket's county see a ticket with no household (anyone there may
        know the caller); a ticket about a household follows the household's scope."""
        region = str(getattr(user, "region_id", "") or "")
        parts: list[Q] = []
        if region:
            county = (
                Q(county__code__startswith=region) if len(region) <= 6 else Q(county=region[:6])
            )
            parts.append(Q(household__isnull=True) & county)
            parts.append(Q(household__region__code__startswith=region))
        parts.append(
            Q(household__in=HouseholdAssignment.objects.filter(user=user).values("household_id"))
        )
        combined = parts[0]
        for part in parts[1:]:
            combined |= part
        return combined


class Notification(models.Model):
    """One message to one person: an in-app row for a user's inbox, or an SMS to a phone
    number (kept encrypted and masked; the clear number exists only while sending)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    phone_encrypted = models.TextField(blank=True)
    phone_masked = models.CharField(_("phone"), max_length=16, blank=True)
    channel = models.CharField(_("channel"), max_length=8, choices=c.NotificationChannel.choices)
    kind = models.CharField(_("kind"), max_length=40)
    subject = models.CharField(_("subject"), max_length=120)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=c.NotificationStatus.choices,
        default=c.NotificationStatus.QUEUED,
    )
    backend = models.CharField(_("sent by"), max_length=20, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Status codes and exception classes only: never a gateway's answer, which may echo
    # the number.
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_user_read"),
            models.Index(fields=["channel", "status"], name="notification_channel_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(channel="in_app") & Q(user__isnull=False))
                | (Q(channel="sms") & ~Q(phone_encrypted="")),
                name="notification_has_recipient",
            )
        ]

    def __str__(self) -> str:
        return f"notification {self.pk} ({self.channel})"
