"""/api/v1/funds/ endpoints."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["funds"])
