"""Provider intake through the real URL routing, with the hub's own database and outbox."""

import hashlib
import json
import time
from pathlib import Path

import jwt
import pytest

from django.db import connection

from hub.internals import HOT_STATEMENT_MAX_PARAMS
from hub.signing import hex_hmac
from providers.models import Branch, InboundWebhook, Order, OrderEvent, ProductMapping, Provider
from webhooks.models import OutboxMessage
from webhooks.tests.factories import DestinationFactory
from providers.config import intake_settings

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[2] / "providers" / "tests" / "fixtures"
CAREEM_SECRET = intake_settings("careem").secret
TALABAT_SECRET = intake_settings("talabat").secret


@pytest.fixture(autouse=True)
def providers(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"t{time.time()}"}}
    careem, talabat = Provider.objects.create(name="careem"), Provider.objects.create(name="talabat")
    Branch.objects.create(provider=careem, external_id="loc_amman_abdoun", currency="JOD")
    Branch.objects.create(provider=careem, external_id="loc_kw_salmiya", currency="KWD")
    Branch.objects.create(provider=talabat, external_id="kw-684213", currency="KWD")
    DestinationFactory(name="backend")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sign(body: bytes, secret: str = CAREEM_SECRET) -> str:
    return hex_hmac(secret=secret, message=body)


def post_careem(client, body: bytes, **headers):
    headers.setdefault("HTTP_X_CAREEM_SIGNATURE", sign(body))
    return client.post("/api/webhooks/careem", data=body, content_type="application/json", **headers)


def test_the_seeds_simple_careem_order_is_accepted_and_queued_for_the_backend(client):
    answer = post_careem(client, fixture("careem/simple_form.json"))

    assert answer.status_code == 200
    body = answer.json()
    assert (body["success"], body["status"]) == (True, "processed")
    audit = InboundWebhook.objects.get(id=body["webhookId"])
    assert (audit.outcome, audit.dedupe_key, audit.headers["X-Careem-Signature"]) == ("accepted", "TEST123:created", "[redacted]")
    order = Order.objects.get()
    assert (order.external_order_id, order.currency, order.total_minor, order.status) == ("TEST123", "JOD", 10000, "NEW")
    message = OutboxMessage.objects.get()
    assert (message.event_type, message.path, message.ordering_key) == ("order.created", "/api/v1/orders", f"order:{order.id}")
    assert message.payload["id"] == str(order.id) and message.payload["totals"]["totalMinor"] == 10000


@pytest.mark.django_db(transaction=True)  # autocommit, as a request runs: no savepoint around the statement
def test_a_new_order_is_three_statements_on_postgresql(client, django_assert_num_queries):
    """The provider switch, the product mappings, then the audit row, order, event and outbox message
    in one statement; through the ORM: BEGIN, four inserts and COMMIT in its place."""
    body = fixture("careem/simple_form.json")
    with django_assert_num_queries(3):
        assert post_careem(client, body).status_code == 200

    order = Order.objects.get()
    assert OrderEvent.objects.get().order_id == order.id
    assert OutboxMessage.objects.get().payload["id"] == str(order.id)


def test_a_new_orders_statement_is_converted_once_not_per_order(client, monkeypatch):
    """psycopg parses a statement's placeholders again for every execution when it has more than 50
    parameters (the one statement has), unless `hub.internals.cache_long_statements` raised that limit at start."""
    import psycopg._queries

    parsed, largest = [], []
    uncached = psycopg._queries._query2pg_nocache
    monkeypatch.setattr(psycopg._queries, "_query2pg_nocache", lambda *args: parsed.append(1) or uncached(*args))

    def params_of(execute, sql, params, many, context):
        largest.append(len(params or ()))
        return execute(sql, params, many, context)

    body = fixture("careem/simple_form.json")
    with connection.execute_wrapper(params_of):
        for n in range(2):
            assert post_careem(client, body.replace(b"TEST123", f"TEST-{n}".encode())).status_code == 200

    assert Order.objects.count() == 2
    assert max(largest) > 50
    assert max(largest) <= HOT_STATEMENT_MAX_PARAMS
    assert parsed == []


def test_an_order_whose_message_cannot_be_written_leaves_no_order_behind(client):
    from webhooks.models import Destination

    Destination.objects.filter(name="backend").delete()  # the message's destination is gone

    answer = post_careem(client, fixture("careem/simple_form.json"))

    assert answer.status_code == 503
    assert (Order.objects.count(), OrderEvent.objects.count(), OutboxMessage.objects.count()) == (0, 0, 0)
    assert list(InboundWebhook.objects.values_list("outcome", flat=True)) == ["failed"]


def test_a_provider_retry_is_a_duplicate_that_creates_and_forwards_nothing(client):
    first = post_careem(client, fixture("careem/order_created_jod.json"))
    again = post_careem(client, fixture("careem/order_created_jod.json"))

    assert again.status_code == 200
    assert again.json() == {"success": True, "duplicate": True, "webhookId": first.json()["webhookId"], "status": "processed"}
    assert (Order.objects.count(), OutboxMessage.objects.count()) == (1, 1)
    assert InboundWebhook.objects.filter(outcome="duplicate").count() == 1


def test_status_updates_move_forward_and_a_late_older_one_is_kept_but_not_applied(client):
    post_careem(client, fixture("careem/order_created_jod.json"))
    for status in ("ready", "accepted"):  # accepted arrives late
        body = json.dumps({"event_type": "ORDER_STATUS_UPDATED", "details": {"id": 62504546, "status": status,
                                                                             "branch": {"id": "loc_amman_abdoun"}}}).encode()
        assert post_careem(client, body).status_code == 200

    order = Order.objects.get()
    assert order.status == "READY"
    assert list(order.events.order_by("id").values_list("status", "applied")) == [("NEW", True), ("READY", True), ("ACCEPTED", False)]
    changes = OutboxMessage.objects.filter(event_type="order.status_changed")
    assert [(m.payload["status"], m.payload["previousStatus"]) for m in changes] == [("READY", "NEW")]
    assert changes.get().path == f"/api/v1/orders/{order.id}/status"


def test_a_status_for_an_unknown_order_is_422(client):
    answer = post_careem(client, fixture("careem/status_cancelled.json"))

    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "order"


@pytest.mark.parametrize("headers", [{}, {"HTTP_X_CAREEM_SIGNATURE": "00" * 32}, {"HTTP_X_CAREEM_SIGNATURE": "nothex"}])
def test_bad_or_missing_signatures_get_the_one_401(client, headers):
    body = fixture("careem/simple_form.json")
    answer = client.post("/api/webhooks/careem", data=body, content_type="application/json", **headers)

    assert answer.status_code == 401
    assert answer.json() == {"status": "UNAUTHORIZED", "error": {"code": "UNAUTHORIZED", "message": "Authentication failed.", "details": None}}
    audit = InboundWebhook.objects.get()
    assert (audit.outcome, audit.body, audit.body_size) == ("unauthorized", "", len(body))
    assert audit.body_sha256 == hashlib.sha256(body).hexdigest()
    assert Order.objects.count() == 0


def test_an_unknown_branch_and_a_disabled_provider_get_the_same_401(client):
    payload = json.loads(fixture("careem/order_created_jod.json"))
    payload["details"]["branch"]["id"] = "loc_nowhere"
    unknown = post_careem(client, json.dumps(payload).encode())
    Provider.objects.filter(name="careem").update(enabled=False)
    disabled = post_careem(client, fixture("careem/simple_form.json"))

    assert unknown.status_code == disabled.status_code == 401
    assert unknown.content == disabled.content


def test_a_branch_secret_replaces_the_provider_secret(client):
    Branch.objects.filter(external_id="loc_amman_abdoun").update(secret="")
    branch = Branch.objects.get(external_id="loc_amman_abdoun")
    branch.secret = "branch-only-secret"
    branch.save()
    body = fixture("careem/order_created_jod.json")

    assert post_careem(client, body).status_code == 401
    assert post_careem(client, body, HTTP_X_CAREEM_SIGNATURE=sign(body, "branch-only-secret")).status_code == 200


def test_malformed_json_after_valid_auth_is_400_and_kept_for_support(client):
    body = b'{"order_id": "X1", '
    answer = post_careem(client, body)

    assert answer.status_code == 400
    assert InboundWebhook.objects.get().body == body.decode()


def test_invalid_orders_get_every_error_in_one_422(client):
    body = json.dumps({"order_id": "X2", "items": [{"name": "", "quantity": -1, "price": "1.2345"}]}).encode()
    answer = post_careem(client, body)

    assert answer.status_code == 422
    assert answer.json()["success"] is False
    assert {e["field"] for e in answer.json()["errors"]} == {"items[0].quantity", "items[0].price", "items[0].name", "total_amount"}


def test_bodies_over_one_mib_are_413(client):
    body = b'{"order_id": "' + b"x" * (1024 * 1024) + b'"}'
    answer = client.post("/api/webhooks/careem", data=body, content_type="application/json")

    assert answer.status_code == 413
    assert InboundWebhook.objects.get().outcome == "too_large"


def test_unknown_providers_are_404(client):
    assert client.post("/api/webhooks/glovo", data=b"{}", content_type="application/json").status_code == 404
    assert client.post("/api/webhooks/careem/", data=b"{}", content_type="application/json").status_code == 401  # trailing slash works


def test_the_rate_limit_is_per_provider_with_retry_after(client, settings):
    settings.WEBHOOK_RATE_LIMIT = 2
    body = fixture("careem/simple_form.json")
    answers = [post_careem(client, body).status_code for _ in range(3)]
    talabat = client.post("/api/webhooks/talabat", data=b"{}", content_type="application/json")

    assert answers == [200, 200, 429]
    assert int(post_careem(client, body)["Retry-After"]) >= 1
    assert talabat.status_code == 401  # talabat has its own budget


def test_the_ip_allowlist_uses_forwarded_for_only_from_trusted_proxies(client, settings):
    settings.PROVIDER_INTAKE = {"careem": {"ip_allowlist": ["63.32.225.161/32"]}}
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    body = fixture("careem/simple_form.json")

    direct = post_careem(client, body)
    proxied = post_careem(client, body, HTTP_X_FORWARDED_FOR="63.32.225.161")
    settings.TRUSTED_PROXIES = []
    spoofed = post_careem(client, body, HTTP_X_FORWARDED_FOR="63.32.225.161")

    assert (direct.status_code, proxied.status_code, spoofed.status_code) == (401, 200, 401)


def test_api_key_mode(client, settings):
    settings.PROVIDER_INTAKE = {"careem": {"auth_mode": "api_key"}}
    body = fixture("careem/simple_form.json")

    ok = client.post("/api/webhooks/careem", data=body, content_type="application/json", HTTP_X_CAREEM_API_KEY=CAREEM_SECRET)
    wrong = client.post("/api/webhooks/careem", data=body, content_type="application/json", HTTP_X_CAREEM_API_KEY="nope")

    assert (ok.status_code, wrong.status_code) == (200, 401)


def talabat_token(secret: str = TALABAT_SECRET, **claims) -> str:
    return jwt.encode({"service": "middleware", "exp": int(time.time()) + 60, **claims}, secret, algorithm="HS512")


@pytest.fixture
def talabat_jwt(settings):
    settings.PROVIDER_INTAKE = {"talabat": {"auth_mode": "jwt"}}


def test_talabat_plugin_dispatch_and_status_with_jwt(client, talabat_jwt):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {talabat_token()}"}
    dispatch = client.post("/api/webhooks/talabat/order/kw-684213", data=fixture("talabat/dispatch_rider_kwd.json"),
                           content_type="application/json", **auth)
    remote_order_id = dispatch.json()["remoteOrderId"]
    status = client.put(f"/api/webhooks/talabat/remoteId/kw-684213/remoteOrder/{remote_order_id}/posOrderStatus",
                        data=fixture("talabat/status_picked_up.json"), content_type="application/json", **auth)

    assert dispatch.status_code == 202
    order = Order.objects.get(id=remote_order_id)
    assert (order.status, order.currency, order.total_minor, order.external_order_id) == ("PICKED_UP", "KWD", 3250, "kw7f-q2n8")
    assert status.status_code == 200
    assert OrderEvent.objects.filter(order=order).count() == 2


@pytest.mark.parametrize("token", [
    pytest.param(lambda: talabat_token(exp=int(time.time()) - 10), id="expired"),
    pytest.param(lambda: talabat_token(service="someone-else"), id="wrong-service"),
    pytest.param(lambda: talabat_token(secret="another-secret-that-is-long-enough-for-hs512-but-not-ours-0123456"), id="wrong-secret"),
    pytest.param(lambda: jwt.encode({"service": "middleware", "exp": int(time.time()) + 60}, TALABAT_SECRET, algorithm="HS256"), id="hs256"),
    pytest.param(lambda: jwt.encode({"service": "middleware"}, TALABAT_SECRET, algorithm="HS512"), id="no-exp"),
])
def test_talabat_jwt_failures_are_401(client, talabat_jwt, token):
    answer = client.post("/api/webhooks/talabat/order/kw-684213", data=fixture("talabat/dispatch_rider_kwd.json"),
                         content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token()}")

    assert answer.status_code == 401


def test_stats_need_staff_or_the_token_and_count_by_outcome(client, admin_client, settings):
    settings.WEBHOOK_STATS_TOKEN = "stats-token-1"
    post_careem(client, fixture("careem/simple_form.json"))
    post_careem(client, fixture("careem/simple_form.json"))
    client.post("/api/webhooks/careem", data=b"{}", content_type="application/json")

    anonymous = client.get("/api/webhooks/stats/careem")
    by_token = client.get("/api/webhooks/stats/careem", HTTP_AUTHORIZATION="Bearer stats-token-1")
    by_staff = admin_client.get("/api/webhooks/stats/careem")

    assert anonymous.status_code == 401
    assert by_token.json()["byOutcome"]["accepted"] == 1
    assert (by_staff.json()["byOutcome"]["duplicate"], by_staff.json()["byOutcome"]["unauthorized"], by_staff.json()["total"]) == (1, 1, 3)


def test_the_admin_lists_orders_audit_rows_and_never_shows_branch_secrets(client, admin_client):
    post_careem(client, fixture("careem/order_created_jod.json"))
    branch = Branch.objects.get(external_id="loc_amman_abdoun")
    branch.secret = "very-secret-branch-key"
    branch.save()

    pages = [admin_client.get(url) for url in ("/admin/providers/order/", "/admin/providers/inboundwebhook/",
                                               f"/admin/providers/branch/{branch.id}/change/",
                                               f"/admin/providers/order/{Order.objects.get().id}/change/")]

    assert [page.status_code for page in pages] == [200, 200, 200, 200]
    assert "62504546" in pages[0].content.decode()
    assert "very-secret-branch-key" not in pages[2].content.decode()


def test_mapped_items_get_their_product_and_unmapped_ones_a_warning(client):
    ProductMapping.objects.create(provider=Provider.objects.get(name="careem"), external_item_id="itm_shawarma_chicken",
                                  product_id="SKU-SHAW-CHK", name="Chicken shawarma")

    post_careem(client, fixture("careem/order_created_jod.json"))

    order = Order.objects.get()
    shawarma, pepsi = order.data["items"]
    assert (shawarma["productId"], pepsi["productId"], shawarma["modifiers"][0]["productId"]) == ("SKU-SHAW-CHK", None, None)
    assert order.warnings == ["unmapped item 'opt_cheese' (opt_cheese) passed through",
                              "unmapped item 'itm_pepsi_330' (itm_pepsi_330) passed through"]
    assert OutboxMessage.objects.get().payload["warnings"] == order.warnings


def test_talabat_generic_route_with_hmac_and_a_repeated_plugin_dispatch(client):
    body = fixture("talabat/dispatch_rider_kwd.json")
    signature = {"HTTP_X_TALABAT_SIGNATURE": sign(body, TALABAT_SECRET)}

    generic = client.post("/api/webhooks/talabat", data=body, content_type="application/json", **signature)
    plugin = client.post("/api/webhooks/talabat/order/kw-684213", data=body, content_type="application/json", **signature)

    assert generic.status_code == 200
    order = Order.objects.get()
    assert plugin.status_code == 202
    assert (plugin.json()["remoteOrderId"], plugin.json()["duplicate"]) == (str(order.id), True)
    assert OutboxMessage.objects.count() == 1


@pytest.mark.parametrize("mode", ["hmac", "api_key", "jwt"])
def test_during_a_rotation_the_current_and_the_next_webhook_secret_both_authenticate(client, settings, mode):
    """`TALABAT_WEBHOOK_SECRET=current,next`: the provider may switch at any moment; either is accepted, and
    no third one."""
    from providers.auth import credentials_headers

    settings.PROVIDER_INTAKE = {"talabat": {"auth_mode": mode, "secret": "current-secret-of-at-least-32-bytes-x,"
                                                                          "next-secret-of-at-least-32-bytes-xxxxx"}}
    body = json.dumps({"status": "done", "catalogImportId": "imp-none"}).encode()

    def answer(secret: str) -> int:
        headers = credentials_headers(provider="talabat", mode=mode, secret=secret, body=body)
        return client.post("/api/webhooks/talabat/catalog", data=body, content_type="application/json",
                           headers=headers).status_code

    assert [answer("current-secret-of-at-least-32-bytes-x"), answer("next-secret-of-at-least-32-bytes-xxxxx"),
            answer("another-secret-of-at-least-32-bytes-x")] == [200, 200, 401]


@pytest.mark.parametrize("provider", ["careem", "deliveroo", "talabat"])
def test_each_providers_webhook_secret_rotates_in_hmac_mode(client, settings, provider):
    """A signed request with either secret of a rotation reaches the adapter (422: this body is not an order),
    one with a third secret is the one 401."""
    from providers.auth import credentials_headers

    settings.WEBHOOK_RATE_LIMIT = 10**6
    Provider.objects.get_or_create(name=provider)
    settings.PROVIDER_INTAKE = {provider: {"auth_mode": "hmac", "secret": "current-rotated-secret,next-rotated-secret"}}
    body = json.dumps({"not": "an order"}).encode()

    def answer(secret: str) -> int:
        headers = credentials_headers(provider=provider, mode="hmac", secret=secret, body=body)
        return client.post(f"/api/webhooks/{provider}", data=body, content_type="application/json",
                           headers=headers).status_code

    assert [answer("current-rotated-secret"), answer("next-rotated-secret"), answer("third-secret")] == [422, 422, 401]


def test_uber_eats_client_secret_rotation_logs_in_with_the_new_and_accepts_webhooks_signed_with_either(
        client, settings, monkeypatch):
    from providers.adapters import ADAPTERS
    from providers.adapters import ubereats as uber_adapter

    settings.WEBHOOK_RATE_LIMIT = 10**6
    Provider.objects.create(name="ubereats")
    settings.UBEREATS_CLIENT_SECRET = "new-uber-client-secret,old-uber-client-secret"
    forms = []
    monkeypatch.setattr(uber_adapter, "login_with", lambda url, form: forms.append(form))
    ADAPTERS["ubereats"].login()
    body = json.dumps({"event_type": "store.provisioned", "event_id": "e-rot"}).encode()

    def answer(secret: str) -> int:
        return client.post("/api/webhooks/ubereats", data=body, content_type="application/json",
                           headers={"X-Uber-Signature": hex_hmac(secret=secret, message=body)}).status_code

    assert forms[0]["client_secret"] == "new-uber-client-secret"
    assert [answer("new-uber-client-secret"), answer("old-uber-client-secret"), answer("other")] == [200, 200, 401]
