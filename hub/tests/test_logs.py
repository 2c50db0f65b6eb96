"""Nothing secret in the logs: no secret, signature or phone number, in logs or error bodies."""

import io
import json
import logging
from pathlib import Path

import pytest
import structlog

from hub.logs import SHARED_PROCESSORS
from hub.signing import hex_hmac
from providers.models import Provider
from wallet.tests.helpers import debit_body, wallet_post
from webhooks.tests.factories import DestinationFactory
from providers.config import intake_settings
from hub.testing import mock_http


@pytest.fixture
def all_log_output():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, structlog.processors.JSONRenderer()],
        foreign_pre_chain=SHARED_PROCESSORS))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


@pytest.mark.django_db
def test_no_secret_signature_or_phone_number_reaches_the_logs_or_error_bodies(client, settings, all_log_output):
    settings.OPERATOR_BASE_URL = "http://operator.test"
    DestinationFactory(name="rgs")
    DestinationFactory(name="backend")
    Provider.objects.create(name="careem")
    order = (Path(settings.BASE_DIR) / "providers/tests/fixtures/careem/order_created_jod.json").read_bytes()
    careem_secret = intake_settings("careem").secret
    signature = hex_hmac(secret=careem_secret, message=order)
    bodies = []
    with mock_http() as operator:
        operator.post("http://operator.test/api/v1/wallet/withdraw", status=503)
        bodies.append(wallet_post(client, "debit", debit_body()).content)
        bodies.append(wallet_post(client, "debit", debit_body(), secret="a-wrong-secret").content)
    bodies.append(client.post("/api/webhooks/careem", data=order, content_type="application/json",
                              HTTP_X_CAREEM_SIGNATURE=signature).content)
    bodies.append(client.post("/api/webhooks/careem", data=order, content_type="application/json",
                              HTTP_X_CAREEM_SIGNATURE="0" * 64).content)
    structlog.get_logger("test").warning("careful", headers={"X-Careem-Signature": signature}, phone="962791234567")

    logs = all_log_output.getvalue()
    assert "operator_unavailable" in logs and "webhook_rejected" in logs  # the logs did record these requests
    for secret in (settings.WALLET_HMAC_SECRET, careem_secret, signature, settings.BACKEND_API_KEY,
                   settings.OPERATOR_API_KEY, "962791234567"):
        assert secret not in logs
        assert all(secret.encode() not in body for body in bodies)
    assert json.loads(bodies[1])["error"]["message"] == "Authentication failed."
