""""Resolve now" on PENDING wallet transactions from the admin: the resolver on the selection, with its permission."""

from datetime import timedelta

import pytest
import responses
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from wallet.models import WalletRound, WalletTransaction
from wallet.tests.helpers import debit_body, wallet_post

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("operator")]
WITHDRAW = "http://operator.test/api/v1/wallet/withdraw"
STATUS = "http://operator.test/api/v1/wallet/transactions/ref-1"
CHANGELIST = "/admin/wallet/wallettransaction/"


def pending_debit(client, operator) -> WalletTransaction:
    operator.post(WITHDRAW, status=500)
    wallet_post(client, "debit", debit_body())
    return WalletTransaction.objects.get(status=WalletTransaction.Status.PENDING)


def test_resolve_now_settles_the_selected_pending_transaction(client, admin_client, operator):
    tx = pending_debit(client, operator)
    operator.get(STATUS, json={"transaction_id": "ref-1", "status": "approved"})
    operator.replace(responses.POST, WITHDRAW, json={"transaction_id": "ref-1", "operator_tx_id": "op-1",
                                                     "status": "approved", "balance": "87.66", "currency": "USD"})

    answer = admin_client.post(CHANGELIST, {"action": "resolve_selected", "_selected_action": [tx.id]}, follow=True)

    assert "Resolved 1 of 1 PENDING transactions." in answer.content.decode()
    tx.refresh_from_db()
    assert tx.status == WalletTransaction.Status.COMPLETED


def test_resolve_now_reports_what_the_operator_left_pending(client, admin_client, operator):
    tx = pending_debit(client, operator)
    operator.get(STATUS, status=503)

    answer = admin_client.post(CHANGELIST, {"action": "resolve_selected", "_selected_action": [tx.id]}, follow=True)

    assert "Resolved 0 of 1 PENDING transactions; the others stay PENDING" in answer.content.decode()
    assert WalletTransaction.objects.get(id=tx.id).status == WalletTransaction.Status.PENDING


def test_resolve_now_needs_its_permission(client, operator):
    tx = pending_debit(client, operator)
    viewer = User.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_wallettransaction"))
    client.force_login(viewer)

    assert "resolve_selected" not in client.get(CHANGELIST).content.decode()
    client.post(CHANGELIST, {"action": "resolve_selected", "_selected_action": [tx.id]})

    assert len([call for call in operator.calls if call.request.method == "GET"]) == 0
    assert WalletTransaction.objects.get(id=tx.id).status == WalletTransaction.Status.PENDING


def test_rounds_are_listed_by_player_and_status_and_a_round_shows_its_calls_and_totals(admin_client):
    now = timezone.now()
    WalletRound.objects.create(round_id="r-open", player_id="p-1", currency="USD")
    closed = WalletRound.objects.create(round_id="r-auto", player_id="p-1", currency="USD", status="AUTO_CLOSED",
                                        closed_at=now, opened_at=now - timedelta(days=2))
    WalletRound.objects.create(round_id="r-other", player_id="p-2", currency="USD")
    for ref_id, type_, status, amount, extra in (
            ("bet-1", "DEBIT", "COMPLETED", 1_000, {}), ("bet-2", "DEBIT", "ROLLED_BACK", 300, {}),
            ("win-1", "CREDIT", "COMPLETED", 2_500, {"bet_ref_id": "bet-1", "kind": "JACKPOT"})):
        WalletTransaction.objects.create(ref_id=ref_id, type=type_, status=status, amount_cents=amount, player_id="p-1",
                                         currency="USD", round_id="r-auto", **extra)

    by_player = admin_client.get("/admin/wallet/walletround/", {"q": "p-1"}).content.decode()
    auto_closed = admin_client.get("/admin/wallet/walletround/", {"status__exact": "AUTO_CLOSED"}).content.decode()
    detail = admin_client.get(f"/admin/wallet/walletround/{closed.id}/change/").content.decode()

    assert "r-open" in by_player and "r-auto" in by_player and "r-other" not in by_player
    assert "r-auto" in auto_closed and "r-open" not in auto_closed
    assert "betCents: 1000, winCents: 2500, rolledBackCents: 300, netCents: 1500" in detail
    assert detail.index(">bet-1<") < detail.index(">bet-2<") < detail.index(">win-1<")
    assert "JACKPOT" in detail
