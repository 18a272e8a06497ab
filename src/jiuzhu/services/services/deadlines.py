"""Escalation of overdue needs and orders (services/deadline_selectors.py says when a
clock is overdue).

``deadlines_escalate`` raises each overdue need's or order's ``escalation_level`` by one,
at most once in 24 hours, up to 3, and tells the level's people:

* level 1: the village's staff (users of the village with MANAGE_NEEDS or DISPATCH);
* level 2: the town's officers;
* level 3: the county's administrators.

A level with nobody on it passes the message to the next one up, so someone always hears.
The first escalation comes as soon as a clock passes; the next ones a day apart while it
stays overdue. Each raise is a conditional UPDATE on the level and time read, so a second
run, or two schedulers at once, cannot raise one row twice. Every raise is audited and
shown on the household's timeline.
"""

from __future__ import annotations

import datetime
import logging
from collections import Counter
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.services import audit_record
from jiuzhu.channels.notifications import notify
from jiuzhu.channels.selectors import staff_at
from jiuzhu.channels.services import link_to
from jiuzhu.registry.timeline import timeline_add
from jiuzhu.services.deadline_selectors import (
    Overdue,
    need_clocks_overdue,
    needs_overdue,
    order_clocks_overdue,
    orders_overdue,
)
from jiuzhu.services.models import Need, ServiceOrder

logger = logging.getLogger(__name__)

MAX_LEVEL = 3
EVERY = datetime.timedelta(hours=24)
# Region code length at each level: village, town, county.
LEVEL_CODE_LENGTH = {1: 12, 2: 9, 3: 6}


def escalation_recipients(village_code: str, level: int) -> list[User]:
    """The people of ``level`` for a village; the next level up when nobody is there."""
    for at_level in range(level, MAX_LEVEL + 1):
        users = list(staff_at(village_code[: LEVEL_CODE_LENGTH[at_level]]))
        if users:
            return users
    return []


def _due(now: datetime.datetime) -> Q:
    return Q(escalation_level__lt=MAX_LEVEL) & (
        Q(escalated_at__isnull=True) | Q(escalated_at__lte=now - EVERY)
    )


def _duration(delta: datetime.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    return _("%(m)s min") % {"m": minutes}


def _raise(
    model: type[Need] | type[ServiceOrder],
    obj: Need | ServiceOrder,
    now: datetime.datetime,
) -> bool:
    return bool(
        model.objects.filter(
            pk=obj.pk, escalation_level=obj.escalation_level, escalated_at=obj.escalated_at
        ).update(escalation_level=obj.escalation_level + 1, escalated_at=now)
    )


def _escalate_one(
    *,
    kind: str,
    obj: Need | ServiceOrder,
    overdue: Overdue,
    now: datetime.datetime,
) -> int | None:
    """Raise one row; returns how many people were told, None if another pass did it."""
    model: type[Need] | type[ServiceOrder] = Need if kind == "need" else ServiceOrder
    old = obj.escalation_level
    new = old + 1
    with transaction.atomic():
        if not _raise(model, obj, now):
            return None
        village = obj.region_id
        people = escalation_recipients(village, new)
        late = _duration(overdue.overdue_by)
        if kind == "need":
            subject = _("Overdue need %(id)s (escalation %(level)s)") % {"id": obj.pk, "level": new}
            link = link_to("services:needs_detail", obj.pk)
        else:
            subject = _("Overdue order %(id)s (escalation %(level)s)") % {
                "id": obj.pk,
                "level": new,
            }
            link = link_to("services:orders_detail", obj.pk)
        body = _("%(what)s: %(clock)s deadline passed %(late)s ago (%(due)s).") % {
            "what": obj.item.name_zh if obj.item_id and obj.item else _("service"),
            "clock": overdue.label,
            "late": late,
            "due": f"{timezone.localtime(overdue.due_at):%Y-%m-%d %H:%M}",
        }
        for user in people:
            notify(kind=f"{kind}_escalated", subject=subject, body=body, user=user, link=link)
        audit_record(
            actor=None,
            actor_username="deadlines",
            action=AuditAction.UPDATE,
            object_type=f"services.{'need' if kind == 'need' else 'order'}",
            object_id=obj.pk,
            region_code=village,
            detail={
                "escalation_level": {"old": old, "new": new},
                "clock": overdue.clock,
                "overdue_minutes": int(overdue.overdue_by.total_seconds() // 60),
                "notified": len(people),
            },
        )
        timeline_add(
            household_id=obj.household_id,
            kind=f"services.{kind}_escalated",
            summary=_("Overdue (%(clock)s, %(late)s): escalated to level %(level)s")
            % {"clock": overdue.label, "late": late, "level": new},
            occurred_at=now,
            detail={"level": new, "clock": overdue.clock},
            object_type=f"services.{'need' if kind == 'need' else 'order'}",
            object_id=obj.pk,
        )
    return len(people)


def deadlines_escalate(*, now: datetime.datetime | None = None) -> dict[str, Any]:
    """One pass over every overdue need and order (see the module's docstring).

    Returns ``{"needs": n, "orders": n, "notified": n, "levels": {"1": n, "2": n, "3": n}}``.
    """
    now = now or timezone.now()
    result: dict[str, Any] = {"needs": 0, "orders": 0, "notified": 0}
    levels: Counter[str] = Counter()
    needs = needs_overdue(Need.objects.filter(_due(now)), now=now).select_related("item")
    for need in needs.order_by("id").iterator(chunk_size=500):
        clocks = need_clocks_overdue(need, now)
        if not clocks:
            continue
        told = _escalate_one(kind="need", obj=need, overdue=clocks[0], now=now)
        if told is not None:
            result["needs"] += 1
            result["notified"] += told
            levels[str(need.escalation_level + 1)] += 1
    orders = orders_overdue(ServiceOrder.objects.filter(_due(now)), now=now).select_related("item")
    for order in orders.order_by("id").iterator(chunk_size=500):
        clocks = order_clocks_overdue(order, now)
        if not clocks:
            continue
        told = _escalate_one(kind="order", obj=order, overdue=clocks[0], now=now)
        if told is not None:
            result["orders"] += 1
            result["notified"] += told
            levels[str(order.escalation_level + 1)] += 1
    result["levels"] = dict(sorted(levels.items()))
    if result["needs"] or result["orders"]:
        logger.info(
            "deadlines: %s needs and %s orders escalated", result["needs"], result["orders"]
        )
    return result
