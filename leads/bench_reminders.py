"""Benchmark of the follow-up reminder sweep, run by ``manage.py crm_bench``.

``reminder_sweep_s``: one full sweep over ``due`` follow-up plans whose time has come
(target at ``full``: 100,000 due plans in ≤ 10 s), each on its own owned lead of one of
``reps`` scratch reps, next to as many plans not yet due that the sweep must leave alone.
The sweep writes one in-app notification per plan and marks every plan reminded.

Scratch data (its own root unit, reps, pool, leads, follow-ups and their notifications)
is written set-based (``INSERT … SELECT generate_series``) and deleted set-based at the
end, also when a step fails, and before a run in case an earlier one was killed.

Budget at ``full``: ~100,000 leads, 200,000 follow-ups, 100,000 notifications (~150 MB
with indexes); ~1 minute on 2 cores, most of it seeding and clean-up.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.urls import reverse

from notifications.models import Notification
from orgs.models import OrgUnit

from .followups.services import reminder_sweep
from .models import FollowUp, Lead, LeadEvent, LeadPool

log = logging.getLogger("crm_bench")

UNIT_CODE = "crm_bench_reminders"
POOL_CODE = "crm_bench_reminders"
USER_PREFIX = "crm_bench_remind_"


@dataclass(frozen=True)
class Scale:
    due: int  # plans whose time has come
    later: int  # plans still ahead (the sweep must not touch them)
    reps: int


SCALES = {
    "small": Scale(due=2_000, later=500, reps=10),
    "medium": Scale(due=20_000, later=5_000, reps=50),
    "full": Scale(due=100_000, later=100_000, reps=200),
}


def run(scale: str) -> list[dict]:
    size = SCALES[scale]
    cleanup()
    try:
        started = time.perf_counter()
        pool, reps = _scratch(size)
        _seed(pool, reps, size)
        seeded = time.perf_counter() - started
        # A worker builds the URL resolver once, on its first task, not on every sweep.
        reverse("lead_detail", args=[1])
        started = time.perf_counter()
        report = reminder_sweep()
        elapsed = time.perf_counter() - started
        if report.reminded != size.due or report.notified != size.due:
            raise RuntimeError(f"the sweep reminded {report.reminded} and notified "
                               f"{report.notified} of {size.due} due plans")
        started = time.perf_counter()
        again = reminder_sweep()
        idle = time.perf_counter() - started
        if again.reminded:
            raise RuntimeError("a second sweep found reminders the first one had sent")
        return [
            {"name": "reminder_seed_s", "value": round(seeded, 3), "unit": "s"},
            {"name": "reminder_sweep_s", "value": round(elapsed, 3), "unit": "s"},
            {"name": "reminder_sweep_rows", "value": report.reminded, "unit": "plans"},
            {"name": "reminder_sweep_idle_ms", "value": round(idle * 1000, 1), "unit": "ms"},
        ]
    finally:
        started = time.perf_counter()
        cleanup()
        log.info("reminder bench: scratch data removed in %.1f s", time.perf_counter() - started)


def _scratch(size: Scale) -> tuple[LeadPool, list[int]]:
    from auditlog.context import disable_auditlog

    User = get_user_model()
    with disable_auditlog(), transaction.atomic():
        unit = OrgUnit.objects.add_root(create_kwargs={
            "code": UNIT_CODE, "name": "提醒基准测试", "name_en": "Reminder benchmark",
            "kind": OrgUnit.Kind.TEAM})
        User.objects.bulk_create(User(username=f"{USER_PREFIX}{n}", password="!")
                                 for n in range(size.reps))
        pool = LeadPool.objects.create(code=POOL_CODE, name="提醒基准测试池",
                                       name_en="Reminder benchmark pool",
                                       kind=LeadPool.Kind.SUB, org_unit=unit)
    reps = list(User.objects.filter(username__startswith=USER_PREFIX)
                .order_by("pk").values_list("pk", flat=True))
    return pool, reps


def _seed(pool: LeadPool, reps: list[int], size: Scale) -> None:
    lead_table, followup_table = Lead._meta.db_table, FollowUp._meta.db_table
    total = size.due + size.later
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {lead_table} (
                pool_id, owner_id, status, name, company, title, mobile, phone, email,
                wechat, address, region, product_category, industry, channel, campaign,
                external_id, platform_user_id, attributes, grade, is_starred,
                invalid_reason, notes, mobile_key, email_key, company_key, created_by_id,
                created_at, assigned_at, last_followup_at, next_followup_at)
            SELECT %(pool)s, (%(reps)s::bigint[])[1 + i %% %(n)s], 'following',
                   '提醒客户' || i, '', '', '', '', '', '', '', '', '', '', 'crm_bench', '',
                   '', '', '{{}}'::jsonb, '', false, '', '', '', '', '', NULL,
                   now() - interval '10 days', now() - interval '9 days',
                   now() - interval '1 day',
                   CASE WHEN i <= %(due)s THEN now() - (i %% 1440) * interval '1 minute'
                        ELSE now() + interval '1 day' + (i %% 1440) * interval '1 minute' END
            FROM generate_series(1, %(total)s) AS i
            """,
            {"pool": pool.pk, "reps": reps, "n": len(reps), "due": size.due, "total": total},
        )
        cursor.execute(
            f"""
            INSERT INTO {followup_table} (lead_id, customer_id, opportunity_id, author_id,
                                          kind, outcome, content, next_at, qualifies,
                                          plan_open, reminded_at, created_at)
            SELECT id, NULL, NULL, owner_id, 'call', 'connected', '约好再联系',
                   next_followup_at, true, true, NULL, now() - interval '1 day'
            FROM {lead_table} WHERE pool_id = %(pool)s
            """,
            {"pool": pool.pk},
        )
        cursor.execute(f"ANALYZE {lead_table}")
        cursor.execute(f"ANALYZE {followup_table}")


def cleanup() -> None:
    """Delete everything a run creates (set-based); safe to call when nothing is there."""
    from auditlog.context import disable_auditlog

    User = get_user_model()
    users = list(User.objects.filter(username__startswith=USER_PREFIX)
                 .values_list("pk", flat=True))
    pool_ids = list(LeadPool.objects.filter(code=POOL_CODE).values_list("pk", flat=True))
    with disable_auditlog(), transaction.atomic(), connection.cursor() as cursor:
        if users:
            cursor.execute(f"DELETE FROM {Notification._meta.db_table} "
                           f"WHERE recipient_id = ANY(%s)", [users])
        if pool_ids:
            leads = f"SELECT id FROM {Lead._meta.db_table} WHERE pool_id = ANY(%s)"
            for model in (FollowUp, LeadEvent):
                cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE lead_id IN ({leads})",
                               [pool_ids])
            cursor.execute(f"DELETE FROM {Lead._meta.db_table} WHERE pool_id = ANY(%s)",
                           [pool_ids])
            LeadPool.objects.filter(pk__in=pool_ids).delete()
        if users:
            User.objects.filter(pk__in=users).delete()
        OrgUnit.objects.filter(code=UNIT_CODE).delete()
