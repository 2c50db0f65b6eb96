import signal
import threading

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from webhooks.dispatcher import dispatch


class Command(BaseCommand):
    help = "Deliver outbox messages as they are committed (OUTBOX_TRIGGER=notify; PostgreSQL). SIGTERM stops it."

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("the dispatcher listens for PostgreSQL notifications; use the Celery trigger elsewhere")
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write("outbox dispatcher: listening", ending="\n")
        self.stdout.flush()
        attempted = dispatch(stop)
        self.stdout.write(f"outbox dispatcher: stopped after {attempted} attempts")
