"""/api/v1/statistics/ endpoints: the figures of the statistics pages as JSON.

``GET /api/v1/statistics/county?from=YYYY-MM-DD&until=YYYY-MM-DD`` (or ``period=this_month
| last_month | last_30``; default this month): the caller's area (a county for the county's
staff, the town for a town officer), from the same selectors as the pages. SUPERVISE
only (403 otherwise); a refused period answers 422 with the message under ``period``.
Aggregates only: no person is named."""

# No `from __future__ import annotations`: django-ninja reads annotations at run time.

import dataclasses
import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router
from ninja.errors import HttpError

from jiuzhu.core.api_errors import FieldErrors
from jiuzhu.core.http import request_user

from . import selectors as sel
from .periods import period_from_query
from .views import staff_area

router = Router(tags=["statistics"])


def _plain(value: Any) -> Any:
    """Dataclasses, dates and decimals as JSON values (decimals as strings of yuan)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not f.name.startswith("_")
        }
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def dashboard_json(d: sel.AreaDashboard) -> dict[str, Any]:
    claims = _plain(d.claims)
    claims["by_region"] = claims.pop("stats")["rows"]
    return {
        "region": d.region_code,
        "name": d.region_name,
        "from": d.start.isoformat(),
        "until": d.end.isoformat(),
        "warnings": _plain(d.warnings),
        "claims": claims,
        "dispatch": _plain(d.dispatch),
        "completion": _plain(d.completion),
        "satisfaction": _plain(d.satisfaction),
        "lights": _plain(d.lights),
        "spending": _plain(d.spending),
        "areas": _plain(d.areas),
    }


@router.get("/county", response=dict[str, Any])
def county(request: HttpRequest) -> dict[str, Any]:
    """Every figure of the caller's area for the period."""
    area = staff_area(request_user(request))
    if area is None:
        raise HttpError(403, "Forbidden")
    period = period_from_query(request.GET, timezone.localdate())
    if period.errors:
        raise FieldErrors({"period": period.errors})
    dashboard = sel.area_dashboard(region_prefix=area, start=period.start, end=period.end)
    return dashboard_json(dashboard)
