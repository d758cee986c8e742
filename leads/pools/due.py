"""Due times: ``refresh_due`` keeps each record's recycle deadline and next warning
(indexed columns, swept, never Celery ETAs) up to date whenever a fact the clock reads
changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.utils import timezone

from crm_site.lib.bulk import update_rows

from ..engine import clock
from ..subjects import Subject
from .config import BATCH, clock_rules

FACT_FIELDS = ("pk", "pool_id", "assigned_at", "last_qualified_at", "recycle_grace",
                "status")


def _facts_queryset(subject: Subject):
    return subject.model.objects.values_list(
        *FACT_FIELDS, subject.grade_path, subject.starred_path)


def to_facts(row) -> clock.ClockFacts:
    pk, _pool, assigned, touched, grace, status, grade, starred = row
    return clock.ClockFacts(id=pk, assigned_at=assigned, last_qualified_at=touched,
                            grace=grace or timedelta(0), grade=grade or "",
                            starred=bool(starred), status=status)


def refresh_due(subject: Subject, *, ids: Sequence[int] | None = None,
                pool_id: int | None = None, now: datetime | None = None) -> int:
    """Recompute the recycle due time, firing rule and next warning of owned records.

    Call it whenever something the clock reads changes (assignment, a qualifying
    follow-up, star, grade, an extension, a rule). Either ``ids`` or every owned record
    of ``pool_id``; set-based, in batches. Returns how many rows were written.
    """
    now = now or timezone.now()
    queryset = _facts_queryset(subject).filter(owner__isnull=False,
                                                status__in=subject.open_statuses)
    if ids is not None:
        ids = sorted(set(ids))
        if not ids:
            return 0
        batches = [queryset.filter(pk__in=ids[n:n + BATCH]) for n in range(0, len(ids), BATCH)]
    elif pool_id is not None:
        owned = subject.model.objects.filter(pool_id=pool_id, owner__isnull=False)
        batches = (queryset.filter(pool_id=pool_id, pk__gte=first, pk__lte=last)
                   for first, last in pk_ranges(owned))
    else:
        raise ValueError("refresh_due needs ids or a pool")
    written = 0
    for batch in batches:
        rows = list(batch)
        if not rows:
            continue
        rules = clock_rules({row[1] for row in rows})
        updates = []
        for row in rows:
            decision = clock.due(to_facts(row), rules.get(row[1], ()), now)
            updates.append((row[0], decision.at if decision else None,
                            decision.rule_id if decision else None,
                            decision.warn_at if decision else None))
        written += update_rows(subject.model,
                               ["pk", "recycle_due_at", "recycle_rule", "recycle_warn_at"],
                               updates)
    return written


def pk_ranges(queryset, size: int = BATCH):
    """(first pk, last pk) of consecutive slices of ``size`` rows, by primary key."""
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        pks = list(page.values_list("pk", flat=True)[:size])
        if not pks:
            return
        yield pks[0], pks[-1]
        last = pks[-1]
        if len(pks) < size:
            return


def returned_values(subject: Subject, now: datetime) -> dict:
    """The fields of a record going back to a pool: no owner, no clock, the owner's marks
    cleared, in the pool since now."""
    return {
        "owner": None, "status": subject.in_pool_status, "assigned_at": None,
        "pooled_at": now, "recycle_due_at": None, "recycle_rule": None,
        "recycle_warn_at": None, "recycle_grace": timedelta(0), "clock_paused_at": None,
        **dict(subject.reset_on_return),
    }
