"""The wallet request contract (SPEC §3), declared once.

Each body is a tuple of `BodyField`s. `validate_money_request` / `validate_rollback_request`
check a parsed body against them (JSON integers only for amounts, no unknown fields, every
problem reported at once as `{"field": ["message", …]}`), and `wallet.openapi` builds the
schema's request bodies from the same tuples, so the two cannot drift apart.
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from hub.json_input import has_unstorable, storable

MAX_AMOUNT_MINOR = 10**12
MAX_ID_LENGTH = 64
MAX_META_BYTES = 4096
UNSTORABLE = "Must not contain NUL characters or unpaired surrogates."


class Kind(Enum):
    TEXT = "text"  # an id: 1–64 characters, not blank
    AMOUNT = "amount"  # a JSON integer of minor units, 1..MAX_AMOUNT_MINOR
    CURRENCY = "currency"  # ISO 4217: three capital letters
    OBJECT = "object"  # a JSON object of at most MAX_META_BYTES


@dataclass(frozen=True)
class BodyField:
    name: str
    kind: Kind
    required: bool = True
    help: str = ""


MONEY_BODY = (
    BodyField("playerId", Kind.TEXT),
    BodyField("amountCents", Kind.AMOUNT, help="JSON integer, minor units."),
    BodyField("currency", Kind.CURRENCY, help="ISO 4217; see WALLET_SUPPORTED_CURRENCIES."),
    BodyField("refId", Kind.TEXT),
    BodyField("meta", Kind.OBJECT, required=False, help="At most 4 KiB."),
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


CHECKS: dict[Kind, Callable[[Any], str | None]] = {
    Kind.TEXT: _text, Kind.AMOUNT: _amount, Kind.CURRENCY: _currency, Kind.OBJECT: _object,
}


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
        if problem := CHECKS[field.kind](value):
            problems.setdefault(field.name, []).append(problem)
        values[field.name] = value
    return values, problems


def validate_money_request(payload: Any) -> tuple[MoneyRequest | None, dict[str, list[str]]]:
    """Debit and credit bodies."""
    values, problems = _validate(MONEY_BODY, payload)
    if problems:
        return None, problems
    return MoneyRequest(player_id=values["playerId"], ref_id=values["refId"], amount_minor=values["amountCents"],
                        currency=values["currency"], meta=values.get("meta")), {}


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
