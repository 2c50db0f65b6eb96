"""The calls the hub makes to providers: one URL check, capped answers, values computed at send time,
token lifetimes clamped, and a cache that refuses a token never breaking the call."""

import threading
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from django.core.cache import cache
from django.db import models

from hub import metrics
from hub.testing import free_port
from providers.adapters import ADAPTERS
from providers.adapters.base import MAX_TOKEN_SECONDS, LoginFailed, token_from
from providers.calls import call_now, send_call
from providers.decisions import order_decide
from providers.tests.factories import OrderFactory
from providers.tokens import bearer_token
from webhooks.models import OutboxMessage
from webhooks.tests.factories import DestinationFactory

pytestmark = pytest.mark.django_db
HUGE = 16 * 1024 * 1024


class Provider(BaseHTTPRequestHandler):
    """A provider that answers every call with `answer` (a 16 MiB one for /huge paths)."""

    protocol_version = "HTTP/1.1"
    seen: list[str] = []

    def _handle(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Provider.seen.append(f"{self.command} {self.path}")
        huge = "huge" in self.path
        body = b'{"access_token": "t-1", "expires_in": 3600}'
        self.send_response(200)
        self.send_header("Content-Length", str(HUGE if huge else len(body)))
        self.end_headers()
        chunk = b" " * 65536  # written piece by piece: the test measures the hub's memory, not the server's
        try:
            for _ in range(HUGE // len(chunk) if huge else 0):
                self.wfile.write(chunk)
            if not huge:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            return

    do_POST = do_PUT = _handle

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def provider(settings) -> Iterator[str]:
    Provider.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Provider)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    settings.TALABAT_MIDDLEWARE_URL = url
    settings.CAREEM_API_BASE_URL = f"{url}/pos/api/v1"
    settings.CAREEM_TOKEN_URL = f"{url}/token"
    DestinationFactory(name="backend")
    cache.clear()
    yield url
    httpd.shutdown()


def talabat_order(url: str):
    return OrderFactory.create(provider="talabat", external_order_id="ord-1", branch_id="kw-1",
                               provider_refs={"token": "tok", "callbackUrls": {"orderAcceptedUrl": url}})


@pytest.mark.parametrize("callback", [
    "{mw}\t/v2/order/status/x", "http://127.0.0.1\t.evil.example/v2/x", "http://127.0.0.1\r\n.evil/v2/x",
    "{mw}/v2/order/status/x\n", " {mw}/v2/order/status/x", "http://evil.example/v2/order/status/x",
])
def test_a_callback_url_that_could_not_be_sent_as_checked_is_refused_when_decided(provider, callback):
    order = talabat_order(callback.format(mw=provider))

    result = order_decide(order_id=order.id, action="accept", decided_by="backend")

    order.refresh_from_db()
    assert result.call == "refused" and "refused" in order.flag
    assert not OutboxMessage.objects.filter(destination__name="talabat").exists()


def test_an_https_middleware_never_gets_its_bearer_over_http(provider, settings):
    settings.TALABAT_MIDDLEWARE_URL = "https://mw.example"
    order = talabat_order("http://mw.example/v2/order/status/x")

    assert order_decide(order_id=order.id, action="accept", decided_by="backend").call == "refused"


def test_a_queued_call_refused_at_send_time_fails_permanently_and_sends_nothing(provider, settings):
    order = talabat_order(f"{provider}/v2/order/status/x")
    order_decide(order_id=order.id, action="accept", decided_by="backend")
    settings.TALABAT_MIDDLEWARE_URL = provider.replace("http:", "https:")  # moved to https since

    result = send_call(ADAPTERS["talabat"], OutboxMessage.objects.get(destination__name="talabat"))

    assert result.permanent and not result.succeeded and "refused" in result.error
    assert Provider.seen == []


def test_the_acceptance_time_is_computed_when_the_call_is_sent(provider):
    order = talabat_order(f"{provider}/v2/order/status/x")
    order_decide(order_id=order.id, action="accept", decided_by="backend", preparation_minutes=5)
    message = OutboxMessage.objects.get(destination__name="talabat")
    message.payload["decision"]["decided_at"] = (datetime.now(UTC) - timedelta(hours=1)).isoformat()  # a replay

    body = call_now(ADAPTERS["talabat"], message).body
    assert body is not None
    acceptance = datetime.fromisoformat(body["acceptanceTime"].replace("Z", "+00:00"))

    assert timedelta(minutes=5) - timedelta(seconds=5) <= acceptance - datetime.now(UTC) <= timedelta(minutes=5)


def test_a_huge_answer_to_a_decision_call_is_read_only_up_to_the_cap(provider, settings):
    settings.CAREEM_API_BASE_URL = f"{provider}/huge"
    order = OrderFactory.create(provider="careem", external_order_id="1", branch_id="b", provider_refs={})
    order_decide(order_id=order.id, action="accept", decided_by="backend")
    message = OutboxMessage.objects.get(destination__name="careem")

    tracemalloc.start()
    try:
        result = send_call(ADAPTERS["careem"], message)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert result.succeeded and result.status_code == 200
    assert peak < 2 * 1024 * 1024, peak  # a 16 MiB answer, read up to 64 KiB


def test_a_huge_token_answer_is_a_failed_login_not_a_memory_spike(provider, settings):
    settings.CAREEM_TOKEN_URL = f"{provider}/huge-token"

    with pytest.raises(LoginFailed, match="too large"):
        ADAPTERS["careem"].login()


def answer(body: bytes, status: int = 200) -> requests.Response:
    response = requests.Response()
    response.status_code, response._content = status, body
    return response


@pytest.mark.parametrize("expires_in", ["1e12", "5e11", "Infinity", "1e1000000", '"1e1000000"', str(10 ** 30)])
def test_a_far_token_expiry_is_clamped(expires_in):
    token = token_from(answer(f'{{"access_token": "t", "expires_in": {expires_in}}}'.encode()))

    assert token.expires_in == MAX_TOKEN_SECONDS


@pytest.mark.parametrize("expires_in", ["0", "-5", "-Infinity", "NaN", "true", '"soon"', "null", "1e-1000000"])
def test_a_token_without_a_positive_lifetime_is_a_failed_login(expires_in):
    with pytest.raises(LoginFailed):
        token_from(answer(f'{{"access_token": "t", "expires_in": {expires_in}}}'.encode()))


def test_a_cache_that_refuses_the_token_never_breaks_the_call(provider, monkeypatch):
    def refuse(*args, **kwargs):
        raise ValueError("expire time out of range")

    monkeypatch.setattr(cache, "set", refuse)
    before = metrics.PROVIDER_TOKENS_UNCACHED.labels("careem")._value.get()

    assert bearer_token(ADAPTERS["careem"]) == "t-1"
    assert metrics.PROVIDER_TOKENS_UNCACHED.labels("careem")._value.get() == before + 1


def test_unsendable_calls_are_never_charged_to_the_circuit(provider, settings):
    """Ten orders whose callback is refused at send time, then one real failure: the circuit stays closed."""
    from webhooks.models import DestinationCircuit
    from webhooks.outbox import outbox_deliver

    settings.CIRCUIT_BREAKER_MIN_ATTEMPTS = 10
    for n in range(10):
        order = OrderFactory.create(provider="talabat", external_order_id=f"o-{n}", branch_id="kw-1",
                                    provider_refs={"token": "t", "callbackUrls": {"orderAcceptedUrl": f"{provider}/v2/x"}})
        order_decide(order_id=order.id, action="accept", decided_by="backend")
    settings.TALABAT_MIDDLEWARE_URL = provider.replace("http:", "https:")

    outbox_deliver()
    settings.TALABAT_MIDDLEWARE_URL = "http://127.0.0.1:9"  # nothing listens: a real, transient failure
    order = OrderFactory.create(provider="talabat", external_order_id="o-real", branch_id="kw-1",
                                provider_refs={"token": "t", "callbackUrls": {"orderAcceptedUrl": "http://127.0.0.1:9/v2/x"}})
    order_decide(order_id=order.id, action="accept", decided_by="backend")
    outbox_deliver()

    statuses = dict(OutboxMessage.objects.filter(destination__name="talabat").values_list("status").annotate(
        n=models.Count("id")))
    assert statuses == {"DEAD_LETTER": 10, "PENDING": 1}, statuses
    assert not DestinationCircuit.objects.filter(destination__name="talabat", open_until__isnull=False).exists()


def test_an_operator_forces_a_new_login_with_a_command(provider):
    from io import StringIO

    from django.core.management import call_command

    bearer_token(ADAPTERS["careem"])
    bearer_token(ADAPTERS["careem"])  # cached: one login
    out = StringIO()
    call_command("drop_provider_token", "careem", stdout=out)
    bearer_token(ADAPTERS["careem"])

    assert Provider.seen.count("POST /token") == 2
    assert "careem: token dropped" in out.getvalue()
