"""The clock at work: stop and restart it for owners on leave, send recycle
warnings, and sweep records whose deadline passed (first-touch SLA and recycle rules).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import F, Q, Value
from django.utils import timezone

from crm_site.lib.bulk import update_rows
from notifications.kinds import in_languages
from notifications.services import Message, notify_many
from orgs.models import Employee

from ..engine import clock
from ..models import LeadPool, RecycleRule
from ..subjects import LEADS, Subject, pool_subjects, subject_for_pool
from .config import BATCH, RunReport, clock_rules, local_text, to_clock_rule
from .due import FACT_FIELDS, refresh_due, to_facts
from .recycle import reassign_rows, recycle_due_batches, recycle_rows


def pause_and_resume(*, now: datetime | None = None) -> RunReport:
    """Stop the clock of records whose owner is on leave; restart it (and push every
    deadline back by the time away) when they return."""
    report = RunReport()
    now = now or timezone.now()
    away = Employee.objects.filter(status=Employee.Status.ON_LEAVE).values("user_id")
    for subject in pool_subjects():
        model = subject.model
        report.paused += model.objects.filter(
            owner_id__in=away, clock_paused_at__isnull=True,
            status__in=subject.open_statuses).update(clock_paused_at=now)
        back = list(model.objects.filter(clock_paused_at__isnull=False)
                    .exclude(owner_id__in=away).values_list("pk", flat=True)[:50_000])
        if back:
            with transaction.atomic():
                model.objects.filter(pk__in=back, clock_paused_at__isnull=False).update(
                    recycle_grace=F("recycle_grace") + (Value(now) - F("clock_paused_at")),
                    clock_paused_at=None)
                refresh_due(subject, ids=back, now=now)
            report.resumed += len(back)
    return report


def warn_due(*, now: datetime | None = None, dry_run: bool = False) -> RunReport:
    """Send owners the warnings that are due, and set each record's next warning."""
    report = RunReport(dry_run=dry_run)
    now = now or timezone.now()
    for subject in pool_subjects():
        while True:
            with transaction.atomic():
                queryset = subject.model.objects.filter(
                    recycle_warn_at__lte=now, owner__isnull=False, clock_paused_at__isnull=True,
                    status__in=subject.open_statuses)
                if not dry_run:
                    queryset = queryset.select_for_update(skip_locked=True, of=("self",))
                rows = list(queryset.order_by("recycle_warn_at").values_list(
                    "pk", "owner_id", "name", "recycle_due_at", "recycle_rule_id",
                    "recycle_warn_at")[:BATCH])
                if not rows:
                    break
                report.warned += len(rows)
                if dry_run:
                    break
                rules = {r.pk: r for r in RecycleRule.objects.filter(
                    pk__in={row[4] for row in rows if row[4]})}
                messages, updates = [], []
                for pk, owner, name, due_at, rule_id, _warn_at in rows:
                    rule = rules.get(rule_id)
                    offsets = to_clock_rule(rule).warn_offsets if rule else ()
                    if due_at is None:
                        updates.append((pk, None))
                        continue
                    updates.append((pk, clock.next_warning(due_at, offsets, now, owed=False)))
                    moment = clock.warning_moment(due_at, offsets, now) or now
                    messages.append(Message(
                        owner, "recycle_warning" if subject is LEADS
                        else f"{subject.code}_recycle_warning",
                        {"name": name, "due": local_text(due_at),
                         "rule": in_languages(rule.name, rule.name_en) if rule else ""},
                        url=subject.url(pk),
                        key=f"warn:{subject.code}:{pk}:{due_at.isoformat()}:{moment.isoformat()}"))
                update_rows(subject.model, ["pk", "recycle_warn_at"], updates)
                notify_many(messages)
            if len(rows) < BATCH:
                break
    return report


SLA_KINDS = (clock.FIRST_TOUCH,)
RECYCLE_KINDS = (clock.NO_FOLLOWUP, clock.NOT_CONVERTED, clock.NO_PROGRESS)


def sweep_due(*, kinds: Sequence[str], now: datetime | None = None, dry_run: bool = False,
              pool: LeadPool | None = None, limit: int | None = None) -> RunReport:
    """Act on owned records whose recycle deadline passed, for rules of ``kinds``.

    Recycling rules send the record to the rule's destination (``clock.destination``: its
    pool, the parent or a chosen pool; the dormant pool past the recycle cap). That runs
    set-based, one statement a batch (``recycle._recycle_batch``), on the stored due times, which
    ``refresh_due`` keeps current whenever a fact the clock reads changes; a record whose
    stored rule no longer applies is left alone and its due time recomputed.

    First-touch SLA rules reassign inside the pool by its strategy (back to the pool when
    nobody else is free or the pool is manual). They, and every dry run, check each due
    record again against its current facts first (a stale due time is corrected, not
    acted on).
    """
    report = RunReport(dry_run=dry_run)
    now = now or timezone.now()
    subjects = [subject_for_pool(pool)] if pool is not None else pool_subjects()
    # The rules by id, not a join on their kind: a join loses the due-time order of the
    # index, and every batch would then sort all the due records (quadratic in a backlog).
    rule_ids = list(RecycleRule.objects.filter(kind__in=list(kinds)).values_list("pk",
                                                                                 flat=True))
    if not rule_ids:
        return report
    for subject in subjects:
        if not dry_run and clock.FIRST_TOUCH not in kinds:
            recycle_due_batches(subject, rule_ids, pool=pool, now=now, limit=limit, report=report)
            continue
        after = None
        while limit is None or report.moved < limit:
            with transaction.atomic():
                queryset = _due_records(subject, rule_ids, pool=pool, after=after, now=now)
                if not dry_run:
                    queryset = queryset.select_for_update(skip_locked=True, of=("self",))
                rows = list(queryset.order_by("recycle_due_at", "pk").values_list(
                    *FACT_FIELDS, subject.grade_path, subject.starred_path, "owner_id",
                    "recycle_count", "name", "recycle_due_at")[:BATCH])
                if not rows:
                    break
                after = (rows[-1][-1], rows[-1][0])
                _act_on_due(subject, rows, now=now, dry_run=dry_run, report=report)
            if len(rows) < BATCH:
                break
    return report


def _due_records(subject: Subject, rule_ids: list[int], *, pool: LeadPool | None,
                 after: tuple | None, now: datetime):
    """Owned records due under one of ``rule_ids`` (clock running), after the keyset
    cursor ``(due time, id)``."""
    queryset = subject.model.objects.filter(
        recycle_due_at__lte=now, owner__isnull=False, clock_paused_at__isnull=True,
        status__in=subject.open_statuses, recycle_rule_id__in=rule_ids)
    if pool is not None:
        queryset = queryset.filter(pool_id=pool.pk)
    if after is not None:
        queryset = queryset.filter(Q(recycle_due_at__gt=after[0])
                                   | Q(recycle_due_at=after[0], pk__gt=after[1]))
    return queryset


def _act_on_due(subject: Subject, rows, *, now: datetime, dry_run: bool,
                report: RunReport) -> None:
    pools = {p.pk: p for p in LeadPool.objects.filter(pk__in={row[1] for row in rows})}
    rules_by_pool = clock_rules(pools)
    rule_rows = {r.pk: r for r in RecycleRule.objects.filter(
        pool_id__in=list(pools), is_active=True)}
    due_now, stale = [], []
    for row in rows:
        facts = to_facts(row[:8])
        decision = clock.due(facts, rules_by_pool.get(row[1], ()), now)
        if decision is not None and decision.at <= now:
            due_now.append((row, rule_rows[decision.rule_id]))
        else:
            stale.append(row[0])
    if stale and not dry_run:
        refresh_due(subject, ids=stale, now=now)
    sla = [(row, rule) for row, rule in due_now if rule.kind == clock.FIRST_TOUCH]
    recycle = [(row, rule) for row, rule in due_now if rule.kind != clock.FIRST_TOUCH]
    back_to_pool = list(recycle)
    if sla:
        back_to_pool += reassign_rows(subject, sla, pools, now=now, dry_run=dry_run, report=report)
    if back_to_pool:
        recycle_rows(subject, back_to_pool, pools, now=now, dry_run=dry_run, report=report)
