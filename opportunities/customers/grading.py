"""Customer grading: every live customer graded nightly from the amount of the last 12
months, from a registered amount source (won opportunities here; ``contracts`` registers
signed orders in its ``AppConfig.ready``) against the grade thresholds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from orgs.models import DictionaryItem

from ..models import (
    Customer,
    Opportunity,
)

# The amount a customer is graded on, per source: SQL returning (customer_id, total) over
# the window starting at %(since)s. The nightly task uses ``CUSTOMER_GRADE_SOURCE``.
AmountSource = Callable[[], str]
_AMOUNT_SOURCES: dict[str, AmountSource] = {}


def register_amount_source(name: str) -> Callable[[AmountSource], AmountSource]:
    """Register ``fn() -> SQL`` giving ``(customer_id, total)`` rows for ``%(since)s``."""

    def decorator(fn: AmountSource) -> AmountSource:
        _AMOUNT_SOURCES[name] = fn
        return fn

    return decorator


@register_amount_source("won_opportunities")
def _won_opportunity_amounts() -> str:
    table = Opportunity._meta.db_table
    return (f"SELECT customer_id, SUM(amount) AS total FROM {table} "
            f"WHERE status = 'won' AND closed_at >= %(since)s GROUP BY customer_id")


DEFAULT_THRESHOLDS = {"A": Decimal("1000000"), "B": Decimal("100000"), "C": Decimal("0")}


def grade_thresholds() -> list[tuple[str, Decimal]]:
    """Grades with the least amount that earns each, highest first.

    From the customer-grade dictionary's ``min_amount`` extra where an admin set one, else
    ``CUSTOMER_GRADE_THRESHOLDS`` in settings, else A ≥ 1,000,000, B ≥ 100,000, C below.
    """
    configured = dict(getattr(settings, "CUSTOMER_GRADE_THRESHOLDS", DEFAULT_THRESHOLDS))
    for code, extra in DictionaryItem.objects.active().of("customer_grade").values_list(
            "code", "extra"):
        value = (extra or {}).get("min_amount")
        if isinstance(value, int | float | str):
            try:
                configured[code] = Decimal(str(value))
            except ArithmeticError:
                continue
    return sorted(((g, Decimal(str(v))) for g, v in configured.items()),
                  key=lambda item: item[1], reverse=True)


def customers_grade(*, now=None, source: str | None = None) -> int:
    """Grade every live customer from the amount of the last 12 months, in one UPDATE …
    FROM an aggregate. Only rows whose grade or amount changed are written, so a second
    run the same night costs a read. Returns how many customers changed."""
    now = now or timezone.now()
    source = source or getattr(settings, "CUSTOMER_GRADE_SOURCE", "won_opportunities")
    amounts_sql = _AMOUNT_SOURCES[source]()
    thresholds = grade_thresholds()
    lowest = thresholds[-1][0] if thresholds else ""
    cases = " ".join(f"WHEN amount >= %(t{i})s THEN %(g{i})s"
                     for i in range(len(thresholds)))
    params = {"since": now - timedelta(days=365), "now": now, "lowest": lowest}
    for i, (grade, minimum) in enumerate(thresholds):
        params[f"t{i}"], params[f"g{i}"] = minimum, grade
    table = Customer._meta.db_table
    sql = f"""
        WITH totals AS ({amounts_sql}),
        graded AS (
            SELECT c.id, COALESCE(t.total, 0) AS amount
            FROM {table} c LEFT JOIN totals t ON t.customer_id = c.id
            WHERE c.merged_into_id IS NULL
        ),
        target AS (
            SELECT id, amount, CASE {cases} ELSE %(lowest)s END AS grade FROM graded
        )
        UPDATE {table} AS c
        SET grade = target.grade, signed_amount_12m = target.amount, graded_at = %(now)s
        FROM target
        WHERE c.id = target.id
          AND (c.grade IS DISTINCT FROM target.grade
               OR c.signed_amount_12m IS DISTINCT FROM target.amount)
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
