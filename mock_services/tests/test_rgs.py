"""The RGS fake verifies Standard Webhooks signatures over real HTTP."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.conf import settings
from standardwebhooks.webhooks import Webhook

from mock_services.testing import start_mock

pytestmark = pytest.mark.e2e

OTHER_SECRET = "whsec_b3RoZXItZGV2LWluc2VjdXJlLXNlY3JldA=="


def signed(body: bytes, *, secret: str = settings.RGS_WEBHOOK_SECRET, webhook_id: str | None = None,
           at: datetime | None = None) -> dict[str, str]:
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    signature = Webhook(secret).sign(webhook_id, at, body.decode())
    return {"webhook-id": webhook_id, "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signature,
            "content-type": "application/json"}


def event(type_: str = "wallet.transaction.completed") -> bytes:
    return json.dumps({"id": "e1", "type": type_, "occurredAt": "2026-01-01T00:00:00Z", "data": {"refId": "r1"}}).encode()


def post(mock, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(f"{mock.url}/webhooks", data=body, headers=headers, timeout=5)


def test_valid_signature_is_accepted_and_recorded_once_per_webhook_id(rgs_mock):
    body = event()
    headers = signed(body, webhook_id="msg_1")

    first, again = post(rgs_mock, body, headers), post(rgs_mock, body, headers)

    assert (first.status_code, first.json()) == (200, {"received": True, "duplicate": False})
    assert (again.status_code, again.json()) == (200, {"received": True, "duplicate": True})
    accepted = rgs_mock.control("webhooks")
    assert (accepted["distinct"], accepted["deliveries"]) == (1, 2)
    assert accepted["items"][0]["webhookId"] == "msg_1"
    assert accepted["items"][0]["type"] == "wallet.transaction.completed"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda body, h: (body, {**h, "webhook-signature": signed(body, secret=OTHER_SECRET)["webhook-signature"]}), id="wrong-secret"),
        pytest.param(lambda body, h: (body + b" ", h), id="body-changed"),
        pytest.param(lambda body, h: (body, {**h, "webhook-id": "msg_other"}), id="id-changed"),
        pytest.param(lambda body, h: (body, {k: v for k, v in h.items() if k != "webhook-signature"}), id="no-signature"),
        pytest.param(lambda body, h: (body, {**h, "webhook-signature": "garbage"}), id="malformed-signature"),
        pytest.param(lambda body, h: (body, {**h, "webhook-signature": "v1,%%%notbase64"}), id="bad-base64"),
        pytest.param(lambda body, h: (body, signed(body, at=datetime.now(UTC) - timedelta(minutes=10))), id="stale"),
    ],
)
def test_bad_signatures_are_401_and_not_recorded_as_accepted(rgs_mock, tamper):
    body, headers = tamper(event(), signed(event()))

    answer = post(rgs_mock, body, headers)

    assert (answer.status_code, answer.json()) == (401, {"error": "invalid_signature"})
    assert rgs_mock.control("webhooks")["distinct"] == 0
    assert rgs_mock.requests("webhooks")[0]["status"] == 401


def test_one_matching_signature_among_several_verifies(rgs_mock):
    body = event()
    headers = signed(body)
    other = signed(body, secret=OTHER_SECRET, webhook_id=headers["webhook-id"], at=datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC))
    headers["webhook-signature"] = f"{other['webhook-signature']} {headers['webhook-signature']}"

    assert post(rgs_mock, body, headers).status_code == 200


def test_signed_but_malformed_json_is_400(rgs_mock):
    body = b'{"id": '
    assert post(rgs_mock, body, signed(body)).status_code == 400


def test_receiver_configured_with_two_secrets_accepts_either(process_log_dir):
    mock = start_mock("rgs", log_dir=process_log_dir, RGS_WEBHOOK_SECRET=f"{settings.RGS_WEBHOOK_SECRET},{OTHER_SECRET}")
    try:
        body = event()
        assert post(mock, body, signed(body)).status_code == 200
        assert post(mock, body, signed(body, secret=OTHER_SECRET)).status_code == 200
        assert mock.control("webhooks")["distinct"] == 2
    finally:
        mock.stop()
