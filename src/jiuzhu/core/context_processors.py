from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from jiuzhu.core.navigation import navigation_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    return {
        "nav_items": navigation_for(request.user),
        "demo_notice": not settings.PRODUCTION,
    }
