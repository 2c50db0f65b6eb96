"""Production hardening: deploy checks, headers, admin brute force, nothing secret in logs."""

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
import responses
import structlog

from hub.logs import SHARED_PROCESSORS
from hub.signing import hex_hmac
from hub.testing import BASE_DIR, subprocess_env
from hub.tests.test_production_checks import SAFE
from providers.models import Provider
from wallet.tests.helpers import debit_body, wallet_post
from webhooks.tests.factories import DestinationFactory


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=BASE_DIR,
                            env=subprocess_env(**SAFE), capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_security_headers(client):
    answer = client.get("/health")

    assert (answer["X-Content-Type-Options"], answer["X-Frame-Options"], answer["Referrer-Policy"]) == (
        "nosniff", "DENY", "same-origin")


@pytest.mark.django_db
def test_readiness_needs_database_and_broker(client):
    answer = client.get("/health/ready")

    assert answer.status_code == 200 and answer.json()["broker"] == "connected"


@pytest.mark.django_db
def test_admin_login_is_locked_after_repeated_failures(client, django_user_model):
    django_user_model.objects.create_superuser("ops", password="the-right-password-123")
    form = {"username": "ops", "next": "/admin/"}

    failures = [client.post("/admin/login/", {**form, "password": f"wrong-{n}"}).status_code for n in range(5)]
    locked = client.post("/admin/login/", {**form, "password": "the-right-password-123"})

    assert failures == [200, 200, 200, 200, 429]  # the fifth failure locks (ADMIN_LOGIN_FAILURE_LIMIT)
    assert locked.status_code == 429  # even the right password, until the cool-off ends
    assert "_auth_user_id" not in client.session


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
    careem_secret = settings.PROVIDER_INTAKE["careem"]["secret"]
    signature = hex_hmac(secret=careem_secret, message=order)
    bodies = []
    with responses.RequestsMock() as operator:
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
