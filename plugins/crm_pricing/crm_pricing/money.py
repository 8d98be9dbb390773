"""Money in the pricing engine: Decimal only, rounded once, half up, to the currency's precision."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

#: Minor-unit exponents (ISO 4217) of the currencies that differ from two decimals, and the usual
#: ones for clarity. A currency missing here has two decimals.
CURRENCY_EXPONENTS: dict[str, int] = {
    "BGN": 2, "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "RON": 2, "PLN": 2, "CZK": 2, "HUF": 2,
    "JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0,
    "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "LYD": 3, "IQD": 3,
}  # fmt: skip

HUNDRED = Decimal(100)
ZERO = Decimal(0)


def exponent(currency: str) -> int:
    return CURRENCY_EXPONENTS.get((currency or "").upper(), 2)


_QUANTA: dict[str, Decimal] = {}
_PERCENT = Decimal("0.01")


def quantum(currency: str) -> Decimal:
    found = _QUANTA.get(currency)
    if found is None:
        found = _QUANTA[currency] = Decimal(1).scaleb(-exponent(currency))
    return found


def round_price(amount: Decimal, currency: str) -> Decimal:
    """The one rounding of a price: half up, to the currency's minor unit."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def round_percent(value: Decimal) -> Decimal:
    return value.quantize(_PERCENT, rounding=ROUND_HALF_UP)


def display_price(amount: Decimal, currency: str) -> str:
    """A stored price as people read it: at the currency's precision unless it has finer digits
    (a list price of 0.0125 stays so; 10.0000 reads 10.00)."""
    rounded = round_price(amount, currency)
    return f"{rounded if rounded == amount else amount.normalize():,f}"


def fmt_amount(amount: Decimal, places: int = 2) -> str:
    """``42000`` → ``42,000.00``: how amounts read in reasons and hints."""
    q = Decimal(1).scaleb(-places)
    return f"{amount.quantize(q, rounding=ROUND_HALF_UP):,}"


def fmt_percent(value: Decimal) -> str:
    """``Decimal('3.00')`` → ``3 %``; ``2.5`` → ``2.5 %``."""
    text = f"{round_percent(value).normalize():f}"
    return f"{text} %"
