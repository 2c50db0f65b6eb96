"""The peer in `make bench`: the usual Django way of sending webhooks, to compare the outbox against.

One Celery task per message, enqueued with `transaction.on_commit(send_webhook.delay)`, the message
loaded by id, signed (the same Standard Webhooks signature as ours), sent with `requests.post`,
retried by Celery (`autoretry_for`, exponential backoff), marked delivered with an UPDATE. It uses the
hub's outbox table and the same receiver, so both deliver the same backlog to the same place.

Two settings of it: as most projects run it (Celery's defaults: its Django fix-up closes the database
connection around every task; `requests.post` opens a connection per call), and tuned (PEER_TUNED=1:
the database connection kept across tasks and one keep-alive `requests.Session` per process).

Worker: celery -A bench.peer worker -Q peer --concurrency 2   (the bench starts it)
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from celery import Celery  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db.models import F  # noqa: E402
from django.utils import timezone  # noqa: E402

from hub.signing import standard_webhook_headers  # noqa: E402
from webhooks.models import OutboxMessage  # noqa: E402

TUNED = os.environ.get("PEER_TUNED") == "1"
app = Celery("peer", broker=settings.CELERY_BROKER_URL)
app.conf.update(task_default_queue="peer", task_acks_late=True, worker_prefetch_multiplier=4)
if TUNED:
    app.conf["CELERY_DB_REUSE_MAX"] = 10**9  # what the hub sets: the fix-up then keeps the connection
http = requests.Session() if TUNED else requests


@app.task(autoretry_for=(requests.RequestException,), retry_backoff=True, max_retries=5)
def send_webhook(message_id: int) -> None:
    message = OutboxMessage.objects.select_related("destination").get(id=message_id)
    if message.status == OutboxMessage.Status.DELIVERED:
        return
    body = json.dumps({"id": message.event_id, "type": message.event_type,
                       "occurredAt": message.occurred_at.isoformat(), "data": message.payload})
    headers = {"Content-Type": "application/json", **standard_webhook_headers(
        webhook_id=message.event_id, timestamp=timezone.now(), body=body, secrets=message.destination.secrets)}
    response = http.post(message.destination.url, data=body, headers=headers, timeout=5)
    response.raise_for_status()
    OutboxMessage.objects.filter(id=message_id).update(status=OutboxMessage.Status.DELIVERED,
                                                       delivered_at=timezone.now(), attempts=F("attempts") + 1)
