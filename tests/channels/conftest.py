"""Shared set-up for the channels tests: a webhook secret, requests signed exactly as a
telephony gateway signs them (over the raw bytes), and English messages."""

from __future__ import annotations

import datetime
import json
import time
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from jiuzhu.channels.signing import signature

SECRET = "gateway-secret-for-tests-0123456789"
HEAD_PHONE = "13807960001"  # the family head's number (tests/conftest.py)
URL = "/channels/call/"


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Any:
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def webhook_secret(settings: Any) -> str:
    settings.JIUZHU_CALL_WEBHOOK_SECRET = SECRET
    return SECRET


def call_payload(
    call_id: str = "call-0001",
    caller: str = HEAD_PHONE,
    key: str = "9",
    pressed_at: str = "2026-03-01T08:15:00+08:00",
    **extra: Any,
) -> dict[str, Any]:
    return {"call_id": call_id, "caller": caller, "key": key, "pressed_at": pressed_at, **extra}


def raw(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


def post_call(
    client: Client,
    body: bytes,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    sign: str | None = None,
    headers: bool = True,
) -> Any:
    """POST ``body`` as the gateway does: the signature covers the exact bytes sent."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    extra = {}
    if headers:
        extra = {
            "HTTP_X_JIUZHU_TIMESTAMP": stamp,
            "HTTP_X_JIUZHU_SIGNATURE": sign if sign is not None else signature(secret, stamp, body),
        }
    return client.post(URL, data=body, content_type="application/json", **extra)


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)
