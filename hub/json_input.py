"""The one place where incoming JSON becomes values the hub can compute with and store.

`load_json` parses a raw body the way money needs it (every non-integer number a `Decimal`, never
a float; `NaN`/`Infinity`, which are not JSON, refused), with every number bounded before any
conversion (`read_number`), and returns a tree that is safe to keep:
strings hold no lone surrogate and no NUL (PostgreSQL and UTF-8 can store neither; each becomes
U+FFFD), and nesting is bounded. `storable` turns a tree that still holds `Decimal`s (the parts a
provider sent that an adapter passes through, such as an address with coordinates) into plain JSON
types, keeping every number's value exactly.
"""

import json
import re
from decimal import Decimal
from typing import Any

MAX_DEPTH = 64  # far deeper than any order; a RecursionError while storing began near 450
MAX_INT_DIGITS = 18  # longer integer literals stay Decimal: no quadratic int() on a hostile body
# A number the hub computes with has at most this many characters and a decimal exponent within
# ±MAX_EXPONENT (a double's range is ±308): `int(Decimal("1e1000000"))` alone costs ~47 s of CPU.
MAX_NUMBER_CHARS = 100
MAX_EXPONENT = 400
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


class NotJson(ValueError):
    """The body is not a JSON text (or uses NaN/Infinity, which JSON does not have)."""


class TooDeep(ValueError):
    """The body nests objects and arrays deeper than MAX_DEPTH."""


class OutOfRange(str):
    """A JSON number beyond the bounds, kept as its literal text: no arithmetic reaches it (it is not an
    `int` or a `Decimal`, so a number field refuses it), and it is stored as the text that was sent."""


def read_number(literal: str) -> Decimal | OutOfRange:
    """The one reader of every JSON number the hub accepts (bodies, Operator and provider answers):
    limits on length and exponent are checked on the literal, before any conversion that could cost."""
    if len(literal) > MAX_NUMBER_CHARS:
        return OutOfRange(literal)
    number = Decimal(literal)  # the literal is short: its digits are few, its exponent any size
    if abs(number.adjusted()) > MAX_EXPONENT:
        return OutOfRange(literal)
    return number


def _integer(literal: str) -> int | Decimal | OutOfRange:
    """An integer literal: a short one (the usual case) is an int at once; a longer one is `read_number`'s."""
    return int(literal) if len(literal) <= MAX_INT_DIGITS else read_number(literal)


class BoundedJSONDecoder(json.JSONDecoder):
    """`read_number` for an API that takes a decoder class (Django's `forms.JSONField`, admin inputs);
    NaN and Infinity come out as `OutOfRange` text, which no number field accepts."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**{**kwargs, "parse_float": read_number, "parse_int": _integer,
                            "parse_constant": OutOfRange})


def _not_json_constant(name: str) -> Any:
    raise NotJson(f"{name} is not a JSON value")


def clean_text(text: str) -> str:
    """`text` with every lone surrogate and NUL replaced by U+FFFD."""
    return UNSTORABLE.sub(REPLACEMENT, text)


def _clean(value: Any, depth: int, replace: bool) -> Any:
    if isinstance(value, str):
        return clean_text(value) if replace and UNSTORABLE.search(value) else value
    if isinstance(value, dict | list) and depth >= MAX_DEPTH:
        raise TooDeep(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        return {_clean(key, depth, replace): _clean(item, depth + 1, replace) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean(item, depth + 1, replace) for item in value]
    return value


def load_json(raw: bytes | str, *, replace_unstorable: bool = True, constants_as_text: bool = False) -> Any:
    """Parse and clean a body. Raises NotJson or TooDeep. Without `replace_unstorable` strings are
    left as sent, for a caller that refuses them instead (`has_unstorable`). `constants_as_text`: an
    answer from outside that says NaN or Infinity (not JSON, but what some serializers write) gets
    them as `OutOfRange` text instead of a refusal."""
    constant = OutOfRange if constants_as_text else _not_json_constant
    try:
        parsed = json.loads(raw, parse_float=read_number, parse_int=_integer, parse_constant=constant)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise NotJson(str(exc)[:200]) from None
    except RecursionError:  # hundreds of levels: where it gives up depends on the caller's stack, not the body
        raise TooDeep(f"nested deeper than {MAX_DEPTH} levels") from None
    return _clean(parsed, 0, replace_unstorable)


def body_text(raw: bytes) -> str:
    """A body as readable, storable text, decoded as `load_json` decodes it (UTF-8 with or without a
    byte-order mark, UTF-16, UTF-32)."""
    return clean_text(raw.decode(json.detect_encoding(raw), errors="replace"))


CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")


def id_problem(value: str) -> str | None:
    """Why an id from outside cannot be taken, or None. Ids end up in URL paths the hub calls (a dot
    segment would be resolved by the HTTP client: "/orders/.." is "/"), in logs and in the admin (a newline
    or another control character forges a line): refused where they come in, with this message."""
    if value in (".", ".."):
        return "must not be '.' or '..' (a dot segment)"
    if CONTROL_CHARACTERS.search(value):
        return "must not hold control characters (newline, CR, NUL, ...)"
    return None


def has_unstorable(value: Any) -> bool:
    """Whether any string in `value`, key or value, holds a lone surrogate or a NUL."""
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(has_unstorable(key) or has_unstorable(item) for key, item in value.items())
    if isinstance(value, list):
        return any(has_unstorable(item) for item in value)
    return False


def storable_number(number: Decimal) -> int | float | str:
    """The JSON number a provider sent, as a value `json.dumps` writes with the same value: an int
    when whole and short, a float when its shortest form is that very decimal, else the exact text."""
    if not number.is_finite():
        return str(number)
    if number == number.to_integral_value() and number.adjusted() < MAX_INT_DIGITS:
        return int(number)
    as_float = float(number)
    if Decimal(repr(as_float)) == number:
        return as_float
    return str(number)


def storable(value: Any) -> Any:
    """A copy of `value` holding only JSON types (Decimal → `storable_number`)."""
    if isinstance(value, Decimal):
        return storable_number(value)
    if isinstance(value, dict):
        return {key: storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable(item) for item in value]
    return value
