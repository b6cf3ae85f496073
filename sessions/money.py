"""Prices as people type them ("1 250,00" is not one; "1250.00" is) and their bounds.

Amounts are kept in minor units (cents) in 32-bit columns. Decimal parses what
people type, but it also parses "NaN", "Infinity" and "1E+30", which then break
a comparison or a quantize (InvalidOperation) or overflow the column: each is
refused here with words, once for the admin forms, the CSV import and the API.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sessions.errors import N_, InvalidInput

# 10 000 000.00 in major units; sums (bag totals) are kept in 64-bit columns.
MAX_PRICE_MINOR = 1_000_000_000
MAX_STOCK = 10_000_000


class BadAmount(ValueError):
    """What is wrong with a typed amount, in words for the person who typed it."""

    def __init__(self, message: str, *, not_a_number: bool = False) -> None:
        super().__init__(message)
        self.not_a_number = not_a_number


def parse_price(raw: str) -> int:
    """``"1250.00"`` -> 125000 (minor units); BadAmount for anything else."""
    text = raw.strip().replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise BadAmount("is not a number, e.g. 1250.00", not_a_number=True) from None
    if not amount.is_finite():
        raise BadAmount("is not a number, e.g. 1250.00", not_a_number=True)
    if amount < 0:
        raise BadAmount("cannot be below zero")
    if amount * 100 > MAX_PRICE_MINOR:
        raise BadAmount(f"cannot be above {MAX_PRICE_MINOR // 100:,}.00")
    if amount != amount.quantize(Decimal("0.01")):
        raise BadAmount("has more than two decimals")
    return int(amount * 100)


def parse_count(raw: str, maximum: int = MAX_STOCK) -> int:
    """A whole number from 0 to ``maximum`` written with ASCII digits."""
    text = raw.strip()
    # str.isdigit() says yes to "²" and "٣", which int() then refuses or reads oddly.
    if not text.isascii() or not text.isdigit():
        raise BadAmount("is not a whole number ≥ 0")
    if len(text) > len(str(maximum)) or int(text) > maximum:
        raise BadAmount(f"cannot be above {maximum:,}")
    return int(text)


def check_price_minor(value: int | None, field: str = "price_minor") -> None:
    """For amounts already in minor units (API bodies, socket messages)."""
    if value is not None and not 0 <= value <= MAX_PRICE_MINOR:
        raise InvalidInput(
            N_("Prices go from 0 to %(n)s (minor units, e.g. cents)."),
            params={"n": MAX_PRICE_MINOR},
            field=field,
        )
