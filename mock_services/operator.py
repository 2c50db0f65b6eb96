"""The Operator's wallet API (SPEC §4): decimal strings, snake_case, bearer auth, idempotent on
`transaction_id` (the first answer to an id is stored and returned again)."""

import base64
import binascii
import hmac
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from werkzeug.wrappers import Request, Response

from hub.money import MoneyError, exponent, to_major_string, to_minor
from hub.signing import secret_list
from mock_services.framework import MockRoute, MockService, json_response, read_json
from mock_services.operator_store import OperatorStore, utc_timestamp

STARTING_BALANCE_MAJOR = 100
MAX_PAGE = 1000
MAX_BULK = 5_000_000


def _item(row) -> dict:
    return {
        "transaction_id": row["transaction_id"], "operator_tx_id": row["operator_tx_id"], "player_id": row["player_id"],
        "type": row["type"], "amount": to_major_string(row["amount_minor"], row["currency"]),
        "currency": row["currency"], "status": row["status"], "created_at": row["created_at"],
    }


def _decode_cursor(cursor: str) -> str:
    return base64.b64decode(cursor, altchars=b"-_", validate=True).decode()


def _parse_time(text: str) -> str:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return utc_timestamp(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _fields(payload, names: tuple[str, ...]) -> tuple[dict, list[str]]:
    if not isinstance(payload, dict):
        return {}, ["body must be a JSON object"]
    errors = [f"{name} must be a non-empty string" for name in names if not isinstance(payload.get(name), str) or not payload[name]]
    return payload, errors


class OperatorMock(MockService):
    name = "operator"

    def __init__(self, *, api_key: str, store: OperatorStore | None = None) -> None:
        self._api_keys = [key.encode() for key in secret_list(api_key)]  # during a rotation the Operator takes both
        self.store = store or OperatorStore()
        super().__init__()

    def routes(self) -> list[MockRoute]:
        return [
            MockRoute("withdraw", "/api/v1/wallet/withdraw", ("POST",), self._authorized(self.withdraw)),
            MockRoute("deposit", "/api/v1/wallet/deposit", ("POST",), self._authorized(self.deposit)),
            MockRoute("rollback", "/api/v1/wallet/rollback", ("POST",), self._authorized(self.rollback)),
            MockRoute("status", "/api/v1/wallet/transactions/<path:transaction_id>", ("GET",), self._authorized(self.status)),
            MockRoute("balance", "/api/v1/wallet/balance/<path:player_id>", ("GET",), self._authorized(self.balance)),
            MockRoute("transactions", "/api/v1/transactions", ("GET",), self._authorized(self.listing)),
        ]

    def control_routes(self) -> list[MockRoute]:
        return [
            MockRoute("__players", "/__control/players", ("POST",), self.control_players),
            MockRoute("__player", "/__control/players/<path:player_id>", ("GET",), self.control_player),
            MockRoute("__transactions", "/__control/transactions", ("POST",), self.control_transactions),
            MockRoute("__bulk", "/__control/transactions/bulk", ("POST",), self.control_bulk),
        ]

    def reset_state(self) -> None:
        self.store.reset()

    def _authorized(self, handler: Callable[..., Response]) -> Callable[..., Response]:
        def guarded(request: Request, **values) -> Response:
            given = request.headers.get("Authorization", "").encode()
            if not any([hmac.compare_digest(given, b"Bearer " + key) for key in self._api_keys]):
                return json_response({"error": "unauthorized"}, status=401)
            return handler(request, **values)

        return guarded

    # --- wallet -------------------------------------------------------------------
    def withdraw(self, request: Request) -> Response:
        return self._move_money(request, "withdraw")

    def deposit(self, request: Request) -> Response:
        return self._move_money(request, "deposit")

    def _move_money(self, request: Request, kind: str) -> Response:
        try:
            payload, errors = _fields(read_json(request), ("player_id", "amount", "currency", "transaction_id"))
        except ValueError:
            return json_response({"error": "invalid_request", "details": ["malformed JSON"]}, status=400)
        if not errors:
            try:
                amount = to_minor(payload["amount"], payload["currency"])
                if amount <= 0:
                    errors.append("amount must be positive")
            except MoneyError as exc:
                errors.append(str(exc))
        if errors:
            return json_response({"error": "invalid_request", "details": errors}, status=400)
        currency = payload["currency"]
        with self.store.write() as db:
            if answer := self._first_answer(db, payload["transaction_id"]):
                return answer
            player = self._player(db, payload["player_id"], currency)
            if player["missing"]:
                status, body = 404, {"error": "player_not_found"}
            elif player["currency"] != currency:
                status, body = 400, {"error": "currency_mismatch", "currency": player["currency"]}
            elif kind == "withdraw" and player["balance_minor"] < amount:
                status, body = 402, {"error": "insufficient_funds", "balance": to_major_string(player["balance_minor"], currency)}
            else:
                balance = player["balance_minor"] + (amount if kind == "deposit" else -amount)
                db.execute("UPDATE players SET balance_minor = ? WHERE player_id = ?", (balance, payload["player_id"]))
                operator_tx_id = self._insert(db, payload["transaction_id"], payload["player_id"], kind, amount, currency)
                status, body = 200, {
                    "transaction_id": payload["transaction_id"], "operator_tx_id": operator_tx_id, "status": "approved",
                    "balance": to_major_string(balance, currency), "currency": currency,
                }
            return self._remember(db, payload["transaction_id"], status, body)

    def rollback(self, request: Request) -> Response:
        try:
            payload, errors = _fields(read_json(request), ("transaction_id", "original_transaction_id", "player_id"))
        except ValueError:
            return json_response({"error": "invalid_request", "details": ["malformed JSON"]}, status=400)
        if errors:
            return json_response({"error": "invalid_request", "details": errors}, status=400)
        with self.store.write() as db:
            if answer := self._first_answer(db, payload["transaction_id"]):
                return answer
            original = db.execute(
                "SELECT * FROM transactions WHERE transaction_id = ?", (payload["original_transaction_id"],)
            ).fetchone()
            if original is None or original["type"] != "withdraw" or original["player_id"] != payload["player_id"]:
                status, body = 404, {"error": "original_not_found"}
            elif original["status"] == "rolled_back":
                status, body = 409, {"error": "already_rolled_back"}
            else:
                currency, amount = original["currency"], original["amount_minor"]
                db.execute(
                    "UPDATE players SET balance_minor = balance_minor + ? WHERE player_id = ?", (amount, payload["player_id"])
                )
                db.execute(
                    "UPDATE transactions SET status = 'rolled_back' WHERE transaction_id = ?", (original["transaction_id"],)
                )
                operator_tx_id = self._insert(
                    db, payload["transaction_id"], payload["player_id"], "rollback", amount, currency,
                    original=original["transaction_id"],
                )
                balance = db.execute(
                    "SELECT balance_minor FROM players WHERE player_id = ?", (payload["player_id"],)
                ).fetchone()[0]
                status, body = 200, {
                    "transaction_id": payload["transaction_id"], "operator_tx_id": operator_tx_id, "status": "rolled_back",
                    "balance": to_major_string(balance, currency), "currency": currency,
                }
            return self._remember(db, payload["transaction_id"], status, body)

    def status(self, request: Request, transaction_id: str) -> Response:
        row = self.store.connection().execute(
            "SELECT * FROM transactions WHERE transaction_id = ?", (transaction_id,)
        ).fetchone()
        return json_response(_item(row)) if row else json_response({"error": "transaction_not_found"}, status=404)

    def balance(self, request: Request, player_id: str) -> Response:
        """A player's balance in major units, as the other answers give it; an unknown player is not created."""
        row = self.store.connection().execute("SELECT * FROM players WHERE player_id = ?", (player_id,)).fetchone()
        if row is None or row["missing"]:
            return json_response({"error": "player_not_found"}, status=404)
        currency = request.args.get("currency", row["currency"])
        if currency != row["currency"]:
            return json_response({"error": "currency_mismatch", "currency": row["currency"]}, status=400)
        return json_response({"player_id": player_id, "currency": currency,
                              "balance": to_major_string(row["balance_minor"], currency)})

    def listing(self, request: Request) -> Response:
        """Ordered by transaction_id over [from, to); the cursor is the last id served, encoded."""
        try:
            limit = int(request.args.get("limit", "100"))
            start = _parse_time(request.args["from"]) if "from" in request.args else ""
            end = _parse_time(request.args["to"]) if "to" in request.args else "~"
            cursor = _decode_cursor(request.args["cursor"]) if request.args.get("cursor") else ""
        except (ValueError, UnicodeDecodeError, binascii.Error):
            return json_response({"error": "invalid_request", "details": ["bad from, to, cursor or limit"]}, status=400)
        if not 1 <= limit <= MAX_PAGE:
            return json_response({"error": "invalid_request", "details": [f"limit must be 1..{MAX_PAGE}"]}, status=400)
        rows = self.store.connection().execute(
            "SELECT * FROM transactions WHERE transaction_id > ? AND created_at >= ? AND created_at < ?"
            " ORDER BY transaction_id LIMIT ?",
            (cursor, start, end, limit + 1),
        ).fetchall()
        page = rows[:limit]
        next_cursor = base64.urlsafe_b64encode(page[-1]["transaction_id"].encode()).decode() if len(rows) > limit else None
        return json_response({"items": [_item(row) for row in page], "next_cursor": next_cursor})

    # --- helpers ------------------------------------------------------------------
    @staticmethod
    def _first_answer(db, transaction_id: str) -> Response | None:
        row = db.execute("SELECT status, body FROM answers WHERE transaction_id = ?", (transaction_id,)).fetchone()
        return Response(row["body"], status=row["status"], mimetype="application/json") if row else None

    @staticmethod
    def _remember(db, transaction_id: str, status: int, body: dict) -> Response:
        text = json.dumps(body)
        db.execute("INSERT INTO answers (transaction_id, status, body) VALUES (?, ?, ?)", (transaction_id, status, text))
        return Response(text, status=status, mimetype="application/json")

    @staticmethod
    def _player(db, player_id: str, currency: str):
        row = db.execute("SELECT * FROM players WHERE player_id = ?", (player_id,)).fetchone()
        if row is None:
            balance = STARTING_BALANCE_MAJOR * 10 ** exponent(currency)
            db.execute("INSERT INTO players (player_id, currency, balance_minor) VALUES (?, ?, ?)", (player_id, currency, balance))
            row = db.execute("SELECT * FROM players WHERE player_id = ?", (player_id,)).fetchone()
        return row

    @staticmethod
    def _insert(db, transaction_id, player_id, kind, amount, currency, *, original=None, created_at=None, status="approved"):
        operator_tx_id = f"op_{uuid.uuid4().hex[:20]}"
        db.execute(
            "INSERT OR REPLACE INTO transactions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (transaction_id, operator_tx_id, player_id, kind, amount, currency, status, created_at or utc_timestamp(), original),
        )
        return operator_tx_id

    # --- control ------------------------------------------------------------------
    def control_players(self, request: Request) -> Response:
        """`{"playerId", "currency", "balanceCents"}` sets a balance; `"missing": true` makes the
        player unknown (the wallet then answers player_not_found)."""
        try:
            payload = read_json(request)
            player_id, currency = payload["playerId"], payload.get("currency", "USD")
            balance, missing = payload.get("balanceCents", 0), bool(payload.get("missing", False))
            exponent(currency)
            if not isinstance(player_id, str) or type(balance) is not int:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return json_response({"error": "invalid_request", "details": ["need playerId, currency, balanceCents"]}, 400)
        with self.store.write() as db:
            db.execute("INSERT OR REPLACE INTO players VALUES (?, ?, ?, ?)", (player_id, currency, balance, int(missing)))
        return json_response({"playerId": player_id, "currency": currency, "balanceCents": balance, "missing": missing})

    def control_player(self, request: Request, player_id: str) -> Response:
        """A player's balance as the Operator holds it (the wallet API has no balance read)."""
        row = self.store.connection().execute("SELECT * FROM players WHERE player_id = ?", (player_id,)).fetchone()
        if row is None:
            return json_response({"error": "player_not_found"}, 404)
        return json_response({"playerId": player_id, "currency": row["currency"], "balanceCents": row["balance_minor"]})

    def control_transactions(self, request: Request) -> Response:
        """Make reconciliation mismatches: upsert a listing item, or delete one."""
        try:
            payload = read_json(request)
            if payload["op"] == "delete":
                with self.store.write() as db:
                    deleted = db.execute("DELETE FROM transactions WHERE transaction_id = ?", (payload["transaction_id"],))
                return json_response({"deleted": deleted.rowcount})
            if payload["op"] != "upsert":
                raise ValueError
            item = payload["transaction"]
            currency = item.get("currency", "USD")
            row = (
                item["transaction_id"], item.get("operator_tx_id") or f"op_{uuid.uuid4().hex[:20]}",
                item.get("player_id", "player"), item.get("type", "withdraw"), to_minor(item.get("amount", "1.00"), currency),
                currency, item.get("status", "approved"),
                _parse_time(item["created_at"]) if item.get("created_at") else utc_timestamp(), item.get("original_transaction_id"),
            )
        except (ValueError, KeyError, TypeError):
            return json_response({"error": "invalid_request", "details": ["op upsert|delete with transaction fields"]}, 400)
        with self.store.write() as db:
            db.execute("INSERT OR REPLACE INTO transactions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        return json_response({"upserted": row[0]})

    def control_bulk(self, request: Request) -> Response:
        """`{"count": N, "date": "YYYY-MM-DD"}`: N approved withdrawals spread over that day (UTC),
        ids `bulk-<date>-<n>`; deterministic amounts, so two runs make the same data."""
        try:
            payload = read_json(request)
            count, day = payload["count"], datetime.strptime(payload["date"], "%Y-%m-%d").replace(tzinfo=UTC)
            if type(count) is not int or not 1 <= count <= MAX_BULK:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return json_response({"error": "invalid_request", "details": [f"count 1..{MAX_BULK} and date YYYY-MM-DD"]}, 400)
        step = 86_400_000_000 // count  # microseconds between two generated transactions
        rows = (
            (f"bulk-{payload['date']}-{n:09d}", f"op_bulk_{n:09d}", f"bulk-player-{n % 1000}", "withdraw",
             (n * 37) % 10_000 + 1, "USD", "approved", utc_timestamp(day + timedelta(microseconds=n * step)), None)
            for n in range(count)
        )
        with self.store.write() as db:
            db.executemany("INSERT OR REPLACE INTO transactions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return json_response({"created": count, "date": payload["date"]})
