"""The hub's settings with django-webhook2 added, for the second peer in `make bench` (bench/peer_library.py).
Only the benchmark loads them; the library is installed by bench/run from bench/requirements-peer.txt."""

from hub.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "django_webhook"]  # noqa: F405
# A webhook per new outbox row, as the library sends them: on commit, one Celery task per delivery.
DJANGO_WEBHOOK = {"MODELS": ["webhooks.OutboxMessage"]}
CELERY_TASK_DEFAULT_QUEUE = "peer_library"
