"""Benchmarks of quality inspection, run by ``manage.py crm_bench``.

- ``qa_scan_rows_per_s``: a full rescan of every follow-up with the word list
  (``rescan_all``), follow-ups read per second;
- ``qa_sample_s``: the nightly sampling (``queue_fill``) of one day's follow-ups;
- ``qa_queue_ms``: server time (p95) of the inspector's queue page, with its query count
  (``qa_queue_queries``), over a queue of every item the sampling queued.

Scratch data, all named ``crm-bench-qa…`` and removed at the end (also after a failure):
an org unit of its own with reps and an inspector, a pool with one lead per rep,
follow-ups spread over ten days (one in ten of them contains a word), the words (added to
the ``sensitive_word`` dictionary for the run) and a plan scoped to the scratch unit.

Sizes: ``full`` is the issue's figure — 1,000,000 follow-ups (100,000 on the sampled day)
and 2,000 words, ~400 MB with indexes; ``small`` runs the same code on 5,000 follow-ups
and 200 words (the test suite does; its figures mean nothing).
"""

from __future__ import annotations

import math
import time
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Max, Min
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leads.models import FollowUp, Lead, LeadPool
from orgs.models import Dictionary, DictionaryItem, Employee, Membership, OrgUnit, Position, Role
from orgs.rights import DataScope, Entry, Operation

from .models import InspectionPlan, QueueItem, Scorecard, SensitiveHit
from .sampling import queue_fill
from .scanning import rescan_all

PREFIX = "crm-bench-qa"
SCALES = {  # follow-ups, words, reps, page requests
    "small": (5_000, 200, 20, 5),
    "medium": (100_000, 2_000, 100, 20),
    "full": (1_000_000, 2_000, 500, 40),
}
DAYS = 10
DAY = date(2001, 1, 10)  # far from any real data: the sampled day holds scratch rows only


def _m(name: str, value, unit: str) -> dict:
    return {"name": name, "value": round(value, 3) if isinstance(value, float) else value,
            "unit": unit}


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def cleanup() -> None:
    """Remove every scratch row (set-based); safe when nothing is there."""
    pools = list(LeadPool.objects.filter(code=PREFIX).values_list("pk", flat=True))
    with transaction.atomic():
        plans = InspectionPlan.objects.filter(name=PREFIX)
        QueueItem.objects.filter(plan__in=plans).delete()
        plans.delete()
        Scorecard.objects.filter(code=PREFIX, plans__isnull=True).delete()
        if pools:
            with connection.cursor() as cursor:
                leads = f"SELECT id FROM {Lead._meta.db_table} WHERE pool_id = ANY(%s)"
                followups = f"SELECT id FROM {FollowUp._meta.db_table} WHERE lead_id IN ({leads})"
                cursor.execute(f"DELETE FROM {SensitiveHit._meta.db_table} "
                               f"WHERE followup_id IN ({followups})", [pools])
                cursor.execute(f"DELETE FROM {FollowUp._meta.db_table} "
                               f"WHERE lead_id IN ({leads})", [pools])
                cursor.execute("DELETE FROM leads_leadevent WHERE lead_id IN "
                               f"({leads})", [pools])
                cursor.execute(f"DELETE FROM {Lead._meta.db_table} WHERE pool_id = ANY(%s)",
                               [pools])
            LeadPool.objects.filter(pk__in=pools).delete()
        DictionaryItem.objects.filter(code__startswith=PREFIX).delete()
        Membership.objects.filter(position__code=PREFIX).delete()
        Employee.objects.filter(employee_no__startswith=PREFIX).delete()
        get_user_model().objects.filter(username__startswith=PREFIX).delete()
        Position.objects.filter(code=PREFIX).delete()
        Role.objects.filter(code__startswith=PREFIX).delete()
        OrgUnit.objects.filter(code=PREFIX).delete()


def _seed(followups: int, words: int, reps: int):
    from auditlog.context import disable_auditlog

    User = get_user_model()
    with disable_auditlog(), transaction.atomic():
        unit = OrgUnit.objects.add_root(create_kwargs={
            "code": PREFIX, "name": "质检基准", "name_en": "QA benchmark",
            "kind": OrgUnit.Kind.TEAM})
        role = Role.objects.create(code=PREFIX, name="质检基准", name_en="QA benchmark",
                                   entries=[Entry.QA_HOME, Entry.WORKBENCH],
                                   operations=[Operation.INSPECT], data_scope=DataScope.ALL)
        position = Position.objects.create(code=PREFIX, org_unit=unit, name="质检基准")
        position.default_roles.add(role)
        people = User.objects.bulk_create(User(username=f"{PREFIX}-{n}") for n in range(reps + 1))
        employees = Employee.objects.bulk_create(
            Employee(user=person, employee_no=f"{PREFIX}-{n}", name=f"基准{n}")
            for n, person in enumerate(people))
        Membership.objects.bulk_create(
            Membership(employee=e, org_unit=unit, position=position, is_primary=True)
            for e in employees)
        inspector, reps_ = people[0], people[1:]
        pool = LeadPool.objects.create(code=PREFIX, name="质检基准", org_unit=unit)
        leads = Lead.objects.bulk_create(
            Lead(pool=pool, owner=rep, name=f"{PREFIX}-{n}", status=Lead.Status.FOLLOWING)
            for n, rep in enumerate(reps_))
        dictionary = Dictionary.objects.get(code="sensitive_word")
        DictionaryItem.objects.bulk_create(
            DictionaryItem(dictionary=dictionary, code=f"{PREFIX}-{n}", label=f"敏感词{n:05d}号",
                           extra={"category": "privacy", "severity": "high"})
            for n in range(words))
        first_lead = leads[0].pk
        start = DAY - timedelta(days=DAYS // 2)
        # Follow-up i: rep i % reps (through its lead), day i % DAYS, one in ten with a word.
        with connection.cursor() as cursor:
            cursor.execute(f"""
                INSERT INTO {FollowUp._meta.db_table}
                    (lead_id, author_id, kind, outcome, content, qualifies, plan_open,
                     created_at)
                SELECT l.id, l.owner_id, 'call', 'connected',
                       '客户询问了价格与交付周期，约定下周再联系确认方案细节'
                       || CASE WHEN i %% 10 = 0 THEN '，提到敏感词' || lpad((i %% %s)::text, 5, '0')
                               || '号' ELSE '' END,
                       TRUE, FALSE,
                       %s::date + (i %% %s) * interval '1 day' + interval '10 hours'
                FROM generate_series(0, %s - 1) AS i
                JOIN {Lead._meta.db_table} l ON l.id = %s + (i %% %s)
            """, [words, start, DAYS, followups, first_lead, reps])
            cursor.execute(f"ANALYZE {FollowUp._meta.db_table}")
        scorecard = Scorecard.objects.filter(is_active=True).order_by("pk").first() \
            or Scorecard.objects.create(code=PREFIX, name="质检基准")
        plan = InspectionPlan.objects.create(name=PREFIX, scorecard=scorecard,
                                             share_percent=10, min_per_rep=1)
        plan.org_units.set([unit])
        plan.inspectors.set([inspector])
    # The day sampled is (DAY - start) days in: DAYS // 2.
    return inspector, plan


def run(scale: str) -> list[dict]:
    followups, words, reps, requests = SCALES[scale]
    cleanup()
    try:
        inspector, plan = _seed(followups, words, reps)
        # Only the active scratch plan samples (real plans skip the scratch day anyway).
        others = list(InspectionPlan.objects.filter(is_active=True).exclude(pk=plan.pk)
                      .values_list("pk", flat=True))
        InspectionPlan.objects.filter(pk__in=others).update(is_active=False)
        try:
            bounds = FollowUp.objects.filter(lead__pool__code=PREFIX).aggregate(
                first=Min("pk"), last=Max("pk"))
            started = time.perf_counter()
            report = rescan_all(first=bounds["first"], last=bounds["last"])
            scan_s = time.perf_counter() - started
            started = time.perf_counter()
            filled = queue_fill(day=DAY)
            sample_s = time.perf_counter() - started
        finally:
            InspectionPlan.objects.filter(pk__in=others).update(is_active=True)
        client = Client()
        client.force_login(inspector, backend="django.contrib.auth.backends.ModelBackend")
        for _ in range(2):
            client.get("/qa/")
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get("/qa/")
            samples.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"/qa/ answered {response.status_code}")
        with CaptureQueriesContext(connection) as queries:
            client.get("/qa/")
        day_rows = followups // DAYS
    finally:
        cleanup()
    if not report.hits or not filled.total:
        raise AssertionError(f"the rescan found {report.hits} hits and the sampling queued "
                             f"{filled.total} items")
    return [
        _m("qa_scan_rows_per_s", report.scanned / scan_s, "rows/s"),
        _m("qa_scan_rows", report.scanned, "rows"),
        _m("qa_sample_s", sample_s, "s"),
        _m("qa_sample_day_rows", day_rows, "rows"),
        _m("qa_sample_queued", filled.total, "items"),
        _m("qa_queue_ms", _p95(samples), "ms"),
        _m("qa_queue_queries", len(queries.captured_queries), "queries"),
    ]
