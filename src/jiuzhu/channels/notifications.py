"""The notification interface every part calls (SMS and in-app).

    from jiuzhu.channels.notifications import notify
    notify(kind="order_offered", subject="新派单", body="…", user=manager, link="/services/…")
    notify(kind="need_escalated", subject="…", body="…", phone="13800000000", sms=True)

Bodies must not carry ID numbers; SMS bodies should not name the beneficiary in full.

``notify`` stores an in-app row when ``user`` is given and an SMS row when ``sms`` is true
and a phone number is given (users have no phone of their own). The SMS goes out through
the configured backend (see backends.py) only after the caller's transaction commits, so a
slow or failing gateway never rolls back or delays the work that asked for it; a failure
is recorded on the row and ``jiuzhu notifications retry`` tries again.
"""

from __future__ import annotations

import datetime
import functools
import logging
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from jiuzhu.channels import choices as c
from jiuzhu.channels import conf
from jiuzhu.channels.backends import SmsError, SmsMessage, sms_backend
from jiuzhu.channels.models import Notification
from jiuzhu.core.crypto import field_cipher
from jiuzhu.core.idnumbers import normalise_phone
from jiuzhu.core.masking import mask_phone

logger = logging.getLogger(__name__)

PHONE_COLUMN = "channels.notification.phone"


def notify(
    *,
    kind: str,
    subject: str,
    body: str,
    user: Any = None,
    phone: str = "",
    link: str = "",
    sms: bool = False,
) -> None:
    now = timezone.now()
    if user is not None and getattr(user, "pk", None):
        Notification.objects.create(
            user=user,
            channel=c.NotificationChannel.IN_APP,
            kind=kind[:40],
            subject=subject[:120],
            body=body,
            link=link[:300],
            # The inbox is the delivery: the row is there for the user at once.
            status=c.NotificationStatus.SENT,
            backend="in_app",
            attempts=1,
            last_attempt_at=now,
            sent_at=now,
        )
    if not sms:
        return
    if not phone:
        logger.info("notification %s: SMS asked for without a phone number, none sent", kind)
        return
    try:
        number = normalise_phone(phone)
    except ValueError:
        logger.warning("notification %s: not a phone number, no SMS", kind)
        return
    row = Notification.objects.create(
        channel=c.NotificationChannel.SMS,
        phone_encrypted=field_cipher().encrypt(number, column=PHONE_COLUMN),
        phone_masked=mask_phone(number),
        kind=kind[:40],
        subject=subject[:120],
        body=body,
        link=link[:300],
    )
    # robust: whatever the backend does, the caller's request has already committed.
    transaction.on_commit(functools.partial(_send_quietly, row.pk), robust=True)


def _send_quietly(notification_id: int) -> None:
    notification_send(notification_id=notification_id)


def sms_text(notification: Notification) -> str:
    if notification.body:
        return f"{notification.subject}：{notification.body}"
    return notification.subject


def notification_send(
    *, notification_id: int, now: datetime.datetime | None = None
) -> Notification | None:
    """One attempt to send a queued or failed SMS. The attempt is claimed with a
    conditional UPDATE of the attempt counter, so two retry passes never send one row
    twice at the same time. Returns the row as it is afterwards, or None if another
    pass holds it or there is nothing to send."""
    now = now or timezone.now()
    row = Notification.objects.filter(
        pk=notification_id,
        channel=c.NotificationChannel.SMS,
        status__in=[c.NotificationStatus.QUEUED, c.NotificationStatus.FAILED],
    ).first()
    if row is None:
        return None
    claimed = Notification.objects.filter(
        pk=row.pk,
        attempts=row.attempts,
        status__in=[c.NotificationStatus.QUEUED, c.NotificationStatus.FAILED],
    ).update(attempts=row.attempts + 1, last_attempt_at=now)
    if not claimed:
        return None
    row.attempts += 1
    row.last_attempt_at = now
    backend_name = conf.sms_backend()
    try:
        backend = sms_backend()
        backend_name = backend.name
        number = field_cipher().decrypt(row.phone_encrypted, column=PHONE_COLUMN)
        backend.send(SmsMessage(id=row.pk, to=number, body=sms_text(row), kind=row.kind))
    except SmsError as exc:
        row.status = c.NotificationStatus.FAILED
        row.error = str(exc)[:300]
    except Exception as exc:  # a bug in a backend must not lose the message: retry later
        logger.exception("SMS %s: backend %s raised", row.pk, backend_name)
        row.status = c.NotificationStatus.FAILED
        row.error = type(exc).__name__
    else:
        row.status = c.NotificationStatus.SENT
        row.sent_at = timezone.now()
        row.error = ""
    row.backend = backend_name[:20]
    row.save(update_fields=["status", "error", "sent_at", "backend"])
    if row.status == c.NotificationStatus.FAILED:
        logger.warning("SMS %s failed (attempt %s): %s", row.pk, row.attempts, row.error)
    return row


# A queued row younger than this is still being sent by the request that made it.
QUEUED_GRACE = datetime.timedelta(minutes=2)
MAX_BACKOFF = datetime.timedelta(hours=1)


def retry_backoff(attempts: int) -> datetime.timedelta:
    """1, 2, 4, 8 … minutes after the last attempt, at most an hour."""
    if attempts <= 0:
        return QUEUED_GRACE
    return min(datetime.timedelta(minutes=2 ** (attempts - 1)), MAX_BACKOFF)


def notifications_retry(
    *, now: datetime.datetime | None = None, force: bool = False
) -> dict[str, int]:
    """Send again every SMS that failed (or was never sent) and whose back-off has passed,
    up to ``JIUZHU_SMS_MAX_ATTEMPTS`` attempts in all. ``force`` ignores the back-off."""
    now = now or timezone.now()
    pending = Notification.objects.filter(
        Q(status=c.NotificationStatus.FAILED) | Q(status=c.NotificationStatus.QUEUED),
        channel=c.NotificationChannel.SMS,
        attempts__lt=conf.sms_max_attempts(),
    ).order_by("id")
    counts = {"tried": 0, "sent": 0, "failed": 0, "waiting": 0}
    for row in pending.only("id", "attempts", "created_at", "last_attempt_at").iterator():
        last = row.last_attempt_at or row.created_at
        if not force and last > now - retry_backoff(row.attempts):
            counts["waiting"] += 1
            continue
        result = notification_send(notification_id=row.pk, now=now)
        if result is None:
            continue
        counts["tried"] += 1
        counts["sent" if result.status == c.NotificationStatus.SENT else "failed"] += 1
    return counts


# --- the inbox -----------------------------------------------------------------------------


def notification_mark_read(*, user: Any, notification_id: int) -> Notification | None:
    """Mark one of the user's own in-app notifications read (anyone else's: None)."""
    row = Notification.objects.filter(
        pk=notification_id, user=user, channel=c.NotificationChannel.IN_APP
    ).first()
    if row is None:
        return None
    if row.read_at is None:
        row.read_at = timezone.now()
        row.save(update_fields=["read_at"])
    return row


def notifications_mark_all_read(*, user: Any) -> int:
    return Notification.objects.filter(
        user=user, channel=c.NotificationChannel.IN_APP, read_at__isnull=True
    ).update(read_at=timezone.now())
