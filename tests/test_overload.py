"""Shed, don't queue: the hub on gunicorn, as `make run` starts it but with one worker of two threads,
driven past what it can serve. A request that waited past HUB_QUEUE_TIMEOUT_MS is answered 503
OVERLOADED with Retry-After and leaves nothing behind; the admitted ones are answered as usual."""

import json
import socket
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
import requests

from hub.testing import database_url_of_test_db, free_port, start_process, stop_process, subprocess_env, wait_until
from wallet.models import IdempotencyKey, WalletTransaction
from wallet.tests.helpers import debit_body, signed_headers
from webhooks.tests.factories import DestinationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def hub(tmp_path, operator_mock):
    port, log = free_port(), tmp_path / "gunicorn.log"
    process = start_process(
        ["-m", "gunicorn", "hub.wsgi:application", "-c", "python:hub.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "2"],
        env=subprocess_env(HUB_VAR_DIR=str(tmp_path), DATABASE_URL=database_url_of_test_db(),
                           CELERY_BROKER_URL="filesystem://localhost//", OPERATOR_BASE_URL=operator_mock.url,
                           HUB_QUEUE_TIMEOUT_MS="200"),
        log=log,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: _up(url), timeout=30, what="gunicorn", log=log)
    yield url
    stop_process(process)


def _up(url: str) -> bool:
    try:
        return requests.get(f"{url}/health", timeout=2).status_code in (200, 503)
    except requests.RequestException:
        return False


def signed_debit(ref_id: str, key: str) -> tuple[bytes, dict[str, str]]:
    """A debit's body and its HTTP headers."""
    raw = json.dumps(debit_body(ref_id=ref_id)).encode()
    headers = signed_headers(raw, key=key)
    return raw, {"Content-Type": "application/json", "X-Timestamp": headers["HTTP_X_TIMESTAMP"],
                 "X-Signature": headers["HTTP_X_SIGNATURE"], "Idempotency-Key": key}


def debit(url: str, ref_id: str, key: str) -> requests.Response:
    raw, headers = signed_debit(ref_id, key)
    return requests.post(f"{url}/wallet/debit", data=raw, timeout=10, headers=headers)


def hold_both_threads(pool: ThreadPoolExecutor, url: str, operator_mock, keys: dict[str, str],
                      delay_ms: int) -> list[Future]:
    """Debits ref-0 and ref-1, each held at the Operator for delay_ms: both threads busy."""
    operator_mock.script("withdraw", [{"pass": True, "delayMs": delay_ms}] * 2)
    slow = [pool.submit(debit, url, ref, keys[ref]) for ref in ("ref-0", "ref-1")]
    wait_until(lambda: len(operator_mock.requests("withdraw")) == 2, timeout=10, what="both threads at the Operator")
    return slow


def test_past_its_threads_the_hub_sheds_what_waited_and_serves_the_rest(hub, operator_mock):
    DestinationFactory(name="rgs")
    keys = {f"ref-{n}": str(uuid.uuid4()) for n in range(6)}

    with ThreadPoolExecutor(max_workers=6) as pool:
        slow = hold_both_threads(pool, hub, operator_mock, keys, delay_ms=800)
        queued = [pool.submit(debit, hub, ref, keys[ref]) for ref in ("ref-2", "ref-3", "ref-4", "ref-5")]
        started = time.monotonic()
        admitted, shed = [f.result() for f in slow], [f.result() for f in queued]
        shed_within = time.monotonic() - started

    assert [a.status_code for a in admitted] == [201, 201]
    assert [(s.status_code, s.headers["Retry-After"], s.json()["error"]["code"]) for s in shed] == [
        (503, "1", "OVERLOADED")] * 4
    assert shed_within < 2.0  # answered as soon as a thread was free, not after serving them
    assert sorted(WalletTransaction.objects.values_list("ref_id", flat=True)) == ["ref-0", "ref-1"]
    assert IdempotencyKey.objects.filter(key__in=[keys[f"ref-{n}"] for n in range(2, 6)]).count() == 0
    assert len(operator_mock.requests("withdraw")) == 2

    again = debit(hub, "ref-2", keys["ref-2"])  # the retry the 503 asked for, once the hub has threads
    assert again.status_code == 201
    assert requests.get(f"{hub}/health", timeout=5).status_code == 200


def test_while_every_thread_is_held_by_slow_work_the_queue_is_answered_from_the_queue(hub, operator_mock):
    """The Operator holds both threads for 4 s: the queued requests are not left waiting for a thread to
    free up (past an RGS's patience) but answered about HUB_QUEUE_TIMEOUT_MS after they arrived."""
    DestinationFactory(name="rgs")
    keys = {f"ref-{n}": str(uuid.uuid4()) for n in range(5)}

    def timed(ref: str) -> tuple[requests.Response, float]:
        started = time.monotonic()
        answer = debit(hub, ref, keys[ref])
        return answer, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=5) as pool:
        slow = hold_both_threads(pool, hub, operator_mock, keys, delay_ms=4000)
        queued = [f.result() for f in [pool.submit(timed, f"ref-{n}") for n in range(2, 5)]]
        admitted = [f.result() for f in slow]

    assert [(a.status_code, a.headers["Retry-After"], a.json()["error"]["code"]) for a, _ in queued] == [
        (503, "1", "OVERLOADED")] * 3
    assert max(seconds for _, seconds in queued) < 1.5  # not the 4 s until a thread is free
    assert [a.status_code for a in admitted] == [201, 201]
    assert sorted(WalletTransaction.objects.values_list("ref_id", flat=True)) == ["ref-0", "ref-1"]
    assert len(operator_mock.requests("withdraw")) == 2
    assert debit(hub, "ref-2", keys["ref-2"]).status_code == 201  # the retry, once threads are free


def raw_debit(url: str, ref_id: str, key: str) -> bytes:
    raw, headers = signed_debit(ref_id, key)
    lines = ["POST /wallet/debit HTTP/1.1", f"Host: {url.split('//', 1)[1]}", f"Content-Length: {len(raw)}",
             *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + raw


def connect(url: str) -> socket.socket:
    host, port = url.split("//", 1)[1].split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines)}
    while len(body) < int(headers["content-length"]):
        body += sock.recv(65536)
    return int(status.split()[1]), headers, body


def test_a_request_shed_from_the_queue_leaves_its_connection_usable(hub, operator_mock):
    """The main thread reads the shed request off the kept-alive connection and answers it; the caller's
    next request on the same connection, once a thread is free, is served."""
    DestinationFactory(name="rgs")
    keys = {f"ref-{n}": str(uuid.uuid4()) for n in range(3)}

    with ThreadPoolExecutor(max_workers=2) as pool, connect(hub) as sock:
        slow = hold_both_threads(pool, hub, operator_mock, keys, delay_ms=1500)
        sock.sendall(raw_debit(hub, "ref-2", keys["ref-2"]))
        status, headers, body = read_answer(sock)
        assert [f.result().status_code for f in slow] == [201, 201]

        assert (status, headers["retry-after"], headers["connection"], json.loads(body)["error"]["code"]) == (
            503, "1", "keep-alive", "OVERLOADED")
        sock.sendall(raw_debit(hub, "ref-2", keys["ref-2"]))  # the retry, on the same connection
        assert read_answer(sock)[0] == 201
    assert sorted(WalletTransaction.objects.values_list("ref_id", flat=True)) == ["ref-0", "ref-1", "ref-2"]
    assert len(operator_mock.requests("withdraw")) == 3


def test_a_request_whose_body_comes_late_is_shed_by_a_thread_on_the_same_connection(hub, operator_mock):
    """The main thread reads what has arrived when the request's time is up; the rest of its body comes
    later, so a thread's parser gets the bytes read and the rest, and sheds it."""
    DestinationFactory(name="rgs")
    keys = {f"ref-{n}": str(uuid.uuid4()) for n in range(3)}
    request = raw_debit(hub, "ref-2", keys["ref-2"])

    with ThreadPoolExecutor(max_workers=2) as pool, connect(hub) as sock:
        slow = hold_both_threads(pool, hub, operator_mock, keys, delay_ms=1500)
        sock.sendall(request[:-10])
        time.sleep(0.5)  # past HUB_QUEUE_TIMEOUT_MS (200): the main thread has read the first part
        sock.sendall(request[-10:])
        status, headers, body = read_answer(sock)
        assert [f.result().status_code for f in slow] == [201, 201]

        assert (status, headers["retry-after"], json.loads(body)["error"]["code"]) == (503, "1", "OVERLOADED")
        sock.sendall(request)  # the retry, on the same connection
        assert read_answer(sock)[0] == 201
    assert sorted(WalletTransaction.objects.values_list("ref_id", flat=True)) == ["ref-0", "ref-1", "ref-2"]


def read_all(sock: socket.socket) -> bytes:
    """Everything the hub sends until it closes the connection (or stays silent for 3 s)."""
    sock.settimeout(3)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        pass
    return data


def test_a_header_hiding_a_body_behind_a_bare_lf_never_smuggles_a_request_under_overload(hub, operator_mock):
    """S1: `X-Pad: a\\nContent-Length: N` hid the body from the shed path, which shed the head alone, kept the
    connection and served the body as a request of its own. Now such a head goes to gunicorn's parser,
    which refuses it (400) and closes the connection: the hidden request is never served."""
    DestinationFactory(name="rgs")
    keys = {f"ref-{n}": str(uuid.uuid4()) for n in range(2)}
    hidden = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    head = (b"POST /wallet/debit HTTP/1.1\r\nHost: x\r\nX-Pad: a\nContent-Length: " + str(len(hidden)).encode()
            + b"\r\n\r\n")

    with ThreadPoolExecutor(max_workers=2) as pool, connect(hub) as sock:
        slow = hold_both_threads(pool, hub, operator_mock, keys, delay_ms=1500)
        sock.sendall(head)
        time.sleep(0.5)  # past HUB_QUEUE_TIMEOUT_MS (200): the main thread has read the head
        sock.sendall(hidden)  # the body, which a desynced reader would serve as a request
        answers = read_all(sock)
        assert [f.result().status_code for f in slow] == [201, 201]

    statuses = [int(line.split()[1]) for line in answers.decode("latin-1").split("\r\n") if line.startswith("HTTP/1.")]
    assert statuses == [400], answers[:300]  # one answer, the parser's refusal; the connection closed after it
