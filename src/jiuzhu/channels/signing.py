"""HMAC-SHA256 signatures shared by the call webhook (gateway → jiuzhu) and the SMS
gateway backend (jiuzhu → gateway): hex HMAC of ``f"{timestamp}.{raw body}"``."""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Jiuzhu-Timestamp"
SIGNATURE_HEADER = "X-Jiuzhu-Signature"


def signature(secret: str, timestamp: str | int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_valid(secret: str, timestamp: str, body: bytes, given: str) -> bool:
    # compare_digest: the time taken must not tell an attacker how many characters match.
    expected = signature(secret, timestamp, body).encode()
    return hmac.compare_digest(expected, given.strip().lower().encode())
