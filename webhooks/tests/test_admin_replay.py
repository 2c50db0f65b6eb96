"""Dead-letter replay from the admin: permissions (test client) and the whole flow (real browser)."""

import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.urls import reverse
from playwright.sync_api import expect

from hub.testing import admin_log_in, wait_until
from webhooks.models import Destination, OutboxMessage, ReplayAudit
from webhooks.tests.factories import DestinationFactory, OutboxMessageFactory

Status = OutboxMessage.Status
CHANGELIST = "admin:webhooks_outboxmessage_changelist"
REPLAY_MATCHING = "admin:webhooks_outboxmessage_replay_matching"


@pytest.fixture
def viewer(django_user_model):
    user = django_user_model.objects.create_user("viewer", password="viewer-pass-123", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_outboxmessage"))
    return user


@pytest.mark.django_db
def test_without_the_replay_permission_there_is_no_replay(client, viewer):
    dead = OutboxMessageFactory(status=Status.DEAD_LETTER)
    client.force_login(viewer)

    page = client.get(reverse(CHANGELIST)).content.decode()
    forbidden = client.post(f"{reverse(REPLAY_MATCHING)}?status__exact=DEAD_LETTER", {"confirm": "yes"})
    action = client.post(reverse(CHANGELIST), {"action": "replay_selected", "_selected_action": [dead.id], "confirm": "yes"})

    assert "replay_selected" not in page and "replay-matching" not in page
    assert forbidden.status_code == 403
    assert action.status_code in (200, 302)
    dead.refresh_from_db()
    assert dead.status == Status.DEAD_LETTER
    assert ReplayAudit.objects.count() == 0


@pytest.mark.django_db
def test_replay_selected_asks_for_confirmation_then_replays_only_dead_letters(client, viewer):
    viewer.user_permissions.add(Permission.objects.get(codename="replay_outboxmessage"))
    client.force_login(viewer)
    dead, delivered = OutboxMessageFactory(status=Status.DEAD_LETTER), OutboxMessageFactory(status=Status.DELIVERED)
    selection = {"action": "replay_selected", "_selected_action": [dead.id, delivered.id]}

    confirmation = client.post(reverse(CHANGELIST), selection)
    assert "1 dead-lettered message will be replayed" in confirmation.content.decode()
    assert OutboxMessage.objects.get(id=dead.id).status == Status.DEAD_LETTER

    client.post(reverse(CHANGELIST), {**selection, "confirm": "yes"})

    assert OutboxMessage.objects.get(id=dead.id).status == Status.PENDING
    assert OutboxMessage.objects.get(id=delivered.id).status == Status.DELIVERED
    audit = ReplayAudit.objects.get()
    assert (audit.actor, audit.count, audit.filters) == ("viewer", 1, {"selected": sorted([dead.id, delivered.id])})


@pytest.mark.e2e
def test_an_operator_replays_all_matching_dead_letters_in_the_browser(
    browser, live_server, rgs_mock, start_worker, django_user_model, tmp_path
):
    django_user_model.objects.create_superuser("ops", password="ops-browser-pass-123")
    destination = DestinationFactory(name="rgs", url=f"{rgs_mock.url}/webhooks", signing_secrets=settings.RGS_WEBHOOK_SECRET)
    dead = OutboxMessageFactory(destination=destination, status=Status.DEAD_LETTER, attempts=6)
    OutboxMessageFactory(destination=destination, status=Status.DELIVERED)
    start_worker()
    page = browser.new_page()

    admin_log_in(page, live_server.url, "ops", "ops-browser-pass-123")
    page.goto(f"{live_server.url}{reverse(CHANGELIST)}")
    page.click("#changelist-filter >> text=Dead Letter")
    expect(page).to_have_url(re.compile(r"status__exact=DEAD_LETTER"))
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.click("#replay-matching")
    expect(page.locator("#replay-count")).to_have_text("1 dead-lettered message will be replayed.")
    page.screenshot(path=str(tmp_path / "replay-confirmation.png"))
    page.click("#confirm-replay")

    expect(page.locator(".messagelist")).to_contain_text("Replayed 1 dead-lettered messages.")
    wait_until(lambda: OutboxMessage.objects.get(id=dead.id).status == Status.DELIVERED, timeout=30,
               what="the replayed message to be delivered")
    accepted = rgs_mock.control("webhooks")
    assert (accepted["distinct"], accepted["items"][0]["webhookId"]) == (1, dead.event_id)
    assert ReplayAudit.objects.get().filters == {"status__exact": "DEAD_LETTER"}
    assert Destination.objects.count() == 1
