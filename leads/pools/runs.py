"""Whole runs: the frequent tick, the recycle sweep, everything at once, and the
routing and assignment of a pool's newcomers.
"""

from __future__ import annotations

from datetime import datetime

from ..models import LeadPool
from .assign import assign_pool
from .config import RunReport
from .route import route_pool
from .sweeps import RECYCLE_KINDS, SLA_KINDS, pause_and_resume, sweep_due, warn_due


def _pools(pool: LeadPool | None) -> list[LeadPool]:
    if pool is not None:
        return [pool]
    # Parents before children, so a lead routed down is routed further in the same run.
    pools = list(LeadPool.objects.filter(is_active=True))
    parent = {p.pk: p.parent_id for p in pools}

    def depth(pk: int) -> int:
        steps, seen = 0, set()
        while parent.get(pk) is not None and pk not in seen:
            seen.add(pk)
            pk, steps = parent[pk], steps + 1
        return steps

    return sorted(pools, key=lambda p: (depth(p.pk), p.pk))


def tick(*, pool: LeadPool | None = None, dry_run: bool = False,
         now: datetime | None = None) -> RunReport:
    """The short, frequent run: leave clocks, routing, assignment, the first-touch SLA."""
    report = RunReport(dry_run=dry_run)
    if not dry_run:
        report.merge(pause_and_resume(now=now))
    for each in _pools(pool):
        report.merge(route_pool(each, dry_run=dry_run, now=now))
    for each in _pools(pool):
        report.merge(assign_pool(each, dry_run=dry_run, now=now))
    report.merge(sweep_due(kinds=SLA_KINDS, now=now, dry_run=dry_run, pool=pool))
    return report


def recycle_run(*, pool: LeadPool | None = None, dry_run: bool = False,
                now: datetime | None = None) -> RunReport:
    """The recycle sweep: warnings first, then what is due goes back."""
    report = RunReport(dry_run=dry_run)
    report.merge(warn_due(now=now, dry_run=dry_run))
    report.merge(sweep_due(kinds=RECYCLE_KINDS, now=now, dry_run=dry_run, pool=pool))
    return report


def run_all(*, pool: LeadPool | None = None, dry_run: bool = False,
            now: datetime | None = None) -> RunReport:
    """Everything once: the tick, then the recycle sweep, then the tick again so that what
    came back to a pool is routed and assigned at once."""
    report = tick(pool=pool, dry_run=dry_run, now=now)
    report.merge(recycle_run(pool=pool, dry_run=dry_run, now=now))
    if not dry_run:
        report.merge(tick(pool=pool, now=now))
    return report


def handle_arrivals(pool_id: int) -> RunReport:
    """Route a pool's newcomers, then assign in the pool and every pool they went to."""
    pool = LeadPool.objects.filter(pk=pool_id, is_active=True).first()
    report = RunReport()
    if pool is None:
        return report
    seen, queue = set(), [pool]
    while queue:
        current = queue.pop(0)
        if current.pk in seen:
            continue
        seen.add(current.pk)
        routed = route_pool(current)
        report.merge(routed)
        report.merge(assign_pool(current))
        targets = {to for (_from, to) in routed.routed}
        queue += list(LeadPool.objects.filter(pk__in=targets - seen))
    return report
