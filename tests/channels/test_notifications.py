"""Notifications: in-app rows and the inbox, SMS through the log backend and through the
HTTP gateway backend against a real local HTTP server (success, 500 then retry, timeout,
refused connection), sending only after the caller's transaction commits."""

from __future__ import annotations

import datetime
import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone

from jiuzhu.channels.models import Notification
from jiuzhu.channels.notifications import notifications_retry, notify
from jiuzhu.channels.selectors import unread_count
from jiuzhu.channels.signing import signature
from tests.conftest import Personas, login

PHONE = "13912345678"
GATEWAY_SECRET = "sms-gateway-secret-for-tests"


# --- a real SMS gateway on 127.0.0.1 ------------------------------------------------------


@dataclass
class Gateway:
    url: str
    status: int = 200
    delay: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    state = Gateway(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(
                {
                    "body": body,
                    "json": json.loads(body),
                    "timestamp": self.headers["X-Jiuzhu-Timestamp"],
                    "signature": self.headers["X-Jiuzhu-Signature"],
                }
            )
            if state.delay:
                time.sleep(state.delay)
            try:
                self.send_response(state.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def http_backend(settings: Any, gateway: Gateway) -> Gateway:
    settings.JIUZHU_SMS_BACKEND = "http"
    settings.JIUZHU_SMS_GATEWAY_URL = gateway.url
    settings.JIUZHU_SMS_GATEWAY_SECRET = GATEWAY_SECRET
    settings.JIUZHU_SMS_GATEWAY_TIMEOUT = 0.5
    return gateway


def send_sms(capture: Any, **extra: Any) -> Notification:
    with capture(execute=True):
        notify(
            kind="need_escalated",
            subject="逾期",
            body="需求 12 已逾期",
            phone=PHONE,
            sms=True,
            **extra,
        )
    return Notification.objects.get(channel="sms")


# --- in-app ---------------------------------------------------------------------------------


def test_notify_with_a_user_stores_an_in_app_row(personas: Personas) -> None:
    # when
    notify(kind="order_offered", subject="新派单", body="…", user=personas.town_officer, link="/x/")
    # then
    row = Notification.objects.get()
    assert (row.channel, row.status, row.user) == ("in_app", "sent", personas.town_officer)
    assert unread_count(personas.town_officer) == 1
    assert unread_count(personas.county_admin) == 0
    assert not Notification.objects.filter(channel="sms").exists()


def test_sms_without_a_phone_stores_no_sms(personas: Personas) -> None:
    notify(kind="k", subject="s", body="b", user=personas.town_officer, sms=True)
    assert list(Notification.objects.values_list("channel", flat=True)) == ["in_app"]


def test_the_inbox_lists_unread_first_and_marks_read(client: Client, personas: Personas) -> None:
    # given two notifications, the older one unread
    officer = personas.town_officer
    notify(kind="a", subject="older unread", body="", user=officer)
    notify(kind="b", subject="newer read", body="", user=officer)
    newer = Notification.objects.get(kind="b")
    newer.read_at = timezone.now()
    newer.save()
    notify(kind="c", subject="someone else's", body="", user=personas.county_admin)
    login(client, officer)
    # when
    page = client.get("/channels/inbox/")
    # then
    text = page.content.decode()
    assert page.status_code == 200
    assert text.index("older unread") < text.index("newer read")
    assert "someone else" not in text
    older = Notification.objects.get(kind="a")
    assert client.post(f"/channels/inbox/{older.pk}/read/").status_code == 302
    assert unread_count(officer) == 0


def test_nobody_marks_another_users_notification(client: Client, personas: Personas) -> None:
    notify(kind="a", subject="s", body="", user=personas.county_admin)
    row = Notification.objects.get()
    login(client, personas.town_officer)
    assert client.post(f"/channels/inbox/{row.pk}/read/").status_code == 404
    row.refresh_from_db()
    assert row.read_at is None


def test_open_marks_read_and_follows_only_a_local_link(client: Client, personas: Personas) -> None:
    # given
    notify(kind="a", subject="s", body="", user=personas.town_officer, link="/channels/tickets/")
    notify(kind="b", subject="s", body="", user=personas.town_officer, link="//evil.example/")
    local, foreign = Notification.objects.get(kind="a"), Notification.objects.get(kind="b")
    login(client, personas.town_officer)
    # when / then
    assert (
        client.post(f"/channels/inbox/{local.pk}/read/", {"open": "1"}).url == "/channels/tickets/"
    )
    assert (
        client.post(f"/channels/inbox/{foreign.pk}/read/", {"open": "1"}).url == "/channels/inbox/"
    )
    assert unread_count(personas.town_officer) == 0


def test_mark_all_read(client: Client, personas: Personas) -> None:
    for n in range(3):
        notify(kind=f"k{n}", subject="s", body="", user=personas.town_officer)
    login(client, personas.town_officer)
    client.post("/channels/inbox/read/")
    assert unread_count(personas.town_officer) == 0


def test_the_inbox_needs_a_sign_in(client: Client) -> None:
    assert client.get("/channels/inbox/").status_code == 302


# --- SMS: the log backend -------------------------------------------------------------------


def test_the_log_backend_writes_the_message_with_the_phone_masked(
    db: None, django_capture_on_commit_callbacks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # given the default backend
    caplog.set_level("INFO")
    # when
    row = send_sms(django_capture_on_commit_callbacks)
    # then
    assert (row.status, row.backend, row.attempts) == ("sent", "log", 1)
    assert row.phone_masked == "139****5678" and PHONE not in row.phone_encrypted
    assert "139****5678" in caplog.text and "需求 12 已逾期" in caplog.text
    assert PHONE not in caplog.text


def test_an_sms_is_sent_only_when_the_callers_transaction_commits(
    db: None, django_capture_on_commit_callbacks: Any
) -> None:
    # when the work that asked for the SMS fails and rolls back
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify(kind="k", subject="s", body="b", phone=PHONE, sms=True)
        raise RuntimeError
    # then nothing was sent and nothing remains
    assert callbacks == []
    assert not Notification.objects.exists()


def test_a_bad_phone_number_is_skipped_not_raised(db: None) -> None:
    notify(kind="k", subject="s", body="b", phone="not a number", sms=True)
    assert not Notification.objects.exists()


def test_a_broken_backend_does_not_break_the_caller(
    db: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given a misconfigured backend
    settings.JIUZHU_SMS_BACKEND = "carrier-pigeon"
    # when
    row = send_sms(django_capture_on_commit_callbacks)
    # then the row says so; the caller got no exception
    assert row.status == "failed" and "JIUZHU_SMS_BACKEND" in row.error


# --- SMS: the HTTP gateway backend ----------------------------------------------------------


def test_the_http_backend_posts_signed_json_to_the_gateway(
    db: None, http_backend: Gateway, django_capture_on_commit_callbacks: Any
) -> None:
    # when
    row = send_sms(django_capture_on_commit_callbacks)
    # then the gateway received the message, signed over the exact bytes
    assert (row.status, row.backend, row.attempts, row.error) == ("sent", "http", 1, "")
    assert row.sent_at is not None
    [request] = http_backend.received
    assert request["json"] == {
        "to": PHONE,
        "body": "逾期：需求 12 已逾期",
        "kind": "need_escalated",
        "id": row.pk,
    }
    assert request["signature"] == signature(GATEWAY_SECRET, request["timestamp"], request["body"])
    assert abs(int(request["timestamp"]) - time.time()) < 60


def test_a_gateway_error_is_recorded_and_retried(
    db: None, http_backend: Gateway, django_capture_on_commit_callbacks: Any
) -> None:
    # given the gateway answers 500
    http_backend.status = 500
    row = send_sms(django_capture_on_commit_callbacks)
    assert (row.status, row.attempts, row.error) == ("failed", 1, "HTTP 500")
    assert row.last_attempt_at is not None
    # when a retry pass runs before the back-off (1 minute) has passed
    early = notifications_retry(now=row.last_attempt_at + datetime.timedelta(seconds=59))
    # then it waits
    assert early == {"tried": 0, "sent": 0, "failed": 0, "waiting": 1}
    # when the gateway is back and the back-off has passed
    http_backend.status = 200
    later = notifications_retry(now=row.last_attempt_at + datetime.timedelta(minutes=1))
    # then
    row.refresh_from_db()
    assert later["sent"] == 1
    assert (row.status, row.attempts, row.error) == ("sent", 2, "")
    assert len(http_backend.received) == 2


def test_a_gateway_that_does_not_answer_in_time_is_a_timeout(
    db: None, http_backend: Gateway, django_capture_on_commit_callbacks: Any
) -> None:
    # given the gateway takes 2 s and the timeout is 0.5 s
    http_backend.delay = 2.0
    # when
    started = time.monotonic()
    row = send_sms(django_capture_on_commit_callbacks)
    # then
    assert time.monotonic() - started < 1.9
    assert (row.status, row.error) == ("failed", "timeout")


def test_a_refused_connection_is_recorded(
    db: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given a gateway address where nothing listens
    settings.JIUZHU_SMS_BACKEND = "http"
    settings.JIUZHU_SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"
    settings.JIUZHU_SMS_GATEWAY_SECRET = GATEWAY_SECRET
    # when
    row = send_sms(django_capture_on_commit_callbacks)
    # then
    assert row.status == "failed" and row.error.startswith("connection failed")


def test_retries_stop_after_the_maximum_attempts(
    db: None, http_backend: Gateway, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given a gateway that always fails and at most 3 attempts
    settings.JIUZHU_SMS_MAX_ATTEMPTS = 3
    http_backend.status = 503
    row = send_sms(django_capture_on_commit_callbacks)
    # when retried many times, ignoring the back-off
    for _ in range(5):
        notifications_retry(force=True)
    # then
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 3)
    assert len(http_backend.received) == 3


def test_the_retry_command_prints_its_counts(
    db: None, http_backend: Gateway, django_capture_on_commit_callbacks: Any
) -> None:
    # given one failed SMS and a gateway that is back
    http_backend.status = 500
    send_sms(django_capture_on_commit_callbacks)
    http_backend.status = 200
    out = StringIO()
    # when
    call_command("notifications", "retry", "--force", stdout=out)
    # then
    assert json.loads(out.getvalue()) == {"failed": 0, "sent": 1, "tried": 1, "waiting": 0}
    assert Notification.objects.get(channel="sms").status == "sent"


def test_an_unsent_sms_is_picked_up_after_the_grace_period(db: None) -> None:
    # given an SMS whose sending never ran (the process died before the commit hook)
    notify(kind="k", subject="s", body="b", phone=PHONE, sms=True)
    Notification.objects.update(status="queued", attempts=0)
    row = Notification.objects.get()
    # when
    soon = notifications_retry(now=row.created_at + datetime.timedelta(minutes=1))
    later = notifications_retry(now=row.created_at + datetime.timedelta(minutes=3))
    # then
    assert soon["waiting"] == 1 and later["sent"] == 1
