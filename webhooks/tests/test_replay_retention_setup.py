from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from webhooks.destinations import destinations_sync_from_env
from webhooks.models import DeliveryAttempt, Destination, OutboxMessage, ReplayAudit
from webhooks.replay import outbox_replay
from webhooks.retention import outbox_prune
from webhooks.tests.factories import DestinationFactory, OutboxMessageFactory

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status


def test_replay_makes_dead_letters_pending_keeping_their_id_and_audits(django_user_model):
    user = django_user_model.objects.create(username="ops")
    dead = OutboxMessageFactory(status=Status.DEAD_LETTER, attempts=6, last_error="HTTP 500")
    delivered = OutboxMessageFactory(status=Status.DELIVERED, attempts=1)

    count = outbox_replay(messages=OutboxMessage.objects.all(), actor="ops", user=user, filters={"status": "x"})

    dead.refresh_from_db()
    delivered.refresh_from_db()
    assert count == 1
    assert (dead.status, dead.attempts, dead.event_id) == (Status.PENDING, 0, dead.event_id)
    assert dead.next_attempt_at <= timezone.now()
    assert delivered.status == Status.DELIVERED
    audit = ReplayAudit.objects.get()
    assert (audit.user, audit.actor, audit.count, audit.filters) == (user, "ops", 1, {"status": "x"})


def test_the_cli_replays_by_destination_time_and_type(capsys):
    rgs, backend = DestinationFactory(name="rgs"), DestinationFactory(name="backend")
    old = timezone.now() - timedelta(days=3)
    matching = OutboxMessageFactory(destination=rgs, status=Status.DEAD_LETTER, event_type="a")
    OutboxMessageFactory(destination=rgs, status=Status.DEAD_LETTER, event_type="b")
    OutboxMessageFactory(destination=rgs, status=Status.DEAD_LETTER, event_type="a", created_at=old)
    OutboxMessageFactory(destination=backend, status=Status.DEAD_LETTER, event_type="a")

    call_command("replay_dead_letters", "--destination", "rgs", "--since", str(timezone.now().date() - timedelta(days=1)),
                 "--until", str(timezone.now().date()), "--type", "a")

    assert "replayed 1 dead-lettered messages" in capsys.readouterr().out
    assert list(OutboxMessage.objects.filter(status=Status.PENDING).values_list("id", flat=True)) == [matching.id]
    audit = ReplayAudit.objects.get()
    assert audit.actor.startswith("cli:") and audit.filters["type"] == "a"


def test_the_cli_refuses_an_unknown_destination_and_bad_dates():
    DestinationFactory(name="rgs")
    with pytest.raises(CommandError, match="unknown destination"):
        call_command("replay_dead_letters", "--destination", "nope")
    with pytest.raises(CommandError, match="not an ISO date"):
        call_command("replay_dead_letters", "--destination", "rgs", "--since", "yesterday")


def test_prune_removes_old_deliveries_and_their_attempts_only():
    long_ago = timezone.now() - timedelta(days=8)
    old = OutboxMessageFactory(status=Status.DELIVERED, delivered_at=long_ago)
    DeliveryAttempt.objects.create(message=old, destination=old.destination, duration_ms=1, succeeded=True)
    recent = OutboxMessageFactory(status=Status.DELIVERED, delivered_at=timezone.now())
    dead = OutboxMessageFactory(status=Status.DEAD_LETTER, created_at=long_ago)

    assert outbox_prune(older_than_days=7) == 1

    assert set(OutboxMessage.objects.values_list("id", flat=True)) == {recent.id, dead.id}
    assert DeliveryAttempt.objects.count() == 0


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
