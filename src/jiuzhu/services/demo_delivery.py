"""The demo's service delivery, in the order the work happens: the directory (providers,
contracts, staff, volunteers), micro-wishes on the market, orders from agreed plans, two
one-key calls, then one dispatch pass so the providers' managers find offers waiting.

Each step is idempotent (a second ``jiuzhu demo`` adds nothing) and goes through the
services, so the demo shows what the platform would have recorded.
"""

from __future__ import annotations

from typing import Any

from jiuzhu.channels.demo import seed_demo as seed_calls
from jiuzhu.services.demo_directory import seed_directory
from jiuzhu.services.demo_needs import seed_needs
from jiuzhu.services.demo_orders import seed_orders
from jiuzhu.services.services.dispatch import dispatch_tick


def seed_delivery(*, county_code: str, seed: int = 0) -> dict[str, Any]:
    """Returns ``{"summary": {...counts}, "logins": [{username, password, role, provider}]}``."""
    directory = seed_directory(county_code=county_code, seed=seed)
    wishes = seed_needs(county_code=county_code, seed=seed)
    orders = seed_orders(county_code=county_code, seed=seed)
    seed_calls(county_code=county_code)
    tick = dispatch_tick()
    summary = {
        "providers": directory.get("providers", 0),
        "wishes": sum(v for k, v in wishes.items() if k != "created"),
        "orders": orders.get("orders", 0),
        "offered": tick["offered"],
        "waiting": tick["waiting"],
    }
    return {"summary": summary, "logins": directory.get("logins", [])}
