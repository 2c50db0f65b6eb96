"""Production settings refuse DEBUG, a default SECRET_KEY and demo secrets."""

import subprocess
import sys

import pytest
from django.core.management.base import SystemCheckError

from hub.checks import enforce_safe_settings, production_problems
from hub.testing import BASE_DIR, subprocess_env

SAFE = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": "k9Jx2-production-grade-random-value-0123456789abcdef",
    "RGS_WEBHOOK_SECRET": "whsec_cHJvZHVjdGlvbi1yZ3Mtc2VjcmV0LXZhbHVlIQ==",
    "BACKEND_API_KEY": "prod-backend-key-7f3a9c",
    "FIELD_ENCRYPTION_KEYS": "cHJvZHVjdGlvbi1maWVsZC1rZXktMzItYnl0ZXMhISE=",
    "OPERATOR_API_KEY": "prod-operator-key-5d1e",
    "CAREEM_WEBHOOK_SECRET": "prod-careem-secret-81f0",
    "TALABAT_WEBHOOK_SECRET": "prod-talabat-secret-c42d",
    "WALLET_HMAC_SECRET": "prod-wallet-hmac-8b2c,prod-wallet-hmac-next",
    "DJANGO_ALLOWED_HOSTS": "hub.example.com",
    "BACKEND_CALLBACK_KEY": "prod-callback-key-2e9d",
    "CAREEM_CLIENT_SECRET": "prod-careem-client-3a7f",
    "TALABAT_MIDDLEWARE_PASSWORD": "prod-talabat-password-61bb",
    "DELIVEROO_WEBHOOK_SECRET": "prod-deliveroo-webhook-9c4e",
    "DELIVEROO_CLIENT_SECRET": "prod-deliveroo-client-17ad",
    "UBEREATS_CLIENT_SECRET": "prod-ubereats-client-e52b",
}


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=BASE_DIR, env=subprocess_env(**env), capture_output=True,
                          text=True, timeout=60)


def test_safe_production_settings_pass_the_check():
    result = run(["manage.py", "check"], **SAFE)

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"DJANGO_DEBUG": "true"}, "DEBUG is on"),
        ({"DJANGO_SECRET_KEY": "dev-insecure-django-secret-key-change-me"}, "SECRET_KEY is empty or a demo secret"),
        ({"BACKEND_API_KEY": "dev-insecure-backend-api-key"}, "BACKEND_API_KEY is empty or a demo secret"),
        (
            {"FIELD_ENCRYPTION_KEYS": "cHJvZHVjdGlvbi1maWVsZC1rZXktMzItYnl0ZXMhISE=,ZGV2LWluc2VjdXJlLWZpZWxkLWtleS0zMi1ieXRlcyE="},
            "FIELD_ENCRYPTION_KEYS is empty or a demo secret",
        ),
        (
            {"RGS_WEBHOOK_SECRET": "whsec_new,whsec_ZGV2LWluc2VjdXJlLXJncy13ZWJob29rLXNlY3JldCE="},
            "RGS_WEBHOOK_SECRET is empty or a demo secret",
        ),
        ({"CAREEM_WEBHOOK_SECRET": "dev-insecure-careem-webhook-secret"}, "CAREEM_WEBHOOK_SECRET is empty or a demo secret"),
        ({"TALABAT_WEBHOOK_SECRET": ""}, "TALABAT_WEBHOOK_SECRET is empty or a demo secret"),
        ({"DELIVEROO_WEBHOOK_SECRET": "dev-insecure-deliveroo-webhook-secret"},
         "DELIVEROO_WEBHOOK_SECRET is empty or a demo secret"),
        ({"UBEREATS_CLIENT_SECRET": "dev-insecure-ubereats-client-secret"}, "UBEREATS_CLIENT_SECRET is empty or a demo secret"),
    ],
)
def test_unsafe_production_settings_fail_the_check(override, complaint):
    result = run(["manage.py", "check"], **{**SAFE, **override})

    assert result.returncode != 0
    assert complaint in result.stderr


def test_production_needs_every_secret_set():
    env = {k: v for k, v in SAFE.items() if k != "BACKEND_API_KEY"}

    result = run(["manage.py", "check"], **env)

    assert result.returncode != 0
    assert "BACKEND_API_KEY" in result.stderr


def test_the_wsgi_application_refuses_to_load_with_unsafe_settings():
    unsafe = run(["-c", "import hub.wsgi"], **{**SAFE, "DJANGO_DEBUG": "true"})
    safe = run(["-c", "import hub.wsgi"], **SAFE)

    assert unsafe.returncode != 0 and "Refusing to start" in unsafe.stderr
    assert safe.returncode == 0, safe.stderr


def test_development_settings_are_never_refused(settings):
    settings.PRODUCTION = False
    settings.DEBUG = True

    assert production_problems() == []
    enforce_safe_settings()


def test_enforcement_raises_in_process(settings):
    settings.PRODUCTION = True
    settings.DEBUG = True

    with pytest.raises(SystemCheckError, match="DEBUG is on"):
        enforce_safe_settings()
