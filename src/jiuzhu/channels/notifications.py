"""The notification interface every part calls (SMS and in-app).

    from jiuzhu.channels.notifications import notify
    notify(kind="order_offered", subject="新派单", body="…", user=manager, link="/services/…")
    notify(kind="need_escalated", subject="…", body="…", phone="13800000000", sms=True)

Bodies must not carry ID numbers; SMS bodies should not name the beneficiary in full.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


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
    logger.info("notification %s to user %s", kind, getattr(user, "pk", None))
