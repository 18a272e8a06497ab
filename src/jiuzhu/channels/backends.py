"""SMS backends. ``JIUZHU_SMS_BACKEND`` chooses one:

* ``log`` (default): writes the message to the application log, the number masked. For
  development, demos and deployments without an SMS contract.
* ``http``: POSTs JSON ``{"to", "body", "kind", "id"}`` to ``JIUZHU_SMS_GATEWAY_URL``,
  signed like the call webhook (``X-Jiuzhu-Timestamp`` and ``X-Jiuzhu-Signature`` = hex
  HMAC-SHA256 of ``f"{timestamp}.{body}"`` with ``JIUZHU_SMS_GATEWAY_SECRET``). Any 2xx
  answer is success. See docs/channels.md for the gateway's side of the contract.

A backend raises ``SmsError`` with a short reason that holds no personal data.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

from jiuzhu.channels import conf
from jiuzhu.channels.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from jiuzhu.core.masking import mask_phone

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The message was not accepted; ``str()`` says why without personal data."""


@dataclass(frozen=True)
class SmsMessage:
    id: int
    to: str
    body: str
    kind: str


class SmsBackend(Protocol):
    name: str

    def send(self, message: SmsMessage) -> None: ...


class LogBackend:
    name = "log"

    def send(self, message: SmsMessage) -> None:
        # The body can carry a credential (the rating link) and a masked name: developers
        # and the demo see it on the console; a production log gets only its length.
        body = message.body if not settings.PRODUCTION else f"<{len(message.body)} characters>"
        logger.info("SMS %s (%s) to %s: %s", message.id, message.kind, mask_phone(message.to), body)


class HttpGatewayBackend:
    name = "http"

    def __init__(self, *, url: str, secret: str, timeout: float) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout

    def send(self, message: SmsMessage) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise SmsError("JIUZHU_SMS_GATEWAY_URL is not an http(s) URL")
        if not self.secret:
            raise SmsError("JIUZHU_SMS_GATEWAY_SECRET is not set")
        body = json.dumps(
            {"to": message.to, "body": message.body, "kind": message.kind, "id": message.id},
            ensure_ascii=False,
        ).encode()
        timestamp = str(int(time.time()))
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: signature(self.secret, timestamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            raise SmsError(f"HTTP {exc.code}") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise SmsError("timeout") from None
            raise SmsError(f"connection failed ({type(exc.reason).__name__})") from None
        except TimeoutError:
            raise SmsError("timeout") from None
        except OSError as exc:
            raise SmsError(f"connection failed ({type(exc).__name__})") from None
        if not 200 <= status < 300:
            raise SmsError(f"HTTP {status}")


def sms_backend() -> SmsBackend:
    name = conf.sms_backend()
    if name == "http":
        return HttpGatewayBackend(
            url=conf.sms_gateway_url(),
            secret=conf.sms_gateway_secret(),
            timeout=conf.sms_gateway_timeout(),
        )
    if name == "log":
        return LogBackend()
    raise SmsError(f"unknown JIUZHU_SMS_BACKEND {name!r}")
