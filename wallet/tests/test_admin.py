""""Resolve now" on PENDING wallet transactions from the admin: the resolver on the selection, with its permission."""

import pytest
import responses
from django.contrib.auth.models import Permission, User

from wallet.models import WalletTransaction
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
