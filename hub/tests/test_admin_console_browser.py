"""The operator console in a real browser (Debian's chromium): a dead letter made by a real failed delivery
shows on the index and its link leads to the filtered list; the charts render; closing an open circuit from
the panel's link fixes that stuck state. HUB_SCREENSHOT_DIR=docs saves the index for the README."""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from hub.testing import admin_log_in
from webhooks.models import DestinationCircuit, OutboxMessage
from webhooks.outbox import outbox_deliver
from webhooks.tests.factories import DestinationFactory, OutboxMessageFactory

pytestmark = pytest.mark.e2e


@pytest.mark.django_db(transaction=True)
def test_an_operator_sees_a_real_dead_letter_follows_its_link_and_closes_a_circuit(
    browser, live_server, rgs_mock, django_user_model, tmp_path
):
    django_user_model.objects.create_superuser("ops", password="ops-browser-pass-123")
    rgs = DestinationFactory(name="rgs", url=f"{rgs_mock.url}/webhooks", signing_secrets=settings.RGS_WEBHOOK_SECRET,
                             max_attempts=1)
    backend = DestinationFactory(name="backend", url="http://127.0.0.1:9", enabled=False)
    rgs_mock.script("webhooks", [{"status": 500}])
    doomed, fine = OutboxMessageFactory(destination=rgs), OutboxMessageFactory(destination=rgs)
    outbox_deliver(message_ids=[doomed.id])  # a real failure: a dead letter after max_attempts=1
    outbox_deliver(message_ids=[fine.id])
    assert OutboxMessage.objects.get(id=doomed.id).status == OutboxMessage.Status.DEAD_LETTER
    DestinationCircuit.objects.create(destination=backend, open_until=timezone.now() + timedelta(minutes=5))
    page = browser.new_page(viewport={"width": 1400, "height": 1100})

    admin_log_in(page, live_server.url, "ops", "ops-browser-pass-123")
    expect(page.locator("#attention-title")).to_contain_text("Needs attention")
    dead_row = page.locator('tr[data-label="Dead letters to rgs"]')
    expect(dead_row.locator(".hub-value")).to_have_text("1")
    expect(page.locator("svg.hub-chart")).to_have_count(5)
    expect(page.locator("svg.hub-chart rect.hub-bar").first).to_be_visible()
    _save(page, tmp_path, "admin-index.png")
    page.emulate_media(color_scheme="dark")
    _save(page, tmp_path, "admin-index-dark.png")
    page.emulate_media(color_scheme="light")

    dead_row.locator("a").click()
    expect(page).to_have_url(re.compile(r"status__exact=DEAD_LETTER.*destination__id__exact="))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(doomed.event_id)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400  # the outbox list fits at 1400 px

    page.goto(f"{live_server.url}/admin/")
    page.locator('tr[data-label="Circuit to backend"] a').click()
    page.locator("#result_list tbody tr input.action-select").first.check()
    page.select_option("select[name=action]", "close_circuit")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("Closed 1 open circuit.")
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator('tr[data-label="Circuit to backend"]')).to_have_count(0)
    assert DestinationCircuit.objects.get(destination=backend).open_until is None


def _save(page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / name), full_page=True)
    if target := os.environ.get("HUB_SCREENSHOT_DIR"):
        page.screenshot(path=str(Path(target) / name), full_page=True)
