from decimal import Decimal

import pytest

from hub.money import MoneyError, to_major_string, to_minor


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("12.34", "USD", 1234), ("1.250", "KWD", 1250), ("1.25", "JOD", 1250), ("0.001", "BHD", 1), ("7", "USD", 700),
     (Decimal("100.00"), "EUR", 10000), (5, "JPY", 5), ("-1.50", "USD", -150)],
)
def test_to_minor_uses_the_currency_exponent(amount, currency, minor):
    assert to_minor(amount, currency) == minor


@pytest.mark.parametrize(
    ("amount", "currency"), [("1.234", "USD"), ("0.0001", "KWD"), ("1.5", "JPY"), (1.5, "USD"), ("abc", "USD"),
                              ("NaN", "USD"), ("1", "XXX"), (True, "USD")],
)
def test_to_minor_refuses_what_it_cannot_represent_exactly(amount, currency):
    with pytest.raises(MoneyError):
        to_minor(amount, currency)


@pytest.mark.parametrize(("minor", "currency", "text"), [(1234, "USD", "12.34"), (1250, "KWD", "1.250"),
                                                         (5, "USD", "0.05"), (5, "JPY", "5"), (10**12, "USD", "10000000000.00")])
def test_to_major_string_round_trips(minor, currency, text):
    assert to_major_string(minor, currency) == text
    assert to_minor(text, currency) == minor
