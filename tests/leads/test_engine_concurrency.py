"""The rule engine racing itself and the reps, on the real PostgreSQL.

Two recycle sweeps, two assignment runs of the same pool and a dozen reps claiming run at
the same moment, each on its own connection. Whatever the interleaving: every due lead is
recycled exactly once, every lead has at most one owner, replaying each lead's events
gives its current owner (so every move wrote exactly one event), and nobody passes the
pool's cap. Then the same engine runs on a real Celery worker over Redis, twice at once.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from leads import services
from leads.models import Lead, LeadEvent, LeadPool, PoolMember, RecycleRule
from leads.pools.assign import assign_pool
from leads.pools.due import refresh_due
from leads.pools.runs import recycle_run
from leads.subjects import LEADS
from orgs.models import OrgUnit, Role
from orgs.presets import apply_org_stage
from tests.factories import EmployeeFactory, PositionFactory, add_member, make_unit
from tests.helpers import run_at_once

REPS = 12
WAITING = 240
DUE = 90
CAP = 14


@pytest.fixture
def busy_pool(transactional_db):
    apply_org_stage(1)
    team = make_unit("engine_team", parent=OrgUnit.objects.get(code="sales"), name="规则组")
    position = PositionFactory(org_unit=team, roles=[Role.objects.get(code="sales_rep")])
    reps = []
    for number in range(REPS):
        employee = EmployeeFactory(user__username=f"engine{number:02d}")
        add_member(employee, team, position, is_primary=True)
        reps.append(employee.user_id)
    pool = LeadPool.objects.create(code="engine_pool", name="规则池", org_unit=team,
                                   owned_cap=CAP, cooldown_days=7,
                                   strategy=LeadPool.Strategy.ROUND_ROBIN)
    for rep in reps:
        PoolMember.objects.create(pool=pool, user_id=rep)
    rule = RecycleRule.objects.create(pool=pool, name="七天无跟进", kind="no_followup",
                                      threshold=7, unit="days")
    now = timezone.now()
    waiting = Lead.objects.bulk_create(
        Lead(pool=pool, name=f"待分{n}", mobile=f"1760000{n:04d}", created_at=now,
             pooled_at=now - timedelta(minutes=WAITING - n))
        for n in range(WAITING))
    stale = Lead.objects.bulk_create(
        Lead(pool=pool, name=f"过期{n}", mobile=f"1750000{n:04d}", owner_id=reps[n % REPS],
             status=Lead.Status.ASSIGNED, created_at=now - timedelta(days=9),
             assigned_at=now - timedelta(days=8))
        for n in range(DUE))
    LeadEvent.objects.bulk_create(
        [LeadEvent(lead=lead, kind="created", to_pool=pool, created_at=now - timedelta(days=9))
         for lead in waiting + stale]
        + [LeadEvent(lead=lead, kind="assigned", to_owner_id=lead.owner_id, from_pool=pool,
                     to_pool=pool, created_at=now - timedelta(days=8)) for lead in stale])
    refresh_due(LEADS, ids=[lead.pk for lead in stale])
    return pool, reps, rule, [lead.pk for lead in stale]


def _replayed_owner(events):
    owner = None
    for event in events:
        if event.kind in (LeadEvent.Kind.CLAIMED, LeadEvent.Kind.ASSIGNED,
                          LeadEvent.Kind.TRANSFERRED):
            if event.kind == LeadEvent.Kind.TRANSFERRED:
                assert event.from_owner_id == owner
            owner = event.to_owner_id
        elif event.kind in (LeadEvent.Kind.RELEASED, LeadEvent.Kind.RECYCLED):
            assert event.from_owner_id == owner, (event.kind, event.lead_id)
            owner = None
    return owner


def _check(pool, stale_ids):
    leads = {lead.pk: lead for lead in Lead.objects.filter(pool=pool)}
    history: dict[int, list] = {pk: [] for pk in leads}
    for event in LeadEvent.objects.filter(lead__pool=pool).order_by("pk"):
        history[event.lead_id].append(event)
    for pk, lead in leads.items():
        assert _replayed_owner(history[pk]) == lead.owner_id, pk
        if lead.owner_id is None:
            assert lead.status == Lead.Status.IN_POOL
    recycled = Counter(e.lead_id for events in history.values() for e in events
                       if e.kind == LeadEvent.Kind.RECYCLED)
    assert set(recycled) == set(stale_ids)
    assert set(recycled.values()) == {1}
    held = Counter(lead.owner_id for lead in leads.values() if lead.owner_id)
    assert max(held.values()) <= CAP


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_two_assigners_and_claiming_reps_at_once(busy_pool):
    pool, reps, _rule, stale_ids = busy_pool
    waiting = list(Lead.objects.filter(pool=pool, owner__isnull=True).values_list("pk",
                                                                                   flat=True))
    claims, refusals = [], []

    def claimer(rep):
        def run():
            user = get_user_model().objects.get(pk=rep)
            for lead_id in random.Random(rep).sample(waiting, 30):
                try:
                    services.lead_claim(lead_id=lead_id, user=user)
                    claims.append(lead_id)
                except services.LeadActionRefused as refused:
                    refusals.append(refused.code)
        return run

    jobs = [recycle_run, recycle_run,
            lambda: assign_pool(LeadPool.objects.get(pk=pool.pk)),
            lambda: assign_pool(LeadPool.objects.get(pk=pool.pk))]
    jobs += [claimer(rep) for rep in reps]
    errors = run_at_once(jobs, timeout=180).errors
    assert errors == [], errors[:3]
    assert set(refusals) <= {"taken", "pool_cap", "cooldown", "already_yours"}
    _check(pool, stale_ids)
    assert len(claims) == len(set(claims))
    # The pool got handed out up to the caps: nothing waits while someone has room.
    held = Counter(Lead.objects.filter(pool=pool, owner__isnull=False)
                   .values_list("owner_id", flat=True))
    waiting_now = Lead.objects.filter(pool=pool, owner__isnull=True).count()
    assign_pool(LeadPool.objects.get(pk=pool.pk))
    assert waiting_now == 0 or all(held[rep] == CAP for rep in reps) or (
        Lead.objects.filter(pool=pool, owner__isnull=True).count() < waiting_now)
    _check(pool, stale_ids)


def test_the_engine_runs_on_a_real_worker_twice_at_once(redis_worker, busy_pool):
    from leads import tasks

    pool, _reps, _rule, stale_ids = busy_pool
    results = [tasks.recycle_sweep.delay(), tasks.recycle_sweep.delay(),
               tasks.engine_tick.delay(), tasks.engine_tick.delay()]
    outcomes = [result.get(timeout=120) for result in results]
    assert sum(o["recycled"] for o in outcomes) == DUE
    assert sum(o["assigned"] for o in outcomes) > 0
    _check(pool, stale_ids)
