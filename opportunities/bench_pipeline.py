"""Benchmark of the pipeline board, run by ``manage.py crm_bench`` (see its help).

A manager whose data scope covers a quarter of all opportunities opens the board: the
server time (p50/p95 of the whole request, ``Client`` in-process) and the SQL query
count, at two data sizes — the query count must not change with the data.

Scratch data: two org units of their own (roots, so the real tree is untouched), a
manager and five reps in one, fifteen reps in the other, 2,000 customers with a contact
and a mobile each, and the opportunities (``INSERT … SELECT generate_series``), owned in
turn by the twenty reps across the stage dictionary. Everything is removed set-based at
the end, also when a step fails, and before a run in case an earlier one was killed.

Budget at ``full`` (200,000 opportunities, 50,000 in scope): seeding ~15 s, the board
~40 requests, clean-up ~10 s.
"""

from __future__ import annotations

import logging
import math
import statistics
import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from orgs.models import Employee, Membership, OrgUnit, Position, Role
from orgs.presets import ROLES

from . import stages as stage_dictionary
from .models import (
    Contact,
    ContactMethod,
    Customer,
    Opportunity,
    OpportunityEvent,
    OpportunityStageChange,
)

log = logging.getLogger("crm_bench")

PREFIX = "crm_bench_pipe"
REPS_IN_SCOPE = 5
REPS_OUTSIDE = 15
CUSTOMERS = 2_000


@dataclass(frozen=True)
class Scale:
    total: int  # opportunities in the database (scratch ones)
    warmup: int
    requests: int


SCALES = {
    "small": Scale(total=2_000, warmup=2, requests=8),
    "medium": Scale(total=40_000, warmup=3, requests=20),
    "full": Scale(total=200_000, warmup=5, requests=40),
}


def _m(name: str, value, unit: str) -> dict:
    return {"name": name, "value": round(value, 3) if isinstance(value, float) else value,
            "unit": unit}


def run(scale: str) -> list[dict]:
    size = SCALES[scale]
    cleanup()
    try:
        manager, reps = _create_scratch_org()
        customers = _create_customers()
        started = time.perf_counter()
        # A tenth first: the query count at a small size, to compare with the full one.
        _seed(reps, customers, 0, size.total // 10)
        client = Client()
        client.force_login(manager, backend="django.contrib.auth.backends.ModelBackend")
        queries_small = _queries(client)
        _seed(reps, customers, size.total // 10, size.total)
        seconds = time.perf_counter() - started
        in_scope = Opportunity.objects.filter(owner_id__in=reps[:REPS_IN_SCOPE]).count()
        samples = _measure(client, size)
        queries = _queries(client)
        log.info("pipeline bench: %d opportunities (%d in scope), board p95 %.1f ms, "
                 "%d queries (%d at a tenth of the data)", size.total, in_scope,
                 _p95(samples), queries, queries_small)
        if queries != queries_small:
            log.warning("pipeline bench: the board's query count grew with the data")
        return [
            _m("pipeline_board_ms", _p95(samples), "ms"),
            _m("pipeline_board_p50_ms", statistics.median(samples), "ms"),
            _m("pipeline_board_queries", queries, "queries"),
            _m("pipeline_board_queries_tenth", queries_small, "queries"),
            _m("pipeline_opportunities_in_scope", in_scope, "opportunities"),
            _m("pipeline_seed_seconds", seconds, "s"),
        ]
    finally:
        started = time.perf_counter()
        cleanup()
        log.info("pipeline bench: scratch data removed in %.1f s",
                 time.perf_counter() - started)


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _get(client: Client):
    response = client.get("/opportunities/board/")
    if response.status_code != 200:
        raise RuntimeError(f"the board answered {response.status_code}, not 200")
    return response


def _measure(client: Client, size: Scale) -> list[float]:
    for _ in range(size.warmup):
        _get(client)
    samples = []
    for _ in range(size.requests):
        started = time.perf_counter()
        _get(client)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        _get(client)
    return len(queries.captured_queries)


# --- scratch data ------------------------------------------------------------------------------


def _person(unit, position, username: str, name: str):
    user = get_user_model().objects.create_user(username=username, password=None)
    employee = Employee.objects.create(user=user, employee_no=username.upper(), name=name,
                                       name_en=username)
    Membership.objects.create(employee=employee, org_unit=unit, position=position,
                              is_primary=True)
    return user


def _create_scratch_org():
    from auditlog.context import disable_auditlog

    with disable_auditlog(), transaction.atomic():
        roles = {}
        for code in ("sales_manager", "sales_rep"):
            spec = ROLES[code]
            roles[code] = Role.objects.create(
                code=f"{PREFIX}_{code}", name=f"基准{spec.name}", name_en=spec.name_en,
                entries=list(spec.entries), operations=list(spec.operations),
                data_scope=spec.scope)
        units, positions = [], {}
        for number, name in enumerate(("基准销售一部", "基准销售二部")):
            unit = OrgUnit.objects.add_root(create_kwargs={
                "code": f"{PREFIX}_unit{number}", "name": name, "name_en": name,
                "kind": OrgUnit.Kind.TEAM})
            units.append(unit)
            for code, role in roles.items():
                position = Position.objects.create(code=f"{PREFIX}_{code}{number}",
                                                   org_unit=unit, name=role.name,
                                                   name_en=role.name_en,
                                                   is_manager=code == "sales_manager")
                position.default_roles.add(role)
                positions[(number, code)] = position
        manager = _person(units[0], positions[(0, "sales_manager")], f"{PREFIX}_mgr", "基准经理")
        reps = [_person(units[0], positions[(0, "sales_rep")], f"{PREFIX}_in{n}", f"基准内{n}")
                for n in range(REPS_IN_SCOPE)]
        reps += [_person(units[1], positions[(1, "sales_rep")], f"{PREFIX}_out{n}",
                         f"基准外{n}") for n in range(REPS_OUTSIDE)]
    return manager, [rep.pk for rep in reps]


def _create_customers() -> list[int]:
    from auditlog.context import disable_auditlog

    with disable_auditlog(), transaction.atomic():
        customers = Customer.objects.bulk_create(
            Customer(name=f"基准客户{n}号科技有限公司", name_key=f"基准客户{n}号科技有限公司",
                     external_id=f"{PREFIX}-{n}") for n in range(CUSTOMERS))
        contacts = Contact.objects.bulk_create(
            Contact(name=f"基准联系人{n}", external_id=f"{PREFIX}-{n}") for n in range(CUSTOMERS))
        ContactMethod.objects.bulk_create(
            ContactMethod(contact=contact, kind=ContactMethod.Kind.MOBILE,
                          value=f"136{n:08d}", value_key=f"136{n:08d}", is_primary=True)
            for n, contact in enumerate(contacts))
    return [[c.pk for c in customers], [c.pk for c in contacts]]


def _seed(reps: list[int], customers, first: int, last: int) -> None:
    """Opportunities ``first``..``last`` - 1: owner i mod 20 (a quarter in scope), stages
    in turn, amounts and dates computed from the row number."""
    found = stage_dictionary.stages()
    stage_codes = [s.code for s in found]
    statuses = ["won" if s.closed == "won" else "lost" if s.closed == "lost" else "open"
                for s in found]
    customer_ids, contact_ids = customers
    table = Opportunity._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (
                pooled_at, recycle_grace, recycle_count, name, type, amount, expected_close,
                stage, stage_changed_at, status, lost_reason, closed_at, version, external_id,
                notes, created_at, customer_id, contact_id, owner_id, assigned_at)
            SELECT now() - i * interval '1 minute', interval '0', 0,
                   '基准商机' || i, CASE WHEN i %% 5 = 0 THEN 'bidding' ELSE 'solution' END,
                   (i %% 997) * 1000 + 5000, current_date + (i %% 180),
                   (%(stages)s::text[])[1 + (i / 20) %% %(n_stages)s],
                   now() - (i %% 90) * interval '1 day',
                   (%(statuses)s::text[])[1 + (i / 20) %% %(n_stages)s],
                   CASE WHEN (%(statuses)s::text[])[1 + (i / 20) %% %(n_stages)s] = 'lost'
                        THEN 'price' ELSE '' END,
                   NULL, 1, '', '', now() - i * interval '1 minute',
                   (%(customers)s::bigint[])[1 + i %% %(n_customers)s],
                   (%(contacts)s::bigint[])[1 + i %% %(n_customers)s],
                   (%(reps)s::int[])[1 + i %% %(n_reps)s],
                   now() - i * interval '1 minute'
            FROM generate_series(%(first)s, %(last)s - 1) AS i
            """,
            {"stages": stage_codes, "statuses": statuses, "n_stages": len(stage_codes),
             "customers": customer_ids, "contacts": contact_ids,
             "n_customers": len(customer_ids), "reps": reps, "n_reps": len(reps),
             "first": first, "last": last})
        # Fresh statistics and visibility map, as autovacuum keeps them on a table that
        # grew slowly (the column totals are an index-only scan).
        cursor.execute(f"VACUUM ANALYZE {table}")


def cleanup() -> None:
    from auditlog.context import disable_auditlog

    customers = list(Customer.objects.filter(external_id__startswith=f"{PREFIX}-")
                     .values_list("pk", flat=True))
    with disable_auditlog(), transaction.atomic():
        if customers:
            opportunities = (f"SELECT id FROM {Opportunity._meta.db_table} "
                             "WHERE customer_id = ANY(%s)")
            with connection.cursor() as cursor:
                for model in (OpportunityStageChange, OpportunityEvent):
                    cursor.execute(f"DELETE FROM {model._meta.db_table} "
                                   f"WHERE opportunity_id IN ({opportunities})", [customers])
                cursor.execute(f"DELETE FROM {Opportunity._meta.db_table} "
                               "WHERE customer_id = ANY(%s)", [customers])
            ContactMethod.objects.filter(contact__external_id__startswith=f"{PREFIX}-").delete()
            Contact.objects.filter(external_id__startswith=f"{PREFIX}-").delete()
            Customer.objects.filter(pk__in=customers).delete()
        Membership.objects.filter(position__code__startswith=PREFIX).delete()
        Employee.objects.filter(user__username__startswith=PREFIX).delete()
        get_user_model().objects.filter(username__startswith=PREFIX).delete()
        Position.objects.filter(code__startswith=PREFIX).delete()
        Role.objects.filter(code__startswith=PREFIX).delete()
        OrgUnit.objects.filter(code__startswith=PREFIX).delete()
