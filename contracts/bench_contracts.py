"""Benchmarks of orders, contracts and payments, run by ``manage.py crm_bench``.

Measures the server time (p95 over repeated requests, through the real view) and query
count of the order library and of the receivables list, and one run of the renewal and
of the payment sweep over every scratch contract.

Scratch data: one customer (external ID ``crm-bench-c``), one viewer, and orders,
contracts and instalments of that viewer, written set-based (``INSERT … SELECT
generate_series``) and deleted set-based at the end, also when a step fails, and before a
run in case an earlier one was killed. Contract ends spread over 400 days, so about 7%
fall in the renewal window; instalment due dates spread over ±200 days.

Budget at ``full``: 200,000 orders, 100,000 contracts and 100,000 instalments (~150 MB),
about a minute on 2 cores, most of it seeding and clean-up.
"""

from __future__ import annotations

import statistics
import time

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leads.models import FollowUp
from notifications.models import Notification
from opportunities.models import Customer

from .models import Contract, ContractOrder, Order, PaymentInstalment
from .services import payments, renewals

CUSTOMER_ID = "crm-bench-c"
USERNAME = "crm_bench_contracts"
NUMBER_PREFIX = "CRMBENCH-"
SCALES = {"small": (2_000, 1_000), "medium": (50_000, 25_000), "full": (200_000, 100_000)}
REPEATS = {"small": 5, "medium": 20, "full": 30}


def _insert_series(model, count: int, exprs: dict[str, str]) -> None:
    columns, select, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.column in exprs:
            select.append(exprs[field.column].replace("%", "%%"))
        else:
            select.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    sql = (f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
           f"SELECT {', '.join(select)} FROM generate_series(1, {int(count)}) AS i")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _seed(orders: int, contracts: int):
    user = get_user_model().objects.create_user(USERNAME, is_superuser=True, is_staff=True)
    customer = Customer.objects.create(name="基准测试客户", external_id=CUSTOMER_ID, owner=user)
    with transaction.atomic():
        _insert_series(Order, orders, {
            "customer_id": str(customer.pk), "owner_id": str(user.pk),
            "status": "CASE WHEN i % 4 = 0 THEN 'paid' WHEN i % 4 = 1 THEN 'confirmed' "
                      "ELSE 'draft' END",
            "total": "((i * 7919) % 100000) + 0.55",
            "signed_on": "current_date - (i % 365)",
            "created_at": "now() - (i || ' minutes')::interval",
        })
        _insert_series(Contract, contracts, {
            "number": f"'{NUMBER_PREFIX}' || i", "title": "'bench'",
            "customer_id": str(customer.pk), "owner_id": str(user.pk),
            "start_on": "current_date - 365", "end_on": "current_date + (i % 400)",
            "amount": "((i * 7919) % 100000) + 1000", "status": "'active'",
            "created_at": "now() - (i || ' minutes')::interval",
        })
        with connection.cursor() as cursor:
            cursor.execute(f"""
                INSERT INTO {PaymentInstalment._meta.db_table}
                    (contract_id, customer_id, owner_id, seq, due_on, amount, received, status)
                SELECT id, customer_id, owner_id, 1, current_date + ((id %% 400) - 200)::int,
                       amount, CASE WHEN id %% 3 = 0 THEN amount / 2 ELSE 0 END, 'pending'
                FROM {Contract._meta.db_table} WHERE number LIKE %s""",
                           [f"{NUMBER_PREFIX}%"])
    with connection.cursor() as cursor:
        for model in (Order, Contract, PaymentInstalment):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    return user


def _clean() -> None:
    user = get_user_model().objects.filter(username=USERNAME).first()
    customer = Customer.objects.filter(external_id=CUSTOMER_ID).first()
    with transaction.atomic():
        if customer is not None:
            FollowUp.objects.filter(customer=customer).delete()
            PaymentInstalment.objects.filter(customer=customer)._raw_delete(connection.alias)
            ContractOrder.objects.filter(contract__customer=customer)._raw_delete(
                connection.alias)
            Contract.objects.filter(customer=customer)._raw_delete(connection.alias)
            Order.objects.filter(customer=customer)._raw_delete(connection.alias)
            customer.delete()
        if user is not None:
            Notification.objects.filter(recipient=user).delete()
            user.delete()


def _page(client: Client, url: str, repeats: int) -> tuple[float, float, int]:
    for _ in range(3):  # warm-up: caches, hint bits of freshly seeded rows
        client.get(url)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) > 1 else timings[0]
    return p95, statistics.median(timings), len(queries)


def run(scale: str) -> list[dict]:
    orders, contracts = SCALES[scale]
    _clean()
    try:
        user = _seed(orders, contracts)
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        order_ms, order_p50, order_queries = _page(client, "/contracts/orders/",
                                                   REPEATS[scale])
        receivables_ms, receivables_p50, receivables_queries = _page(
            client, "/contracts/receivables/", REPEATS[scale])
        started = time.perf_counter()
        planned = renewals.renewal_sweep(limit=contracts)
        expired = renewals.expiry_sweep()
        renewal_s = time.perf_counter() - started
        started = time.perf_counter()
        changed = payments.payment_sweep()
        payment_s = time.perf_counter() - started
    finally:
        _clean()
    if not planned or not changed:
        raise AssertionError(f"sweeps did nothing: planned={planned} changed={changed}")
    return [
        {"name": "order_list_ms", "value": round(order_ms, 1), "unit": "ms"},
        {"name": "order_list_p50_ms", "value": round(order_p50, 1), "unit": "ms"},
        {"name": "order_list_queries", "value": order_queries, "unit": "queries"},
        {"name": "receivables_ms", "value": round(receivables_ms, 1), "unit": "ms"},
        {"name": "receivables_p50_ms", "value": round(receivables_p50, 1), "unit": "ms"},
        {"name": "receivables_queries", "value": receivables_queries, "unit": "queries"},
        {"name": "renewal_sweep_s", "value": round(renewal_s, 2), "unit": "s"},
        {"name": "renewals_planned", "value": planned, "unit": "contracts"},
        {"name": "contracts_expired", "value": expired, "unit": "contracts"},
        {"name": "payment_sweep_s", "value": round(payment_s, 2), "unit": "s"},
        {"name": "instalments_changed", "value": changed, "unit": "instalments"},
    ]
