"""The rule engine at work: routing, automatic assignment, the first-touch SLA, recycling
and its warnings — for leads and, through the same code, opportunities.

Every function here is safe to run twice at the same moment and while reps click:

* rows are taken with ``SELECT … FOR UPDATE SKIP LOCKED`` in short transactions (one
  batch each), so a second run skips what the first holds, and a killed worker's batch
  is rolled back and simply redone by the next run;
* a pool is assigned by one run at a time (its row is locked, skip-locked), and the
  receiving reps' rows are locked before any lead, in id order — the same order a claim
  takes them — so caps checked here cannot be raced by a claim;
* work is set-based: one statement updates the batch and inserts its events
  (``crm_site.lib.bulk.update_and_log``; a recycle batch also takes its records in the
  same statement, ``_recycle_batch``), each ownership or pool change writing exactly one
  event in the same transaction;
* due times live in indexed columns (``recycle_due_at``, ``recycle_warn_at``) kept up to
  date by ``refresh_due`` whenever a record's facts change, and are swept — no Celery
  ETAs.

The decisions themselves are the plain functions of ``leads.engine``.

Budget: a sweep's batch is ``BATCH`` records, an assignment's ``ASSIGN_BATCH`` — a few
MB of parameters and ~0.15 s (sweep) to ~0.8 s (assignment) of database work on 2 cores.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, F, Q, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_site.lib.bulk import (
    array_literal,
    insert_select,
    set_constants,
    update_and_log,
    update_rows,
)
from notifications.kinds import in_languages
from notifications.kinds import register as register_kind
from notifications.services import Message, notify_many
from orgs.models import DictionaryItem, Employee, Membership
from orgs.rights import Operation

from .engine import clock, routing, strategies
from .models import LeadEvent, LeadPool, PoolMember, RecycleRule, RoutingRule
from .subjects import LEADS, Subject, get_subject, pool_subjects, subject_for_pool

BATCH = 5000
# Assignment takes bigger batches: each one re-reads, under the members' locks, every
# member's load (a count over all their open records, ~60 ms with 500 reps holding
# 100,000 leads), so fewer batches keep that a small share. ~0.8 s a batch on 2 cores,
# during which a member's own claim waits.
ASSIGN_BATCH = 20_000
OVERALL_CAP = getattr(settings, "LEADS_OWNED_CAP_PER_REP", 500)
# Routing re-checks the leads of the last few minutes on every run: a lead written by a
# transaction that committed late (an import batch) may carry an earlier pool-entry time
# than the last run saw.
ROUTING_OVERLAP = timedelta(minutes=5)
# A run of one pool stops starting new batches after this long (the rest waits for the
# next tick), well inside the tasks' time limits.
RUN_SECONDS = 40

register_kind("recycle_warning",
              _("“%(name)s” goes back to the pool on %(due)s (%(rule)s) unless you follow up."),
              icon="bi-hourglass-split")
register_kind("opportunity_recycle_warning",
              _("“%(name)s” goes back to the opportunity pool on %(due)s (%(rule)s) unless "
                "you follow up."),
              icon="bi-hourglass-split")
register_kind("lead_recycled",
              _("%(count)s of your leads went back to the pool (%(rule)s): %(names)s"),
              icon="bi-arrow-counterclockwise")
register_kind("opportunity_recycled",
              _("%(count)s of your opportunities went back to the opportunity pool (%(rule)s): "
                "%(names)s"),
              icon="bi-arrow-counterclockwise")
register_kind("reassigned_away",
              _("“%(name)s” was reassigned to a colleague: it was not contacted in time "
                "(%(rule)s)."),
              icon="bi-arrow-left-right")
register_kind("lead_assigned",
              _("%(count)s new leads were assigned to you from %(pool)s: %(names)s"),
              icon="bi-inbox")
register_kind("opportunity_assigned",
              _("%(count)s opportunities were assigned to you from %(pool)s: %(names)s"),
              icon="bi-inbox")
register_kind("extension_requested",
              _("%(rep)s asks for %(days)s more days on “%(name)s”: %(reason)s"),
              icon="bi-hourglass")
register_kind("extension_approved",
              _("Your request for more time on “%(name)s” was approved: it is now due on "
                "%(due)s. %(note)s"),
              icon="bi-hourglass-bottom")
register_kind("extension_rejected",
              _("Your request for more time on “%(name)s” was rejected. %(note)s"),
              icon="bi-hourglass-bottom")


# --- what a run did ------------------------------------------------------------------------


@dataclass
class RunReport:
    """What one run moved (or, in a dry run, would move)."""

    dry_run: bool = False
    routed: Counter = field(default_factory=Counter)  # (from pool id, to pool id) → n
    assigned: Counter = field(default_factory=Counter)  # (pool id, user id) → n
    reassigned: Counter = field(default_factory=Counter)  # rule id → n
    recycled: Counter = field(default_factory=Counter)  # rule id → n
    dormant: int = 0
    warned: int = 0
    paused: int = 0
    resumed: int = 0
    unassigned: Counter = field(default_factory=Counter)  # pool id → waiting, nobody free
    skipped_pools: list[int] = field(default_factory=list)  # busy with another run

    def merge(self, other: RunReport) -> RunReport:
        for name in ("routed", "assigned", "reassigned", "recycled", "unassigned"):
            getattr(self, name).update(getattr(other, name))
        self.dormant += other.dormant
        self.warned += other.warned
        self.paused += other.paused
        self.resumed += other.resumed
        self.skipped_pools += other.skipped_pools
        return self

    @property
    def moved(self) -> int:
        return (sum(self.routed.values()) + sum(self.assigned.values())
                + sum(self.reassigned.values()) + sum(self.recycled.values()))


# --- configuration ---------------------------------------------------------------------------


def clock_rules(pool_ids: Iterable[int], *, kinds: Iterable[str] | None = None
                ) -> dict[int, list[clock.ClockRule]]:
    """The active recycle rules of each pool, as the clock reads them (one query)."""
    rules: dict[int, list[clock.ClockRule]] = defaultdict(list)
    queryset = RecycleRule.objects.filter(pool_id__in=list(pool_ids), is_active=True)
    if kinds is not None:
        queryset = queryset.filter(kind__in=list(kinds))
    for rule in queryset.order_by("order", "pk"):
        rules[rule.pool_id].append(to_clock_rule(rule))
    return rules


def to_clock_rule(rule: RecycleRule) -> clock.ClockRule:
    unit = timedelta(hours=1) if rule.unit == RecycleRule.Unit.HOURS else timedelta(days=1)
    offsets = []
    for hours in rule.warn_offsets or []:
        try:
            offsets.append(timedelta(hours=float(hours)))
        except (TypeError, ValueError):
            continue
    return clock.ClockRule(
        id=rule.pk or 0, kind=rule.kind, period=unit * rule.threshold,
        exclude_grades=frozenset(rule.exclude_grades or ()),
        exclude_starred=rule.exclude_starred,
        exclude_statuses=frozenset(rule.exclude_statuses or ()),
        warn_offsets=tuple(sorted(offsets, reverse=True)), order=rule.order,
    )


def grade_caps() -> dict[str, int]:
    """Most records of each grade one rep may hold (``cap_per_rep`` in the grade dictionary)."""
    caps = {}
    for code, extra in DictionaryItem.objects.active().of("customer_grade").values_list(
            "code", "extra"):
        cap = (extra or {}).get("cap_per_rep")
        if isinstance(cap, int) and cap >= 0:
            caps[code] = cap
    return caps


def followup_qualifies(pool: LeadPool, *, kind: str, outcome: str, content: str) -> bool:
    """Whether a follow-up counts as contact for ``pool``'s recycle clock."""
    return clock.qualifies(kind=kind, outcome=outcome, content=content,
                           types=pool.qualifying_types or (),
                           outcomes=pool.qualifying_outcomes or (),
                           min_length=pool.qualifying_min_length)


# --- keeping due times up to date ----------------------------------------------------------


_FACT_FIELDS = ("pk", "pool_id", "assigned_at", "last_qualified_at", "recycle_grace",
                "status")


def _facts_queryset(subject: Subject):
    return subject.model.objects.values_list(
        *_FACT_FIELDS, subject.grade_path, subject.starred_path)


def _to_facts(row) -> clock.ClockFacts:
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
                   for first, last in _pk_ranges(owned))
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
            decision = clock.due(_to_facts(row), rules.get(row[1], ()), now)
            updates.append((row[0], decision.at if decision else None,
                            decision.rule_id if decision else None,
                            decision.warn_at if decision else None))
        written += update_rows(subject.model,
                               ["pk", "recycle_due_at", "recycle_rule", "recycle_warn_at"],
                               updates)
    return written


def _pk_ranges(queryset, size: int = BATCH):
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


# --- candidates --------------------------------------------------------------------------------


def pool_claimer_ids(pool: LeadPool) -> list[int]:
    """Users who may claim from ``pool`` (for pools without an explicit member list)."""
    from .permissions import claimer_ids

    return sorted(claimer_ids([pool])[pool.pk])


def _roster(pool: LeadPool) -> list[PoolMember]:
    """The pool's member list; without one, the reps who may claim from the pool (people
    whose roles open no manager page: managers and directors are not handed leads)."""
    members = list(pool.members.all())
    if members:
        return members
    from orgs.rights import Entry
    from orgs.selectors import rights_for

    users = get_user_model().objects.filter(pk__in=pool_claimer_ids(pool))
    return [PoolMember(pool=pool, user_id=u.pk) for u in users
            if not rights_for(u).opens(Entry.MANAGER_HOME)]


def _weights(pool: LeadPool, members: list[PoolMember], now: datetime) -> dict[int, int]:
    if pool.strategy != LeadPool.Strategy.WEIGHTED or pool.weight_source == "configured":
        return {m.user_id: m.weight for m in members}
    from .weights import scores

    return strategies.weights_from_scores(
        scores(pool.weight_source, [m.user_id for m in members], since=now - timedelta(days=30)))


@dataclass(frozen=True)
class Roster:
    """Who receives a pool's leads and with what weight: read once per run."""

    members: list[PoolMember]
    weights: dict[int, int]


def read_roster(pool: LeadPool, now: datetime) -> Roster:
    members = _roster(pool)
    return Roster(members, _weights(pool, members, now) if members else {})


def load_candidates(pool: LeadPool, subject: Subject, *, lock: bool, now: datetime,
                    roster: Roster | None = None) -> list[strategies.Candidate]:
    """The pool's members with their availability and current loads.

    With ``lock`` the members' user rows are locked first (id order), as a claim locks its
    claimer, so that loads cannot change under the decision. ``roster`` is the run's
    (read here when not given); loads and availability are always read afresh.
    """
    roster = roster or read_roster(pool, now)
    weights, members = roster.weights, roster.members
    user_ids = sorted({m.user_id for m in members})
    if not user_ids:
        return []
    if lock:
        # The same lock, in the same (id) order, a claim takes on its claimer; NO KEY
        # UPDATE so that events and notifications pointing at these users never wait on it.
        list(get_user_model().objects.select_for_update(no_key=True).filter(pk__in=user_ids)
             .order_by("pk").values_list("pk", flat=True))
    available = set(
        Employee.objects.filter(user_id__in=user_ids, status=Employee.Status.ACTIVE,
                                user__is_active=True).values_list("user_id", flat=True))
    caps = grade_caps()
    loads = subject.model.objects.filter(owner_id__in=user_ids,
                                         status__in=subject.open_statuses)
    # Both loads in one pass over the members' open records.
    totals, in_pool = {}, {}
    for owner, total, here in (loads.values_list("owner_id")
                               .annotate(n=Count("pk"), here=Count("pk", filter=Q(
                                   pool_id=pool.pk)))
                               .values_list("owner_id", "n", "here")):
        totals[owner], in_pool[owner] = total, here
    by_grade: dict[int, dict[str, int]] = defaultdict(dict)
    if caps:
        for owner, grade, n in (loads.filter(**{f"{subject.grade_path}__in": list(caps)})
                                .values_list("owner_id", subject.grade_path)
                                .annotate(n=Count("pk"))
                                .values_list("owner_id", subject.grade_path, "n")):
            by_grade[owner][grade] = n
    return [
        strategies.Candidate(
            user_id=m.user_id, weight=weights.get(m.user_id, m.weight),
            swrr_current=m.swrr_current, open_total=totals.get(m.user_id, 0),
            open_in_pool=in_pool.get(m.user_id, 0), open_by_grade=by_grade.get(m.user_id, {}),
            regions=frozenset(m.regions or ()), categories=frozenset(m.categories or ()),
            available=m.is_active and m.user_id in available,
        )
        for m in members
    ]


def pool_caps(pool: LeadPool) -> strategies.Caps:
    return strategies.Caps(pool_cap=pool.owned_cap, overall_cap=OVERALL_CAP,
                           grade_caps=grade_caps())


def cooled_down(subject: Subject, pool: LeadPool, ids: Sequence[int],
                now: datetime) -> dict[int, frozenset[int]]:
    """For each record, the users who lost it within the pool's cool-down (one query)."""
    if not pool.cooldown_days or not ids:
        return {}
    since = now - timedelta(days=pool.cooldown_days)
    blocked: dict[int, set[int]] = defaultdict(set)
    # One array parameter: the ORM's IN list of a batch's 5,000 ids cost more to build
    # than the query took to run.
    model = subject.event_model
    record = model._meta.get_field(subject.event_fk).column
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {record}, from_owner_id FROM {model._meta.db_table} "
            f"WHERE {record} = ANY(%s::bigint[]) AND created_at >= %s "
            "AND kind = ANY(%s::text[]) AND from_owner_id IS NOT NULL",
            [array_literal(ids), since, array_literal(list(LeadEvent.LOSING))])
        rows = cursor.fetchall()
    for record, user in rows:
        blocked[record].add(user)
    return {record: frozenset(users) for record, users in blocked.items()}


# --- assignment ----------------------------------------------------------------------------


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


# --- routing -----------------------------------------------------------------------------------


def route_rules(pool: LeadPool, rules: Iterable[RoutingRule] | None = None
                ) -> list[routing.RouteRule]:
    if rules is None:
        rules = RoutingRule.objects.filter(source_pool=pool, is_active=True).order_by(
            "order", "pk")
    return [
        routing.RouteRule(
            id=r.pk or 0, target_pool_id=r.target_pool_id,
            regions=frozenset(r.regions or ()),
            product_categories=frozenset(r.product_categories or ()),
            channels=frozenset(r.channels or ()),
            customer_sizes=frozenset(r.customer_sizes or ()),
            attribute_conditions=tuple(
                (str(c.get("key", "")), str(c.get("op", "equals")), c.get("value"))
                for c in (r.attribute_conditions or []) if isinstance(c, dict)),
        )
        for r in rules
    ]


def route_pool(pool: LeadPool, *, dry_run: bool = False, rules=None, actor=None,
               now: datetime | None = None, everything: bool = False) -> RunReport:
    """Move the pool's waiting leads into sub-pools by its routing rules (first match wins,
    else the default sub-pool, else they wait here to be routed by hand).

    Only leads that entered the pool since the last run (minus a small overlap) are
    looked at, unless ``everything`` (a preview, or rules just changed). ``rules`` lets a
    preview try rules that are not saved yet.
    """
    report = RunReport(dry_run=dry_run)
    if pool.kind == LeadPool.Kind.OPPORTUNITY or not pool.is_active:
        return report
    compiled = route_rules(pool, rules)
    default = pool.default_route_pool_id
    if not compiled and default is None:
        return report
    now = now or timezone.now()
    checked = LeadPool.objects.filter(pk=pool.pk).values_list("routed_until", flat=True).first()
    since = None if (everything or checked is None) else checked - ROUTING_OVERLAP
    after = None
    while True:
        with transaction.atomic():
            queryset = LEADS.model.objects.filter(pool_id=pool.pk, owner__isnull=True,
                                                  status=LEADS.in_pool_status)
            if since is not None:
                queryset = queryset.filter(pooled_at__gte=since)
            if after is not None:
                queryset = queryset.filter(Q(pooled_at__gt=after[0])
                                           | Q(pooled_at=after[0], pk__gt=after[1]))
            if not dry_run:
                queryset = queryset.select_for_update(skip_locked=True, of=("self",))
            rows = list(queryset.order_by("pooled_at", "pk").values_list(
                "pk", "region", "product_category", "channel", "customer_size", "attributes",
                "pooled_at")[:BATCH])
            decisions = routing.route_all(
                (routing.RouteFacts(id=r[0], region=r[1], product_category=r[2], channel=r[3],
                                    customer_size=r[4], attributes=r[5] or {}) for r in rows),
                compiled, default)
            decisions = [d for d in decisions if d.target_pool_id != pool.pk]
            for decision in decisions:
                report.routed[(pool.pk, decision.target_pool_id)] += 1
            if decisions and not dry_run:
                update_and_log(
                    LEADS.model, ["pk", "pool"],
                    [(d.lead_id, d.target_pool_id) for d in decisions],
                    constants={"pooled_at": now}, log_model=LeadEvent,
                    log_names=["lead", "to_pool", "rule_id", "reason"],
                    log_rows=[(d.lead_id, d.target_pool_id, d.rule_id,
                               "routing_rule" if d.rule_id else "default_route")
                              for d in decisions],
                    log_constants={"kind": LeadEvent.Kind.ROUTED,
                                   "actor": getattr(actor, "pk", None), "from_pool": pool.pk,
                                   "created_at": now})
        if rows:
            after = (rows[-1][6], rows[-1][0])
        if len(rows) < BATCH:
            break
    if not dry_run:
        LeadPool.objects.filter(pk=pool.pk).update(routed_until=now)
        pool.routed_until = now
    return report


class RoutingRefused(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def lead_route(*, lead_ids: Sequence[int], to_pool: LeadPool, actor) -> int:
    """Marketing routes waiting leads by hand into a sub-pool (one ROUTED event each)."""
    from orgs.selectors import rights_for

    from .permissions import pool_allows

    if not rights_for(actor).can(Operation.ROUTE):
        raise RoutingRefused(_("Your roles do not allow routing leads."))
    if to_pool.kind not in (LeadPool.Kind.SUB, LeadPool.Kind.DORMANT) or not to_pool.is_active:
        raise RoutingRefused(_("Leads can only be routed into an active sub-pool."))
    now = timezone.now()
    with transaction.atomic():
        leads = list(LEADS.model.objects.select_for_update(of=("self",))
                     .select_related("pool").filter(pk__in=list(lead_ids), owner__isnull=True,
                                                    status=LEADS.in_pool_status)
                     .order_by("pk"))
        for source in {lead.pool for lead in leads}:
            if not (pool_allows(actor, source, "manage_pool")
                    or pool_allows(actor, source, "assign_from_pool")):
                raise RoutingRefused(_("You may not route leads out of %(pool)s.")
                                     % {"pool": source.display_name})
        moving = [lead for lead in leads if lead.pool_id != to_pool.pk]
        update_and_log(LEADS.model, ["pk", "pool"],
                       [(lead.pk, to_pool.pk) for lead in moving], constants={"pooled_at": now},
                       log_model=LeadEvent, log_names=["lead", "from_pool"],
                       log_rows=[(lead.pk, lead.pool_id) for lead in moving],
                       log_constants={"kind": LeadEvent.Kind.ROUTED, "actor": actor.pk,
                                      "to_pool": to_pool.pk, "reason": "manual",
                                      "created_at": now})
    if moving:
        transaction.on_commit(lambda: schedule_arrivals([to_pool.pk]))
    return len(moving)


# --- the clock: pause, resume, warnings, due sweeps ------------------------------------------


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


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


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
                        {"name": name, "due": _local(due_at),
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
    set-based, one statement a batch (``_recycle_batch``), on the stored due times, which
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
            _recycle_due(subject, rule_ids, pool=pool, now=now, limit=limit, report=report)
            continue
        after = None
        while limit is None or report.moved < limit:
            with transaction.atomic():
                queryset = _due_records(subject, rule_ids, pool=pool, after=after, now=now)
                if not dry_run:
                    queryset = queryset.select_for_update(skip_locked=True, of=("self",))
                rows = list(queryset.order_by("recycle_due_at", "pk").values_list(
                    *_FACT_FIELDS, subject.grade_path, subject.starred_path, "owner_id",
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
        facts = _to_facts(row[:8])
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
        back_to_pool += _reassign(subject, sla, pools, now=now, dry_run=dry_run, report=report)
    if back_to_pool:
        _recycle(subject, back_to_pool, pools, now=now, dry_run=dry_run, report=report)


def _dormant_default() -> int | None:
    return (LeadPool.objects.filter(kind=LeadPool.Kind.DORMANT, is_active=True)
            .order_by("pk").values_list("pk", flat=True).first())


def _destination(rule: RecycleRule, pool: LeadPool, dormant_default: int | None
                 ) -> clock.Destination:
    return clock.destination(pool_id=pool.pk, parent_id=pool.parent_id, target=rule.target,
                             target_pool_id=rule.target_pool_id,
                             max_recycles=rule.max_recycles,
                             dormant_pool_id=rule.dormant_pool_id or dormant_default)


def _recycle(subject: Subject, due_rows, pools: dict[int, LeadPool], *, now: datetime,
             dry_run: bool, report: RunReport) -> None:
    dormant_default = _dormant_default()
    updates, events, told = [], [], defaultdict(list)
    for row, rule in due_rows:
        pk, pool_id = row[0], row[1]
        owner, count, name = row[8], row[9], row[10]
        target, dormant = _destination(rule, pools[pool_id], dormant_default).for_count(count)
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


def _recycle_due(subject: Subject, rule_ids: list[int], *, pool: LeadPool | None,
                 now: datetime, limit: int | None, report: RunReport) -> None:
    """Recycle what is due, a batch per short transaction, oldest deadline first."""
    rules = {r.pk: r for r in RecycleRule.objects.filter(pk__in=rule_ids, is_active=True)
             .select_related("pool")}
    dormant_default = _dormant_default()
    destinations = {(r.pool_id, r.pk): _destination(r, r.pool, dormant_default)
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
    small table; the statement applies ``Destination.for_count`` to each record's recycle
    count. Everything else a record going back takes is ``returned_values``.
    """
    model, events = subject.model, subject.event_model
    quote = connection.ops.quote_name
    table, column = quote(model._meta.db_table), (lambda name: quote(
        model._meta.get_field(name).column))
    keys = list(destinations)
    plan = [array_literal([pool_id for pool_id, _rule in keys]),
            array_literal([rule_id for _pool, rule_id in keys]),
            array_literal([destinations[key].pool_id for key in keys]),
            array_literal([destinations[key].dormant_after for key in keys]),
            array_literal([destinations[key].dormant_pool_id for key in keys]),
            array_literal([rules[rule_id].kind for _pool, rule_id in keys])]
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
            SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::int[],
                                 %s::bigint[], %s::text[])
                AS p(pool_id, rule_id, back_to, dormant_after, dormant_pool, reason)
        ), due AS (
            SELECT t.id, t.owner_id, t.pool_id, t.recycle_rule_id, t.recycle_count,
                   t.recycle_due_at, t.{column(subject.label_field)} AS label
            FROM {table} t
            WHERE {" AND ".join(where)}
            ORDER BY t.recycle_due_at, t.id
            LIMIT %s
            FOR UPDATE OF t SKIP LOCKED
        ), go AS (
            SELECT d.*, p.reason,
                   (p.dormant_after IS NOT NULL AND p.dormant_pool IS NOT NULL
                    AND d.recycle_count + 1 > p.dormant_after) AS dormant,
                   p.back_to, p.dormant_pool
            FROM due d JOIN plan p ON p.pool_id = d.pool_id AND p.rule_id = d.recycle_rule_id
        ), moved AS (
            UPDATE {table} t
            SET {column("pool")} = CASE WHEN g.dormant THEN g.dormant_pool ELSE g.back_to END,
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


def _reassign(subject: Subject, due_rows, pools: dict[int, LeadPool], *, now: datetime,
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


# --- one whole run ---------------------------------------------------------------------------


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


def schedule_arrivals(pool_ids: Iterable[int]) -> None:
    """Records entered these pools: route and assign them now (a Celery task after
    commit)."""
    from .tasks import pool_arrivals

    for pool_id in sorted(set(pool_ids)):
        pool_arrivals.delay(pool_id)


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


__all__ = [
    "RunReport", "assign_pool", "clock_rules", "followup_qualifies",
    "handle_arrivals", "lead_route", "recycle_run", "refresh_due", "route_pool", "run_all",
    "schedule_arrivals", "simulate_next", "sweep_due", "tick", "warn_due",
]



# --- previews ----------------------------------------------------------------------------------


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
    for first, last in _pk_ranges(owned):
        rows = list(owned.filter(pk__gte=first, pk__lte=last).values_list(
            *_FACT_FIELDS, subject.grade_path, subject.starred_path, "owner_id", "name",
            "clock_paused_at"))
        for row in rows:
            checked += 1
            owner = row[8]
            stats = per_rep.setdefault(owner, {"now": 0, "soon": 0, "held": 0})
            stats["held"] += 1
            if row[10] is not None:  # the owner is on leave: the clock stands still
                continue
            decision = clock.due(_to_facts(row[:8]), compiled, now)
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


# --- extension requests --------------------------------------------------------------------


class ExtensionRefused(Exception):
    def __init__(self, message, code="refused"):
        super().__init__(message)
        self.message = message
        self.code = code


def _approvers(owner_id: int) -> list[int]:
    """Who is told about a rep's request: their supervisor and the managers of their units."""
    employee = Employee.objects.filter(user_id=owner_id).select_related(
        "supervisor").first()
    if employee is None:
        return []
    found = set()
    if employee.supervisor_id:
        found.add(employee.supervisor.user_id)
    units = Membership.objects.filter(employee=employee).values("org_unit_id")
    found |= set(Membership.objects.filter(org_unit_id__in=units, position__is_manager=True)
                 .values_list("employee__user_id", flat=True))
    found.discard(owner_id)
    return sorted(found)


def extension_request(*, subject: Subject, record_id: int, user, reason: str):
    """The owner asks once for more time before a record is recycled."""
    from .models import ExtensionRequest

    reason = (reason or "").strip()
    if clock.meaningful_length(reason) < 4:
        raise ExtensionRefused(_("Say why you need more time."), "invalid")
    with transaction.atomic():
        record = (subject.model.objects.select_for_update(of=("self",))
                  .select_related("pool").filter(pk=record_id).first())
        if record is None or record.owner_id != user.pk or record.status not in (
                subject.open_statuses):
            raise ExtensionRefused(_("Only the owner can ask for more time."), "not_owner")
        if record.recycle_due_at is None:
            raise ExtensionRefused(_("No rule will recycle this record; there is nothing to "
                                     "extend."), "not_due")
        fk = {subject.event_fk: record}
        if ExtensionRequest.objects.filter(**fk, requested_by=user).exists():
            raise ExtensionRefused(_("You have already asked for more time on this record; "
                                     "one request per record."), "already")
        request = ExtensionRequest.objects.create(
            **fk, requested_by=user, reason=reason, days=record.pool.extension_days,
            due_before=record.recycle_due_at)
        employee = Employee.objects.filter(user_id=user.pk).first()
        rep = employee.display_name if employee else user.get_username()
        notify_many(Message(approver, "extension_requested",
                            {"rep": rep, "days": request.days, "name": record.name,
                             "reason": reason[:120]},
                            url="/leads/extensions/", key=f"ext:{request.pk}")
                    for approver in _approvers(user.pk))
    return request


def extension_decide(*, request_id: int, user, approve: bool, note: str = ""):
    """A manager whose scope covers the owner approves (the deadline moves back by the
    pool's extension) or rejects; a request is decided once, whoever clicks first."""
    from orgs.selectors import data_scope_for, rights_for

    from .models import ExtensionRequest

    if not rights_for(user).can(Operation.APPROVE):
        raise ExtensionRefused(_("Your roles do not allow approving requests."), "forbidden")
    with transaction.atomic():
        request = (ExtensionRequest.objects.select_for_update()
                   .filter(pk=request_id).first())
        if request is None or not data_scope_for(user).users().filter(
                pk=request.requested_by_id).exists() or request.requested_by_id == user.pk:
            raise ExtensionRefused(_("This request is not yours to decide."), "forbidden")
        if request.status != ExtensionRequest.Status.PENDING:
            raise ExtensionRefused(_("This request was already decided."), "decided")
        request.status = (ExtensionRequest.Status.APPROVED if approve
                          else ExtensionRequest.Status.REJECTED)
        request.decided_by, request.decided_at = user, timezone.now()
        request.decision_note = (note or "").strip()
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        subject = LEADS if request.lead_id else get_subject("opportunity")
        record_id = request.lead_id or request.opportunity_id
        record = subject.model.objects.select_for_update(of=("self",)).get(pk=record_id)
        if approve and record.owner_id == request.requested_by_id:
            subject.model.objects.filter(pk=record_id).update(
                recycle_grace=F("recycle_grace") + timedelta(days=request.days))
            refresh_due(subject, ids=[record_id])
            record.refresh_from_db(fields=["recycle_due_at"])
        due = _local(record.recycle_due_at) if record.recycle_due_at else "—"
        notify_many([Message(
            request.requested_by_id, "extension_approved" if approve else "extension_rejected",
            {"name": record.name, "due": due, "note": request.decision_note},
            url=subject.url(record_id), key=f"ext-decided:{request.pk}")])
    return request
