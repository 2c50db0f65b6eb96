"""The wallet request contract (SPEC §3), declared once.

Each body is a tuple of `BodyField`s. `validate_debit_request`, `validate_credit_request` and
`validate_rollback_request`
check a parsed body against them (JSON integers only for amounts, no unknown fields, every
problem reported at once as `{"field": ["message", …]}`), and `wallet.openapi` builds the
schema's request bodies from the same tuples, so the two cannot drift apart.
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from hub.json_input import has_unstorable, id_problem, storable

MAX_AMOUNT_MINOR = 10**12
MAX_ID_LENGTH = 64
MAX_META_BYTES = 4096
UNSTORABLE = "Must not contain NUL characters or unpaired surrogates."


class Kind(Enum):
    TEXT = "text"  # an id: 1–64 characters, not blank
    AMOUNT = "amount"  # a JSON integer of minor units, 1..MAX_AMOUNT_MINOR
    CURRENCY = "currency"  # ISO 4217: three capital letters
    OBJECT = "object"  # a JSON object of at most MAX_META_BYTES
    BOOLEAN = "boolean"  # JSON true or false
    CHOICE = "choice"  # one of the field's `choices`


CREDIT_KINDS = ("WIN", "BONUS", "JACKPOT", "PROMO", "ADJUSTMENT")  # WalletTransaction's CreditKind


@dataclass(frozen=True)
class BodyField:
    name: str
    kind: Kind
    required: bool = True
    help: str = ""
    choices: tuple[str, ...] = ()


MONEY_FIELDS = (
    BodyField("playerId", Kind.TEXT),
    BodyField("amountCents", Kind.AMOUNT, help="JSON integer, minor units."),
    BodyField("currency", Kind.CURRENCY, help="ISO 4217; see WALLET_SUPPORTED_CURRENCIES."),
    BodyField("refId", Kind.TEXT),
    BodyField("meta", Kind.OBJECT, required=False, help="At most 4 KiB."),
    BodyField("roundId", Kind.TEXT, required=False, help="The game round; its first call opens it."),
    BodyField("roundClosed", Kind.BOOLEAN, required=False,
              help="true on the round's last call: later calls in it are refused (409 ROUND_CLOSED)."),
)
DEBIT_BODY = MONEY_FIELDS
CREDIT_BODY = (
    *MONEY_FIELDS,
    BodyField("betRefId", Kind.TEXT, required=False,
              help="The debit this credit pays: of the same player, currency and round, not rolled back."),
    BodyField("kind", Kind.CHOICE, required=False, choices=CREDIT_KINDS, help="WIN when absent."),
)
ROLLBACK_BODY = (
    BodyField("playerId", Kind.TEXT),
    BodyField("refId", Kind.TEXT, help="The rollback's own id."),
    BodyField("originalRefId", Kind.TEXT, help="The debit to cancel."),
)


@dataclass(frozen=True, kw_only=True)
class MoneyRequest:
    player_id: str
    ref_id: str
    amount_minor: int
    currency: str
    meta: dict[str, Any] | None = None
    round_id: str = ""
    round_closed: bool = False
    bet_ref_id: str = ""  # credits
    kind: str = ""  # credits: WIN when the request names none


@dataclass(frozen=True, kw_only=True)
class RollbackRequest:
    player_id: str
    ref_id: str
    original_ref_id: str


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return "Must be a string."
    if not 1 <= len(value) <= MAX_ID_LENGTH or not value.strip():
        return f"Must be 1 to {MAX_ID_LENGTH} characters, not blank."
    if problem := id_problem(value):
        return f"{problem[0].upper()}{problem[1:]}."
    return UNSTORABLE if has_unstorable(value) else None


def _amount(value: Any) -> str | None:
    if type(value) is not int:  # bool is an int subclass; floats and strings are refused too
        return "Must be a JSON integer (minor units)."
    return None if 0 < value <= MAX_AMOUNT_MINOR else f"Must be greater than 0 and at most {MAX_AMOUNT_MINOR}."


def _currency(value: Any) -> str | None:
    if isinstance(value, str) and len(value) == 3 and value.isascii() and value.isupper():
        return None
    return "Must be an ISO 4217 code of three capital letters."


def _object(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "Must be a JSON object."
    if has_unstorable(value):
        return UNSTORABLE
    too_big = len(json.dumps(value, separators=(",", ":")).encode()) > MAX_META_BYTES
    return f"Must be at most {MAX_META_BYTES} bytes." if too_big else None


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "Must be true or false."


CHECKS: dict[Kind, Callable[[Any], str | None]] = {
    Kind.TEXT: _text, Kind.AMOUNT: _amount, Kind.CURRENCY: _currency, Kind.OBJECT: _object, Kind.BOOLEAN: _boolean,
}


def _check(field: BodyField, value: Any) -> str | None:
    if field.kind is Kind.CHOICE:
        return None if isinstance(value, str) and value in field.choices else f"Must be one of {', '.join(field.choices)}."
    return CHECKS[field.kind](value)


def _validate(body: tuple[BodyField, ...], payload: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The declared fields' values (numbers in objects kept exact), and every problem found."""
    if not isinstance(payload, dict):
        return {}, {"non_field_errors": ["The body must be a JSON object."]}
    problems: dict[str, list[str]] = {}
    allowed = {field.name for field in body}
    for name in sorted(set(payload) - allowed):
        problems.setdefault(name, []).append("Unknown field.")
    values: dict[str, Any] = {}
    for field in body:
        if field.name not in payload:
            if field.required:
                problems.setdefault(field.name, []).append("This field is required.")
            continue
        value = storable(payload[field.name]) if field.kind is Kind.OBJECT else payload[field.name]
        if field.kind is Kind.OBJECT and value is None:
            continue  # "meta": null is no meta
        if problem := _check(field, value):
            problems.setdefault(field.name, []).append(problem)
        values[field.name] = value
    return values, problems


def _money_request(payload: Any, *, credit: bool) -> tuple[MoneyRequest | None, dict[str, list[str]]]:
    values, problems = _validate(CREDIT_BODY if credit else DEBIT_BODY, payload)
    if values.get("roundClosed") and "roundId" not in values:
        problems.setdefault("roundClosed", []).append("Needs a roundId.")
    if problems:
        return None, problems
    return MoneyRequest(player_id=values["playerId"], ref_id=values["refId"], amount_minor=values["amountCents"],
                        currency=values["currency"], meta=values.get("meta"), round_id=values.get("roundId", ""),
                        round_closed=values.get("roundClosed", False), bet_ref_id=values.get("betRefId", ""),
                        kind=values.get("kind", "WIN") if credit else ""), {}


def validate_debit_request(payload: Any) -> tuple[MoneyRequest | None, dict[str, list[str]]]:
    return _money_request(payload, credit=False)


def validate_credit_request(payload: Any) -> tuple[MoneyRequest | None, dict[str, list[str]]]:
    return _money_request(payload, credit=True)


def validate_rollback_request(payload: Any) -> tuple[RollbackRequest | None, dict[str, list[str]]]:
    values, problems = _validate(ROLLBACK_BODY, payload)
    if problems:
        return None, problems
    return RollbackRequest(player_id=values["playerId"], ref_id=values["refId"],
                           original_ref_id=values["originalRefId"]), {}


@dataclass(frozen=True, kw_only=True)
class BalanceQuery:
    player_id: str
    currency: str


def validate_balance_query(params: Mapping[str, str]) -> tuple[BalanceQuery | None, dict[str, list[str]]]:
    """`?playerId=…&currency=…`: both required, checked as the bodies' fields are; nothing else allowed."""
    problems: dict[str, list[str]] = {}
    for name in sorted(set(params) - {"playerId", "currency"}):
        problems[name] = ["Unknown parameter."]
    for name, check in (("playerId", _text), ("currency", _currency)):
        value = params.get(name)
        if value is None:
            problems[name] = ["This parameter is required."]
        elif problem := check(value):
            problems[name] = [problem]
    if problems:
        return None, problems
    return BalanceQuery(player_id=params["playerId"], currency=params["currency"]), {}
