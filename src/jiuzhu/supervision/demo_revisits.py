"""Demo revisits: draw the county's batch for a month of the demo's delivery history and
record what the revisits found, deterministically (the batch's seed):

- revisits of the ``failing_provider_ids`` fail about 30 % of the time (at least one
  per failing provider in the sample), with low satisfaction; the others pass with 4–5;
- two families are not reached (three attempts each, then unreachable);
- about 20 % are left to do, so the queue is not empty;
- one or two complaints against failing providers, from failed revisits: the first
  upheld, the second left open.

Results are dated one to four days after the order's check-out, within the month, so
the month's scorecard counts them (it reads ``done_at`` and ``received_at``). A county
whose month is already drawn gets that batch back untouched.
"""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.utils import timezone

from jiuzhu.supervision.models import Revisit, RevisitBatch
from jiuzhu.supervision.services.complaints import complaint_decide, complaint_record
from jiuzhu.supervision.services.revisits import (
    month_bounds,
    month_start,
    revisit_batch_draw,
    revisit_record,
)

FAIL_SHARE = 0.3
PENDING_SHARE = 0.2
UNREACHABLE = 2
COMPLAINTS = 2


def _when(revisit: Revisit, rng: random.Random, end: datetime.datetime) -> datetime.datetime:
    served = revisit.order.check_out_at or end
    at = served + datetime.timedelta(days=rng.randint(1, 4), hours=rng.randint(0, 6))
    latest = min(end - datetime.timedelta(hours=6), timezone.now() - datetime.timedelta(hours=1))
    return max(min(at, latest), served)


def seed_revisits(
    *, county_code: str, period: datetime.date, failing_provider_ids: set[int], actor: Any
) -> RevisitBatch:
    existing = RevisitBatch.objects.filter(
        region_id=county_code, period=month_start(period)
    ).first()
    if existing is not None:
        return existing
    batch = revisit_batch_draw(actor=actor, county=county_code, period=period)
    rng = random.Random(batch.seed)
    _start, end = month_bounds(batch.period)
    revisits = list(batch.revisits.select_related("order").order_by("id"))
    rng.shuffle(revisits)
    pending = round(PENDING_SHARE * len(revisits))
    rest = revisits[pending:]
    for revisit in rest[:UNREACHABLE]:
        for attempt in range(3):
            revisit = revisit_record(
                actor=actor,
                revisit=revisit,
                status="unreachable",
                comment="电话无人接听" if attempt < 2 else "上门无人",
                at=_when(revisit, rng, end),
            )
    failed: list[Revisit] = []
    # at least one failure per failing provider that has a revisit to record
    first_of: dict[int, int] = {}
    for r in rest[UNREACHABLE:]:
        if r.provider_id in failing_provider_ids:
            first_of.setdefault(r.provider_id, r.pk)
    must_fail = set(first_of.values())
    for revisit in rest[UNREACHABLE:]:
        at = _when(revisit, rng, end)
        if revisit.provider_id in failing_provider_ids:
            fails = rng.random() < FAIL_SHARE or revisit.pk in must_fail
            if fails:
                happened = rng.random() < 0.5
                done = revisit_record(
                    actor=actor,
                    revisit=revisit,
                    status="done",
                    service_happened=happened,
                    matches_record=False,
                    satisfaction=rng.randint(1, 2),
                    comment="服务时间和记录不符" if happened else "当天没有人上门",
                    at=at,
                )
                failed.append(done)
                continue
            satisfaction = rng.randint(3, 4)
        else:
            satisfaction = rng.randint(4, 5)
        revisit_record(
            actor=actor,
            revisit=revisit,
            status="done",
            service_happened=True,
            matches_record=True,
            satisfaction=satisfaction,
            comment="服务到位" if satisfaction >= 4 else "基本满意",
            at=at,
        )
    for index, revisit in enumerate(failed[:COMPLAINTS]):
        complaint = complaint_record(
            actor=actor,
            provider=revisit.provider,
            text=revisit.comment or "回访发现服务与记录不符",
            channel="revisit",
            revisit=revisit,
            received_at=revisit.done_at,
        )
        if index == 0:
            complaint_decide(
                actor=actor,
                complaint=complaint,
                upheld=True,
                finding="经核实，服务时长与记录不符，投诉属实。",
            )
    return batch
