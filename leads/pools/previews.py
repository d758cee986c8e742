"""Previews: what a rule being edited would recycle or route, read-only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from ..engine import clock
from ..models import LeadPool, RecycleRule, RoutingRule
from ..subjects import LEADS, subject_for_pool
from .config import to_clock_rule
from .due import FACT_FIELDS, pk_ranges, to_facts
from .route import route_pool


@dataclass
class RecyclePreview:
    """What a set of recycle rules would do to a pool's owned records."""

    due_now: list[dict]  # would go back on the next sweep: id, name, owner, rule, due
    due_soon: int  # due within the horizon
    per_rep: dict[int, dict]  # user id → {"now": n, "soon": n, "held": n}
    checked: int
    horizon: timedelta


def preview_recycle(pool: LeadPool, rules: Sequence[RecycleRule], *,
                    now: datetime | None = None, horizon: timedelta = timedelta(days=7),
                    show: int = 50) -> RecyclePreview:
    """A dry run of ``rules`` (saved or not) over every owned record of ``pool``: the
    same clock the sweep uses, so what it lists is what the sweep will do."""
    subject = subject_for_pool(pool)
    now = now or timezone.now()
    compiled = [to_clock_rule(r) for r in rules if r.is_active]
    names = {r.pk or 0: r.display_name for r in rules}
    due_now, due_soon, per_rep, checked = [], 0, {}, 0
    owned = subject.model.objects.filter(pool_id=pool.pk, owner__isnull=False,
                                         status__in=subject.open_statuses)
    for first, last in pk_ranges(owned):
        rows = list(owned.filter(pk__gte=first, pk__lte=last).values_list(
            *FACT_FIELDS, subject.grade_path, subject.starred_path, "owner_id", "name",
            "clock_paused_at"))
        for row in rows:
            checked += 1
            owner = row[8]
            stats = per_rep.setdefault(owner, {"now": 0, "soon": 0, "held": 0})
            stats["held"] += 1
            if row[10] is not None:  # the owner is on leave: the clock stands still
                continue
            decision = clock.due(to_facts(row[:8]), compiled, now)
            if decision is None:
                continue
            if decision.at <= now:
                stats["now"] += 1
                if len(due_now) < show:
                    due_now.append({"id": row[0], "name": row[9], "owner_id": owner,
                                    "rule": names.get(decision.rule_id, ""),
                                    "due": decision.at})
            elif decision.at <= now + horizon:
                stats["soon"] += 1
                due_soon += 1
    due_now.sort(key=lambda row: row["due"])
    return RecyclePreview(due_now=due_now, due_soon=due_soon, per_rep=per_rep,
                          checked=checked, horizon=horizon)


def preview_routing(pool: LeadPool, rules: Sequence[RoutingRule], *,
                    default_pool_id: int | None = None) -> Counter:
    """Where the pool's waiting leads would go under ``rules`` (saved or not): target pool
    id → count (None: they stay)."""
    report = route_pool(pool, dry_run=True, rules=rules, everything=True)
    counts = Counter({to: n for (_from, to), n in report.routed.items()})
    waiting = LEADS.model.objects.filter(pool_id=pool.pk, owner__isnull=True,
                                         status=LEADS.in_pool_status).count()
    counts[None] = waiting - sum(counts.values())
    return counts
