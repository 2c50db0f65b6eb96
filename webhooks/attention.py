"""What the outbox shows on the admin's first screen (registered with `hub.attention` at startup)."""

from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import TruncHour
from django.urls import reverse
from django.utils import timezone

from hub.attention import Chart, Figure, hourly
from webhooks.models import DeliveryAttempt, Destination, DestinationCircuit, OutboxMessage
from webhooks.selectors import listening_dispatchers, oldest_pending_by_destination

Status = OutboxMessage.Status
STALE_PENDING_SECONDS = 900


def _messages(**filters: str | int) -> str:
    return f"{reverse('admin:webhooks_outboxmessage_changelist')}?{urlencode(filters)}"


def age_text(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min" if minutes else f"{int(seconds)} s"


def outbox_figures() -> list[Figure]:
    listening = listening_dispatchers()
    figures = [Figure("Outbox", "Dispatchers listening", str(listening), _messages(status__exact=Status.PENDING),
                      alarm=listening == 0,
                      detail=f"deliveries wait for the sweep (every {settings.OUTBOX_SWEEP_SECONDS} s): "
                             "start manage.py run_outbox_dispatcher" if listening == 0 else "")]
    dead = dict(OutboxMessage.objects.filter(status=Status.DEAD_LETTER).values_list("destination_id")
                .annotate(n=Count("id")).order_by())
    oldest = oldest_pending_by_destination()
    now = timezone.now()
    for destination in Destination.objects.order_by("name"):
        count = dead.get(destination.id, 0)
        figures.append(Figure("Outbox", f"Dead letters to {destination.name}", str(count),
                              _messages(status__exact=Status.DEAD_LETTER, destination__id__exact=destination.id),
                              alarm=count > 0, detail="replay once the cause is fixed" if count else ""))
        if destination.name in oldest:
            age = (now - oldest[destination.name]).total_seconds()
            figures.append(Figure("Outbox", f"Oldest pending to {destination.name}", age_text(age),
                                  _messages(status__exact=Status.PENDING, destination__id__exact=destination.id),
                                  alarm=age > STALE_PENDING_SECONDS))
    circuits = list(DestinationCircuit.objects.filter(open_until__isnull=False).select_related("destination"))
    figures.append(Figure("Outbox", "Open circuits", str(len(circuits)), reverse("admin:webhooks_destination_changelist"),
                          alarm=bool(circuits)))
    for circuit in circuits:
        figures.append(Figure(
            "Outbox", f"Circuit to {circuit.destination.name}", circuit.state,
            reverse("admin:webhooks_destination_changelist") + f"?{urlencode({'id__exact': circuit.destination_id})}",
            alarm=True, detail=f"until {circuit.open_until:%H:%M:%S} UTC; probe now or close it"))
    return figures


def outbox_charts(hours: list[datetime]) -> list[Chart]:
    # destination IN (all of them) lets PostgreSQL read the (destination, attempted_at) index
    destinations = list(Destination.objects.values_list("id", flat=True))
    rows = (DeliveryAttempt.objects.filter(destination_id__in=destinations, attempted_at__gte=hours[0])
            .annotate(hour=TruncHour("attempted_at")).values_list("hour", "destination__name", "succeeded")
            .annotate(n=Count("id")).order_by())
    named = [(hour, f"{name} {'delivered' if succeeded else 'failed'}", n) for hour, name, succeeded, n in rows]
    return [Chart("Outbox deliveries and failures per destination", hourly(named, hours))]
