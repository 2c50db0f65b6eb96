"""What the providers show on the admin's first screen (registered with `hub.attention` at startup)."""

from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Count
from django.db.models.functions import Concat, TruncHour
from django.db.models import Value
from django.urls import reverse
from django.utils import timezone

from hub.attention import Chart, Figure, hourly
from providers.adapters import ADAPTERS
from providers.models import InboundWebhook, ItemAvailability, MenuSync
from providers.menus import menu_syncs_needing_attention
from providers.selectors import undecided_orders_by_provider

Outcome = InboundWebhook.Outcome


def providers_figures() -> list[Figure]:
    since = timezone.now() - timedelta(hours=24)
    failed = InboundWebhook.objects.filter(outcome=Outcome.FAILED, reprocessed_at__isnull=True,
                                           received_at__gte=since).count()
    near = sum(count for (_, is_near), count in undecided_orders_by_provider().items() if is_near)
    webhooks = reverse("admin:providers_inboundwebhook_changelist")
    menus = sum(menu_syncs_needing_attention().values())
    long_out = ItemAvailability.objects.filter(available=False, updated_at__lte=timezone.now() - timedelta(days=1)).count()
    return [
        Figure("Providers", "Items unavailable for more than a day", str(long_out),
               f"{reverse('admin:providers_itemavailability_changelist')}?available__exact=0", alarm=long_out > 0,
               detail="still out of stock? the providers keep them off until told" if long_out else ""),
        Figure("Providers", "Menus not live at a provider", str(menus),
               f"{reverse('admin:providers_menusync_changelist')}?attention=yes", alarm=menus > 0,
               detail="failed, partial or timed out: read the errors, publish again" if menus else ""),
        Figure("Providers", "Failed inbound webhooks (24 h)", str(failed),
               f"{webhooks}?{urlencode({'outcome__exact': Outcome.FAILED, 'received_at__gte': since.isoformat()})}",
               alarm=failed > 0, detail="reprocess once the cause is fixed" if failed else ""),
        Figure("Providers", "Orders undecided near their deadline", str(near),
               f"{reverse('admin:providers_order_changelist')}?awaiting=near_deadline", alarm=near > 0,
               detail="accept or reject them now" if near else ""),
    ]


def providers_charts(hours: list[datetime]) -> list[Chart]:
    # provider IN (every adapter) lets PostgreSQL read the (provider, received_at) index
    rows = (InboundWebhook.objects.filter(provider__in=list(ADAPTERS), received_at__gte=hours[0])
            .annotate(hour=TruncHour("received_at"))
            .values_list("hour", Concat("provider", Value(" "), "outcome")).annotate(n=Count("id")).order_by())
    syncs = (MenuSync.objects.filter(created_at__gte=hours[0]).annotate(hour=TruncHour("created_at"))
             .values_list("hour", Concat("branch__provider__name", Value(" "), "state")).annotate(n=Count("id")).order_by())
    return [Chart("Intake by provider and outcome", hourly(list(rows), hours)),
            Chart("Menu syncs by provider and state", hourly(list(syncs), hours))]
