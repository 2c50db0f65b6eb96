"""Rounds in the admin, in a real browser (Debian's chromium): a round played through the wallet API against
the Operator fake is found by its player, shows as CLOSED, and its page lists its calls in order with totals."""

import pytest
import requests
from playwright.sync_api import expect

from hub.testing import admin_log_in
from wallet.tests.helpers import debit_body, wallet_post
from webhooks.tests.factories import DestinationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_operator_finds_a_players_round_and_reads_its_calls(browser, live_server, operator_mock, settings, client,
                                                             django_user_model):
    settings.OPERATOR_BASE_URL = operator_mock.url
    DestinationFactory(name="rgs")
    requests.post(f"{operator_mock.url}/__control/players", timeout=5,
                  json={"playerId": "p-browser", "currency": "USD", "balanceCents": 10_000}).raise_for_status()
    for operation, body in (
            ("debit", {**debit_body("bet-b1", amount=1_000, player="p-browser"), "roundId": "round-b"}),
            ("credit", {**debit_body("win-b1", amount=3_000, player="p-browser"), "roundId": "round-b",
                        "betRefId": "bet-b1", "roundClosed": True, "kind": "BONUS"}),
            ("debit", {**debit_body("bet-other", amount=100, player="p-other"), "roundId": "round-other"})):
        assert wallet_post(client, operation, body).status_code == 201
    django_user_model.objects.create_superuser("ops", password="ops-browser-pass-123")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})

    admin_log_in(page, live_server.url, "ops", "ops-browser-pass-123")
    page.goto(f"{live_server.url}/admin/wallet/walletround/")
    page.locator("#searchbar").fill("p-browser")
    page.locator("#searchbar").press("Enter")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Closed")
    rows.first.get_by_role("link", name="round-b").click()

    expect(page.locator(".field-totals")).to_contain_text("betCents: 1000, winCents: 3000, rolledBackCents: 0, "
                                                          "netCents: 2000")
    calls = page.locator(".field-calls tbody tr")
    expect(calls).to_have_count(2)
    expect(calls.nth(0)).to_contain_text("bet-b1")
    expect(calls.nth(1)).to_contain_text("win-b1")
    expect(calls.nth(1)).to_contain_text("BONUS")
    expect(calls.nth(1)).to_contain_text("closed it")
    calls.nth(0).get_by_role("link", name="bet-b1").click()
    expect(page.locator("h2, #content h2").first).to_contain_text("bet-b1")
