"""Demo dispatch, after the demo orders (services.demo_orders): one pass of the optimiser
over the county's pending orders, as the scheduler would run it (actor None), so the
dispatcher's console shows open offers and the demo providers' managers have offers to
answer. Idempotent: only pending orders are dispatched, and an order with an open offer
is not pending."""

from __future__ import annotations

from typing import Any

from jiuzhu.services import choices as c
from jiuzhu.services.models import ServiceOrder
from jiuzhu.services.services.dispatch import dispatch_orders


def seed_dispatch(*, county_code: str, seed: int = 0) -> dict[str, Any]:
    """``seed`` is accepted like the other demo steps'; the optimiser is deterministic."""
    pending = list(
        ServiceOrder.objects.filter(
            region__code__startswith=county_code, status=c.OrderStatus.PENDING
        ).order_by("id")
    )
    if not pending:
        return {"offered": 0, "waiting": 0}
    result = dispatch_orders(actor=None, orders=pending)
    return {"offered": len(result.offers), "waiting": len(result.waiting)}
