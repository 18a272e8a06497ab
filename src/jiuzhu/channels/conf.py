"""Channels' settings, read when used.

Each value comes from Django's settings when the project defines it there, else from the
environment (``NAME`` or ``NAME_FILE``, as every secret of the project: see
docs/adr/0003-settings-from-the-environment.md). Reading late lets a deployment add a
gateway without a restart of anything but the web process, and lets tests set them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import environ
from django.conf import settings

_env = environ.FileAwareEnv()

DEFAULT_CALL_KEYS: dict[str, dict[str, str]] = {
    # 助急（紧急上门处置）: call back within 5 minutes, at the door within 30.
    "9": {"item": "emergency_help", "urgency": "urgent"},
}


def _raw(name: str) -> str:
    value = getattr(settings, name, None)
    if value is not None:
        return str(value).strip()
    return str(_env.str(name, default="")).strip()


def _value(name: str, default: Any) -> Any:
    value = getattr(settings, name, None)
    if value is not None:
        return value
    raw = _raw(name)
    return raw if raw else default


def call_webhook_secret() -> str:
    """The shared secret of the telephony gateway; empty: the webhook is switched off."""
    return _raw("JIUZHU_CALL_WEBHOOK_SECRET")


@dataclass(frozen=True)
class KeyMeaning:
    item: str
    urgency: str


def call_keys() -> dict[str, KeyMeaning]:
    raw = _value("JIUZHU_CALL_KEYS", DEFAULT_CALL_KEYS)
    table = json.loads(raw) if isinstance(raw, str) else raw
    return {
        str(key): KeyMeaning(item=str(spec["item"]), urgency=str(spec.get("urgency", "urgent")))
        for key, spec in table.items()
    }


def call_dedup_minutes() -> int:
    return int(_value("JIUZHU_CALL_DEDUP_MINUTES", 10))


def call_county() -> str:
    """The county a gateway serves, for callers the registry does not know."""
    return _raw("JIUZHU_CALL_COUNTY")


# Accepted distance between the gateway's clock and ours (replay window), in seconds.
SIGNATURE_WINDOW_SECONDS = 300


def sms_backend() -> str:
    return _raw("JIUZHU_SMS_BACKEND") or "log"


def sms_gateway_url() -> str:
    return _raw("JIUZHU_SMS_GATEWAY_URL")


def sms_gateway_secret() -> str:
    return _raw("JIUZHU_SMS_GATEWAY_SECRET")


def sms_gateway_timeout() -> float:
    return float(_value("JIUZHU_SMS_GATEWAY_TIMEOUT", 5))


def sms_max_attempts() -> int:
    return int(_value("JIUZHU_SMS_MAX_ATTEMPTS", 5))
