"""The wallet benchmark's baseline: a minimal Django view in the same gunicorn doing the equivalent
raw SQL of a debit (one UPDATE of a balance and one INSERT of a ledger row, in one transaction)."""

import json

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

TABLES = [
    "CREATE TABLE IF NOT EXISTS bench_balance (player_id varchar(64) PRIMARY KEY, balance bigint NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bench_ledger (ref_id varchar(64) PRIMARY KEY, player_id varchar(64) NOT NULL, "
    "amount bigint NOT NULL)",
]


def create_tables(players: int) -> None:
    with connection.cursor() as cursor:
        for statement in TABLES:
            cursor.execute(statement)
        cursor.execute("DELETE FROM bench_ledger")
        cursor.execute("DELETE FROM bench_balance")
        for n in range(players):
            cursor.execute("INSERT INTO bench_balance (player_id, balance) VALUES (%s, %s)", [f"bench-{n}", 10**9])


@csrf_exempt
def baseline_debit(request: HttpRequest) -> JsonResponse:
    body = json.loads(request.body)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE bench_balance SET balance = balance - %s WHERE player_id = %s",
                       [body["amountCents"], body["playerId"]])
        cursor.execute("INSERT INTO bench_ledger (ref_id, player_id, amount) VALUES (%s, %s, %s)",
                       [body["refId"], body["playerId"], body["amountCents"]])
    return JsonResponse({"status": "OK", "refId": body["refId"]}, status=201)
