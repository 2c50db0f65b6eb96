import time
from decimal import Decimal

import pytest

from hub.json_input import MAX_DEPTH, MAX_NUMBER_CHARS, NotJson, OutOfRange, TooDeep, load_json, read_number, storable


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


@pytest.mark.parametrize("literal", ["1e1000000", "-1e10000000", "1e-1000000", "0e999999999", "1.5E+401",
                                     "9" * (MAX_NUMBER_CHARS + 1), "0." + "0" * 200 + "1"])
def test_a_number_beyond_the_bounds_is_its_text_and_never_converted(literal):
    started = time.process_time()
    value = load_json(f'{{"n": {literal}}}'.encode())["n"]

    assert isinstance(value, OutOfRange) and value == literal and not isinstance(value, int | Decimal)
    assert storable({"n": value}) == {"n": literal}
    assert time.process_time() - started < 0.1


@pytest.mark.parametrize("literal, number", [("1e400", Decimal("1e400")), ("-1e-400", Decimal("-1e-400")),
                                             ("123", 123), ("-0", 0), ("9" * MAX_NUMBER_CHARS, Decimal("9" * 100))])
def test_numbers_within_the_bounds_keep_their_value(literal, number):
    assert read_number(literal) == number and not isinstance(read_number(literal), OutOfRange)


def test_nesting_past_the_parsers_recursion_is_too_deep_not_malformed():
    """Where the parser gives up depends on how deep the caller's stack already is (a test runner's
    thread, a server's): the answer must not."""
    with pytest.raises(TooDeep):
        load_json("[" * 5000 + "]" * 5000)
    with pytest.raises(TooDeep):
        load_json('{"a": ' * 5000 + "1" + "}" * 5000)
