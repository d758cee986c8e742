"""Benchmarks of the rule engine, run by ``manage.py crm_bench`` (see its help).

Measures, in one run against scratch data of its own:

* automatic assignment through the real service (``assign_pool``, what the
  engine tick calls): the waiting leads of a round-robin pool handed to its reps, each
  rep capped so that the caps are binding (leads/s, SQL queries per batch), against a
  naive per-lead ORM loop (lock the lead, check the rep's cap, save, write the event)
  on an equal-sized sample of another pool;
* the recycle sweep through the real service (``sweep_due`` with the
  recycle rule kinds, what ``recycle_run`` calls) over owned leads of which a share is
  past its deadline, against a single raw SQL ``UPDATE`` of the same rows, run on the
  very same state (inside a transaction that is rolled back, then the table vacuumed).

The recycle sweep and its raw ``UPDATE`` each start right after a ``CHECKPOINT``
(``crm_site.lib.benchmarking``), so that the two start from the same state.

Scratch data (a root org unit, reps, pools, leads) lives under the codes below, is
written set-based (``INSERT … SELECT generate_series``) and deleted set-based at the end,
also when a step fails, and before a run in case an earlier one was killed.

Budget at ``full``: ~1.1 M leads (~0.7 GB with indexes), ~3 minutes on 2 cores, most of
it seeding and clean-up. Figures from a busy machine are indicative.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm_site.lib.benchmarking import checkpoint
from orgs.models import Employee, OrgUnit

from .models import FollowUp, Lead, LeadEvent, LeadPool, PoolLeadOpen, Touchpoint
from .models_rules import PoolMember, RecycleRule
from .pools.assign import assign_pool
from .pools.config import ASSIGN_BATCH
from .pools.sweeps import RECYCLE_KINDS, sweep_due

log = logging.getLogger("crm_bench")

UNIT_CODE = "crm_bench_engine"
POOL_PREFIX = "crm_bench_engine_"
USER_PREFIX = "crm_bench_engine_rep"
EMPLOYEE_PREFIX = "CRM-BENCH-ENG-"
CHANNEL = "crm_bench_engine"


@dataclass(frozen=True)
class Scale:
    reps: int
    assign_leads: int  # waiting in the assignment pool
    loop_leads: int  # the naive loop's sample
    owned: int  # owned leads in the recycle pool
    due: int  # of which past their deadline


SCALES = {
    "small": Scale(reps=20, assign_leads=1_000, loop_leads=100, owned=5_000, due=500),
    "medium": Scale(reps=100, assign_leads=20_000, loop_leads=500, owned=100_000,
                    due=5_000),
    "full": Scale(reps=500, assign_leads=100_000, loop_leads=2_000, owned=1_000_000,
                  due=50_000),
}


def run(scale: str) -> list[dict]:
    """Run the engine benchmarks at ``scale``; returns ``[{name, value, unit}, …]``."""
    size = SCALES[scale]
    cleanup()
    try:
        unit, reps = _create_reps(size)
        measurements = _bench_assign(unit, reps, size)
        measurements += _bench_recycle(unit, reps, size)
        return measurements
    finally:
        started = time.perf_counter()
        cleanup()
        log.info("engine bench: scratch data removed in %.1f s", time.perf_counter() - started)


def _m(name: str, value: float, unit: str) -> dict:
    return {"name": name, "value": round(value, 3) if isinstance(value, float) else value,
            "unit": unit}


# --- Scratch data --------------------------------------------------------------------------


def _create_reps(size: Scale) -> tuple[OrgUnit, list[int]]:
    """``size.reps`` active reps (users with an employee record) in a root unit of their own."""
    from auditlog.context import disable_auditlog

    User = get_user_model()
    with disable_auditlog(), transaction.atomic():
        unit = OrgUnit.objects.add_root(create_kwargs={
            "code": UNIT_CODE, "name": "引擎基准测试组", "name_en": "Engine benchmark team",
            "kind": OrgUnit.Kind.TEAM})
        users = User.objects.bulk_create(
            User(username=f"{USER_PREFIX}{n:04d}", password="!") for n in range(size.reps))
        Employee.objects.bulk_create(
            Employee(user=user, employee_no=f"{EMPLOYEE_PREFIX}{n:04d}", name=f"基准{n}",
                     name_en=f"Bench {n}")
            for n, user in enumerate(users))
    return unit, sorted(user.pk for user in users)


def _pool(unit: OrgUnit, code: str, reps: list[int], **fields) -> LeadPool:
    pool = LeadPool.objects.create(code=POOL_PREFIX + code, name=f"引擎基准{code}",
                                   name_en=f"Engine bench {code}", kind=LeadPool.Kind.SUB,
                                   org_unit=unit, **fields)
    PoolMember.objects.bulk_create(PoolMember(pool=pool, user_id=user_id) for user_id in reps)
    return pool


def _seed_waiting(pool: LeadPool, count: int) -> None:
    """``count`` leads waiting in ``pool`` (no owner), pooled oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Lead._meta.db_table} (
                pool_id, owner_id, status, name, company, title, mobile, phone, email,
                wechat, address, region, product_category, industry, channel, campaign,
                external_id, platform_user_id, attributes, grade, is_starred,
                invalid_reason, notes, mobile_key, email_key, company_key, created_by_id,
                created_at, pooled_at, recycle_grace, recycle_count)
            SELECT %(pool)s, NULL, 'in_pool', '客户' || i, '恒通' || (i %% 5000) || '号科技',
                   '', '136' || lpad(i::text, 8, '0'), '', '', '', '', '', '', '',
                   %(channel)s, '', '', '', '{{}}'::jsonb, '', false, '', '',
                   '136' || lpad(i::text, 8, '0'), '', '', NULL,
                   now() - (%(count)s - i) * interval '1 second',
                   now() - (%(count)s - i) * interval '1 second', interval '0', 0
            FROM generate_series(1, %(count)s) AS i
            """,
            {"pool": pool.pk, "count": count, "channel": CHANNEL},
        )
        cursor.execute(f"ANALYZE {Lead._meta.db_table}")


def _seed_owned(pool: LeadPool, rule: RecycleRule, reps: list[int], size: Scale) -> None:
    """``size.owned`` leads owned by the reps in turn, every n-th assigned long enough ago
    to be past ``rule``'s deadline (``size.due`` of them), the rest well inside it."""
    step = max(1, size.owned // size.due)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Lead._meta.db_table} (
                pool_id, owner_id, status, name, company, title, mobile, phone, email,
                wechat, address, region, product_category, industry, channel, campaign,
                external_id, platform_user_id, attributes, grade, is_starred,
                invalid_reason, notes, mobile_key, email_key, company_key, created_by_id,
                created_at, assigned_at, pooled_at, recycle_due_at, recycle_rule_id,
                recycle_warn_at, recycle_grace, recycle_count)
            SELECT %(pool)s, (%(reps)s::bigint[])[1 + i %% %(nreps)s], 'assigned',
                   '客户' || i, '恒通' || (i %% 5000) || '号科技', '',
                   '135' || lpad(i::text, 8, '0'), '', '', '', '', '', '', '', %(channel)s,
                   '', '', '', '{{}}'::jsonb, '', false, '', '',
                   '135' || lpad(i::text, 8, '0'), '', '', NULL,
                   a.at - interval '1 day', a.at, a.at - interval '1 day',
                   a.at + %(period)s, %(rule)s, NULL, interval '0', 0
            FROM generate_series(1, %(count)s) AS i,
                 LATERAL (SELECT CASE WHEN i %% %(step)s = 0 AND i / %(step)s <= %(due)s
                                      THEN now() - interval '10 days'
                                      ELSE now() - interval '1 day' END
                                 - i * interval '1 millisecond' AS at) AS a
            """,
            {"pool": pool.pk, "reps": "{" + ",".join(map(str, reps)) + "}",
             "nreps": len(reps), "channel": CHANNEL, "period": timedelta(days=7),
             "rule": rule.pk, "count": size.owned, "step": step, "due": size.due},
        )
        cursor.execute(f"ANALYZE {Lead._meta.db_table}")


def cleanup() -> None:
    """Delete everything a run creates (set-based); safe to call when nothing is there."""
    from auditlog.context import disable_auditlog

    from notifications.models import Notification

    User = get_user_model()
    pool_ids = list(LeadPool.objects.filter(code__startswith=POOL_PREFIX)
                    .values_list("pk", flat=True))
    user_ids = list(User.objects.filter(username__startswith=USER_PREFIX)
                    .values_list("pk", flat=True))
    lead_table = Lead._meta.db_table
    with disable_auditlog(), transaction.atomic(), connection.cursor() as cursor:
        if pool_ids:
            leads = f"SELECT id FROM {lead_table} WHERE pool_id = ANY(%s)"
            for model in (LeadEvent, FollowUp, Touchpoint, PoolLeadOpen):
                cursor.execute(
                    f"DELETE FROM {model._meta.db_table} WHERE lead_id IN ({leads})",
                    [pool_ids])
            cursor.execute(f"DELETE FROM {lead_table} WHERE pool_id = ANY(%s)", [pool_ids])
    if pool_ids and not connection.in_atomic_block:
        # Deleting a user checks the lead and event tables for rows pointing at it (some
        # of those columns have no index): without the dead rows of a million leads
        # gone first, each of the reps costs a scan of them.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {lead_table}")
            cursor.execute(f"VACUUM {LeadEvent._meta.db_table}")
    with disable_auditlog(), transaction.atomic(), connection.cursor() as cursor:
        if pool_ids:
            RecycleRule.objects.filter(pool_id__in=pool_ids).delete()
            PoolMember.objects.filter(pool_id__in=pool_ids).delete()
            LeadPool.objects.filter(pk__in=pool_ids).delete()
        if user_ids:
            cursor.execute(f"DELETE FROM {Notification._meta.db_table} "
                           "WHERE recipient_id = ANY(%s)", [user_ids])
            Employee.objects.filter(user_id__in=user_ids).delete()
            User.objects.filter(pk__in=user_ids).delete()
        OrgUnit.objects.filter(code=UNIT_CODE).delete()


# --- Assignment ----------------------------------------------------------------------------


def _naive_loop(pool: LeadPool, reps: list[int], cap: int) -> int:
    """Assignment as a first version would write it: one lead at a time through the ORM."""
    assigned, turn = 0, 0
    for lead_id in list(Lead.objects.filter(pool=pool, owner__isnull=True)
                        .order_by("pooled_at", "pk").values_list("pk", flat=True)):
        with transaction.atomic():
            lead = Lead.objects.select_for_update().get(pk=lead_id)
            for _ in range(len(reps)):
                rep = reps[turn % len(reps)]
                turn += 1
                if Lead.objects.filter(pool=pool, owner_id=rep).count() < cap:
                    break
            else:
                break
            now = timezone.now()
            lead.owner_id, lead.status, lead.assigned_at = rep, Lead.Status.ASSIGNED, now
            lead.save()
            LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.ASSIGNED, to_owner_id=rep,
                                     from_pool=pool, to_pool=pool, reason=pool.strategy,
                                     created_at=now)
            assigned += 1
    return assigned


def _bench_assign(unit: OrgUnit, reps: list[int], size: Scale) -> list[dict]:
    # Caps bind: the reps' room adds up to exactly the waiting leads.
    cap = math.ceil(size.assign_leads / len(reps))
    pool = _pool(unit, "assign", reps, strategy=LeadPool.Strategy.ROUND_ROBIN, owned_cap=cap)
    loop_pool = _pool(unit, "loop", reps, strategy=LeadPool.Strategy.ROUND_ROBIN,
                      owned_cap=cap)
    log.info("engine bench: seeding %d waiting leads", size.assign_leads + size.loop_leads)
    _seed_waiting(pool, size.assign_leads)
    _seed_waiting(loop_pool, size.loop_leads)

    # No checkpoint here: leads are assigned within a minute of arriving, while their
    # pages are still fresh from being written (as the seeding just wrote them).
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        report = assign_pool(pool, seconds=3600)
        seconds = time.perf_counter() - started
    assigned = sum(report.assigned.values())
    ours = assigned / seconds
    batches = max(1, math.ceil(assigned / ASSIGN_BATCH))
    per_batch = len(queries.captured_queries) / batches
    if assigned != size.assign_leads:
        log.warning("engine bench: %d of %d leads assigned", assigned, size.assign_leads)
    over = (Lead.objects.filter(pool=pool, owner__isnull=False).values("owner_id")
            .annotate(n=Count("pk")).filter(n__gt=cap))
    if over.exists():
        raise RuntimeError("The assignment went past a rep's cap.")
    log.info("engine bench: assign_pool %.0f leads/s (%d leads, %d batches, %.0f queries "
             "a batch)", ours, assigned, batches, per_batch)

    started = time.perf_counter()
    looped = _naive_loop(loop_pool, reps, cap)
    loop = looped / (time.perf_counter() - started)
    log.info("engine bench: per-lead loop %.0f leads/s on %d leads", loop, looped)
    return [
        _m("assign_leads_per_s", ours, "leads/s"),
        _m("assign_vs_per_lead_loop", ours / loop, "x"),
        _m("assign_queries_per_batch", per_batch, "queries"),
        _m("assign_leads", assigned, "leads"),
        _m("assign_reps", len(reps), "reps"),
        _m("assign_loop_leads_per_s", loop, "leads/s"),
    ]


# --- Recycling -----------------------------------------------------------------------------


def _raw_update(pool: LeadPool, now) -> tuple[float, int]:
    """One SQL UPDATE doing what the sweep does to the due rows; rolled back after."""
    table = Lead._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(
            f"""
            UPDATE {table} SET owner_id = NULL, status = 'in_pool', assigned_at = NULL,
                   pooled_at = %(now)s, recycle_due_at = NULL, recycle_rule_id = NULL,
                   recycle_warn_at = NULL, recycle_grace = interval '0',
                   clock_paused_at = NULL, recycle_count = recycle_count + 1
            WHERE pool_id = %(pool)s AND owner_id IS NOT NULL AND recycle_due_at <= %(now)s
              AND clock_paused_at IS NULL
            """,
            {"now": now, "pool": pool.pk},
        )
        seconds, rows = time.perf_counter() - started, cursor.rowcount
        transaction.set_rollback(True)
    return seconds, rows


def _bench_recycle(unit: OrgUnit, reps: list[int], size: Scale) -> list[dict]:
    pool = _pool(unit, "recycle", reps)
    rule = RecycleRule.objects.create(pool=pool, name="七天未跟进回收",
                                      kind=RecycleRule.Kind.NO_FOLLOWUP, threshold=7,
                                      unit=RecycleRule.Unit.DAYS)
    log.info("engine bench: seeding %d owned leads (%d due)", size.owned, size.due)
    _seed_owned(pool, rule, reps, size)
    now = timezone.now()

    checkpoint()
    raw_seconds, raw_rows = _raw_update(pool, now)
    with connection.cursor() as cursor:  # the rolled-back versions out of the way
        cursor.execute(f"VACUUM ANALYZE {Lead._meta.db_table}")

    checkpoint()
    started = time.perf_counter()
    report = sweep_due(kinds=RECYCLE_KINDS, now=now, pool=pool)
    seconds = time.perf_counter() - started
    if report.moved != raw_rows or raw_rows != size.due:
        log.warning("engine bench: the sweep moved %d leads, the raw UPDATE %d, expected %d",
                    report.moved, raw_rows, size.due)
    log.info("engine bench: sweep %.2f s for %d leads; raw UPDATE %.2f s", seconds,
             report.moved, raw_seconds)
    return [
        _m("recycle_sweep_s", seconds, "s"),
        _m("recycle_vs_raw_update", seconds / raw_seconds, "x"),
        _m("recycle_moved", report.moved, "leads"),
        _m("recycle_owned", size.owned, "leads"),
        _m("recycle_raw_update_s", raw_seconds, "s"),
    ]
