"""The demo's month of supervision, in the order the work happens: a month of service
history (services.demo_activity), last month's revisit sample worked through
(supervision.demo_revisits), the purchase-of-service projects with a mid-term evaluation
(supervision.demo_projects), last month's scorecards and traffic lights
(supervision.demo_lights: one provider yellow, one red), then the funds: sources,
donations, allocations and every served order's cost posted (funds.demo).

Each step is idempotent, so a second ``jiuzhu demo`` adds nothing."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from jiuzhu.accounts.models import User
from jiuzhu.funds.demo import seed_funds
from jiuzhu.services.demo_activity import RED_PROVIDER, seed_activity
from jiuzhu.services.models import Provider
from jiuzhu.supervision.demo_lights import seed_lights
from jiuzhu.supervision.demo_projects import seed_projects
from jiuzhu.supervision.demo_revisits import seed_revisits


def seed_month(*, county_code: str, today: datetime.date | None = None) -> dict[str, Any]:
    today = today or timezone.localdate()
    admin = User.objects.get(username="county_admin")
    last_month_end = today.replace(day=1) - datetime.timedelta(days=1)
    last_month = last_month_end.replace(day=1)
    activity = seed_activity(county_code=county_code, today=today)
    # Revisits find the red provider's records do not hold; the yellow one is late and
    # middling, but honest.
    failing = set(Provider.objects.filter(name=RED_PROVIDER).values_list("pk", flat=True))
    batch = seed_revisits(
        county_code=county_code, period=last_month, failing_provider_ids=failing, actor=admin
    )
    projects = seed_projects(county_code=county_code, today=today, actor=admin)
    lights = seed_lights(
        county_code=county_code, period_start=last_month, period_end=last_month_end, actor=admin
    )
    funds = seed_funds(county_code=county_code, today=today, actor=admin, projects=projects)
    return {
        "orders": activity.get("orders", 0),
        "revisits": batch.revisits.count(),
        "projects": len(projects),
        "lights": lights,
        "funds": funds,
    }
