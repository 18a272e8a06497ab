"""Deadlines (clocks) for needs and orders, by urgency. Pure: no database.

A need must be claimed or dispatched by ``assign``, service must start by ``start`` and be
finished by ``finish``, each counted from the moment the need is created (or the order
placed). An urgent call from an elder ("9") is answered within the hour; a micro-wish
may wait a week for someone to claim it. Past a clock the deadlines pass escalates
(services/services/deadlines.py): first to the village's staff, then to the town.
The hours can be changed per deployment with ``JIUZHU_CLOCKS`` (JSON, same shape).
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass

# urgency → (assign, start, finish) in hours
DEFAULT_HOURS: dict[str, tuple[float, float, float]] = {
    "critical": (0.5, 2, 8),
    "urgent": (2, 24, 48),
    "normal": (72, 168, 336),
}


@dataclass(frozen=True)
class Clocks:
    assign_due_at: datetime.datetime
    start_due_at: datetime.datetime
    finish_due_at: datetime.datetime


def hours_table() -> dict[str, tuple[float, float, float]]:
    raw = os.environ.get("JIUZHU_CLOCKS", "")
    if not raw:
        return DEFAULT_HOURS
    table = dict(DEFAULT_HOURS)
    for urgency, hours in json.loads(raw).items():
        assign, start, finish = (float(h) for h in hours)
        if not 0 < assign <= start <= finish:
            raise ValueError(f"JIUZHU_CLOCKS[{urgency!r}] must be 0 < assign <= start <= finish")
        table[urgency] = (assign, start, finish)
    return table


def clocks_for(*, urgency: str, since: datetime.datetime) -> Clocks:
    assign, start, finish = hours_table().get(urgency, DEFAULT_HOURS["normal"])
    return Clocks(
        assign_due_at=since + datetime.timedelta(hours=assign),
        start_due_at=since + datetime.timedelta(hours=start),
        finish_due_at=since + datetime.timedelta(hours=finish),
    )
