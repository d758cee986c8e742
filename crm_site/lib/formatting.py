"""Numbers as pages show them.

Money is grouped by thousands in both UI languages (CLDR: ``186,000.00`` in en and in
zh-Hans alike). Django's own zh_Hans formats group nothing (``THOUSAND_SEPARATOR = ""``),
so amounts are formatted here, with the separators of the active language, and never with
the ``floatformat``/``intcomma`` filters. CSV exports keep raw numbers.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import numberformat
from django.utils.formats import get_format
from django.utils.translation import get_language

# (thousands separator, group size) of money per UI language; others use Django's formats.
MONEY_GROUPING = {"en": (",", 3), "zh-hans": (",", 3)}


def format_money(value, places: int = 2) -> str:
    """``186000`` → ``186,000.00`` in the active language ("" for no value)."""
    if value in (None, ""):
        return ""
    try:
        number = Decimal(str(value)).quantize(Decimal(1).scaleb(-places),
                                              rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(value)
    language = (get_language() or "").lower()
    separator, grouping = MONEY_GROUPING.get(language, (
        get_format("THOUSAND_SEPARATOR"), get_format("NUMBER_GROUPING")))
    return numberformat.format(number, get_format("DECIMAL_SEPARATOR"), decimal_pos=places,
                               grouping=grouping, thousand_sep=separator, force_grouping=True)
