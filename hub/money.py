"""Money as integer minor units; conversion to and from decimal strings by ISO 4217 exponent."""

from decimal import Decimal, InvalidOperation

# ISO 4217 minor-unit exponents of the currencies the hub meets (SPEC §3, §7).
EXPONENTS: dict[str, int] = {
    "USD": 2, "EUR": 2, "GBP": 2, "TRY": 2, "AED": 2, "SAR": 2, "QAR": 2, "EGP": 2, "CHF": 2, "CAD": 2,
    "HKD": 2, "SGD": 2, "AUD": 2,
    "JOD": 3, "KWD": 3, "BHD": 3, "OMR": 3, "TND": 3, "LYD": 3, "IQD": 3,
    "JPY": 0, "KRW": 0,
}


# Larger amounts than any order or bet, well inside a bigint column (9.2e18): checked before any
# int() conversion, whose cost grows with the square of the digits of a hostile "1e10000000".
MAX_MINOR = 10**15


class MoneyError(ValueError):
    pass


def exponent(currency: str) -> int:
    try:
        return EXPONENTS[currency]
    except KeyError:
        raise MoneyError(f"unknown currency {currency!r}") from None


def _shown(amount: object) -> str:
    text = repr(amount) if isinstance(amount, str) else str(amount)
    return text if len(text) <= 40 else text[:37] + "..."


def to_minor(amount: str | Decimal | int, currency: str) -> int:
    """'12.34' USD → 1234; '1.250' KWD → 1250. More decimals than the currency has is an error,
    never a rounding. Floats are refused: parse amounts from JSON with Decimal."""
    if isinstance(amount, float | bool):
        raise MoneyError("amounts must be decimals, not floats")
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise MoneyError(f"not a decimal amount: {_shown(amount)}") from None
    if not value.is_finite():
        raise MoneyError(f"not a finite amount: {_shown(amount)}")
    if value and value.adjusted() + exponent(currency) > len(str(MAX_MINOR)):
        raise MoneyError(f"amount out of range (at most {MAX_MINOR} minor units)")
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{_shown(amount)} has more decimals than {currency} allows ({exponent(currency)})")
    if abs(scaled) > MAX_MINOR:
        raise MoneyError(f"amount out of range (at most {MAX_MINOR} minor units)")
    return int(scaled)


def to_major_string(minor: int, currency: str) -> str:
    """1234 USD → '12.34'; 1250 KWD → '1.250'; 5 JPY → '5'."""
    places = exponent(currency)
    return f"{Decimal(minor).scaleb(-places):.{places}f}"
