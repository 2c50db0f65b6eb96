"""The admin index opens on what needs attention: every figure links to the filtered list where it is fixed."""

import re
from collections import Counter
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from hub.attention import Chart, Series, attention_figures, hourly, hours_until
from hub.charts import stacked_bars_svg
from providers.models import InboundWebhook
from providers.tests.factories import OrderFactory
from reconciliation.models import ReconciliationRun
from wallet.models import WalletTransaction
from wallet.tests.factories import WalletTransactionFactory
from webhooks.models import DeliveryAttempt, DestinationCircuit
from webhooks.tests.factories import DestinationFactory, OutboxMessageFactory

pytestmark = pytest.mark.django_db


def panel_rows(page: str) -> dict[str, tuple[str, str, bool]]:
    """label → (value, link, alarm) from the rendered panel."""
    rows = {}
    for row in re.findall(r'<tr class="(hub-alarm|hub-quiet)" data-label="([^"]+)">(.*?)</tr>', page, re.S):
        link = re.search(r'href="([^"]+)"', row[2])
        value = re.search(r'class="hub-value">([^<]*)<', row[2])
        rows[row[1].replace("&gt;", ">")] = (value.group(1) if value else "", link.group(1).replace("&amp;", "&") if link else "",
                                             row[0] == "hub-alarm")
    return rows


@pytest.fixture
def a_dispatcher_listens(monkeypatch):
    """As in any running hub (its own tests: webhooks/tests/test_dispatcher.py)."""
    monkeypatch.setattr("webhooks.attention.listening_dispatchers", lambda: 1)


@pytest.mark.usefixtures("a_dispatcher_listens")
def test_the_index_shows_every_stuck_state_with_its_link(admin_client, settings):
    settings.WALLET_PENDING_RESOLVE_AFTER_SECONDS = 60
    now = timezone.now()
    rgs = DestinationFactory(name="rgs")
    backend = DestinationFactory(name="backend")
    OutboxMessageFactory.create_batch(3, destination=rgs, status="DEAD_LETTER")
    OutboxMessageFactory(destination=backend, created_at=now - timedelta(minutes=42))
    DestinationCircuit.objects.create(destination=backend, open_until=now + timedelta(seconds=30))
    WalletTransactionFactory.create_batch(2, status=WalletTransaction.Status.PENDING, settled_at=None,
                                          created_at=now - timedelta(minutes=4))
    owed = WalletTransactionFactory(type="ROLLBACK", status="PENDING", settled_at=None, is_compensation=True)
    InboundWebhook.objects.create(provider="careem", outcome="failed", status_code=503, path="/api/webhooks/careem",
                                  method="POST", headers={}, body="{}", body_size=2)
    OrderFactory(provider="talabat", deadline_at=now + timedelta(minutes=1))
    ReconciliationRun.objects.create(window_start=now - timedelta(days=1), window_end=now, status="COMPLETED",
                                     mismatch_count=2, finished_at=now)

    page = admin_client.get("/admin/").content.decode()
    rows = panel_rows(page)

    assert rows["Dead letters to rgs"] == ("3", f"/admin/webhooks/outboxmessage/?status__exact=DEAD_LETTER&destination__id__exact={rgs.id}", True)
    assert rows["Dead letters to backend"][0::2] == ("0", False)
    assert rows["Oldest pending to backend"][0] == "42 min" and rows["Oldest pending to backend"][2]
    assert rows["Circuit to backend"][0] == "open" and rows["Circuit to backend"][1].endswith(f"?id__exact={backend.id}")
    assert rows["Open circuits"][0::2] == ("1", True)
    assert rows["PENDING for over 60 s"] == ("2", "/admin/wallet/wallettransaction/?stuck=yes", True)
    assert rows["Compensations not confirmed by the Operator"][0::2] == ("1", True)
    assert owed.ref_id in admin_client.get(rows["Compensations not confirmed by the Operator"][1]).content.decode()
    assert rows["Failed inbound webhooks (24 h)"][0::2] == ("1", True)
    assert rows["Orders undecided near their deadline"] == ("1", "/admin/providers/order/?awaiting=near_deadline", True)
    run_label = f"{(now - timedelta(days=1)):%Y-%m-%d} → {now:%Y-%m-%d}"
    assert rows[run_label][0::2] == ("2 mismatches", True)
    assert "Needs attention: 9" in page
    for label, (_, link, _) in rows.items():
        assert admin_client.get(link).status_code == 200, label


def test_every_link_leads_to_exactly_the_stuck_rows(admin_client, settings):
    settings.WALLET_PENDING_RESOLVE_AFTER_SECONDS = 60
    now = timezone.now()
    stuck = WalletTransactionFactory(status="PENDING", settled_at=None, created_at=now - timedelta(minutes=4))
    fresh = WalletTransactionFactory(status="PENDING", settled_at=None)
    near = OrderFactory(provider="careem", deadline_at=now + timedelta(minutes=1))
    later = OrderFactory(provider="careem", deadline_at=now + timedelta(minutes=30))
    rows = panel_rows(admin_client.get("/admin/").content.decode())

    wallet = admin_client.get(rows["PENDING for over 60 s"][1]).content.decode()
    orders = admin_client.get(rows["Orders undecided near their deadline"][1]).content.decode()

    assert stuck.ref_id in wallet and fresh.ref_id not in wallet
    assert near.external_order_id in orders and later.external_order_id not in orders


@pytest.mark.usefixtures("a_dispatcher_listens")
def test_all_quiet_when_nothing_is_stuck(admin_client, settings):
    settings.WALLET_PENDING_RESOLVE_AFTER_SECONDS = 60
    DestinationFactory(name="rgs")

    page = admin_client.get("/admin/").content.decode()
    rows = panel_rows(page)

    assert "All quiet" in page and "hub-alarm" not in page
    # every stuck state is named, with 0, so an operator sees that it was checked
    for label in ["Dead letters to rgs", "Open circuits", "PENDING for over 60 s",
                  "Compensations not confirmed by the Operator", "Failed inbound webhooks (24 h)",
                  "Orders undecided near their deadline"]:
        assert rows[label][0::2] == ("0", False), label


def test_a_database_outage_shows_as_one_figure_not_an_error(monkeypatch):
    def down():
        raise OperationalError("connection refused")

    monkeypatch.setattr("hub.attention._figures", [down])

    [figure] = attention_figures()

    assert (figure.label, figure.value, figure.alarm) == ("Database", "unavailable", True)


def test_charts_count_the_last_24_hours_per_hour(admin_client):
    rgs = DestinationFactory(name="rgs")
    message = OutboxMessageFactory(destination=rgs)
    now = timezone.now()
    for minutes_ago, ok in [(5, True), (6, False), (65, True), (60 * 30, True)]:
        DeliveryAttempt.objects.create(message=message, destination=rgs, attempted_at=now - timedelta(minutes=minutes_ago),
                                       duration_ms=3, succeeded=ok)

    page = admin_client.get("/admin/").content.decode()

    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="hub-chart"') == 5  # with menu syncs and credit kinds
    titles = [t for t in re.findall(r"<title>([^<]+)</title>", page) if "rgs" in t]
    expected: Counter = Counter()
    for minutes_ago, ok in [(5, True), (6, False), (65, True)]:  # the attempt 30 h ago is outside the window
        hour = (now - timedelta(minutes=minutes_ago)).replace(minute=0, second=0, microsecond=0)
        expected[f"{hour:%H}:00 UTC · rgs {'delivered' if ok else 'failed'}"] += 1
    assert sorted(titles) == sorted(f"{label}: {count}" for label, count in expected.items())


def test_the_credits_chart_counts_each_kind(admin_client):
    for n, kind in enumerate(["WIN", "WIN", "JACKPOT", "PROMO"]):
        WalletTransaction.objects.create(ref_id=f"c-{n}", type="CREDIT", kind=kind, status="COMPLETED",
                                         amount_cents=100, player_id="p", currency="USD")
    WalletTransaction.objects.create(ref_id="d-1", type="DEBIT", status="COMPLETED", amount_cents=100, player_id="p",
                                     currency="USD")

    page = admin_client.get("/admin/").content.decode()

    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    titles = [t for t in re.findall(r"<title>([^<]+)</title>", page) if t.startswith(f"{hour:%H}:00 UTC · ")]
    assert {f"{hour:%H}:00 UTC · {kind}: {n}" for kind, n in (("WIN", 2), ("JACKPOT", 1), ("PROMO", 1))} <= set(titles)
    assert "Wallet credits by kind" in page


def test_hourly_fills_gaps_with_zeros_and_the_svg_escapes_names():
    hours = hours_until()
    series = hourly([(hours[0], "a", 2), (hours[-1], "a", 5), (hours[3], "<b>", 1)], hours)
    svg = stacked_bars_svg(Chart("t", series), hours)

    assert series == [Series("<b>", [0, 0, 0, 1] + [0] * 20), Series("a", [2] + [0] * 22 + [5])]
    assert "<b>" not in svg and "&lt;b&gt;" in svg
