from decimal import Decimal

import pytest

from hub.json_input import MAX_DEPTH, NotJson, TooDeep, load_json, storable


def test_numbers_are_decimals_or_short_integers_never_floats():
    assert load_json(b'{"a": 0.5, "b": 3, "c": 12345678901234567890, "d": 1e400}') == {
        "a": Decimal("0.5"), "b": 3, "c": Decimal("12345678901234567890"), "d": Decimal("1e400")}


@pytest.mark.parametrize("raw", [b"NaN", b'{"a": Infinity}', b'{"a": -Infinity}', b"{", b"\xff", b""])
def test_what_is_not_json_is_refused(raw):
    with pytest.raises(NotJson):
        load_json(raw)


def test_lone_surrogates_and_nuls_become_replacement_characters_in_keys_and_values():
    assert load_json(b'{"k\\ud800": ["a\\u0000", "\\udfff"]}') == {"k\ufffd": ["a\ufffd", "\ufffd"]}
    assert load_json(b'"\\ud83d\\ude00"') == "\U0001f600"  # a proper pair stays


def test_nesting_is_bounded():
    assert load_json(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
    with pytest.raises(TooDeep):
        load_json(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))


@pytest.mark.parametrize("number, stored", [
    ("52.5307512", 52.5307512), ("10", 10), ("0.1", 0.1), ("1e400", "1E+400"), ("1e-400", "1E-400"),
    ("0.10000000000000000001", "0.10000000000000000001"), ("123456789012345678901", "123456789012345678901"),
])
def test_stored_numbers_keep_their_exact_value(number, stored):
    assert storable({"n": [Decimal(number)]}) == {"n": [stored]}
