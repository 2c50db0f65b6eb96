"""Menu state that cannot be fooled (campaign 3, L1 and D1): what a branch is sent is decided per (provider,
branch) from what it has live or on its way, and each provider result finishes exactly the upload it answers,
once."""

import copy
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from hub.signing import hex_hmac
from providers.adapters import ADAPTERS
from providers.auth import signature_headers
from providers.config import intake_settings
from providers.menu_document import menu_read
from providers.menus import menu_sync_call
from providers.models import InboundWebhook, Location, MenuSync, MenuVersion
from providers.tests.factories import BranchFactory, ProviderFactory

pytestmark = pytest.mark.django_db
AUTH = {"X-AUTH": settings.BACKEND_CALLBACK_KEY}
DEMO = json.loads((Path(__file__).resolve().parent / "fixtures/menus/demo_menu.json").read_text())
State = MenuSync.State


def put(client, path: str, body: dict):
    return client.put(path, data=json.dumps(body).encode(), content_type="application/json", headers=AUTH)


def link(client, site: str, *branches) -> None:
    body = {"name": site, "branches": [{"provider": b.provider.name, "externalId": b.external_id} for b in branches]}
    assert put(client, f"/api/locations/{site}", body).status_code in {200, 201}


def queued(branch) -> list[tuple[str, int]]:
    return [(sync.menu_version.location_id, sync.menu_version.version)
            for sync in MenuSync.objects.filter(branch=branch, state=State.QUEUED).select_related("menu_version")]


@pytest.fixture
def branches(db, settings):
    settings.WEBHOOK_RATE_LIMIT = 10**6
    uber = BranchFactory(provider=ProviderFactory(name="ubereats"), external_id="store-1")
    talabat = BranchFactory(provider=ProviderFactory(name="talabat"), external_id="kw-1", currency="KWD")
    return uber, talabat


# --- L1: a branch linked or moved gets what it lacks, and nothing of the site it left -------------------------

def test_a_branch_linked_after_the_menu_was_published_gets_it(client, branches):
    uber, talabat = branches
    link(client, "salmiya", uber)
    assert put(client, "/api/locations/salmiya/menu", DEMO).status_code == 202

    link(client, "salmiya", uber, talabat)

    assert (queued(uber), queued(talabat)) == ([("salmiya", 1)], [("salmiya", 1)])
    assert put(client, "/api/locations/salmiya/menu", DEMO).status_code == 200  # each branch has it on its way
    assert MenuSync.objects.count() == 2


def test_the_same_menu_again_reaches_a_branch_that_lacks_it(client, branches):
    """However the branch came to the site, the same menu again queues it for a branch that lacks it."""
    uber, talabat = branches
    link(client, "salmiya", uber)
    put(client, "/api/locations/salmiya/menu", DEMO)
    talabat.location_id = "salmiya"
    talabat.save()

    again = put(client, "/api/locations/salmiya/menu", DEMO)

    assert again.status_code == 202
    assert (queued(uber), queued(talabat)) == ([("salmiya", 1)], [("salmiya", 1)])
    status = {row["provider"]: row["status"] for row in client.get("/api/locations/salmiya/sync", headers=AUTH).json()["syncs"]}
    assert status == {"talabat": "queued", "ubereats": "queued"}


def test_a_branch_that_failed_the_latest_gets_it_again_with_the_same_menu_and_one_that_has_it_live_does_not(
        client, branches):
    uber, talabat = branches
    link(client, "salmiya", uber, talabat)
    put(client, "/api/locations/salmiya/menu", DEMO)
    MenuSync.objects.filter(branch=uber).update(state=State.LIVE, finished_at=timezone.now())
    MenuSync.objects.filter(branch=talabat).update(state=State.FAILED, finished_at=timezone.now())

    assert put(client, "/api/locations/salmiya/menu", DEMO).status_code == 202

    assert (queued(uber), queued(talabat)) == ([], [("salmiya", 1)])


def test_a_branch_moved_to_another_site_drops_the_old_sites_queued_menu_and_gets_the_new_ones(client, branches):
    uber, _ = branches
    link(client, "site-a", uber)
    put(client, "/api/locations/site-a/menu", DEMO)
    other = copy.deepcopy(DEMO)
    other["items"][2]["price"] = 600
    link(client, "site-b")
    put(client, "/api/locations/site-b/menu", other)
    [old_sync] = MenuSync.objects.filter(branch=uber)

    link(client, "site-b", uber)

    assert queued(uber) == [("site-b", 1)]
    assert menu_sync_call(old_sync.id).skip  # its outbox message finds nothing to send
    rows = client.get("/api/locations/site-b/sync", headers=AUTH).json()["syncs"]
    assert [(row["provider"], row["status"], row["version"]) for row in rows] == [("ubereats", "queued", 1)]


def test_a_branch_moved_to_a_site_without_a_menu_is_sent_nothing(client, branches):
    uber, _ = branches
    link(client, "site-a", uber)
    put(client, "/api/locations/site-a/menu", DEMO)
    [sync] = MenuSync.objects.filter(branch=uber)

    link(client, "site-b", uber)

    assert queued(uber) == []
    assert menu_sync_call(sync.id).skip and menu_sync_call(sync.id).call is None
    rows = client.get("/api/locations/site-b/sync", headers=AUTH).json()["syncs"]
    assert [(row["provider"], row["status"]) for row in rows] == [("ubereats", "never_published")]


def test_a_queued_sync_of_a_site_the_branch_left_by_any_path_is_never_sent(client, branches):
    """menu_sync_call is where every send passes: a branch moved behind the API's back is caught there."""
    uber, _ = branches
    link(client, "site-a", uber)
    put(client, "/api/locations/site-a/menu", DEMO)
    Location.objects.create(id="site-b")
    [sync] = MenuSync.objects.filter(branch=uber)
    uber.location_id = "site-b"
    uber.save()

    plan = menu_sync_call(sync.id)

    assert (plan.call, plan.skip) == (None, "the branch is no longer on this menu's location")
    assert not MenuSync.objects.filter(id=sync.id).exists()


# --- D1: each result finishes the upload it answers, once ------------------------------------------------------

@pytest.fixture
def deliveroo_branch(db, settings):
    settings.WEBHOOK_RATE_LIMIT = 10**6
    branch = BranchFactory(provider=ProviderFactory(name="deliveroo"), external_id="kw-salmiya-07", currency="KWD")
    Location.objects.create(id="salmiya")
    branch.location_id = "salmiya"
    branch.save()
    return branch


def sent_sync(branch, version: int, *, minutes_ago: float = 1) -> MenuSync:
    menu_version = MenuVersion.objects.create(location_id=branch.location_id, version=version, document=menu_read(DEMO),
                                              document_hash=f"h{version}")
    return MenuSync.objects.create(branch=branch, menu_version=menu_version, state=State.SENT,
                                   provider_job_id="shawarma-x/hub-kw-salmiya-07",
                                   sent_at=timezone.now() - timedelta(minutes=minutes_ago))


def deliveroo_result(client, guid: str, http_status: int = 200):
    body = json.dumps({"event": "menu.upload_result", "body": {
        "http_status": http_status, "brand_id": "shawarma-x", "menu_id": "hub-kw-salmiya-07",
        "site_ids": ["kw-salmiya-07"], "errors": []}}).encode()
    headers = {"x-deliveroo-sequence-guid": guid}
    headers["x-deliveroo-hmac-sha256"] = hex_hmac(secret=intake_settings("deliveroo").secret,
                                                  message=ADAPTERS["deliveroo"].signed_message(headers, body))
    return client.post("/api/webhooks/deliveroo", data=body, content_type="application/json", headers=headers)


def test_a_retried_deliveroo_result_is_a_duplicate_and_never_finishes_a_later_upload(client, deliveroo_branch):
    v1 = sent_sync(deliveroo_branch, 1, minutes_ago=3)
    assert deliveroo_result(client, "guid-1").status_code == 200
    v1.refresh_from_db()
    assert v1.state == State.LIVE
    v2 = sent_sync(deliveroo_branch, 2)

    retried = deliveroo_result(client, "guid-1", http_status=400)  # v1's result again, as Deliveroo retries it

    v2.refresh_from_db()
    assert (retried.status_code, v2.state) == (200, State.SENT)
    assert list(InboundWebhook.objects.order_by("received_at").values_list("outcome", flat=True)) == [
        "accepted", "duplicate"]
    assert deliveroo_result(client, "guid-2").status_code == 200
    v2.refresh_from_db()
    assert v2.state == State.LIVE


def test_the_next_upload_waits_for_the_previous_ones_result(client, deliveroo_branch, settings):
    settings.MENU_RESULT_TIMEOUT_MINUTES = 30
    sent_sync(deliveroo_branch, 1, minutes_ago=5)  # past Deliveroo's one-a-minute limit, result not in yet
    version = MenuVersion.objects.create(location_id="salmiya", version=2, document=menu_read(DEMO), document_hash="h2")
    waiting = MenuSync.objects.create(branch=deliveroo_branch, menu_version=version)

    plan = menu_sync_call(waiting.id)

    assert (plan.call, plan.skip, plan.waiting_for) == (None, "", "the previous upload's result")
    assert 0 < plan.wait_seconds <= 30


def test_once_the_previous_upload_timed_out_the_next_one_goes(client, deliveroo_branch, settings):
    settings.MENU_RESULT_TIMEOUT_MINUTES = 30
    old = sent_sync(deliveroo_branch, 1, minutes_ago=31)
    MenuSync.objects.filter(id=old.id).update(state=State.TIMED_OUT)
    version = MenuVersion.objects.create(location_id="salmiya", version=2, document=menu_read(DEMO), document_hash="h2")
    waiting = MenuSync.objects.create(branch=deliveroo_branch, menu_version=version)

    assert menu_sync_call(waiting.id).call is not None


@pytest.mark.parametrize("status", ["done", "done_with_errors", "failed"])
def test_a_retried_talabat_import_callback_is_a_duplicate(client, db, settings, status):
    settings.WEBHOOK_RATE_LIMIT = 10**6
    branch = BranchFactory(provider=ProviderFactory(name="talabat"), external_id="kw-684213", currency="KWD")
    Location.objects.create(id="salmiya")
    version = MenuVersion.objects.create(location_id="salmiya", version=1, document=menu_read(DEMO), document_hash="h1")
    MenuSync.objects.create(branch=branch, menu_version=version, state=State.SENT, provider_job_id="imp-1",
                            sent_at=timezone.now())
    body = json.dumps({"catalogImportId": "imp-1", "status": status, "message": "m", "details": []}).encode()
    headers = signature_headers(adapter=ADAPTERS["talabat"], secret=intake_settings("talabat").secret, body=body)

    answers = [client.post("/api/webhooks/talabat/catalog", data=body, content_type="application/json",
                           headers=headers).status_code for _ in range(2)]

    assert answers == [200, 200]
    assert list(InboundWebhook.objects.order_by("received_at").values_list("outcome", flat=True)) == [
        "accepted", "duplicate"]
