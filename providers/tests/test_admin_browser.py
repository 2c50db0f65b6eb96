"""Operators in a real browser (Debian's chromium): an order near its deadline saved from the admin (the flag
leads to it, the reject reason chosen in the action bar, a real worker tells Careem's fake); a menu that
failed at a provider found from the first screen, its error read, published again."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from hub.testing import admin_log_in, wait_until
from providers.models import Location, MenuSync, MenuVersion, OrderDecision
from providers.tests.factories import BranchFactory, OrderFactory, ProviderFactory
from webhooks.tests.factories import DestinationFactory

pytestmark = pytest.mark.e2e


@pytest.mark.django_db(transaction=True)
def test_an_operator_rejects_an_order_near_its_deadline_and_careem_hears_it(
    browser, live_server, mock_processes, start_worker, django_user_model, settings, tmp_path
):
    careem = mock_processes("careem")
    env = {"CAREEM_API_BASE_URL": f"{careem.url}/pos/api/v1", "CAREEM_TOKEN_URL": f"{careem.url}/token"}
    cache.delete("provider-token:careem")
    DestinationFactory(name="backend", url="http://127.0.0.1:9", enabled=False)
    django_user_model.objects.create_superuser("ops", password="ops-browser-pass-123")
    near = OrderFactory.create(provider="careem", external_order_id="NEAR-1", branch_id="loc_amman_abdoun",
                               provider_refs={"brandId": "brand_shawarma_x"},
                               deadline_at=timezone.now() + timedelta(minutes=2))
    OrderFactory.create(provider="careem", external_order_id="LATER-1", deadline_at=timezone.now() + timedelta(minutes=9))
    for name, value in env.items():
        setattr(settings, name, value)
    start_worker(**env)
    page = browser.new_page()

    admin_log_in(page, live_server.url, "ops", "ops-browser-pass-123")
    page.goto(f"{live_server.url}/admin/providers/order/")
    page.click("#changelist-filter >> text=near the deadline")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("NEAR-1")
    expect(rows.first).to_contain_text("⚠ near deadline")
    rows.first.locator("input.action-select").check()
    page.select_option("select[name=action]", "reject_selected")
    page.select_option("select[name=reason]", "TOO_BUSY")
    page.click("button[name=index]")

    expect(page.locator(".messagelist")).to_contain_text("Reject: NEAR-1 → queued")
    page.screenshot(path=str(tmp_path / "order-rejected.png"))
    wait_until(lambda: careem.control("orders")["orders"].get("NEAR-1", {}).get("state") == "cancelled", timeout=30,
               what="the rejection at the Careem fake")
    history = careem.control("orders")["orders"]["NEAR-1"]["history"]
    assert [entry["reason"] for entry in history] == ["KITCHEN_TOO_BUSY_TO_PREPARE_ORDER"]
    assert OrderDecision.objects.get(order=near).decided_by == "admin:ops"


@pytest.mark.django_db(transaction=True)
def test_an_operator_finds_a_failed_menu_reads_the_providers_error_and_publishes_again(
    browser, live_server, django_user_model, tmp_path
):
    site = Location.objects.create(id="salmiya", name="Shawarma X - Salmiya")
    branch = BranchFactory(provider=ProviderFactory(name="talabat"), external_id="kw-684213", location=site)
    version = MenuVersion.objects.create(location=site, version=1, document={}, document_hash="h")
    MenuSync.objects.create(branch=branch, menu_version=version, state="failed",
                            errors=[{"item": "FRIES", "message": "image too small"}])
    django_user_model.objects.create_superuser("ops", password="ops-browser-pass-123")
    page = browser.new_page()

    admin_log_in(page, live_server.url, "ops", "ops-browser-pass-123")
    page.locator('tr[data-label="Menus not live at a provider"] a').first.click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Failed")
    rows.first.locator("th a").click()
    expect(page.locator("body")).to_contain_text("image too small")
    page.go_back()
    page.locator("#result_list tbody tr").first.locator("input.action-select").check()
    page.select_option("select[name=action]", "publish_again")
    page.click("button[name=index]")

    expect(page.locator(".messagelist")).to_contain_text("1 branches queued to publish again")
    page.screenshot(path=str(tmp_path / "menu-published-again.png"))
    again = MenuSync.objects.get(state="queued")
    assert again.forced and again.menu_version == version
