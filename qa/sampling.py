"""The nightly inspection queue: which follow-ups each plan samples, and who inspects them.

``queue_fill(day=…)`` runs every active plan over one day's follow-ups (a weekly plan over
its week so far) and queues:

- a share of each rep's follow-ups, at least ``min_per_rep`` per rep and period, chosen at
  random but reproducibly: follow-ups are ranked by ``md5(plan, period start, id)``, so
  the same day always gives the same sample, and a weekly plan tops up the same ranking;
- every follow-up that hit a sensitive word;
- every follow-up on an opportunity that was lost that day;
- the last follow-ups a rep wrote on a lead before it was recycled that day.

Safe to run twice, even at once: the whole fill is one transaction under a
transaction-level advisory lock per day (a second run waits, then finds every follow-up
queued), and a follow-up can queue only once (unique) — inserts use ``ON CONFLICT DO
NOTHING``. Items go round-robin to the plan's inspectors, skipping the rep and anyone in
the rep's chain of supervisors.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.utils import timezone

from leads.models import FollowUp, LeadEvent
from opportunities.models import Opportunity
from orgs.models import Employee, Membership, OrgUnit, Role
from orgs.rights import Operation
from orgs.selectors import holders_of_role

from .models import InspectionPlan, QAEvent, QueueItem, SensitiveHit

QUEUE_LOCK = 0x51A_0000  # + the day's ordinal: one fill per day at a time
# Priority when one follow-up qualifies for several reasons.
_PRIORITY = [QueueItem.Reason.HIT, QueueItem.Reason.LOST, QueueItem.Reason.RECYCLE,
             QueueItem.Reason.SAMPLE]


@dataclass
class FillReport:
    day: date
    queued: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unassigned: int = 0  # no eligible inspector

    @property
    def total(self) -> int:
        return sum(self.queued.values())


def _bounds(day: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, start + timedelta(days=1)


def period_start(plan: InspectionPlan, day: date) -> date:
    return day - timedelta(days=day.weekday()) if plan.period == plan.Period.WEEK else day


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _scope_sql(plan: InspectionPlan, unit_paths: list[str]) -> tuple[str, list]:
    """Conditions on ``f`` (a follow-up): its type and its author's org units."""
    where, params = [], []
    if plan.followup_types:
        where.append("f.kind = ANY(%s)")
        params.append(list(plan.followup_types))
    if unit_paths:
        where.append(f"""f.author_id IN (
            SELECT e.user_id FROM {_table(Employee)} e
            JOIN {_table(Membership)} m ON m.employee_id = e.id
            JOIN {_table(OrgUnit)} u ON u.id = m.org_unit_id
            WHERE u.path LIKE ANY(%s))""")
        params.append([path + "%" for path in unit_paths])
    return (" AND " + " AND ".join(where)) if where else "", params


def _sample(plan, day: date, scope: str, scope_params: list, taken: list[int]
            ) -> list[tuple[int, int]]:
    """``(follow-up, rep)`` of the share sampled for ``day`` (reproducible per plan/period),
    beside ``taken`` (queued for another reason: they do not use up the rep's share)."""
    first = period_start(plan, day)
    start, _ = _bounds(first)
    _, end = _bounds(day)
    sql = f"""
        WITH cand AS (
            SELECT f.id, f.author_id, md5(%s || f.id::text) AS rank_key,
                   count(*) OVER (PARTITION BY f.author_id) AS written
            FROM {_table(FollowUp)} f
            WHERE f.created_at >= %s AND f.created_at < %s {scope}
        ), already AS (
            SELECT q.rep_id, count(*) AS taken FROM {_table(QueueItem)} q
            WHERE q.plan_id = %s AND q.reason = 'sample' AND q.day >= %s AND q.day <= %s
            GROUP BY q.rep_id
        ), ranked AS (
            SELECT c.*, row_number() OVER (PARTITION BY c.author_id ORDER BY c.rank_key) AS n
            FROM cand c
            WHERE NOT EXISTS (SELECT 1 FROM {_table(QueueItem)} q WHERE q.followup_id = c.id)
              AND NOT (c.id = ANY(%s::bigint[]))
        )
        SELECT r.id, r.author_id FROM ranked r LEFT JOIN already a ON a.rep_id = r.author_id
        WHERE r.n <= GREATEST(ceil(r.written * %s / 100.0), LEAST(%s, r.written))
                     - COALESCE(a.taken, 0)
    """
    seed = f"{plan.pk}:{first.isoformat()}:"
    params = [seed, start, end, *scope_params, plan.pk, first, day, taken, plan.share_percent,
              plan.min_per_rep]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _hits(day: date, scope: str, scope_params: list) -> list[tuple[int, int]]:
    start, end = _bounds(day)
    sql = f"""
        SELECT f.id, f.author_id FROM {_table(FollowUp)} f
        WHERE f.created_at >= %s AND f.created_at < %s {scope}
          AND EXISTS (SELECT 1 FROM {_table(SensitiveHit)} h WHERE h.followup_id = f.id)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [start, end, *scope_params])
        return cursor.fetchall()


def _lost(day: date, scope: str, scope_params: list) -> list[tuple[int, int]]:
    start, end = _bounds(day)
    sql = f"""
        SELECT f.id, f.author_id FROM {_table(FollowUp)} f
        JOIN {_table(Opportunity)} o ON o.id = f.opportunity_id
        WHERE o.status = %s AND o.closed_at >= %s AND o.closed_at < %s {scope}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [Opportunity.Status.LOST, start, end, *scope_params])
        return cursor.fetchall()


def _before_recycle(plan, day: date, scope: str, scope_params: list) -> list[tuple[int, int]]:
    if not plan.before_recycle:
        return []
    start, end = _bounds(day)
    sql = f"""
        WITH recycled AS (
            SELECT DISTINCT ev.lead_id, ev.from_owner_id, ev.created_at
            FROM {_table(LeadEvent)} ev
            WHERE ev.kind = %s AND ev.created_at >= %s AND ev.created_at < %s
              AND ev.from_owner_id IS NOT NULL
        ), last AS (
            SELECT f.id, f.author_id,
                   row_number() OVER (PARTITION BY r.lead_id, r.created_at
                                      ORDER BY f.created_at DESC, f.id DESC) AS n
            FROM recycled r JOIN {_table(FollowUp)} f
              ON f.lead_id = r.lead_id AND f.author_id = r.from_owner_id
                 AND f.created_at <= r.created_at
            WHERE TRUE {scope}
        )
        SELECT id, author_id FROM last WHERE n <= %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [LeadEvent.Kind.RECYCLED, start, end, *scope_params,
                             plan.before_recycle])
        return cursor.fetchall()


def inspector_ids(plan: InspectionPlan) -> list[int]:
    """The plan's inspectors, or everyone active who holds the inspect right."""
    chosen = list(plan.inspectors.filter(is_active=True).order_by("pk")
                  .values_list("pk", flat=True))
    if chosen:
        return chosen
    found: set[int] = set()
    for role in Role.objects.filter(is_active=True, operations__contains=[Operation.INSPECT]):
        found.update(holders_of_role(role).filter(user__is_active=True, status="active")
                     .values_list("user_id", flat=True))
    return sorted(found)


def supervisor_chains(user_ids) -> dict[int, set[int]]:
    """For each rep (user id), the user ids of every supervisor above them (one query)."""
    table = _table(Employee)
    sql = f"""
        WITH RECURSIVE chain(rep_user, sup_id, depth) AS (
            SELECT e.user_id, e.supervisor_id, 1 FROM {table} e
            WHERE e.user_id = ANY(%s) AND e.supervisor_id IS NOT NULL
            UNION
            SELECT c.rep_user, s.supervisor_id, c.depth + 1 FROM chain c
            JOIN {table} s ON s.id = c.sup_id
            WHERE s.supervisor_id IS NOT NULL AND c.depth < 50
        )
        SELECT c.rep_user, s.user_id FROM chain c JOIN {table} s ON s.id = c.sup_id
    """
    chains: dict[int, set[int]] = defaultdict(set)
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(user_ids)])
        for rep, boss in cursor.fetchall():
            chains[rep].add(boss)
    return chains


def round_robin(items: list[tuple[int, int]], inspectors: list[int],
                chains: dict[int, set[int]], start: int = 0) -> dict[int, int | None]:
    """Assign ``(follow-up, rep)`` items to inspectors in turn, from ``start``, skipping an
    inspector who is the rep or above the rep; ``None`` when nobody is eligible.
    Pure: the same input gives the same assignment."""
    assigned: dict[int, int | None] = {}
    if not inspectors:
        return {followup: None for followup, _rep in items}
    pointer = start % len(inspectors)
    for followup, rep in items:
        blocked = chains.get(rep, set()) | {rep}
        chosen = None
        for step in range(len(inspectors)):
            candidate = inspectors[(pointer + step) % len(inspectors)]
            if candidate not in blocked:
                chosen = candidate
                pointer = (pointer + step + 1) % len(inspectors)
                break
        assigned[followup] = chosen
    return assigned


def _teams(rep_ids) -> dict[int, int]:
    teams = {}
    for user_id, unit_id in (Membership.objects.filter(employee__user_id__in=list(rep_ids))
                             .order_by("-is_primary", "pk")
                             .values_list("employee__user_id", "org_unit_id")):
        teams.setdefault(user_id, unit_id)
    return teams


def _categories(followup_ids) -> dict[int, list[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for followup, category in (SensitiveHit.objects.filter(followup_id__in=list(followup_ids))
                               .values_list("followup_id", "category")):
        if category:
            found[followup].add(category)
    return {key: sorted(value) for key, value in found.items()}


def fill_plan(plan: InspectionPlan, day: date, report: FillReport, *, now: datetime) -> None:
    units = list(plan.org_units.values_list("path", flat=True))
    scope, params = _scope_sql(plan, units)
    chosen: dict[int, tuple[int, str]] = {}
    sources = {
        QueueItem.Reason.HIT: _hits(day, scope, params) if plan.include_hits else [],
        QueueItem.Reason.LOST: _lost(day, scope, params) if plan.include_lost else [],
        QueueItem.Reason.RECYCLE: _before_recycle(plan, day, scope, params),
    }
    taken = sorted({f for rows in sources.values() for f, _rep in rows})
    sources[QueueItem.Reason.SAMPLE] = _sample(plan, day, scope, params, taken)
    for reason in _PRIORITY:
        for followup, rep in sources[reason]:
            chosen.setdefault(followup, (rep, reason))
    if not chosen:
        return
    queued = set(QueueItem.objects.filter(followup_id__in=list(chosen))
                 .values_list("followup_id", flat=True))
    todo = sorted((f, rep) for f, (rep, _reason) in chosen.items() if f not in queued)
    if not todo:
        return
    reps = {rep for _f, rep in todo}
    inspectors = inspector_ids(plan)
    start = QueueItem.objects.filter(plan=plan).count()  # the rotation carries on
    assigned = round_robin(todo, inspectors, supervisor_chains(reps), start)
    teams, categories = _teams(reps), _categories(f for f, _rep in todo)
    rows = [QueueItem(followup_id=f, plan=plan, reason=chosen[f][1], day=day, rep_id=rep,
                      team_id=teams.get(rep), assignee_id=assigned[f],
                      hit_categories=categories.get(f, []), created_at=now)
            for f, rep in todo]
    QueueItem.objects.bulk_create(rows, ignore_conflicts=True, batch_size=5000)
    for row in rows:
        report.queued[row.reason] += 1
        report.unassigned += row.assignee_id is None


def queue_fill(*, day: date | None = None, now: datetime | None = None) -> FillReport:
    """Fill the queue with every active plan's sample of ``day`` (default: yesterday)."""
    now = now or timezone.now()
    day = day or timezone.localdate(now) - timedelta(days=1)
    report = FillReport(day=day)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [QUEUE_LOCK + day.toordinal()])
        for plan in InspectionPlan.objects.filter(is_active=True).order_by("pk"):
            fill_plan(plan, day, report, now=now)
        if report.total:
            QAEvent.objects.create(kind=QAEvent.Kind.QUEUED, created_at=now,
                                   detail={"day": day.isoformat(), **report.queued,
                                           "unassigned": report.unassigned})
    return report
