"""The second peer in `make bench`: django-webhook2 (a maintained fork of django-webhook, on the package
index), the library a Django project would add to send webhooks. It emits an event per changed row of
the models it is given, on commit: per delivery it stores a WebhookEvent row and publishes one Celery
task, which loads the webhook and its secrets, signs the body, sends it with a new `requests` session
and updates the event row (retries with exponential backoff). Set up as its documentation says (Celery
configured from the Django settings: the hub's, bench/peer_library_settings.py), subscribed to new
outbox rows, sending to the same receiver as the other rows.

  python bench/peer_library.py setup URL   the library's tables, a webhook to URL with a secret
  python bench/peer_library.py publish N   N outbox rows and their events in one transaction, once
                                           the parent answers "go"; prints the publishing CPU seconds
  celery -A bench.peer_library worker -Q peer_library --concurrency 2   (the bench starts it)
"""

import json
import os
import resource
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.peer_library_settings"

import django  # noqa: E402
from celery import Celery  # noqa: E402
from django.conf import settings  # noqa: E402

settings.INSTALLED_APPS  # noqa: B018 (loading the settings imports the hub's own Celery app)
# Created after the hub's app and before django.setup(): the library binds its tasks to the current app.
app = Celery("peer_library")
app.config_from_object("django.conf:settings", namespace="CELERY")
django.setup()


def setup(url: str) -> None:
    from django.core.management import call_command
    from django_webhook.models import Webhook, WebhookSecret, WebhookTopic

    call_command("migrate", "django_webhook", verbosity=0)
    Webhook.objects.all().delete()
    webhook = Webhook.objects.create(url=url, active=True)
    webhook.topics.set(WebhookTopic.objects.filter(name="webhooks.OutboxMessage/create"))
    WebhookSecret.objects.create(webhook=webhook, token=uuid.uuid4().hex)


def publish(count: int) -> None:
    from django.db import transaction
    from django_webhook.dispatch import emit_events

    from bench.common import outbox_backlog
    from webhooks.models import Destination

    destination = Destination.objects.get(name="bench-receiver")
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("the parent did not say go")
    before = resource.getrusage(resource.RUSAGE_SELF)
    with transaction.atomic():  # emit_events: the library's entry point for bulk_create, which sends no signals
        emit_events(outbox_backlog(destination, count, held=True), "create")
    after = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"publisher_seconds": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime}),
          flush=True)


if __name__ == "__main__":
    command, argument = sys.argv[1], sys.argv[2]
    setup(argument) if command == "setup" else publish(int(argument))
