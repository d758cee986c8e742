"""Benchmarks of the leads app, run by ``manage.py crm_bench`` (see its help).

Measures, in one run against scratch data of its own:

* file-import throughput of the real importer (``read_table`` + ``run_import``) on a
  generated CSV with 10% duplicates of existing leads, a few duplicates inside the file
  and a few rejects, against a plain django-import-export ``ModelResource`` import and a
  PostgreSQL ``COPY`` of the same rows;
* server time (p50/p95) and SQL query count of the *My leads* and *Pool* pages.

Scratch data lives in its own org unit, role, position, rep and pool (codes below), is
written set-based (``INSERT … SELECT generate_series``) and deleted set-based at the end,
also when a step fails, and before a run in case an earlier one was killed. Imports run
in *skip* mode so that leads outside the scratch pool are never written to.

Each timed import starts right after a ``CHECKPOINT`` (``crm_site.lib.benchmarking``).

Budget at ``full``: ~1.1 M leads and as many events (~1 GB of tables and indexes), ~5
minutes on 2 cores: seeding ~100 s, clean-up ~75 s, the plain resource ~15 s. Figures
from a busy machine are indicative; compare runs on the same one.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import random
import statistics
import time
from dataclasses import dataclass
from urllib.parse import quote

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crm_site.lib.benchmarking import checkpoint
from crm_site.lib.imports.reading import read_table
from orgs.models import Employee, Membership, OrgUnit, Position, Role
from orgs.presets import ROLES

from . import selectors
from .imports.lead_kind import run_import
from .imports.lead_rows import guess_mapping
from .models import FollowUp, Lead, LeadEvent, LeadPool, PoolLeadOpen, Touchpoint

log = logging.getLogger("crm_bench")

POOL_CODE = "crm_bench_pool"
UNIT_CODE = "crm_bench_unit"
ROLE_CODE = "crm_bench_rep"
POSITION_CODE = "crm_bench_rep"
USERNAME = "crm_bench_rep"
EMPLOYEE_NO = "CRM-BENCH-1"
CHANNEL = "crm_bench"

# Columns of the generated file: recognised by ``guess_mapping`` and equal to the Lead
# field names, so the plain resource reads the very same rows.
COLUMNS = ["name", "company", "title", "mobile", "email", "address", "campaign", "notes"]

EXISTING_PREFIX = "139"  # mobiles of seeded leads: 139 + 8 digits of the row number
NEW_PREFIX = "137"  # mobiles of new rows in the file


@dataclass(frozen=True)
class Scale:
    existing: int  # leads in the scratch pool before the import
    owned: int  # of which the scratch rep owns this many (My leads)
    import_rows: int  # rows in the generated file
    plain_rows: int  # rows given to the plain resource (slow: rows/s is compared)
    warmup: int  # untimed requests per page
    requests: int  # timed requests per page


SCALES = {
    "small": Scale(existing=2_000, owned=120, import_rows=1_000, plain_rows=200,
                   warmup=2, requests=10),
    "medium": Scale(existing=100_000, owned=150, import_rows=20_000, plain_rows=1_000,
                    warmup=3, requests=20),
    "full": Scale(existing=1_000_000, owned=200, import_rows=100_000, plain_rows=5_000,
                  warmup=5, requests=30),
}


def run(scale: str) -> list[dict]:
    """Run every leads benchmark at ``scale``; returns ``[{name, value, unit}, …]``."""
    size = SCALES[scale]
    cleanup()
    try:
        pool, rep = _create_scratch_org()
        started = time.perf_counter()
        _seed_leads(pool, rep, size)
        measurements = [_m("seed_seconds", time.perf_counter() - started, "s")]
        measurements += _bench_pages(pool, rep, size)
        measurements += _bench_import(pool, rep, size)
        return measurements
    finally:
        started = time.perf_counter()
        cleanup()
        log.info("leads bench: scratch data removed in %.1f s", time.perf_counter() - started)


def _m(name: str, value: float, unit: str) -> dict:
    return {"name": name, "value": round(value, 3) if isinstance(value, float) else value,
            "unit": unit}


# --- Scratch data --------------------------------------------------------------------------


def _create_scratch_org() -> tuple[LeadPool, object]:
    """A rep with the preset ``sales_rep`` rights in a unit of its own, owning the pool."""
    from auditlog.context import disable_auditlog

    spec = ROLES["sales_rep"]
    with disable_auditlog(), transaction.atomic():
        # A root of its own: nothing in the real tree changes (no numchild, no paths).
        unit = OrgUnit.objects.add_root(create_kwargs={
            "code": UNIT_CODE, "name": "基准测试组", "name_en": "Benchmark team",
            "kind": OrgUnit.Kind.TEAM})
        role = Role.objects.create(code=ROLE_CODE, name="基准测试销售", name_en="Benchmark rep",
                                   entries=list(spec.entries), operations=list(spec.operations),
                                   data_scope=spec.scope)
        position = Position.objects.create(code=POSITION_CODE, org_unit=unit,
                                           name="基准测试销售", name_en="Benchmark rep")
        position.default_roles.add(role)
        rep = get_user_model().objects.create_user(username=USERNAME, password=None)
        employee = Employee.objects.create(user=rep, employee_no=EMPLOYEE_NO,
                                           name="基准测试", name_en="Benchmark rep")
        Membership.objects.create(employee=employee, org_unit=unit, position=position,
                                  is_primary=True)
        pool = LeadPool.objects.create(code=POOL_CODE, name="基准测试池",
                                       name_en="Benchmark pool", kind=LeadPool.Kind.SUB,
                                       org_unit=unit)
    return pool, rep


def _seed_leads(pool: LeadPool, rep, size: Scale) -> None:
    """``size.existing`` leads with a CREATED event each; every n-th owned by the rep."""
    step = max(1, size.existing // size.owned)
    lead_table = Lead._meta.db_table
    event_table = LeadEvent._meta.db_table
    log.info("leads bench: seeding %d leads", size.existing)
    with connection.cursor() as cursor:
        # Created over the last ~year, oldest first, so created_at grows with the id as
        # it does in production. Names, companies and mobiles are computed from the row
        # number; mobiles are unique (139 + 8 digits), one lead in three has an e-mail.
        cursor.execute(
            f"""
            INSERT INTO {lead_table} (
                pool_id, owner_id, status, name, company, title, mobile, phone, email,
                wechat, address, region, product_category, industry, channel, campaign,
                external_id, platform_user_id, attributes, grade, is_starred,
                invalid_reason, notes, mobile_key, email_key, company_key, created_by_id,
                created_at, assigned_at, last_followup_at, next_followup_at)
            SELECT
                %(pool)s,
                CASE WHEN i %% %(step)s = 0 THEN %(rep)s END,
                CASE WHEN i %% %(step)s = 0 THEN 'assigned' ELSE 'in_pool' END,
                substr('王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗', 1 + i %% 20, 1)
                    || substr('伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚', 1 + (i / 20) %% 20, 1),
                company.name, '采购经理', %(existing)s || lpad(i::text, 8, '0'), '',
                CASE WHEN i %% 3 = 0 THEN 'lead' || i || '@bench.example.com' ELSE '' END,
                '', '', 'east', 'software', 'manufacturing', %(channel)s, '', '', '',
                '{{}}'::jsonb, '', false, '', '',
                %(existing)s || lpad(i::text, 8, '0'),
                CASE WHEN i %% 3 = 0 THEN 'lead' || i || '@bench.example.com' ELSE '' END,
                company.name, NULL,
                now() - (%(count)s - i) * interval '30 seconds',
                CASE WHEN i %% %(step)s = 0
                     THEN now() - (%(count)s - i) * interval '30 seconds' + interval '1 hour'
                END,
                NULL,
                CASE WHEN i %% %(step)s = 0 THEN now() + (i %% 97 - 30) * interval '1 hour' END
            FROM generate_series(1, %(count)s) AS i,
                 LATERAL (SELECT (ARRAY['上海','杭州','苏州','南京','宁波','无锡','合肥','温州'])
                                 [1 + i %% 8] || '恒通' || (i %% 5000) || '号科技有限公司'
                          AS name) AS company
            """,
            {"pool": pool.pk, "rep": rep.pk, "step": step, "count": size.existing,
             "existing": EXISTING_PREFIX, "channel": CHANNEL},
        )
        events = f"""
            INSERT INTO {event_table} (lead_id, kind, actor_id, from_owner_id, to_owner_id,
                                       from_pool_id, to_pool_id, reason, note, rule_id,
                                       created_at)
        """
        cursor.execute(
            f"""{events}
            SELECT id, 'created', NULL, NULL, NULL, NULL, pool_id, %(channel)s, '', NULL,
                   created_at
            FROM {lead_table} WHERE pool_id = %(pool)s
            """,
            {"pool": pool.pk, "channel": CHANNEL},
        )
        cursor.execute(
            f"""{events}
            SELECT id, 'claimed', owner_id, NULL, owner_id, pool_id, pool_id, '', '', NULL,
                   assigned_at
            FROM {lead_table} WHERE pool_id = %(pool)s AND owner_id IS NOT NULL
            """,
            {"pool": pool.pk},
        )
        # Fresh statistics, as autovacuum would have them on a table that grew slowly.
        cursor.execute(f"ANALYZE {lead_table}")
        cursor.execute(f"ANALYZE {event_table}")


def cleanup() -> None:
    """Delete everything a run creates (set-based); safe to call when nothing is there."""
    from auditlog.context import disable_auditlog

    pool_ids = list(LeadPool.objects.filter(code=POOL_CODE).values_list("pk", flat=True))
    lead_table = Lead._meta.db_table
    with disable_auditlog(), transaction.atomic():
        if pool_ids:
            leads = f"SELECT id FROM {lead_table} WHERE pool_id = ANY(%s)"
            with connection.cursor() as cursor:
                for model in (LeadEvent, FollowUp, Touchpoint, PoolLeadOpen):
                    cursor.execute(
                        f"DELETE FROM {model._meta.db_table} WHERE lead_id IN ({leads})",
                        [pool_ids])
                cursor.execute(f"DELETE FROM {lead_table} WHERE pool_id = ANY(%s)", [pool_ids])
            LeadPool.objects.filter(pk__in=pool_ids).delete()
        Membership.objects.filter(position__code=POSITION_CODE).delete()
        Employee.objects.filter(employee_no=EMPLOYEE_NO).delete()
        get_user_model().objects.filter(username=USERNAME).delete()
        Position.objects.filter(code=POSITION_CODE).delete()
        Role.objects.filter(code=ROLE_CODE).delete()
        OrgUnit.objects.filter(code=UNIT_CODE).delete()
    if pool_ids and not connection.in_atomic_block:
        # The million deleted rows out of the way, so that the next benchmark does not
        # work through them (nor wait for autovacuum to).
        with connection.cursor() as cursor:
            for model in (Lead, LeadEvent):
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")


# --- Pages ------------------------------------------------------------------------------------


def _p95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _get(client: Client, url: str):
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}, not 200.")
    return response


def _measure_page(client: Client, url: str, size: Scale) -> tuple[list[float], int, int]:
    """Timed samples (ms), the query count, and how many lead rows the page lists."""
    for _ in range(size.warmup):
        _get(client, url)
    samples = []
    for _ in range(size.requests):
        started = time.perf_counter()
        _get(client, url)
        samples.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = _get(client, url)
    return samples, len(queries.captured_queries), response.content.count(b"data-lead=")


def _bench_pages(pool: LeadPool, rep, size: Scale) -> list[dict]:
    client = Client()
    client.force_login(rep, backend="django.contrib.auth.backends.ModelBackend")
    my_next = selectors.my_leads(user=rep).next_cursor
    pool_next = selectors.pool_leads(user=rep, pool=pool).next_cursor
    pages = {
        "my_leads": ("/leads/", f"/leads/?after={quote(my_next or '')}"),
        "pool": (f"/leads/pool/?pool={POOL_CODE}",
                 f"/leads/pool/?pool={POOL_CODE}&after={quote(pool_next or '')}"),
    }
    measurements = []
    try:
        for name, (first, second) in pages.items():
            samples, queries, rows = _measure_page(client, first, size)
            _, queries_2, rows_2 = _measure_page(client, second, Scale(0, 0, 0, 0, 0, 0))
            log.info("leads bench: %s p95 %.1f ms, %d queries, %d rows (page 2: %d queries, "
                     "%d rows)", name, _p95(samples), queries, rows, queries_2, rows_2)
            measurements += [
                _m(f"{name}_p95_ms", _p95(samples), "ms"),
                _m(f"{name}_p50_ms", statistics.median(samples), "ms"),
                _m(f"{name}_queries", queries, "queries"),
                _m(f"{name}_queries_page2", queries_2, "queries"),
                _m(f"{name}_rows", rows, "rows"),
            ]
    finally:
        client.logout()
    return measurements


# --- Import -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedFile:
    raw: bytes
    rows: list[list[str]]
    expected_new: int
    duplicates_of_db: int
    duplicates_in_file: int
    rejects: int


def _generate_file(size: Scale) -> GeneratedFile:
    """10% rows repeat a seeded lead's mobile (some written +86 1xx xxxx xxxx), 0.5% repeat
    an earlier row of the file, 0.1% have no name; the rest are new."""
    rng = random.Random(20260511)
    total = size.import_rows
    dup_db = total // 10
    dup_file = max(3, total // 200)
    rejects = max(2, total // 1000)
    kinds = ["db"] * dup_db + ["file"] * dup_file + ["bad"] * rejects
    kinds += ["new"] * (total - len(kinds))
    rng.shuffle(kinds)
    # A duplicate inside the file must come after the row it repeats.
    first_new = kinds.index("new")
    for index in range(first_new):
        if kinds[index] == "file":
            kinds[index] = "new"
    expected_new = kinds.count("new")
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平"
    cities = ["上海", "杭州", "苏州", "南京", "深圳", "广州", "成都", "武汉"]
    rows, new_mobiles = [], []
    for number, kind in enumerate(kinds):
        name = rng.choice(surnames) + rng.choice(given)
        email = ""
        if kind == "db":
            mobile = f"{EXISTING_PREFIX}{rng.randrange(1, size.existing + 1):08d}"
            if number % 3 == 0:
                mobile = f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}"
        elif kind == "file":
            mobile = rng.choice(new_mobiles)
        else:
            mobile = f"{NEW_PREFIX}{number:08d}"
            if kind == "new":
                new_mobiles.append(mobile)
            else:  # rejected: no name
                name = ""
            if number % 3 == 0:
                email = f"row{number}@import.example.com"
        rows.append([name, f"{rng.choice(cities)}新锐{number % 997}号贸易有限公司",
                     rng.choice(["总经理", "采购经理", "IT 主管", ""]), mobile, email,
                     f"{rng.choice(cities)}市高新区科技路{number % 300}号",
                     rng.choice(["", "2026 春季展会", "搜索广告"]), "基准测试导入"])
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return GeneratedFile(raw=text.getvalue().encode("utf-8"), rows=rows,
                         expected_new=expected_new, duplicates_of_db=dup_db,
                         duplicates_in_file=kinds.count("file"), rejects=rejects)


def _plain_resource_class():
    from import_export import resources

    class PlainLeadResource(resources.ModelResource):
        """django-import-export as the documentation shows it: no tuning at all."""

        class Meta:
            model = Lead
            fields = ("id", "pool", "channel", *COLUMNS)

    return PlainLeadResource


def _bench_import(pool: LeadPool, rep, size: Scale) -> list[dict]:
    import tablib

    generated = _generate_file(size)
    total = len(generated.rows)
    log.info("leads bench: importing %d rows (%.1f MB) against %d leads", total,
             len(generated.raw) / 1e6, size.existing)

    # (1) The real importer, end to end: parse, validate, de-duplicate, write, events.
    checkpoint()
    started = time.perf_counter()
    table = read_table(generated.raw, "crm_bench.csv")
    counts = run_import(table=table, pool=pool, channel=CHANNEL,
                        mapping=guess_mapping(table.headers), actor=rep)
    ours = total / (time.perf_counter() - started)
    if counts.accepted != generated.expected_new:
        log.warning("leads bench: expected %d new leads, the importer added %d",
                    generated.expected_new, counts.accepted)
    log.info("leads bench: importer %.0f rows/s (added %d, skipped %d, rejected %d)", ours,
             counts.accepted, counts.skipped, counts.rejected)

    # (2) A plain ModelResource on the first rows of the same file (it is slow).
    subset = generated.rows[:size.plain_rows]
    dataset = tablib.Dataset(*[[*row, pool.pk, CHANNEL] for row in subset],
                             headers=[*COLUMNS, "pool", "channel"])
    checkpoint()
    started = time.perf_counter()
    result = _plain_resource_class()().import_data(dataset, dry_run=False, raise_errors=True)
    plain = len(subset) / (time.perf_counter() - started)
    log.info("leads bench: plain resource %.0f rows/s on %d rows (%d new)", plain,
             len(subset), result.totals.get("new", 0))

    # (3) COPY of the same file into a scratch table of text columns: the floor.
    with connection.cursor() as cursor:
        columns = ", ".join(f"{column} text" for column in COLUMNS)
        cursor.execute(f"CREATE TEMPORARY TABLE crm_bench_copy ({columns})")
        try:
            checkpoint()
            started = time.perf_counter()
            _copy(cursor, "COPY crm_bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)",
                  generated.raw)
            copy = total / (time.perf_counter() - started)
        finally:
            cursor.execute("DROP TABLE crm_bench_copy")
    log.info("leads bench: COPY %.0f rows/s", copy)

    return [
        _m("import_rows_per_s", ours, "rows/s"),
        _m("import_vs_plain_resource", ours / plain, "x"),
        _m("import_vs_copy", ours / copy, "x"),
        _m("import_rows", total, "rows"),
        _m("import_added", counts.accepted, "rows"),
        _m("import_skipped", counts.skipped, "rows"),
        _m("import_rejected", counts.rejected, "rows"),
        _m("plain_resource_rows_per_s", plain, "rows/s"),
        _m("copy_rows_per_s", copy, "rows/s"),
    ]


def _copy(cursor, sql: str, raw: bytes) -> None:
    raw_cursor = cursor.cursor
    if hasattr(raw_cursor, "copy_expert"):  # psycopg2
        raw_cursor.copy_expert(sql, io.BytesIO(raw))
    else:  # psycopg 3
        with raw_cursor.copy(sql) as copy:
            copy.write(raw)
