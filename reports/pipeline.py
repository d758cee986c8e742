"""The pipeline report: opportunities by owner, team, product or close period — open,
won, lost, won amount and win rate (won ÷ closed).

The opportunities of a period are those alive in it: created by its end and not closed
before its start. Won and lost count the closes inside the period; open counts what is
still open. A closed deal counts for its owner and the owner's team on the day it closed
(an open one for the team of today), a period grouping by the close date (an open deal
by its expected close).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from orgs.selectors import DataScopeFilter

from .funnel import rate
from .snapshots import day_bounds

BREAKDOWNS = ("rep", "team", "product", "month", "quarter")

_CLOSE_DAY = ("coalesce((o.closed_at AT TIME ZONE %(tz)s)::date, o.expected_close)")
_KEYS = {
    "rep": "o.owner_id::text",
    "team": "team.org_unit_id::text",
    "product": "o.product_id::text",
    "month": f"to_char({_CLOSE_DAY}, 'YYYY-MM')",
    "quarter": f"to_char({_CLOSE_DAY}, 'YYYY\"Q\"Q')",
    None: "''",
}

_SQL = """
SELECT {key} AS key,
       count(*) FILTER (WHERE o.status IN ('open', 'in_pool')),
       count(*) FILTER (WHERE o.status = 'won' AND o.closed_at >= %(start)s),
       count(*) FILTER (WHERE o.status = 'lost' AND o.closed_at >= %(start)s),
       coalesce(sum(o.amount) FILTER (WHERE o.status = 'won' AND o.closed_at >= %(start)s), 0)
FROM opportunities_opportunity o
LEFT JOIN orgs_employee emp ON emp.user_id = o.owner_id
LEFT JOIN orgs_teamstint team ON team.employee_id = emp.id
    AND team.started_on <= coalesce((o.closed_at AT TIME ZONE %(tz)s)::date, %(today)s)
    AND (team.ended_on IS NULL
         OR team.ended_on > coalesce((o.closed_at AT TIME ZONE %(tz)s)::date, %(today)s))
WHERE o.created_at < %(end)s AND (o.closed_at IS NULL OR o.closed_at >= %(start)s)
  AND (o.closed_at IS NULL OR o.closed_at < %(end)s OR o.status IN ('open', 'in_pool'))
  {scope}
GROUP BY 1 ORDER BY 1
"""


@dataclass(frozen=True)
class PipelineRow:
    key: str
    open: int
    won: int
    lost: int
    won_amount: Decimal
    label: str = ""

    @property
    def win_rate(self) -> Decimal | None:
        return rate(self.won, self.won + self.lost)


def pipeline_rows(*, scope: DataScopeFilter, start: date, end: date,
                  by: str | None = None) -> list[PipelineRow]:
    """One row per group of ``by`` (or one row) over the opportunities the viewer sees."""
    if by not in _KEYS:
        raise ValueError(f"unknown breakdown: {by!r}")
    period_start, _ = day_bounds(start)
    _, period_end = day_bounds(end)
    params = {"start": period_start, "end": period_end, "today": timezone.localdate(),
              "tz": timezone.get_current_timezone_name()}
    where = ""
    if not scope.sees_all:
        params["users"] = list(scope.users().values_list("pk", flat=True))
        where = "AND o.owner_id = ANY(%(users)s)"
    with connection.cursor() as cursor:
        cursor.execute(_SQL.format(key=_KEYS[by], scope=where), params)
        return [PipelineRow(key=key or "", open=n_open, won=won, lost=lost, won_amount=amount)
                for key, n_open, won, lost, amount in cursor.fetchall()]


def pipeline_total(rows: list[PipelineRow]) -> PipelineRow:
    return PipelineRow(key="", open=sum(r.open for r in rows), won=sum(r.won for r in rows),
                       lost=sum(r.lost for r in rows),
                       won_amount=sum((r.won_amount for r in rows), Decimal("0")))
