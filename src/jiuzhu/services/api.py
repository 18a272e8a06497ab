"""The services API (/api/v1/services/): one router per part, added here."""

from __future__ import annotations

from ninja import Router

from jiuzhu.services.api_directory import router as directory_router
from jiuzhu.services.api_dispatch import router as dispatch_router
from jiuzhu.services.api_needs import router as needs_router
from jiuzhu.services.api_orders import router as orders_router

router = Router()
router.add_router("/", directory_router)
router.add_router("/", needs_router)
router.add_router("/", dispatch_router)
router.add_router("/", orders_router)
