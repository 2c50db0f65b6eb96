import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from hub.collector import freeze_loaded_objects
from webhooks.dispatcher import dispatch
from webhooks.nudges import dispatchers_deliver


class Command(BaseCommand):
    help = ("Deliver outbox messages as they are committed (OUTBOX_TRIGGER=notify, the default). "
            "SIGTERM stops it.")

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--idle-when-unused", action="store_true",
            help="where Celery delivers instead (OUTBOX_TRIGGER=celery), wait for SIGTERM rather than "
                 "fail, so that a Procfile can always list the dispatcher",
        )

    def handle(self, *args, idle_when_unused: bool = False, **options) -> None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        if not dispatchers_deliver():
            reason = "OUTBOX_TRIGGER is not notify"
            if not idle_when_unused:
                raise CommandError(f"{reason}; Celery delivers here")
            self.stdout.write(f"outbox dispatcher: idle ({reason}; Celery delivers here)")
            self.stdout.flush()
            stop.wait()
            return
        freeze_loaded_objects()
        self.stdout.write("outbox dispatcher: starting", ending="\n")
        self.stdout.flush()
        attempted = dispatch(stop)
        self.stdout.write(f"outbox dispatcher: stopped after {attempted} attempts")
