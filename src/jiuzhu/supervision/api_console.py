"""/api/v1/supervision/ endpoints of the console part."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["supervision"])
