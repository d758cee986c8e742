"""Benchmark of the nightly customer grading, run by ``manage.py crm_bench``.

Measures ``grading_s``: one ``customers_grade()`` over every customer (the first run
after the amounts changed, so every scratch customer is written), and
``grading_rerun_s``: the same night's second run, which finds nothing to change.

Scratch data: customers and opportunities whose external IDs start with ``crm-bench-g-``,
written set-based (``INSERT … SELECT generate_series``; ~40% of the opportunities won
within the last 12 months, spread so that every grade occurs) and deleted set-based at
the end, also when a step fails, and before a run in case an earlier one was killed.

Budget at ``full``: 500,000 customers and 200,000 opportunities (~250 MB with indexes),
about a minute on 2 cores, most of it seeding and clean-up.
"""

from __future__ import annotations

import time

from django.db import connection, transaction

from .customers.grading import customers_grade
from .models import Customer, Opportunity

PREFIX = "crm-bench-g-"
SCALES = {"small": (2_000, 1_000), "medium": (50_000, 20_000), "full": (500_000, 200_000)}


def _insert_series(model, count: int, exprs: dict[str, str]) -> None:
    """INSERT ``count`` rows of ``model`` from ``generate_series(1, count) AS i``: the
    columns in ``exprs`` from SQL expressions, every other one its field default."""
    columns, select, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.column in exprs:
            select.append(exprs[field.column].replace("%", "%%"))  # not placeholders
        else:
            select.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    sql = (f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
           f"SELECT {', '.join(select)} FROM generate_series(1, {int(count)}) AS i")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _seed(customers: int, opportunities: int) -> None:
    customer_table = Customer._meta.db_table
    with transaction.atomic():
        _insert_series(Customer, customers, {
            "name": f"'{PREFIX}' || i", "name_key": f"'{PREFIX}' || i",
            "external_id": f"'{PREFIX}' || i", "created_at": "now()", "updated_at": "now()",
        })
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT min(id) FROM {customer_table} WHERE external_id = %s",
                           [f"{PREFIX}1"])
            (first_id,) = cursor.fetchone()
        # Opportunity i belongs to customer (i * 7) mod N: a few customers get several.
        # Amounts from 1,000 to ~2,000,000: grades A, B and C all occur.
        _insert_series(Opportunity, opportunities, {
            "name": f"'{PREFIX}' || i", "external_id": f"'{PREFIX}' || i",
            "customer_id": f"{first_id} + ((i * 7) % {customers})",
            "amount": "((i * 7919) % 2000000) + 1000",
            "stage": "CASE WHEN i % 5 < 2 THEN 'won' ELSE 'proposal' END",
            "status": "CASE WHEN i % 5 < 2 THEN 'won' ELSE 'open' END",
            "closed_at": "CASE WHEN i % 5 < 2 THEN now() - ((i % 500) || ' days')::interval "
                         "END",
            "stage_changed_at": "now()", "created_at": "now()", "pooled_at": "now()",
        })
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {customer_table}")
        cursor.execute(f"ANALYZE {Opportunity._meta.db_table}")


def _clean() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Opportunity._meta.db_table} WHERE external_id LIKE %s",
                       [f"{PREFIX}%"])
        cursor.execute(f"DELETE FROM {Customer._meta.db_table} WHERE external_id LIKE %s",
                       [f"{PREFIX}%"])


def run(scale: str) -> list[dict]:
    customers, opportunities = SCALES[scale]
    _clean()
    try:
        _seed(customers, opportunities)
        started = time.perf_counter()
        changed = customers_grade()
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = customers_grade()
        second = time.perf_counter() - started
        grades = set(Customer.objects.filter(external_id__startswith=PREFIX)
                     .values_list("grade", flat=True).distinct())
    finally:
        _clean()
    if changed < customers or again or grades != {"A", "B", "C"}:
        raise AssertionError(f"grading wrote {changed} rows (expected ≥ {customers}), "
                             f"then {again} (expected 0); grades {sorted(grades)}")
    return [
        {"name": "grading_s", "value": round(first, 2), "unit": "s"},
        {"name": "grading_rerun_s", "value": round(second, 2), "unit": "s"},
        {"name": "grading_customers", "value": customers, "unit": "customers"},
    ]
