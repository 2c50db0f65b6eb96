"""Hypothesis strategies for the JSON real clients send: any type anywhere, every number spelling,
unicode the database cannot store, deep nesting. Used by the property tests of every endpoint."""

import json
import uuid
from typing import Any

from hypothesis import strategies as st

# Number literals that json.dumps cannot write but a client can: emitted raw through a marker.
RAW_NUMBERS = ["1e400", "-1e400", "1e-400", "123456789012345678901234567890", "0.1000000000000000000001", "1E5",
               "-0", "0.0", "1e10000000", "3.0"]
# Numbers that cost a naive reader minutes of CPU (int() of a huge Decimal) or its memory: every
# endpoint must answer them at once (hub.json_input.read_number bounds them before any conversion).
HOSTILE_NUMBERS = ["1e1000000", "-1e1000000", "1e-1000000", "1e10000000", "1E+999999999", "0e1000000",
                   "9" * 5000, "-" + "9" * 400, "0." + "0" * 3000 + "1", "1" + "0" * 120 + ".5e-100"]
RAW_NUMBERS += HOSTILE_NUMBERS
RAW_MARK = "__raw_number_{}__"
NUMBER_TEXTS = ["", "3", "0", "10", "1.250", "-0.5", "1e30", "1e-30", "€", "1,5", " 2 ", "0x10", "NaN", "Infinity"]
AWKWARD_TEXTS = ["\ud800", "a\udfff", "\x00", "nul\x00byte", "\u202e", "\ufeff", "😀", "x" * 300]

leaves = (
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
    | st.sampled_from(NUMBER_TEXTS) | st.sampled_from(AWKWARD_TEXTS)
    | st.sampled_from([RAW_MARK.format(n) for n in range(len(RAW_NUMBERS))])
)
json_values = st.recursive(
    leaves, lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
deep_values = st.integers(40, 120).map(lambda depth: json.loads("[" * depth + "]" * depth))


def dumps(payload: Any) -> bytes:
    """JSON bytes, with the raw number markers turned into the number literals they stand for."""
    text = json.dumps(payload)
    for n, literal in enumerate(RAW_NUMBERS):
        text = text.replace(f'"{RAW_MARK.format(n)}"', literal)
    return text.encode()


def _paths(value: Any, here: tuple = ()) -> list[tuple]:
    found = [here]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*here, index))
    return found


def _at(value: Any, path: tuple) -> Any:
    for step in path:
        value = value[step]
    return value


@st.composite
def mutated(draw: st.DrawFn, payload: Any, *, max_changes: int = 4) -> Any:
    """`payload` with a few random changes: unknown fields of any type added at any depth, values
    replaced by any JSON (numbers as strings, strings as numbers, nulls, deep nesting), keys removed."""
    payload = json.loads(json.dumps(payload))
    for _ in range(draw(st.integers(0, max_changes))):
        paths = _paths(payload)
        path = draw(st.sampled_from(paths))
        target = _at(payload, path)
        change = draw(st.sampled_from(["add", "replace", "delete"]))
        if change == "add" and isinstance(target, dict):
            target[draw(st.text(max_size=12))] = draw(json_values | deep_values)
        elif change == "replace" and path:
            _at(payload, path[:-1])[path[-1]] = draw(json_values | deep_values)
        elif change == "delete" and path and isinstance(_at(payload, path[:-1]), dict):
            del _at(payload, path[:-1])[path[-1]]
    return payload


def fresh_ids(payload: dict, *keys: str) -> dict:
    """A copy whose order identifiers are new, so that examples are not all duplicates."""
    copy = json.loads(json.dumps(payload))
    for key in keys:
        holder = copy
        *parents, last = key.split(".")
        for parent in parents:
            holder = holder[parent]
        holder[last] = uuid.uuid4().hex[:12]
    return copy
