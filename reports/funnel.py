"""The pyramid funnel (PRODUCT.md §7, seed 003 §4.3): master pool → sub-pool → owned →
opportunity → won, for the cohort of leads created in a period.

*Static* counts what had happened by the end of the period, *dynamic* what has happened
by now. A lead counts for the rep who owned it when it converted (the ownership stint
that produced the opportunity and the win), and for that rep's team on that day; a lead
that never converted counts for its last owner before the cut-off. The levels are
cumulative: a lead that reached a later level counts at every level above it.

One statement per report, grouped in SQL; the viewer's data boundary is applied to the
attributed rep (a rep sees their own leads, a manager their team's, the director all,
unowned pool leads included).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.utils import timezone

from orgs.selectors import DataScopeFilter

from .snapshots import day_bounds

BREAKDOWNS = ("channel", "team", "rep", "region", "product", "pool", "month", "quarter")
MODES = ("static", "dynamic")

_KEYS = {
    "channel": "f.channel",
    "region": "f.region",
    "product": "f.product_category",
    "pool": "f.pool_id::text",
    "rep": "f.rep_id::text",
    "team": "team.org_unit_id::text",
    "month": "to_char(f.created_at AT TIME ZONE %(tz)s, 'YYYY-MM')",
    "quarter": "to_char(f.created_at AT TIME ZONE %(tz)s, 'YYYY\"Q\"Q')",
    None: "''",
}

_SQL = """
WITH cohort AS (
    SELECT l.id, l.channel, l.region, l.product_category, l.pool_id, l.opportunity_id,
           l.created_at
    FROM leads_lead l WHERE l.created_at >= %(start)s AND l.created_at < %(end)s
),
conv AS (
    SELECT DISTINCT ON (e.lead_id) e.lead_id, e.from_owner_id, e.created_at
    FROM leads_leadevent e JOIN cohort c ON c.id = e.lead_id
    WHERE e.kind = 'converted' AND e.created_at < %(bound)s
    ORDER BY e.lead_id, e.created_at, e.id
),
last_owner AS (
    SELECT DISTINCT ON (e.lead_id) e.lead_id, e.to_owner_id
    FROM leads_leadevent e JOIN cohort c ON c.id = e.lead_id
    WHERE e.to_owner_id IS NOT NULL AND e.created_at < %(bound)s
    ORDER BY e.lead_id, e.created_at DESC, e.id DESC
),
sub AS (
    SELECT DISTINCT e.lead_id FROM leads_leadevent e JOIN cohort c ON c.id = e.lead_id
    JOIN leads_leadpool p ON p.id = e.to_pool_id
    WHERE p.kind = 'sub' AND e.created_at < %(bound)s
),
f AS (
    SELECT c.*, coalesce(cv.from_owner_id, lo.to_owner_id) AS rep_id,
           cv.lead_id IS NOT NULL AS converted,
           cv.lead_id IS NOT NULL OR lo.lead_id IS NOT NULL AS owned,
           cv.lead_id IS NOT NULL OR lo.lead_id IS NOT NULL OR s.lead_id IS NOT NULL
               AS in_sub,
           cv.lead_id IS NOT NULL AND o.status = 'won' AND o.closed_at < %(bound)s AS won,
           o.amount,
           (coalesce(cv.created_at, least(%(bound)s, now())) AT TIME ZONE %(tz)s)::date
               AS attributed_on
    FROM cohort c
    LEFT JOIN conv cv ON cv.lead_id = c.id
    LEFT JOIN last_owner lo ON lo.lead_id = c.id
    LEFT JOIN sub s ON s.lead_id = c.id
    LEFT JOIN opportunities_opportunity o ON o.id = c.opportunity_id
)
SELECT {select}
FROM f {joins}
{where}
{tail}
"""

# The rep's team on the day the lead was credited: a plain range join (an employee's stints
# never overlap), hashed on the employee — only when grouping by team.
_TEAM_JOIN = """
LEFT JOIN orgs_employee emp ON emp.user_id = f.rep_id
LEFT JOIN orgs_teamstint team ON team.employee_id = emp.id
    AND team.started_on <= f.attributed_on
    AND (team.ended_on IS NULL OR team.ended_on > f.attributed_on)
"""

_COUNTS = """{key} AS key, count(*), count(*) FILTER (WHERE f.in_sub),
       count(*) FILTER (WHERE f.owned), count(*) FILTER (WHERE f.converted),
       count(*) FILTER (WHERE f.won), coalesce(sum(f.amount) FILTER (WHERE f.won), 0)"""

LEVELS = {"leads": "true", "sub_pool": "f.in_sub", "owned": "f.owned",
          "opportunities": "f.converted", "won": "f.won"}

FOUR = Decimal("0.0001")


def rate(numerator: int, denominator: int) -> Decimal | None:
    """A conversion rate as a decimal with four places (None when nothing to divide)."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(FOUR, ROUND_HALF_UP)


@dataclass(frozen=True)
class FunnelRow:
    """One group's funnel: counts at every level and the three conversion rates."""

    key: str
    leads: int
    sub_pool: int
    owned: int
    opportunities: int
    won: int
    won_amount: Decimal
    label: str = ""

    @property
    def lead_to_opportunity(self) -> Decimal | None:
        return rate(self.opportunities, self.leads)

    @property
    def opportunity_to_won(self) -> Decimal | None:
        return rate(self.won, self.opportunities)

    @property
    def lead_to_won(self) -> Decimal | None:
        return rate(self.won, self.leads)

    @property
    def levels(self) -> list[int]:
        return [self.leads, self.sub_pool, self.owned, self.opportunities, self.won]


def funnel_rows(*, scope: DataScopeFilter, start: date, end: date, mode: str = "static",
                by: str | None = None, now: datetime | None = None) -> list[FunnelRow]:
    """The funnel of the leads created from ``start`` to ``end`` (inclusive), one row per
    group of ``by`` (or a single row), within the viewer's ``scope``."""
    if by not in _KEYS or mode not in MODES:
        raise ValueError(f"unknown breakdown or mode: {by!r}, {mode!r}")
    params, where = _params(scope, start, end, mode, now)
    sql = _SQL.format(select=_COUNTS.format(key=_KEYS[by]), where=where,
                      joins=_TEAM_JOIN if by == "team" else "", tail="GROUP BY 1 ORDER BY 1")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [FunnelRow(key=key or "", leads=leads, sub_pool=sub, owned=owned,
                          opportunities=opps, won=won, won_amount=amount)
                for key, leads, sub, owned, opps, won, amount in cursor.fetchall()]


def _params(scope, start, end, mode, now) -> tuple[dict, str]:
    period_start, _ = day_bounds(start)
    _, period_end = day_bounds(end)
    now = now or timezone.now()
    bound = period_end if mode == "static" else now
    params = {"start": period_start, "end": period_end, "bound": bound,
              "tz": timezone.get_current_timezone_name()}
    where = "WHERE true"
    if not scope.sees_all:
        params["users"] = list(scope.users().values_list("pk", flat=True))
        where = "WHERE f.rep_id = ANY(%(users)s)"
    return params, where


def funnel_lead_ids(*, scope: DataScopeFilter, start: date, end: date, mode: str = "static",
                    by: str | None = None, group: str = "", level: str = "leads",
                    limit: int = 200, now: datetime | None = None) -> list[int]:
    """The leads one number of the funnel counts (drill-down): the group ``group`` of
    ``by`` at ``level``, oldest first, at most ``limit``."""
    if by not in _KEYS or mode not in MODES or level not in LEVELS:
        raise ValueError(f"unknown breakdown, mode or level: {by!r}, {mode!r}, {level!r}")
    params, where = _params(scope, start, end, mode, now)
    params["group"], params["limit"] = group or "", limit
    where += f" AND coalesce({_KEYS[by]}, '') = %(group)s AND {LEVELS[level]}"
    sql = _SQL.format(select="f.id", where=where, joins=_TEAM_JOIN if by == "team" else "",
                      tail="ORDER BY f.id LIMIT %(limit)s")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def funnel_total(rows: list[FunnelRow]) -> FunnelRow:
    """The rows added up (the whole funnel of what the viewer sees)."""
    return FunnelRow(key="", leads=sum(r.leads for r in rows),
                     sub_pool=sum(r.sub_pool for r in rows),
                     owned=sum(r.owned for r in rows),
                     opportunities=sum(r.opportunities for r in rows),
                     won=sum(r.won for r in rows),
                     won_amount=sum((r.won_amount for r in rows), Decimal("0")))
