"""The call webhook: signature, replay window, replay of a call id, malformed bodies,
and what a good call makes (an urgent need for the dispatcher, the timeline, staff told)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client

from jiuzhu.channels import views
from jiuzhu.channels.models import CallEvent, CallTicket, Notification
from jiuzhu.registry.models import TimelineEvent
from jiuzhu.services.models import Need
from tests.channels.conftest import HEAD_PHONE, SECRET, URL, call_payload, post_call, raw
from tests.conftest import Family, Personas


def nothing_stored() -> bool:
    return not (CallEvent.objects.exists() or CallTicket.objects.exists() or Need.objects.exists())


def test_a_signed_call_from_a_registered_elder_makes_an_urgent_need(
    client: Client, personas: Personas, family: Family, webhook_secret: str
) -> None:
    # given the head of the family long-presses "9"
    body = raw(call_payload())
    # when the gateway reports it
    response = post_call(client, body)
    # then
    assert response.status_code == 200
    result = response.json()
    assert result["outcome"] == "need"
    need = Need.objects.get()
    assert result["need"] == need.pk and result["ticket"] is None
    assert (need.source, need.route, need.funding) == ("call", "dispatch", "project")
    assert need.urgency == "urgent" and need.item is not None
    assert need.item.code == "emergency_help"
    assert need.household == family.household and need.person == family.head
    assert need.status == "draft" and not need.orders.exists()  # in the dispatcher's console
    event = CallEvent.objects.get()
    assert need.source_ref == str(event.pk) and event.need == need
    kinds = set(
        TimelineEvent.objects.filter(household=family.household).values_list("kind", flat=True)
    )
    assert {"channels.call_received", "services.need_created"} <= kinds
    told = set(Notification.objects.filter(kind="call_need").values_list("user", flat=True))
    assert told == {
        personas.county_admin.pk,
        personas.town_officer.pk,
        personas.village_assistant.pk,
    }


def test_the_callers_number_is_kept_encrypted_and_never_logged(
    client: Client, family: Family, webhook_secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    caplog.set_level("DEBUG")
    # when
    post_call(client, raw(call_payload()))
    # then
    event = CallEvent.objects.get()
    assert event.caller_masked == "138****0001"
    assert HEAD_PHONE not in event.caller_encrypted
    assert event.caller_index == family.head.phone_index
    assert HEAD_PHONE not in caplog.text
    assert all(HEAD_PHONE not in n.body for n in Notification.objects.all())


def test_no_secret_configured_refuses_with_503_and_stores_nothing(
    client: Client, family: Family, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given no secret in settings or the environment
    settings.JIUZHU_CALL_WEBHOOK_SECRET = None
    monkeypatch.delenv("JIUZHU_CALL_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("JIUZHU_CALL_WEBHOOK_SECRET_FILE", raising=False)
    # when
    response = post_call(client, raw(call_payload()))
    # then
    assert response.status_code == 503
    assert nothing_stored()


def test_the_secret_can_come_from_a_file(
    client: Client, family: Family, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given JIUZHU_CALL_WEBHOOK_SECRET_FILE (how container secrets arrive)
    path = tmp_path / "webhook_secret"
    path.write_text(SECRET + "\n")
    monkeypatch.setenv("JIUZHU_CALL_WEBHOOK_SECRET_FILE", str(path))
    # when
    response = post_call(client, raw(call_payload()))
    # then
    assert response.status_code == 200
    assert Need.objects.count() == 1


@pytest.mark.parametrize(
    "case",
    ["no headers", "no signature", "wrong secret", "garbage", "body changed", "not hex"],
)
def test_a_bad_or_missing_signature_is_refused_and_nothing_stored(
    client: Client, family: Family, webhook_secret: str, case: str
) -> None:
    # given
    body = raw(call_payload())
    stamp = int(time.time())
    # when
    if case == "no headers":
        response = post_call(client, body, headers=False)
    elif case == "no signature":
        response = post_call(client, body, sign="")
    elif case == "wrong secret":
        response = post_call(client, body, secret="another-secret")
    elif case == "garbage":
        response = post_call(client, body, sign="0" * 64)
    elif case == "not hex":
        response = post_call(client, body, sign="签名")
    else:
        # signed for one body, sent with another (caller changed in transit)
        from jiuzhu.channels.signing import signature

        good = signature(SECRET, str(stamp), body)
        tampered = raw(call_payload(caller="13900000000"))
        response = post_call(client, tampered, timestamp=stamp, sign=good)
    # then
    assert response.status_code == 401
    assert nothing_stored()


@pytest.mark.parametrize(
    ("offset", "status"),
    [(-301, 401), (-300, 200), (300, 200), (301, 401)],
)
def test_the_timestamp_must_be_within_five_minutes(
    client: Client,
    family: Family,
    webhook_secret: str,
    monkeypatch: pytest.MonkeyPatch,
    offset: int,
    status: int,
) -> None:
    # given a correctly signed request stamped ``offset`` seconds from the server's clock
    now = 1_790_000_000
    monkeypatch.setattr(views, "clock", lambda: float(now))
    body = raw(call_payload())
    # when
    response = post_call(client, body, timestamp=now + offset)
    # then
    assert response.status_code == status, response.content
    assert CallEvent.objects.count() == (1 if status == 200 else 0)


def test_a_replayed_call_id_answers_the_same_and_makes_nothing_new(
    client: Client, family: Family, webhook_secret: str
) -> None:
    # given a call already received
    body = raw(call_payload(call_id="gw-42"))
    first = post_call(client, body)
    # when the gateway delivers it again (a retry, or an attacker's replay in the window)
    again = post_call(client, body)
    # then
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert CallEvent.objects.count() == 1
    assert Need.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (b"{not json", {"body"}),
        (b"\xff\xfe", {"body"}),
        (b"[1, 2]", {"body"}),
        (raw({"call_id": "x"}), {"caller", "key", "pressed_at"}),
        (raw(call_payload(caller="12345")), {"caller"}),
        (raw(call_payload(key="nine")), {"key"}),
        (raw(call_payload(pressed_at="yesterday")), {"pressed_at"}),
        (raw(call_payload(call_id="")), {"call_id"}),
        (raw(call_payload(call_id="a" * 65)), {"call_id"}),
        (raw(call_payload(county="999999")), {"county"}),
    ],
)
def test_a_malformed_body_is_refused_with_400(
    client: Client, family: Family, webhook_secret: str, body: bytes, fields: set[str]
) -> None:
    # when a correctly signed but malformed report arrives
    response = post_call(client, body)
    # then
    assert response.status_code == 400
    assert set(response.json()["errors"]) == fields
    assert nothing_stored()


def test_only_post_is_accepted(client: Client, webhook_secret: str) -> None:
    assert client.get(URL).status_code == 405


def test_an_oversized_body_is_refused(client: Client, family: Family, webhook_secret: str) -> None:
    body = raw(call_payload(padding="x" * 20000))
    assert post_call(client, body).status_code == 413
    assert nothing_stored()


def test_an_unknown_number_answers_with_the_ticket(
    client: Client, personas: Personas, regions: None, webhook_secret: str
) -> None:
    # when a number nobody registered calls through a gateway that names its county
    response = post_call(client, raw(call_payload(caller="13900001111", county="360823")))
    # then
    assert response.status_code == 200
    result = json.loads(response.content)
    ticket = CallTicket.objects.get()
    assert result["outcome"] == "ticket" and result["ticket"] == ticket.pk
    assert result["need"] is None
    assert ticket.county_id == "360823" and ticket.status == "open"


def test_a_source_refused_too_often_gets_429_but_a_signed_call_still_goes_through(
    client: Client, family: Family, webhook_secret: str
) -> None:
    # given twenty bad signatures from one address (behind a proxy: every sender's)
    body = raw(call_payload())
    for _ in range(views.REFUSALS_LIMIT):
        assert post_call(client, body, sign="0" * 64).status_code == 401
    # when another bad one follows, it is throttled and nothing is stored
    assert post_call(client, body, sign="0" * 64).status_code == 429
    assert nothing_stored()
    # but the gateway's correctly signed call is never silenced
    assert post_call(client, body).status_code == 200
