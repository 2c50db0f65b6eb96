"""Strict validation of wallet bodies: JSON integers only for amounts, no unknown fields, and
every problem reported at once (`{"field": ["message", …]}`)."""

import json
from dataclasses import dataclass
from typing import Any

from hub.json_input import has_unstorable, storable

MAX_AMOUNT_CENTS = 10**12
MAX_META_BYTES = 4096
MONEY_FIELDS = {"playerId", "amountCents", "currency", "refId", "meta"}
ROLLBACK_FIELDS = {"playerId", "refId", "originalRefId"}


@dataclass(frozen=True)
class WalletRequest:
    player_id: str
    ref_id: str
    amount_cents: int = 0
    currency: str = ""
    original_ref_id: str = ""
    meta: dict | None = None


def _text(payload: dict, field: str, errors: dict[str, list[str]], max_length: int = 64) -> str:
    value = payload.get(field)
    if field not in payload:
        errors.setdefault(field, []).append("This field is required.")
    elif not isinstance(value, str):
        errors.setdefault(field, []).append("Must be a string.")
    elif not 1 <= len(value) <= max_length or not value.strip():
        errors.setdefault(field, []).append(f"Must be 1 to {max_length} characters, not blank.")
    elif has_unstorable(value):
        errors.setdefault(field, []).append("Must not contain NUL characters or unpaired surrogates.")
    else:
        return value
    return ""


def _unknown(payload: dict, allowed: set[str], errors: dict[str, list[str]]) -> None:
    for field in sorted(set(payload) - allowed):
        errors.setdefault(field, []).append("Unknown field.")


def validate_money_request(payload: Any) -> tuple[WalletRequest | None, dict[str, list[str]]]:
    """Debit and credit bodies."""
    if not isinstance(payload, dict):
        return None, {"non_field_errors": ["The body must be a JSON object."]}
    errors: dict[str, list[str]] = {}
    _unknown(payload, MONEY_FIELDS, errors)
    player_id, ref_id = _text(payload, "playerId", errors), _text(payload, "refId", errors)
    amount = payload.get("amountCents")
    if "amountCents" not in payload:
        errors["amountCents"] = ["This field is required."]
    elif type(amount) is not int:  # bool is an int subclass; floats and strings are refused too
        errors["amountCents"] = ["Must be a JSON integer (minor units)."]
    elif not 0 < amount <= MAX_AMOUNT_CENTS:
        errors["amountCents"] = [f"Must be greater than 0 and at most {MAX_AMOUNT_CENTS}."]
    currency = payload.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isascii() or not currency.isupper():
        errors["currency"] = ["Must be an ISO 4217 code of three capital letters."]
    meta = storable(payload.get("meta"))  # numbers arrive as Decimal (no float is guessed)
    if meta is not None and not isinstance(meta, dict):
        errors["meta"] = ["Must be a JSON object."]
    elif meta is not None and has_unstorable(meta):
        errors["meta"] = ["Must not contain NUL characters or unpaired surrogates."]
    elif meta is not None and len(json.dumps(meta, separators=(",", ":")).encode()) > MAX_META_BYTES:
        errors["meta"] = [f"Must be at most {MAX_META_BYTES} bytes."]
    if errors:
        return None, errors
    return WalletRequest(player_id=player_id, ref_id=ref_id, amount_cents=amount, currency=currency, meta=meta), {}


def validate_rollback_request(payload: Any) -> tuple[WalletRequest | None, dict[str, list[str]]]:
    if not isinstance(payload, dict):
        return None, {"non_field_errors": ["The body must be a JSON object."]}
    errors: dict[str, list[str]] = {}
    _unknown(payload, ROLLBACK_FIELDS, errors)
    player_id, ref_id = _text(payload, "playerId", errors), _text(payload, "refId", errors)
    original = _text(payload, "originalRefId", errors)
    if errors:
        return None, errors
    return WalletRequest(player_id=player_id, ref_id=ref_id, original_ref_id=original), {}
