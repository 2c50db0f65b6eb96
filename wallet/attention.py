"""What the wallet shows on the admin's first screen (registered with `hub.attention` at startup)."""

from datetime import datetime

from django.conf import settings
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncHour
from django.urls import reverse

from hub.attention import Chart, Figure, hourly
from wallet.models import WalletTransaction
from wallet.selectors import stale_pending_count, unconfirmed_compensations


def wallet_figures() -> list[Figure]:
    stale = stale_pending_count()
    owed = unconfirmed_compensations().count()
    transactions = reverse("admin:wallet_wallettransaction_changelist")
    return [Figure("Wallet", f"PENDING for over {settings.WALLET_PENDING_RESOLVE_AFTER_SECONDS} s", str(stale),
                   f"{transactions}?stuck=yes", alarm=stale > 0, detail="select them and resolve now" if stale else ""),
            Figure("Wallet", "Compensations not confirmed by the Operator", str(owed),
                   f"{transactions}?is_compensation__exact=1&status__exact=PENDING", alarm=owed > 0,
                   detail="refunds the hub owes; resolve now, or see RUNBOOK.md" if owed else "")]


def wallet_charts(hours: list[datetime]) -> list[Chart]:
    # status IN (every status) lets PostgreSQL read the (status, created_at) index instead of the table
    recent = WalletTransaction.objects.filter(status__in=WalletTransaction.Status.values, created_at__gte=hours[0])

    def per_hour(transactions: QuerySet[WalletTransaction], by: str) -> list:
        return list(transactions.annotate(hour=TruncHour("created_at")).values_list("hour", by)
                    .annotate(n=Count("id")).order_by())

    return [Chart("Wallet transactions by outcome", hourly(per_hour(recent, "status"), hours)),
            Chart("Wallet credits by kind", hourly(per_hour(recent.filter(type=WalletTransaction.Type.CREDIT), "kind"),
                                                   hours))]
