"""The operator console's cost at volume: GET /admin/ (the attention panel and its charts) with 1,000,000
outbox messages, 1,000,000 wallet transactions and 100,000 inbound webhooks spread over 30 days, with
the delivery attempts of the last 7 days (what retention keeps). Target: under 200 ms.

Usage: python bench/admin_bench.py [--rows 1000000] [--requests 20]   (PostgreSQL: BENCH_DATABASE_URL)
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_DIR, prepare_environment, setup_django  # noqa: E402

DAYS = 30
# 1 % dead letters, 200 pending (40 of them old), the rest delivered; wallet: 200 PENDING (50 stale).
FILL = [
    "DELETE FROM webhooks_deliveryattempt", "DELETE FROM webhooks_outboxmessage", "DELETE FROM wallet_wallettransaction",
    "DELETE FROM webhooks_inboundwebhook",
    """INSERT INTO webhooks_outboxmessage (event_id, event_type, path, payload, occurred_at, ordering_key, correlation_id,
         status, attempts, next_attempt_at, lease_token, last_error, created_at, delivered_at, destination_id)
       SELECT 'msg_bench_' || n, 'wallet.transaction.completed', '', '{"n": 1}', t, '', '',
              CASE WHEN n %% 100 = 0 THEN 'DEAD_LETTER' WHEN n > %(rows)s - 200 THEN 'PENDING' ELSE 'DELIVERED' END,
              1, t, '', '', t, CASE WHEN n %% 100 = 0 OR n > %(rows)s - 200 THEN NULL ELSE t END,
              CASE WHEN n %% 3 = 0 THEN %(backend)s ELSE %(rgs)s END
       FROM (SELECT n, now() - make_interval(secs => (%(rows)s - n) * %(step)s) AS t
             FROM generate_series(1, %(rows)s) AS n) AS s""",
    """INSERT INTO webhooks_deliveryattempt (message_id, destination_id, attempted_at, duration_ms, status_code,
         response_excerpt, error, succeeded)
       SELECT id, destination_id, created_at, 3, CASE WHEN status = 'DEAD_LETTER' THEN 500 ELSE 200 END, '', '',
              status <> 'DEAD_LETTER'
       FROM webhooks_outboxmessage WHERE created_at > now() - interval '7 days'""",
    """INSERT INTO wallet_wallettransaction (transaction_id, ref_id, type, player_id, amount_cents, currency, status,
         original_ref_id, is_tombstone, operator_tx_id, error_code, response_body, correlation_id, created_at, settled_at)
       SELECT gen_random_uuid(), 'bench-' || n, 'DEBIT', 'player-' || (n %% 1000), 100, 'USD',
              CASE WHEN n > %(rows)s - 200 THEN 'PENDING' WHEN n %% 50 = 0 THEN 'FAILED' ELSE 'COMPLETED' END,
              '', false, '', '', '', '', t, CASE WHEN n > %(rows)s - 200 THEN NULL ELSE t END
       FROM (SELECT n, now() - make_interval(secs => (%(rows)s - n) * %(step)s) AS t
             FROM generate_series(1, %(rows)s) AS n) AS s""",
    """INSERT INTO webhooks_inboundwebhook (id, provider, received_at, method, path, headers, body, body_sha256, body_size,
         outcome, status_code, errors, dedupe_key, correlation_id, context, route)
       SELECT gen_random_uuid(), CASE WHEN n %% 2 = 0 THEN 'careem' ELSE 'talabat' END,
              now() - make_interval(secs => (%(inbound)s - n) * %(inbound_step)s), 'POST', '/api/webhooks/careem',
              '{}', '{}', '', 2, CASE WHEN n %% 40 = 0 THEN 'invalid' WHEN n %% 997 = 0 THEN 'failed' ELSE 'accepted' END,
              200, '[]', 'bench-' || n, '', '{}', 'generic'
       FROM generate_series(1, %(inbound)s) AS n""",
    "ANALYZE",
]


def fill(rows: int) -> float:
    from django.db import connection

    from webhooks.models import Destination

    rgs, _ = Destination.objects.get_or_create(name="rgs", defaults={"url": "http://127.0.0.1:9/"})
    backend, _ = Destination.objects.get_or_create(name="backend", defaults={"url": "http://127.0.0.1:9/"})
    inbound = rows // 10
    params = {"rows": rows, "step": DAYS * 86400 / rows, "rgs": rgs.id, "backend": backend.id, "inbound": inbound,
              "inbound_step": DAYS * 86400 / inbound}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for statement in FILL:
            cursor.execute(statement, params if "%(" in statement else None)
    return time.perf_counter() - started


def measure(requests: int) -> list[float]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(username="bench-admin", defaults={"is_staff": True,
                                                                                     "is_superuser": True})
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    for _ in range(3):  # warm the caches a real index sees after its first visit
        assert client.get("/admin/").status_code == 200
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        answer = client.get("/admin/")
        timings.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200 and b"hub-attention" in answer.content
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    prepare_environment()
    setup_django()
    fill_seconds = fill(args.rows)
    timings = measure(args.requests)
    result = {"outbox_rows": args.rows, "wallet_rows": args.rows, "inbound_rows": args.rows // 10,
              "fill_seconds": round(fill_seconds, 1), "p50_ms": round(statistics.median(timings), 1),
              "max_ms": round(max(timings), 1), "target_ms": 200}
    print(f"admin index with {args.rows:,} outbox + {args.rows:,} wallet rows: p50 {result['p50_ms']} ms, "
          f"max {result['max_ms']} ms (target < 200 ms; {result['p50_ms'] / 200:.2f} of it)", flush=True)
    (BENCH_DIR / "admin.json").write_text(json.dumps(result, indent=2))
    print(f"results: {BENCH_DIR / 'admin.json'}")


if __name__ == "__main__":
    main()
