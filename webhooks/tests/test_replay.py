from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from webhooks.models import OutboxMessage, ReplayAudit
from webhooks.replay import outbox_replay
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
