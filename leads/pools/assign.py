"""Automatic assignment: hand out a pool's waiting records to its members by the
pool's strategy, in batches, with the receivers' rows locked first.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from crm_site.lib.bulk import update_and_log, update_rows
from notifications.services import Message, notify_many

from ..engine import clock, strategies
from ..models import LeadEvent, LeadPool, PoolMember
from ..subjects import LEADS, Subject, subject_for_pool
from .candidates import load_candidates, pool_caps, read_roster
from .claims import cooled_down
from .config import ASSIGN_BATCH, RUN_SECONDS, RunReport, clock_rules


class Waiting(NamedTuple):
    id: int
    name: str
    region: str
    category: str
    grade: str
    last_qualified_at: datetime | None


def _waiting(subject: Subject, pool: LeadPool, *, after: tuple | None, limit: int,
             lock: bool) -> tuple[list[Waiting], tuple | None]:
    """The next waiting records, oldest in the pool first, and the cursor after them."""
    queryset = subject.model.objects.filter(pool_id=pool.pk, owner__isnull=True,
                                            status=subject.in_pool_status)
    if after is not None:
        pooled, pk = after
        queryset = queryset.filter(Q(pooled_at__gt=pooled) | Q(pooled_at=pooled, pk__gt=pk))
    if lock:
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    if subject is LEADS:
        columns = ("pk", "name", "region", "product_category", "grade", "last_qualified_at",
                   "pooled_at")
    else:
        columns = ("pk", "name", "customer__region", "product__category", "customer__grade",
                   "last_qualified_at", "pooled_at")
    queryset = queryset.order_by("pooled_at", "pk").values_list(*columns)[:limit]
    # The compiled query on a plain cursor: a batch is 10,000 rows, and the ORM's row
    # iterator costs more than the rows themselves.
    with connection.cursor() as cursor:
        cursor.execute(*queryset.query.sql_with_params())
        rows = cursor.fetchall()
    return [Waiting(r[0], r[1], r[2] or "", r[3] or "", r[4] or "", r[5]) for r in rows], (
        (rows[-1][6], rows[-1][0]) if rows else None)


def assign_pool(pool: LeadPool, *, dry_run: bool = False, limit: int | None = None,
                actor=None, now: datetime | None = None,
                seconds: float = RUN_SECONDS) -> RunReport:
    """Hand the pool's waiting records to its members by the pool's strategy.

    Oldest first, in batches; stops when everything waiting was looked at, nobody has room
    left, ``limit`` records were assigned, or ``seconds`` passed. A pool another run is
    assigning right now is skipped. ``dry_run`` decides without writing or locking.
    """
    report = RunReport(dry_run=dry_run)
    if pool.strategy == LeadPool.Strategy.MANUAL or not pool.is_active:
        return report
    subject = subject_for_pool(pool)
    started = time.monotonic()
    after = None
    pointer, swrr = pool.rr_last_user_id, None
    roster = read_roster(pool, now or timezone.now())
    while True:
        if limit is not None and sum(report.assigned.values()) >= limit:
            break
        if time.monotonic() - started > seconds:
            break
        size = (ASSIGN_BATCH if limit is None
                else min(ASSIGN_BATCH, limit - sum(report.assigned.values())))
        with transaction.atomic():
            now_batch = now or timezone.now()
            if not dry_run:
                locked = (LeadPool.objects.select_for_update(skip_locked=True, no_key=True)
                          .filter(pk=pool.pk).first())
                if locked is None:
                    report.skipped_pools.append(pool.pk)
                    return report
                pool = locked
                pointer = pool.rr_last_user_id
            candidates = load_candidates(pool, subject, lock=not dry_run, now=now_batch,
                                         roster=roster)
            if swrr is not None:  # the run carries the weighted counters from batch to batch
                for candidate in candidates:
                    candidate.swrr_current = swrr.get(candidate.user_id, 0)
            caps = pool_caps(pool)
            if not strategies.any_room(candidates, caps):
                break
            waiting, after_next = _waiting(subject, pool, after=after, limit=size,
                                           lock=not dry_run)
            if not waiting:
                break
            blocked = cooled_down(subject, pool, [w.id for w in waiting], now_batch)
            nobody = frozenset()
            items = [strategies.Item(w.id, w.region, w.category, w.grade,
                                     blocked.get(w.id, nobody)) for w in waiting]
            outcome = strategies.assign(
                items, candidates, strategy=pool.strategy, caps=caps,
                rr_last_user_id=pointer, pool_region=pool.region,
                pool_category=pool.product_category)
            pointer, swrr = outcome.rr_last_user_id, outcome.swrr
            for _item, user_id, _detail in outcome.decisions:
                report.assigned[(pool.pk, user_id)] += 1
            report.unassigned[pool.pk] += len(outcome.unassigned)
            if not dry_run and outcome.decisions:
                by_id = {w.id: w for w in waiting}
                _apply_assignments(subject, pool, outcome.decisions, by_id, actor=actor,
                                   now=now_batch)
            if not dry_run:
                LeadPool.objects.filter(pk=pool.pk).update(rr_last_user_id=pointer)
                if pool.strategy == LeadPool.Strategy.WEIGHTED:
                    update_rows(PoolMember, ["pk", "swrr_current"], [
                        (m.pk, swrr.get(m.user_id, m.swrr_current))
                        for m in roster.members if m.pk])
        after = after_next
        if len(waiting) < size:
            break
    return report


def _apply_assignments(subject: Subject, pool: LeadPool, decisions, by_id: dict,
                       *, actor, now: datetime) -> None:
    """One statement for the records and their ASSIGNED events, their clocks set; then
    one notification per rep who received some."""
    rules = clock_rules([pool.pk]).get(pool.pk, ())
    # Every record of the batch is assigned now, so its clock depends only on its grade
    # and on a qualifying contact later than now (none, in practice): one clock per kind.
    clocks: dict[tuple, tuple] = {}
    updates = []
    for item_id, user_id, _detail in decisions:
        if not rules:  # no recycle rule in the pool: no clock
            updates.append((item_id, user_id, None, None, None))
            continue
        waiting = by_id[item_id]
        touched = waiting.last_qualified_at
        key = (waiting.grade, touched if touched is not None and touched >= now else None)
        found = clocks.get(key)
        if found is None:
            due = clock.due(clock.ClockFacts(id=item_id, assigned_at=now,
                                             last_qualified_at=key[1], grade=waiting.grade,
                                             status=subject.owned_status), rules, now)
            found = clocks[key] = ((due.at, due.rule_id, due.warn_at) if due
                                   else (None, None, None))
        updates.append((item_id, user_id, *found))
    update_and_log(
        subject.model, ["pk", "owner", "recycle_due_at", "recycle_rule", "recycle_warn_at"],
        updates,
        constants={"status": subject.owned_status, "assigned_at": now,
                   "recycle_grace": timedelta(0), "clock_paused_at": None},
        log_model=subject.event_model, log_names=[subject.event_fk, "to_owner", "detail"],
        log_rows=decisions,  # (record, receiver, why): the event's columns
        log_constants={"kind": LeadEvent.Kind.ASSIGNED, "actor": getattr(actor, "pk", None),
                       "from_pool": pool.pk, "to_pool": pool.pk, "reason": pool.strategy,
                       "created_at": now})
    _tell_receivers(subject, pool, decisions, by_id, now=now)


def _tell_receivers(subject: Subject, pool: LeadPool, decisions, by_id: dict, *,
                    now: datetime) -> None:
    """One notification per rep who received records in this batch, naming the first."""
    received: dict[int, list[str]] = defaultdict(list)
    for item_id, user_id, _detail in decisions:
        received[user_id].append(by_id[item_id].name)
    notify_many(
        Message(user, f"{subject.code}_assigned",
                {"count": len(names), "pool": pool.display_name,
                 "names": "、".join(names[:3]) + ("…" if len(names) > 3 else "")},
                url="/leads/?sort=newest" if subject is LEADS else "/opportunities/",
                key=f"assigned:{pool.pk}:{user}:{now.isoformat()}")
        for user, names in received.items())


def simulate_next(pool: LeadPool, count: int = 10) -> list[strategies.Decision]:
    """"Who gets the next N": the pool's strategy on the next ``count`` waiting records
    (plain ones when fewer wait), from the stored pointer and counters; nothing written."""
    subject = subject_for_pool(pool)
    now = timezone.now()
    candidates = load_candidates(pool, subject, lock=False, now=now)
    waiting, _after = _waiting(subject, pool, after=None, limit=count, lock=False)
    blocked = cooled_down(subject, pool, [w.id for w in waiting], now)
    items = [strategies.Item(id=w.id, region=w.region, category=w.category, grade=w.grade,
                             blocked=blocked.get(w.id, frozenset())) for w in waiting]
    items += [strategies.Item(id=-n) for n in range(1, count - len(items) + 1)]
    strategy = pool.strategy if pool.strategy in strategies.STRATEGIES else "round_robin"
    return strategies.assign(items, candidates, strategy=strategy, caps=pool_caps(pool),
                             rr_last_user_id=pool.rr_last_user_id, pool_region=pool.region,
                             pool_category=pool.product_category).decisions
