"""HTTP benchmarks on gunicorn (2 workers × 8 threads), load from wrk (a separate process) with
pre-signed requests, every figure beside a baseline or target from the same run.

  wallet    signed idempotent debits, unique keys, Operator fake answering at once; saturation, between
            two phases of the baseline (a Django view doing the debit's raw SQL, one UPDATE + one INSERT,
            in the same gunicorn), and half load
  intake    Careem webhooks (hmac): auth + audit + transform + outbox row; saturation between two
            baseline phases, and half load
  menus     a 2,000-item menu with 300 options published to a site on all four provider fakes: the time until
            each is live (their asynchronous results included) and the hub's CPU; then 100 items made
            unavailable: the time until every provider was told
  providers one saturation phase per provider (Careem, Talabat, Deliveroo, Uber Eats) with a real-shaped
            order each, then until its outbox is empty: webhooks/s, p95, and orders/s and own CPU per
            order over the phase and the drain (Uber Eats: its fetch of each order from the fake too)
  outbox    20,000 pending messages delivered by a Celery worker (concurrency 2) to a minimal receiver
            answering 200 at once (bench/receiver.py)
  e2e       debit → RGS webhook received, sequential debits
  peer, peer_tuned   the same receiver fed the usual Django way: a Celery task per message (bench/peer.py)
  peer_library       the same, by django-webhook2 from the package index (bench/peer_library.py; bench/run
                     installs it from bench/requirements-peer.txt)

Every load phase also reports the CPU milliseconds per request of each component (hub, worker, fakes,
PostgreSQL, Redis), read from /proc: on a shared 2-core machine that says what bounds a figure.

Usage: `make bench` (bench/run: PostgreSQL, Redis, wrk), or python bench/http_bench.py [--seconds 10]
[--only wallet,intake,e2e,outbox] with BENCH_DATABASE_URL / BENCH_BROKER_URL / BENCH_CACHE_URL set.
"""

import argparse
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BENCH_DIR,
    ROOT,
    cpu_ms_per_request,
    cpu_seconds_by_group,
    outbox_backlog,
    prepare_environment,
    setup_django,
    start,
    stop,
)
from bench import overload  # noqa: E402
from hub.json_strategies import fresh_ids  # noqa: E402
from hub.signing import hex_hmac, secret_list, wallet_signature  # noqa: E402
from providers.config import intake_settings

HUB, OPERATOR, RGS, BACKEND, RECEIVER, UBEREATS, CAREEM, TALABAT, DELIVEROO = (
    f"http://127.0.0.1:{port}" for port in (18810, 18811, 18812, 18813, 18814, 18815, 18816, 18817, 18818))
THREADS, PLAYERS = 2, 200
SUITES = ("wallet", "intake", "providers", "menus", "overload", "e2e", "outbox", "peer", "peer_tuned", "peer_library")
FIXTURES = ROOT / "providers" / "tests" / "fixtures"
# provider → (a real-shaped webhook, the paths of the ids made fresh per request)
PROVIDER_WEBHOOKS = {
    "careem": ("careem/order_created_jod.json", ("details.id",)),
    "talabat": ("talabat/dispatch_rider_kwd.json", ("token", "code")),
    "deliveroo": ("deliveroo/order_new_kw_restaurant_delivery.json", ("body.order.id",)),
    "ubereats": ("ubereats/event_orders_notification.json", ("event_id", "meta.resource_id")),
}
# The overload phase: this many times the saturation phase's 32 connections, for OVERLOAD_SECONDS.
OVERLOAD_FACTOR, OVERLOAD_SECONDS = 16, 20
OWN_CPU = ("hub", "worker", "dispatcher", "postgres", "redis")  # the fakes and the load generator are not the hub's
# The web server under test (BENCH_SERVER), with the same app, 2 processes and 8 threads each.
SERVERS = {
    "gunicorn": ["-m", "gunicorn", "hub.wsgi:application", "-c", "python:hub.gunicorn_conf", "--bind", "127.0.0.1:18810",
                 "--workers", "2", "--threads", "8"],
    "gunicorn-sync": ["-m", "gunicorn", "hub.wsgi:application", "-c", "python:hub.gunicorn_conf", "--bind",
                      "127.0.0.1:18810", "--workers", "4", "--worker-class", "sync"],
    "granian": ["-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", "18810", "--workers", "2",
                "--blocking-threads", "8", "hub.wsgi:application"],
}


def wallet_line(path: str, body: dict, secret: str) -> str:
    raw = json.dumps(body, separators=(",", ":"))
    stamp = str(int(time.time()))
    signature = wallet_signature(body=raw.encode(), timestamp=stamp, secret=secret)
    headers = f"Content-Type:application/json|X-Timestamp:{stamp}|X-Signature:{signature}|Idempotency-Key:{uuid.uuid4()}"
    return f"POST\t{path}\t{headers}\t{raw}"


def careem_line(secret: str, n: int) -> str:
    raw = json.dumps({"order_id": f"bench-{uuid.uuid4().hex}", "customer": {"name": "Bench", "phone": "0790000000"},
                      "items": [{"name": "Burger", "quantity": 1, "price": 10}], "total_amount": 10},
                     separators=(",", ":"))
    signature = hex_hmac(secret=secret, message=raw.encode())
    return f"POST\t/api/webhooks/careem\tContent-Type:application/json|x-careem-signature:{signature}\t{raw}"


def provider_line(name: str, template: dict, n: int) -> str:
    """One signed webhook of the provider, a new order (Uber Eats: an event naming a new order, which the
    fake serves from its template)."""
    from providers.adapters import ADAPTERS
    from providers.auth import signature_headers

    raw = json.dumps(fresh_ids(template, *PROVIDER_WEBHOOKS[name][1]), separators=(",", ":"), ensure_ascii=False)
    headers = signature_headers(adapter=ADAPTERS[name], secret=intake_settings(name).secret, body=raw.encode())
    header_text = "|".join(f"{key}:{value}" for key, value in {"Content-Type": "application/json", **headers}.items())
    return f"POST\t/api/webhooks/{name}\t{header_text}\t{raw}"


def write_requests(name: str, per_thread: int, make_line) -> str:
    prefix = BENCH_DIR / f"wrk-{name}"
    for thread in range(THREADS):
        with open(f"{prefix}.{thread}", "w") as sink:
            sink.writelines(make_line(thread * per_thread + n) + "\n" for n in range(per_thread))
    return str(prefix)


def wrk(prefix: str, *, connections: int, seconds: int, pace_ms: int = 0, timeout_s: int = 10) -> dict:
    cpu_before = cpu_seconds_by_group()
    out = subprocess.run(["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{seconds}s", "--timeout", f"{timeout_s}s",
                          "-s", str(ROOT / "bench" / "requests.lua"), HUB, "--", prefix, str(pace_ms)],
                         capture_output=True, text=True, check=True).stdout
    result = json.loads(out.split("RESULT ", 1)[1].splitlines()[0])
    seconds_run = result["duration_us"] / 1e6
    return {"rps": round(result["requests"] / seconds_run, 1), "requests": result["requests"],
            "ok_rps": round((result["requests"] - result["non_2xx"]) / seconds_run, 1),
            "p50_ms": result["p50_us"] / 1000, "p95_ms": result["p95_us"] / 1000, "p99_ms": result["p99_us"] / 1000,
            "non_2xx": result["non_2xx"], "socket_errors": result["socket_errors"], "connections": connections,
            "pace_ms": pace_ms,
            "cpu_ms_per_request": cpu_ms_per_request(cpu_before, cpu_seconds_by_group(), result["requests"])}


def debit_body(n: int) -> dict:
    return {"playerId": f"bench-{n % PLAYERS}", "amountCents": 1, "currency": "USD", "refId": f"b-{uuid.uuid4().hex}"}


def warm_up(wallet_secret: str, careem_secret: str) -> None:
    """A few seconds of each kind of request, not measured: connections opened, code paths and the
    database's statistics warm, as in a server that has been running."""
    wrk(write_requests("warm-wallet", 5_000, lambda n: wallet_line("/wallet/debit", debit_body(n), wallet_secret)),
        connections=32, seconds=3)
    wrk(write_requests("warm-intake", 5_000, lambda n: careem_line(careem_secret, n)), connections=32, seconds=3)


def saturation_phase(name: str, make_line, seconds: int) -> dict:
    """32 connections as fast as the hub answers. Each phase starts with an empty outbox: the
    webhooks of a phase are delivered during it (the steady-state cost of a request includes its
    webhook), not during the next phase."""
    wait_outbox_drained(300)
    return wrk(write_requests(name, 40_000, make_line), connections=32, seconds=seconds)


def half_load_phase(name: str, make_line, seconds: int, saturated: dict) -> dict:
    """4 connections, each pausing so that together they offer at most half the saturated rate."""
    connections = 4
    wait_outbox_drained(300)
    return wrk(write_requests(f"{name}-half", 40_000, make_line), connections=connections, seconds=max(seconds, 15),
               pace_ms=int(connections * 1000 / (saturated["rps"] / 2)))


def bracketed_by_baseline(name: str, make_line, seconds: int, secret: str) -> dict:
    """A saturation phase between two of the baseline view, and its ratio to their mean. On a shared
    machine the speed drifts by a third within minutes; a baseline on one side only put that drift
    into the ratio (make bench read 27 % and 35 % for the same code back to back)."""
    def baseline_line(n: int) -> str:
        return wallet_line("/wallet/__bench-baseline-debit", debit_body(n), secret)

    before = saturation_phase("baseline", baseline_line, seconds)
    saturated = saturation_phase(name, make_line, seconds)
    after = saturation_phase("baseline", baseline_line, seconds)
    baseline_rps = (before["rps"] + after["rps"]) / 2
    return {"saturation": saturated, "baseline_raw_sql": before, "baseline_after": after,
            "ratio_to_baseline": round(saturated["rps"] / baseline_rps, 3)}


def bench_wallet(seconds: int, secret: str) -> dict:
    def debit(n: int) -> str:
        return wallet_line("/wallet/debit", debit_body(n), secret)

    def debit_opening_a_round(n: int) -> str:
        """Each debit opens a round of its own: the round's row is written every time (the dearest case;
        joining a round only updates its row)."""
        body = debit_body(n)
        return wallet_line("/wallet/debit", {**body, "roundId": body["refId"]}, secret)

    measured = bracketed_by_baseline("wallet", debit, seconds, secret)
    in_rounds = saturation_phase("wallet-rounds", debit_opening_a_round, seconds)
    return {**measured, "half_load": half_load_phase("wallet", debit, seconds, measured["saturation"]),
            "rounds": in_rounds, "rounds_ratio": round(in_rounds["rps"] / measured["saturation"]["rps"], 3)}


def _overload_phases(make_line, seconds: int, modes: tuple[tuple[str, bool], ...]) -> dict:
    """The overload client's overload phases between two saturation phases, then wrk's overload phase (the
    load an outside check runs: it ignores Retry-After, and counts an answer later than 2 s as a timeout)
    between two of its own. Goodput is compared with the mean of the two saturation phases around it: the
    machine's speed drifts by a third within minutes, and a saturation phase on one side only put that
    drift into the ratio (the same code read 74 % and 108 %)."""
    def saturation() -> dict:
        wait_outbox_drained(300)
        return overload.run([make_line(n) for n in range(40_000)], url=HUB, connections=32, seconds=seconds)

    def wrk_phase(connections: int, phase_seconds: int) -> dict:
        wait_outbox_drained(300)
        return wrk(write_requests(f"overload-{connections}", 60_000, make_line), connections=connections,
                   seconds=phase_seconds, timeout_s=2)

    before, phases = saturation(), {}
    for name, honor in modes:
        wait_outbox_drained(300)
        phases[name] = overload.run([make_line(n) for n in range(80_000)], url=HUB, connections=32 * OVERLOAD_FACTOR,
                                    seconds=OVERLOAD_SECONDS, honor_retry_after=honor)
    after = saturation()
    saturated = (before["goodput_rps"] + after["goodput_rps"]) / 2
    for name, _ in modes:
        phases[name]["goodput_ratio"] = round(phases[name]["goodput_rps"] / saturated, 3)
    wrk_before, storm, wrk_after = wrk_phase(32, seconds), wrk_phase(32 * OVERLOAD_FACTOR, OVERLOAD_SECONDS), wrk_phase(32, seconds)
    wrk_saturated = (wrk_before["ok_rps"] + wrk_after["ok_rps"]) / 2
    return {"saturation": before, "saturation_after": after, "saturation_goodput_rps": round(saturated, 1), **phases,
            "wrk_32": wrk_before, "wrk_512": storm, "wrk_32_after": wrk_after,
            "wrk_saturation_ok_rps": round(wrk_saturated, 1), "wrk_goodput_ratio": round(storm["ok_rps"] / wrk_saturated, 3)}


def bench_overload(seconds: int, secret: str, careem_secret: str) -> dict:
    """The overload client (bench/overload.py): 32 connections (saturation), then 16 times as many for 20 s.
    Goodput is the 2xx per second; the 503s are admission control's (hub/admission.py). Debits with callers
    that honour Retry-After and with callers that ignore it; Careem orders (a provider's retry storm) with
    callers that honour it; both again from wrk."""
    debits = _overload_phases(lambda n: wallet_line("/wallet/debit", debit_body(n), secret), seconds,
                              (("overload", True), ("overload_ignoring_retry_after", False)))
    orders = _overload_phases(lambda n: careem_line(careem_secret, n), seconds, (("overload", True),))
    return {**debits, "intake": orders}


def bench_intake(seconds: int, secret: str, wallet_secret: str) -> dict:
    def webhook(n: int) -> str:
        return careem_line(secret, n)

    measured = bracketed_by_baseline("intake", webhook, seconds, wallet_secret)
    return {**measured, "half_load": half_load_phase("intake", webhook, seconds, measured["saturation"])}


def bench_providers(seconds: int) -> dict:
    """Each provider's webhooks at saturation, then the time until every order they made has reached the
    backend fake (Uber Eats: fetched first). Orders/s and the own CPU per order cover the phase and the drain."""
    from providers.models import Order
    from webhooks.models import OutboxMessage

    results = {}
    for name, (fixture, _) in PROVIDER_WEBHOOKS.items():
        template = json.loads((FIXTURES / fixture).read_text())
        wait_outbox_drained(300)
        orders_before, cpu_before = Order.objects.count(), cpu_seconds_by_group()
        phase = wrk(write_requests(f"provider-{name}", 40_000, lambda n: provider_line(name, template, n)),
                    connections=32, seconds=seconds)
        drain_started = time.monotonic()
        while OutboxMessage.objects.filter(status="PENDING").exists() and time.monotonic() - drain_started < 300:
            time.sleep(0.2)
        drain = time.monotonic() - drain_started
        orders = Order.objects.count() - orders_before
        results[name] = {**phase, "orders": orders, "drain_seconds": round(drain, 1),
                         "orders_per_second": round(orders / (phase["requests"] / phase["rps"] + drain), 1),
                         "cpu_ms_per_order": cpu_ms_per_request(cpu_before, cpu_seconds_by_group(), orders)}
    return results


MENU_ITEMS, MENU_OPTIONS, MENU_GROUPS, MENU_CATEGORIES = 2_000, 300, 50, 20


def bench_menu() -> dict:
    """The provider-neutral menu of the bench: 2,000 items in 20 categories, 300 options in 50 groups of 6
    (pick one: every provider's rules hold it), every item offering one group; prices in KWD fils."""
    options = [{"id": f"opt-{n}", "name": {"en": f"Option {n}", "ar": f"خيار {n}"}, "price": 100 + n}
               for n in range(MENU_OPTIONS)]
    groups = [{"id": f"grp-{g}", "name": {"en": f"Group {g}"}, "min": 0, "max": 1,
               "options": [{"itemId": f"opt-{g * 6 + k}", "price": 50 * k} for k in range(6)]} for g in range(MENU_GROUPS)]
    items = [{"id": f"itm-{n}", "name": {"en": f"Dish {n}", "ar": f"طبق {n}"}, "description": {"en": "Freshly made"},
              "price": 1000 + n, "taxRate": "5", "imageUrl": f"https://images.example.com/{n}.jpg",
              "modifierGroupIds": [f"grp-{n % MENU_GROUPS}"]} for n in range(MENU_ITEMS)]
    per = MENU_ITEMS // MENU_CATEGORIES
    categories = [{"id": f"cat-{c}", "name": {"en": f"Category {c}"}, "itemIds": [f"itm-{n}" for n in range(c * per, (c + 1) * per)]}
                  for c in range(MENU_CATEGORIES)]
    return {"currency": "KWD", "items": items + options, "modifierGroups": groups, "categories": categories,
            "menus": [{"id": "all-day", "name": {"en": "All day"}, "categoryIds": [c["id"] for c in categories],
                       "schedules": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "10:00",
                                      "end": "23:30"}]}]}


def bench_menus() -> dict:
    from providers.locations import LocationCommand, location_register
    from providers.models import Branch, Provider
    from webhooks.models import OutboxMessage

    branches = [("careem", "bench-careem"), ("talabat", "bench-talabat"), ("deliveroo", "bench-deliveroo"),
                ("ubereats", "bench-ubereats")]
    for provider, external_id in branches:
        Branch.objects.get_or_create(provider=Provider.objects.get(name=provider), external_id=external_id,
                                     defaults={"currency": "KWD"})
    location_register(location_id="bench-site", command=LocationCommand(name="Bench", branches=branches))
    auth = {"X-AUTH": os.environ.get("BACKEND_CALLBACK_KEY", "dev-insecure-backend-callback-key")}
    menu = json.dumps(bench_menu()).encode()
    wait_outbox_drained(300)

    cpu_before, started = cpu_seconds_by_group(), time.monotonic()
    answer = requests.put(f"{HUB}/api/locations/bench-site/menu", data=menu, timeout=60,
                          headers={**auth, "Content-Type": "application/json"})
    accepted_ms = round((time.monotonic() - started) * 1000, 1)
    live_after: dict[str, float] = {}
    while len(live_after) < len(branches) and time.monotonic() - started < 300:
        for sync in requests.get(f"{HUB}/api/locations/bench-site/sync", headers=auth, timeout=10).json()["syncs"]:
            if sync["status"] in {"live", "failed", "partial"} and sync["provider"] not in live_after:
                live_after[sync["provider"]] = round(time.monotonic() - started, 2)
                if sync["status"] != "live":
                    live_after[f"{sync['provider']} status"] = sync["status"]
        time.sleep(0.1)
    publish_cpu = cpu_ms_per_request(cpu_before, cpu_seconds_by_group(), 1)

    unavailable = {"items": [{"id": f"itm-{n}", "available": False} for n in range(100)]}
    cpu_before, started = cpu_seconds_by_group(), time.monotonic()
    requests.post(f"{HUB}/api/locations/bench-site/availability", json=unavailable, headers=auth, timeout=30)
    while (OutboxMessage.objects.filter(event_type="menu.availability").exclude(status="DELIVERED").exists()
           and time.monotonic() - started < 120):
        time.sleep(0.05)
    return {"menu_bytes": len(menu), "accepted_status": answer.status_code, "accepted_ms": accepted_ms,
            "seconds_to_live": live_after, "publish_cpu_ms": publish_cpu,
            "availability_seconds": round(time.monotonic() - started, 2),
            "availability_cpu_ms": cpu_ms_per_request(cpu_before, cpu_seconds_by_group(), 1)}


def wait_outbox_drained(timeout: float) -> None:
    """Let the workers finish the load phases' deliveries, then drop what is left."""
    from hub.celery import app
    from webhooks.models import OutboxMessage

    deadline = time.monotonic() + timeout
    while OutboxMessage.objects.filter(status="PENDING").exists() and time.monotonic() < deadline:
        app.send_task("webhooks.tasks.sweep_outbox")
        time.sleep(2)
    OutboxMessage.objects.all().delete()
    app.control.purge()  # stale nudges for deleted messages
    vacuum_queue_tables()


def vacuum_queue_tables() -> None:
    """What autovacuum does in production (the outbox migration makes it eager). Some machines run
    PostgreSQL with autovacuum off: then the dead index entries of delivered and deleted messages
    would pile up in front of every claim from one phase to the next."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE webhooks_outboxmessage, webhooks_deliveryattempt")


def receiver_destination():
    """The minimal receiver as a destination, signed like the RGS's."""
    from webhooks.models import Destination

    rgs = Destination.objects.get(name="rgs")
    destination, _ = Destination.objects.update_or_create(
        name="bench-receiver", defaults={"url": f"{RECEIVER}/webhooks", "signing_secrets": rgs.signing_secrets,
                                         "retry_delays": rgs.retry_delays})
    return destination


def bench_outbox(count: int = 20_000) -> dict:
    """A backlog of `count` messages to the minimal receiver (bench/receiver.py), signed like the RGS's."""
    from hub.celery import app
    from webhooks.models import OutboxMessage

    wait_outbox_drained(120)
    destination = receiver_destination()
    received_before = int(requests.get(f"{RECEIVER}/count", timeout=10).text)
    outbox_backlog(destination, count)
    cpu_before, started = cpu_seconds_by_group(), time.monotonic()
    next_sweep = started
    while (delivered := OutboxMessage.objects.filter(status="DELIVERED").count()) < count:
        if time.monotonic() - started > 600:
            break
        if time.monotonic() >= next_sweep:  # what beat does every OUTBOX_SWEEP_SECONDS; both processes sweep
            app.send_task("webhooks.tasks.sweep_outbox")
            next_sweep += 2
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    received = int(requests.get(f"{RECEIVER}/count", timeout=10).text) - received_before
    return {"messages": count, "delivered": delivered, "received": received, "seconds": round(elapsed, 2),
            "deliveries_per_second": round(delivered / elapsed, 1),
            "cpu_ms_per_delivery": cpu_ms_per_request(cpu_before, cpu_seconds_by_group(), delivered)}


def bench_peer(env: dict[str, str], *, tuned: bool, count: int = 5_000) -> dict:
    """The same backlog as `bench_outbox`, delivered the usual Django way (bench/peer.py): one Celery task
    per message, published on commit. The publishing process's CPU counts as "publisher"."""
    import resource
    from functools import partial

    from django.db import transaction

    from webhooks.models import OutboxMessage

    wait_outbox_drained(120)
    peer = start(["-m", "celery", "-A", "bench.peer", "worker", "-Q", "peer", "--concurrency", "2", "-l", "WARNING"],
                 {**env, "PEER_TUNED": "1" if tuned else "0"}, name="peer-worker")
    try:
        time.sleep(5)  # the worker's processes up before the clock starts
        from bench.peer import send_webhook

        destination = receiver_destination()
        received_before = int(requests.get(f"{RECEIVER}/count", timeout=10).text)
        cpu_before, started = cpu_seconds_by_group(), time.monotonic()
        publisher_before = resource.getrusage(resource.RUSAGE_SELF)
        with transaction.atomic():
            for message in outbox_backlog(destination, count, held=True):
                transaction.on_commit(partial(send_webhook.delay, message.id))
        publisher_after = resource.getrusage(resource.RUSAGE_SELF)
        while (delivered := OutboxMessage.objects.filter(status="DELIVERED").count()) < count:
            if time.monotonic() - started > 900:
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        cpu = cpu_ms_per_request(cpu_before, cpu_seconds_by_group(), delivered)
        publisher = (publisher_after.ru_utime + publisher_after.ru_stime - publisher_before.ru_utime
                     - publisher_before.ru_stime)
        cpu["publisher"] = round(publisher * 1000 / max(delivered, 1), 2)
    finally:
        stop(peer)
    received = int(requests.get(f"{RECEIVER}/count", timeout=10).text) - received_before
    return {"messages": count, "delivered": delivered, "received": received, "seconds": round(elapsed, 2),
            "deliveries_per_second": round(delivered / elapsed, 1), "cpu_ms_per_delivery": cpu}


def bench_peer_library(env: dict[str, str], count: int = 5_000) -> dict:
    """The same backlog delivered by django-webhook2 (bench/peer_library.py): its event rows and tasks
    published on commit by a separate process, whose publishing CPU counts as "publisher"."""
    from django.db import connection

    wait_outbox_drained(120)
    receiver_destination()
    peer_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.peer_library_settings"}
    subprocess.run([sys.executable, "bench/peer_library.py", "setup", f"{RECEIVER}/webhooks"], cwd=ROOT, env=peer_env,
                   check=True)
    peer = start(["-m", "celery", "-A", "bench.peer_library", "worker", "-Q", "peer_library", "--concurrency", "2",
                  "-l", "WARNING"], peer_env, name="peer-library-worker")
    publisher = subprocess.Popen([sys.executable, "bench/peer_library.py", "publish", str(count)], cwd=ROOT,
                                 env=peer_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(5)  # the worker's processes up before the clock starts
        if publisher.stdout is None or publisher.stdin is None or publisher.stdout.readline().strip() != "ready":
            raise SystemExit("bench/peer_library.py publish did not start")
        received_before = int(requests.get(f"{RECEIVER}/count", timeout=10).text)
        cpu_before, started = cpu_seconds_by_group(), time.monotonic()
        publisher.stdin.write("go\n")
        publisher.stdin.flush()
        publisher_seconds = json.loads(publisher.stdout.readline())["publisher_seconds"]
        publisher.wait(timeout=60)
        with connection.cursor() as cursor:
            while True:
                cursor.execute("SELECT count(*) FROM django_webhook_webhookevent WHERE status = 'SUCCESS'")
                delivered = cursor.fetchone()[0]
                if delivered >= count or time.monotonic() - started > 900:
                    break
                time.sleep(0.2)
        elapsed = time.monotonic() - started
        cpu = cpu_ms_per_request(cpu_before, cpu_seconds_by_group(), delivered)
        cpu["publisher"] = round(publisher_seconds * 1000 / max(delivered, 1), 2)
    finally:
        publisher.kill()
        stop(peer)
    received = int(requests.get(f"{RECEIVER}/count", timeout=10).text) - received_before
    return {"library": f"django-webhook2 {importlib.metadata.version('django-webhook2')}", "messages": count, "delivered": delivered, "received": received,
            "seconds": round(elapsed, 2), "deliveries_per_second": round(delivered / elapsed, 1),
            "cpu_ms_per_delivery": cpu}


def bench_e2e(secret: str, count: int = 40) -> dict:
    """Sequential debits on a quiet system (the load phases' outbox backlog drained first)."""
    wait_outbox_drained(300)
    requests.post(f"{RGS}/__control/reset", timeout=30)
    sent = {}
    for n in range(count):
        body = debit_body(n)
        line = wallet_line("/wallet/debit", body, secret).split("\t")
        headers = dict(h.split(":", 1) for h in line[2].split("|"))
        sent[body["refId"]] = time.time()
        requests.post(f"{HUB}/wallet/debit", data=line[3], headers=headers, timeout=30).raise_for_status()
        time.sleep(0.1)
    time.sleep(3)
    items = requests.get(f"{RGS}/__control/webhooks", timeout=30).json()["items"]
    latencies = sorted(
        (datetime.fromisoformat(item["firstReceivedAt"]).timestamp() - sent[item["data"]["refId"]]) * 1000
        for item in items if item.get("data") and item["data"].get("refId") in sent)
    return {"debits": count, "webhooks_received": len(latencies),
            "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1) if latencies else None}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--only", default=",".join(SUITES), help=f"comma-separated subset of {', '.join(SUITES)}")
    args = parser.parse_args()
    suites = [name for name in args.only.split(",") if name]
    if unknown := set(suites) - set(SUITES):
        raise SystemExit(f"unknown suite(s): {', '.join(sorted(unknown))}")
    if shutil.which("wrk") is None:
        raise SystemExit("bench/http_bench.py needs wrk, the load generator: apt-get install wrk")
    env = prepare_environment(
        HUB_ROOT_URLCONF="bench.urls", OPERATOR_BASE_URL=OPERATOR, RGS_WEBHOOK_URL=f"{RGS}/webhooks", BACKEND_URL=BACKEND,
        WEBHOOK_RATE_LIMIT="100000000", PROMETHEUS_MULTIPROC_DIR=str(BENCH_DIR / "prometheus"),
        UBEREATS_API_BASE_URL=UBEREATS, UBEREATS_TOKEN_URL=f"{UBEREATS}/oauth/v2/token",
        CAREEM_API_BASE_URL=f"{CAREEM}/pos/api/v1", CAREEM_TOKEN_URL=f"{CAREEM}/token", TALABAT_MIDDLEWARE_URL=TALABAT,
        DELIVEROO_API_BASE_URL=DELIVEROO, DELIVEROO_TOKEN_URL=f"{DELIVEROO}/oauth2/token", MOCK_HUB_URL=HUB,
        HUB_PUBLIC_URL=HUB,
    )
    (BENCH_DIR / "prometheus").mkdir(exist_ok=True)
    for command in (["setup_destinations"], ["setup_providers", "--demo"]):  # --demo: the webhooks' branches
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    setup_django()
    from django.conf import settings

    from bench.baseline import create_tables

    create_tables(PLAYERS)
    fakes = [start(["manage.py", "run_mock", name, "--port", url.rsplit(":", 1)[1], "--threads", "32"], env,
                   ready_url=f"{url}/__control/requests", name=f"mock-{name}")
             for name, url in (("operator", OPERATOR), ("rgs", RGS), ("backend", BACKEND), ("ubereats", UBEREATS),
                               ("careem", CAREEM), ("talabat", TALABAT), ("deliveroo", DELIVEROO))]
    uber_order = json.loads((FIXTURES / "ubereats/order_docs_usd.json").read_text())
    requests.post(f"{UBEREATS}/__control/orders", json={"order": uber_order, "template": True}, timeout=5).raise_for_status()
    fakes.append(start(["bench/receiver.py", "--port", RECEIVER.rsplit(":", 1)[1]], env, ready_url=f"{RECEIVER}/count",
                       name="receiver"))
    hub = start(SERVERS[os.environ.get("BENCH_SERVER", "gunicorn")], env, ready_url=f"{HUB}/health", name="hub")
    worker = start(["-m", "celery", "-A", "hub", "worker", "-Q", "bench", "--concurrency", "2", "-l", "WARNING"], env,
                   name="worker")
    dispatchers = [start(["manage.py", "run_outbox_dispatcher"], env, name=f"dispatcher-{n}")
                   for n in range(int(os.environ.get("BENCH_DISPATCHERS", "1")))]
    secret = secret_list(settings.WALLET_HMAC_SECRET)[0]
    results = {}
    try:
        runs = {"wallet": lambda: bench_wallet(args.seconds, secret),
                "intake": lambda: bench_intake(args.seconds, intake_settings("careem").secret, secret),
                "providers": lambda: bench_providers(args.seconds), "menus": bench_menus,
                "overload": lambda: bench_overload(args.seconds, secret, intake_settings("careem").secret),
                "e2e": lambda: bench_e2e(secret), "outbox": bench_outbox, "peer": lambda: bench_peer(env, tuned=False),
                "peer_tuned": lambda: bench_peer(env, tuned=True), "peer_library": lambda: bench_peer_library(env)}
        warm_up(secret, intake_settings("careem").secret)
        for name in suites:
            results[name] = runs[name]()
            print(name, json.dumps(results[name]), flush=True)
    finally:
        stop(*dispatchers, worker, hub, *fakes)
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
              "database": env["DATABASE_URL"].split("://")[0], "broker": env["CELERY_BROKER_URL"].split("://")[0],
              "results": results}
    (BENCH_DIR / "http.json").write_text(json.dumps(report, indent=2))
    print_table(results)


def baseline_rows(suite: dict) -> list[tuple[str, str, str, str]]:
    return [(f"  baseline raw SQL, {when}", f"{suite[key]['rps']} req/s", f"p95 {suite[key]['p95_ms']} ms", "")
            for when, key in (("before", "baseline_raw_sql"), ("after", "baseline_after")) if key in suite]


def own_cpu(phase: dict) -> float:
    return sum(phase["cpu_ms_per_request"].get(part, 0.0) for part in OWN_CPU)


def baseline_cpu(suite: dict) -> float:
    """The CPU of one raw-SQL baseline request in the phases around the suite's saturation: the
    machine's speed, to read an absolute figure such as the own CPU per debit against."""
    phases = [suite[key] for key in ("baseline_raw_sql", "baseline_after") if key in suite]
    return sum(own_cpu(phase) for phase in phases) / len(phases)


def print_table(results: dict) -> None:
    rows = []
    if wallet := results.get("wallet"):
        rows += [
            ("wallet debit, saturation", f"{wallet['saturation']['rps']} req/s", f"p95 {wallet['saturation']['p95_ms']} ms",
             f"{wallet['ratio_to_baseline']:.0%} of baseline (target ≥ 35 %)"),
            *baseline_rows(wallet),
            ("wallet debit, half load", f"{wallet['half_load']['rps']} req/s", f"p95 {wallet['half_load']['p95_ms']} ms",
             "target p95 ≤ 20 ms"),
        ]
        if "rounds" in wallet:
            plain, rounds = own_cpu(wallet["saturation"]), own_cpu(wallet["rounds"])
            rows.append(("wallet debit opening a round", f"{wallet['rounds']['rps']} req/s",
                         f"p95 {wallet['rounds']['p95_ms']} ms",
                         f"{wallet['rounds_ratio']:.0%} of plain debits; own CPU {rounds:.2f} ms, "
                         f"{rounds / plain - 1:+.0%} (target ≤ +10 %)"))
    for name, label in (("wallet", "wallet: own CPU per debit"), ("intake", "intake: own CPU per order")):
        if measured := results.get(name):
            own = own_cpu(measured["saturation"])
            rows.append((label, f"{own:.2f} ms", "all but the fakes and wrk",
                         f"target ≤ 4.0 ms; {own / baseline_cpu(measured):.1f} baseline requests"))
    if machine_speed := [baseline_cpu(results[name]) for name in ("wallet", "intake") if name in results]:
        rows.append(("machine: a baseline request", f"{min(machine_speed):.2f} ms", "of CPU, hub + PostgreSQL",
                     "1.0-1.2 ms on 2026-11-29's (own CPU per debit 2.6 ms there)"))
    if intake := results.get("intake"):
        rows += [
            ("intake (Careem), saturation", f"{intake['saturation']['rps']} req/s",
             f"p95 {intake['saturation']['p95_ms']} ms", f"{intake['ratio_to_baseline']:.0%} of baseline (target ≥ 35 %)"),
            *baseline_rows(intake),
            ("intake (Careem), half load", f"{intake['half_load']['rps']} req/s", f"p95 {intake['half_load']['p95_ms']} ms",
             "target p95 ≤ 20 ms"),
        ]
    if menus := results.get("menus"):
        rows.append(("menu 2,000 + 300, accepted", f"{menus['accepted_ms']} ms", f"HTTP {menus['accepted_status']}",
                     f"{menus['menu_bytes'] // 1024} KiB; hub CPU {menus['publish_cpu_ms'].get('hub', 0):.0f} ms, "
                     f"dispatcher {menus['publish_cpu_ms'].get('dispatcher', 0):.0f} ms for all four"))
        rows += [(f"  live at {provider}", f"{seconds} s", "", "") for provider, seconds in menus["seconds_to_live"].items()]
        rows.append(("100 items unavailable", f"{menus['availability_seconds']} s", "every provider told",
                     f"hub + dispatcher CPU {sum(menus['availability_cpu_ms'].get(g, 0) for g in ('hub', 'dispatcher')):.0f} ms"))
    for name, measured in (results.get("providers") or {}).items():
        rows.append((f"intake ({name}), saturation", f"{measured['rps']} req/s", f"p95 {measured['p95_ms']} ms",
                     f"{measured['orders_per_second']} orders/s to the backend incl. {measured['drain_seconds']} s "
                     f"drain; own CPU {own_cpu({'cpu_ms_per_request': measured['cpu_ms_per_order']}):.2f} ms/order"))
    for kind, over in (("debits", results.get("overload")), ("orders", (results.get("overload") or {}).get("intake"))):
        if not over:
            continue
        sat, sat_after = over["saturation"], over["saturation_after"]
        rows.append((f"{kind}, 32 connections", f"{over['saturation_goodput_rps']} 2xx/s",
                     f"p99 {sat['all_p99_ms']} / {sat_after['all_p99_ms']} ms",
                     f"mean of {sat['goodput_rps']} before and {sat_after['goodput_rps']} after"))
        for name, label in (("overload", "Retry-After honoured"), ("overload_ignoring_retry_after", "Retry-After ignored")):
            if name not in over:
                continue
            o = over[name]
            rows += [
                (f"{kind}, {o['connections']} conns, {label}", f"{o['goodput_rps']} 2xx/s",
                 f"p99 of all {o['all_p99_ms']} ms",
                 f"goodput {o['goodput_ratio']:.0%} of saturation (target ≥ 80 %, p99 ≤ 500 ms); client "
                 f"{o['client_cpu_share_of_a_core']:.0%} of a core"),
                ("  the 2xx / the 503s", f"p50 {o['ok_p50_ms']} / {o['shed_p50_ms']} ms",
                 f"p99 {o['ok_p99_ms']} / {o['shed_p99_ms']} ms",
                 f"{o['shed']} shed, {o['shed_without_retry_after']} without Retry-After, {o['other_non_2xx']} other "
                 f"non-2xx, {o['unanswered']} unanswered in 2 s, {o['connection_errors']} connection errors (target 0)"),
            ]
        if "wrk_512" in over:
            storm = over["wrk_512"]
            rows += [(f"{kind}, 32 conns, wrk", f"{over['wrk_saturation_ok_rps']} 2xx/s",
                      f"p99 {over['wrk_32']['p99_ms']} / {over['wrk_32_after']['p99_ms']} ms",
                      f"mean of {over['wrk_32']['ok_rps']} before and {over['wrk_32_after']['ok_rps']} after"),
                     (f"{kind}, 512 conns, wrk", f"{storm['ok_rps']} 2xx/s", f"p99 of all {storm['p99_ms']} ms",
                      f"goodput {over['wrk_goodput_ratio']:.0%} of saturation; {storm['non_2xx']} non-2xx, "
                      f"{storm['socket_errors']} timeouts at 2 s or socket errors (target 0)")]
    if outbox := results.get("outbox"):
        rows.append(("outbox delivery", f"{outbox['deliveries_per_second']} msg/s",
                     f"{sum(outbox['cpu_ms_per_delivery'].values()):.2f} ms CPU/msg", "target ≥ 2,500/s"))
    for name, label in (("peer", "peer: task per message"), ("peer_tuned", "peer, tuned"),
                        ("peer_library", "peer: django-webhook2")):
        if (peer := results.get(name)) and outbox:
            ours = sum(outbox["cpu_ms_per_delivery"].values())
            theirs = sum(peer["cpu_ms_per_delivery"].values())
            rows.append((label, f"{peer['deliveries_per_second']} msg/s", f"{theirs:.2f} ms CPU/msg",
                         f"ours {outbox['deliveries_per_second'] / peer['deliveries_per_second']:.1f}× the throughput "
                         f"at {ours / theirs:.2f} of the CPU (target ≥ 3×, ≤ 0.33)"))
    if e2e := results.get("e2e"):
        rows.append(("debit → RGS webhook", f"p50 {e2e['p50_ms']} ms", f"p95 {e2e['p95_ms']} ms", "target p50 ≤ 50 ms"))
    for row in rows:
        print(f"{row[0]:<28} {row[1]:>16} {row[2]:>24}  {row[3]}")
    print(f"results: {BENCH_DIR / 'http.json'}")


if __name__ == "__main__":
    main()
