"""Recycling: send due records back to their destination pool (or the dormant
pool) set-based, and reassign records whose first-touch SLA passed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import connection, transaction

from crm_site.lib.bulk import array_literal, insert_select, set_constants, update_and_log
from notifications.kinds import in_languages
from notifications.services import Message, notify_many

from ..engine import clock, strategies
from ..models import LeadEvent, LeadPool, RecycleRule
from ..subjects import Subject
from .candidates import load_candidates, pool_caps
from .claims import cooled_down
from .config import BATCH, RunReport, clock_rules, schedule_arrivals
from .due import refresh_due, returned_values


def dormant_default_pool() -> int | None:
    return (LeadPool.objects.filter(kind=LeadPool.Kind.DORMANT, is_active=True)
            .order_by("pk").values_list("pk", flat=True).first())


def recycle_destination(rule: RecycleRule, pool: LeadPool, dormant_default: int | None
                 ) -> clock.Destination:
    return clock.destination(pool_id=pool.pk, parent_id=pool.parent_id, target=rule.target,
                             target_pool_id=rule.target_pool_id,
                             max_recycles=rule.max_recycles,
                             dormant_pool_id=rule.dormant_pool_id or dormant_default)


def recycle_rows(subject: Subject, due_rows, pools: dict[int, LeadPool], *, now: datetime,
             dry_run: bool, report: RunReport) -> None:
    dormant_default = dormant_default_pool()
    updates, events, told = [], [], defaultdict(list)
    for row, rule in due_rows:
        pk, pool_id = row[0], row[1]
        owner, count, name = row[8], row[9], row[10]
        destination = recycle_destination(rule, pools[pool_id], dormant_default)
        target, dormant = destination.for_count(count)
        report.dormant += dormant
        report.recycled[rule.pk] += 1
        updates.append((pk, target, count + 1))
        events.append((pk, owner, pool_id, target, rule.pk, rule.kind,
                       {"due": row[11].isoformat(), "count": count + 1, "dormant": dormant}))
        told[(owner, rule.pk)].append(name)
    if dry_run:
        return
    _write_recycled(subject, updates, events, now=now)
    names = {r.pk: in_languages(r.name, r.name_en) for _row, r in due_rows}
    notify_many(
        Message(owner, f"{subject.code}_recycled",
                {"count": len(lost), "rule": names[rule_id],
                 "names": "、".join(lost[:3]) + ("…" if len(lost) > 3 else "")},
                key=f"recycled:{subject.code}:{owner}:{rule_id}:{now.isoformat()}")
        for (owner, rule_id), lost in told.items())
    transaction.on_commit(lambda: schedule_arrivals({u[1] for u in updates}))


class _Returned(NamedTuple):
    """The records of one owner that one rule sent back in a batch."""

    owner_id: int
    rule_id: int
    count: int
    names: list[str]  # the first few, oldest deadline first
    dormant: int  # of which went to the dormant pool
    pools: list[int]  # where they went


@dataclass
class _RecycleBatch:
    """What one recycle batch took and did."""

    taken: int = 0  # due records taken (moved or not)
    after: tuple | None = None  # the keyset cursor: the last (due time, id) taken
    stale: list[int] = field(default_factory=list)  # taken, rule no longer applies
    returned: list[_Returned] = field(default_factory=list)


def recycle_due_batches(subject: Subject, rule_ids: list[int], *, pool: LeadPool | None,
                 now: datetime, limit: int | None, report: RunReport) -> None:
    """Recycle what is due, a batch per short transaction, oldest deadline first."""
    rules = {r.pk: r for r in RecycleRule.objects.filter(pk__in=rule_ids, is_active=True)
             .select_related("pool")}
    dormant_default = dormant_default_pool()
    destinations = {(r.pool_id, r.pk): recycle_destination(r, r.pool, dormant_default)
                    for r in rules.values()}
    after, targets = None, set()
    while limit is None or report.moved < limit:
        size = BATCH if limit is None else min(BATCH, limit - report.moved)
        with transaction.atomic():
            batch = _recycle_batch(subject, rule_ids, rules, destinations, pool=pool,
                                   after=after, size=size, now=now)
            if not batch.taken:
                break
            after = batch.after
            for group in batch.returned:
                report.recycled[group.rule_id] += group.count
                report.dormant += group.dormant
                targets.update(group.pools)
            if batch.stale:
                refresh_due(subject, ids=batch.stale, now=now)
            notify_many(
                Message(group.owner_id, f"{subject.code}_recycled",
                        {"count": group.count,
                         "rule": in_languages(rules[group.rule_id].name,
                                              rules[group.rule_id].name_en),
                         "names": "、".join(group.names[:3])
                         + ("…" if group.count > 3 else "")},
                        key=f"recycled:{subject.code}:{group.owner_id}:{group.rule_id}:"
                            f"{now.isoformat()}")
                for group in batch.returned)
        if batch.taken < size:
            break
    if targets:  # once for the whole sweep: the engine's tick covers a sweep cut short
        transaction.on_commit(lambda: schedule_arrivals(targets))


def _recycle_batch(subject: Subject, rule_ids: list[int], rules: dict[int, RecycleRule],
                   destinations: dict[tuple[int, int], clock.Destination], *,
                   pool: LeadPool | None, after: tuple | None, size: int,
                   now: datetime) -> _RecycleBatch:
    """One statement: take the next ``size`` records due under any of ``rule_ids``
    (``SKIP LOCKED``), send those whose rule is active in their pool (``rules``) to their
    destination, write one RECYCLED event each, and say what went where per owner and
    rule, which records were left for their clocks to be recomputed, and where the batch
    ended.

    The destinations (``clock.destination``, worked out per pool and rule) travel as a
    small table of their ``bands``; the statement picks each record's band by its recycle
    count as ``clock.band_for`` does, so the pool and the dormant flag come from the
    Python rule alone. Everything else a record going back takes is ``returned_values``.
    """
    model, events = subject.model, subject.event_model
    quote = connection.ops.quote_name
    table, column = quote(model._meta.db_table), (lambda name: quote(
        model._meta.get_field(name).column))
    bands = [(pool_id, rule_id, ordinal, band)
             for (pool_id, rule_id), destination in destinations.items()
             for ordinal, band in enumerate(destination.bands())]
    plan = [array_literal([pool_id for pool_id, _r, _o, _b in bands]),
            array_literal([rule_id for _p, rule_id, _o, _b in bands]),
            array_literal([ordinal for _p, _r, ordinal, _b in bands]),
            array_literal([band.from_count for _p, _r, _o, band in bands]),
            array_literal([band.pool_id for _p, _r, _o, band in bands]),
            array_literal([band.dormant for _p, _r, _o, band in bands]),
            array_literal([rules[rule_id].kind for _p, rule_id, _o, _b in bands])]
    where = ["t.recycle_due_at <= %s", "t.owner_id IS NOT NULL", "t.clock_paused_at IS NULL",
             "t.status = ANY(%s::text[])", "t.recycle_rule_id = ANY(%s::bigint[])"]
    where_params: list = [now, array_literal(list(subject.open_statuses)),
                          array_literal(rule_ids)]
    if pool is not None:
        where.append("t.pool_id = %s")
        where_params.append(pool.pk)
    if after is not None:
        # The redundant first test lets the index scan start at the cursor.
        where.append("t.recycle_due_at >= %s AND (t.recycle_due_at, t.id) > (%s, %s)")
        where_params += [after[0], after[0], after[1]]
    assignments, set_params = set_constants(model, returned_values(subject, now))
    event_columns, event_select, event_params = insert_select(events, {
        subject.event_fk: "g.id", "from_owner": "g.owner_id", "from_pool": "g.pool_id",
        "to_pool": "g.to_pool", "reason": "g.reason", "rule_id": "g.recycle_rule_id",
        "detail": "jsonb_build_object('due', g.recycle_due_at, 'count', g.recycle_count, "
                  "'dormant', g.dormant)",
    }, {"kind": LeadEvent.Kind.RECYCLED, "actor": None, "created_at": now})
    sql = f"""
        WITH plan AS (
            SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::int[], %s::int[],
                                 %s::bigint[], %s::boolean[], %s::text[])
                AS p(pool_id, rule_id, ordinal, from_count, to_pool, dormant, reason)
        ), due AS (
            SELECT t.id, t.owner_id, t.pool_id, t.recycle_rule_id, t.recycle_count,
                   t.recycle_due_at, t.{column(subject.label_field)} AS label
            FROM {table} t
            WHERE {" AND ".join(where)}
            ORDER BY t.recycle_due_at, t.id
            LIMIT %s
            FOR UPDATE OF t SKIP LOCKED
        ), go AS (
            -- clock.band_for: the last band reached (the first always is).
            SELECT DISTINCT ON (d.id) d.*, p.reason, p.dormant, p.to_pool AS dest_pool
            FROM due d JOIN plan p ON p.pool_id = d.pool_id AND p.rule_id = d.recycle_rule_id
                AND (p.ordinal = 0 OR p.from_count <= d.recycle_count)
            ORDER BY d.id, p.ordinal DESC
        ), moved AS (
            UPDATE {table} t
            SET {column("pool")} = g.dest_pool,
                recycle_count = g.recycle_count + 1, {", ".join(assignments)}
            FROM go g WHERE t.id = g.id
            RETURNING t.id, g.owner_id, g.pool_id, t.{column("pool")} AS to_pool,
                      g.recycle_rule_id, g.reason, g.recycle_due_at, t.recycle_count,
                      g.dormant, g.label
        ), logged AS (
            INSERT INTO {quote(events._meta.db_table)} ({", ".join(event_columns)})
            SELECT {", ".join(event_select)} FROM moved g
        )
        SELECT owner_id, recycle_rule_id, count(*),
               (array_agg(label ORDER BY recycle_due_at, id))[1:3],
               count(*) FILTER (WHERE dormant), array_agg(DISTINCT to_pool),
               NULL::bigint[], NULL::timestamptz, NULL::bigint
        FROM moved GROUP BY owner_id, recycle_rule_id
        UNION ALL
        SELECT NULL, NULL, (SELECT count(*) FROM due), NULL, NULL, NULL,
               (SELECT array_agg(id) FROM due WHERE id NOT IN (SELECT id FROM go)),
               last.recycle_due_at, last.id
        FROM (SELECT recycle_due_at, id FROM due
              ORDER BY recycle_due_at DESC, id DESC LIMIT 1) AS last
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*plan, *where_params, size, *set_params, *event_params])
        rows = cursor.fetchall()
    batch = _RecycleBatch()
    for owner, rule_id, count, names, dormant, pools, stale, last_due, last_id in rows:
        if owner is None:  # the batch's summary row
            batch.taken, batch.stale, batch.after = count, stale or [], (last_due, last_id)
        else:
            batch.returned.append(_Returned(owner, rule_id, count, names, dormant, pools))
    return batch


def _write_recycled(subject: Subject, updates: list[tuple], events: list[tuple], *,
                    now: datetime) -> None:
    """Records back to their pools — ``(pk, pool, recycle count)`` — with their RECYCLED
    events — ``(record, from owner, from pool, to pool, rule, reason, detail)``."""
    update_and_log(subject.model, ["pk", "pool", "recycle_count"], updates,
                   constants=returned_values(subject, now), log_model=subject.event_model,
                   log_names=[subject.event_fk, "from_owner", "from_pool", "to_pool",
                              "rule_id", "reason", "detail"], log_rows=events,
                   log_constants={"kind": LeadEvent.Kind.RECYCLED, "actor": None,
                                  "created_at": now})


def reassign_rows(subject: Subject, due_rows, pools: dict[int, LeadPool], *, now: datetime,
              dry_run: bool, report: RunReport) -> list:
    """First-touch SLA: hand each untouched record to another member of its pool.

    Returns the rows nobody else could take (they go back to the pool instead)."""
    leftover = []
    by_pool: dict[int, list] = defaultdict(list)
    for row, rule in due_rows:
        by_pool[row[1]].append((row, rule))
    for pool_id, entries in by_pool.items():
        pool = pools[pool_id]
        if pool.strategy == LeadPool.Strategy.MANUAL:
            leftover += entries
            continue
        if not dry_run:
            pool = (LeadPool.objects.select_for_update(no_key=True).filter(pk=pool_id)
                    .first()) or pool
        candidates = load_candidates(pool, subject, lock=not dry_run, now=now)
        ids = [row[0] for row, _rule in entries]
        blocked = cooled_down(subject, pool, ids, now)
        items = [strategies.Item(id=row[0], grade=row[6] or "",
                                 blocked=blocked.get(row[0], frozenset()) | {row[8]})
                 for row, _rule in entries]
        outcome = strategies.assign(items, candidates, strategy=pool.strategy,
                                    caps=pool_caps(pool), rr_last_user_id=pool.rr_last_user_id,
                                    pool_region=pool.region,
                                    pool_category=pool.product_category)
        decided = {d.item_id: d for d in outcome.decisions}
        rows_by_id = {row[0]: (row, rule) for row, rule in entries}
        leftover += [rows_by_id[i] for i in outcome.unassigned]
        for decision in outcome.decisions:
            report.reassigned[rows_by_id[decision.item_id][1].pk] += 1
        if dry_run or not decided:
            continue
        rules = clock_rules([pool.pk]).get(pool.pk, ())
        updates, events, notes = [], [], []
        for item_id, decision in decided.items():
            row, rule = rows_by_id[item_id]
            facts = clock.ClockFacts(id=item_id, assigned_at=now, last_qualified_at=row[3],
                                     grade=row[6] or "", status=subject.owned_status)
            due = clock.due(facts, rules, now)
            updates.append((item_id, decision.user_id, due.at if due else None,
                            due.rule_id if due else None, due.warn_at if due else None))
            events.append((item_id, row[8], decision.user_id, rule.pk,
                           {**decision.detail, "sla": rule.name, "sla_en": rule.name_en}))
            notes.append(Message(row[8], "reassigned_away",
                                 {"name": row[10], "rule": in_languages(rule.name, rule.name_en)},
                                 key=f"sla:{subject.code}:{item_id}:{now.isoformat()}"))
        update_and_log(
            subject.model, ["pk", "owner", "recycle_due_at", "recycle_rule", "recycle_warn_at"],
            updates,
            constants={"status": subject.owned_status, "assigned_at": now,
                       "recycle_grace": timedelta(0), "clock_paused_at": None,
                       **dict(subject.reset_on_return)},
            log_model=subject.event_model,
            log_names=[subject.event_fk, "from_owner", "to_owner", "rule_id", "detail"],
            log_rows=events,
            log_constants={"kind": LeadEvent.Kind.TRANSFERRED, "actor": None,
                           "from_pool": pool.pk, "to_pool": pool.pk,
                           "reason": "first_touch_sla", "created_at": now})
        LeadPool.objects.filter(pk=pool.pk).update(rr_last_user_id=outcome.rr_last_user_id)
        notify_many(notes)
    return leftover
