"""Money arithmetic: Decimal end to end, one currency per install, rounded per line."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal("100")


def to_money(value) -> Decimal:
    """Round to the cent, half up (0.005 → 0.01), whatever came in (str, int, Decimal)."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def line_total(quantity, unit_price, discount=Decimal("0")) -> Decimal:
    """quantity × unit price × (1 − discount %), rounded once, at the end of the line."""
    quantity, unit_price, discount = (Decimal(str(quantity)), Decimal(str(unit_price)),
                                      Decimal(str(discount or 0)))
    return to_money(quantity * unit_price * (HUNDRED - discount) / HUNDRED)


def order_total(lines) -> Decimal:
    """The sum of the rounded line totals (so the lines always add up to the total)."""
    return sum((line_total(q, p, d) for q, p, d in lines), Decimal("0.00"))
