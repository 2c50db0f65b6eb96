import signal
import threading

from django.core.management.base import BaseCommand

from hub.collector import freeze_loaded_objects
from webhooks.dispatcher import dispatch


class Command(BaseCommand):
    help = "Deliver outbox messages as they are committed (the outbox's delivery process). SIGTERM stops it."

    def handle(self, *args, **options) -> None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        freeze_loaded_objects()
        self.stdout.write("outbox dispatcher: starting", ending="\n")
        self.stdout.flush()
        attempted = dispatch(stop)
        self.stdout.write(f"outbox dispatcher: stopped after {attempted} attempts")
