"""The one interface through which any app adds to a household's assistance chain.

    from jiuzhu.registry.timeline import timeline_add

    timeline_add(
        household_id=42,
        kind="monitoring.warning_raised",   # "<app>.<event>", stable, used for filtering
        summary="医疗支出预警（红色）",        # one line a person reads on the file page
        occurred_at=warning.raised_at,      # when it happened, not when it was recorded
        detail={"level": "red"},            # small JSON; no clear ID or phone numbers
        object_type="monitoring.warning", object_id=warning.pk,
        actor=request.user,                 # or None for machines
    )

Call it explicitly from your service, inside your transaction: no signals. The registry
owns the table; other apps never write to it directly. See docs/registry.md.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.utils import timezone

from jiuzhu.registry.models import TimelineEvent

KIND_PATTERN = re.compile(r"^[a-z_]+\.[a-z_]+$")


def timeline_add(
    *,
    household_id: int,
    kind: str,
    summary: str,
    occurred_at: datetime | None = None,
    detail: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str | int = "",
    actor: Any = None,
) -> TimelineEvent:
    if not KIND_PATTERN.match(kind):
        raise ValueError(f"timeline kind must look like 'app.event', got {kind!r}")
    return TimelineEvent.objects.create(
        household_id=household_id,
        kind=kind,
        source=kind.split(".", 1)[0],
        summary=summary[:300],
        occurred_at=occurred_at or timezone.now(),
        detail=detail or {},
        object_type=object_type,
        object_id=str(object_id),
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
    )
