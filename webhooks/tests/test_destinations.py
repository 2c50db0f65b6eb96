import pytest
from django.db import connection

from webhooks.destinations import destinations_sync_from_env
from webhooks.models import Destination, OutboxMessage

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status


def test_destinations_come_from_settings_with_the_spec_schedules(settings, monkeypatch):
    for variable in ("RGS_WEBHOOK_URL", "RGS_WEBHOOK_SECRET", "BACKEND_URL", "BACKEND_API_KEY", "WEBHOOK_MAX_RETRIES",
                     "RETRY_MAX_ATTEMPTS", "BACKEND_WEBHOOK_SECRET"):
        monkeypatch.delenv(variable, raising=False)

    assert destinations_sync_from_env() == {"rgs": "created", "backend": "created"}

    rgs, backend = Destination.objects.get(name="rgs"), Destination.objects.get(name="backend")
    assert (rgs.url, rgs.secrets, rgs.retry_delays, rgs.max_attempts) == (
        settings.RGS_WEBHOOK_URL, [settings.RGS_WEBHOOK_SECRET], [1, 5, 15, 60, 300], settings.WEBHOOK_MAX_RETRIES + 1)
    assert (backend.auth_header_name, backend.auth_header_value, backend.max_attempts) == (
        "X-AUTH", settings.BACKEND_API_KEY, settings.RETRY_MAX_ATTEMPTS)
    assert backend.retry_delays[:3] == [60, 120, 240] and len(backend.retry_delays) == settings.RETRY_MAX_ATTEMPTS - 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT signing_secrets FROM webhooks_destination WHERE name = 'rgs'")
        assert settings.RGS_WEBHOOK_SECRET not in cursor.fetchone()[0]


def test_admin_edits_survive_unless_the_variable_is_set(settings, monkeypatch):
    monkeypatch.delenv("RGS_WEBHOOK_URL", raising=False)
    destinations_sync_from_env()
    Destination.objects.filter(name="rgs").update(url="http://edited.example/hook", timeout_seconds=9)

    assert destinations_sync_from_env()["rgs"] == "unchanged"
    assert Destination.objects.get(name="rgs").url == "http://edited.example/hook"

    monkeypatch.setenv("RGS_WEBHOOK_URL", "http://from-env.example/hook")
    settings.RGS_WEBHOOK_URL = "http://from-env.example/hook"
    assert destinations_sync_from_env()["rgs"] == "updated url"
    rgs = Destination.objects.get(name="rgs")
    assert (rgs.url, rgs.timeout_seconds) == ("http://from-env.example/hook", 9)
