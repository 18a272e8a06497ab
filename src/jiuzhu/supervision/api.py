"""The supervision API (/api/v1/supervision/): one router per part, added here."""

from __future__ import annotations

from ninja import Router

from jiuzhu.supervision.api_console import router as console_router
from jiuzhu.supervision.api_lights import router as lights_router
from jiuzhu.supervision.api_projects import router as projects_router
from jiuzhu.supervision.api_revisits import router as revisits_router

router = Router()
router.add_router("/", console_router)
router.add_router("/", revisits_router)
router.add_router("/", lights_router)
router.add_router("/", projects_router)
