"""Static and dynamic rates, exactly as seed 003 §4.3 defines them, with activity and
results per rep or team over a period.

*Static* figures are what the daily snapshots recorded at the end of each day of the
period; *dynamic* ones are counted from the records as they stand today (follow-ups and
orders entered or corrected since, orders cancelled since):

- static / dynamic invitations: invitations recorded in the period, as of the end of the
  period / as of today (which follow-ups count: the follow-up type dictionary's setting);
- static / dynamic invitation rate = invitations ÷ customers;
- static / dynamic signings: orders signed in the period, as of its end / as of today;
- relative static / dynamic signing rate = signings ÷ static invitations;
- absolute static / dynamic signing rate = signings ÷ customers.

Customers follow the transfer-reason rule (``reports.selectors.SnapshotFigures``). Win
rate = won ÷ (won + lost) of the opportunities closed in the period; days to close = the
average days from opening to winning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from orgs.selectors import DataScopeFilter

from .funnel import rate
from .selectors import SnapshotFigures, snapshot_totals
from .snapshots import day_bounds

_TEAM_ON = """
    (SELECT ts.org_unit_id FROM orgs_teamstint ts JOIN orgs_employee emp ON emp.id = ts.employee_id
     WHERE emp.user_id = {user} AND ts.started_on <= {day}
       AND (ts.ended_on IS NULL OR ts.ended_on > {day})
     ORDER BY ts.started_on DESC LIMIT 1)
"""

_LIVE = """
WITH invitation AS (
    SELECT i.code, i.extra -> 'invitation' AS outcomes
    FROM orgs_dictionaryitem i JOIN orgs_dictionary d ON d.id = i.dictionary_id
    WHERE d.code = 'followup_type' AND jsonb_typeof(i.extra -> 'invitation') = 'array'
),
facts AS (
    SELECT {fu_key} AS key, 1 AS invitations, 0 AS signings, 0 AS won, 0 AS lost,
           0::numeric AS days
    FROM leads_followup f JOIN invitation inv ON inv.code = f.kind
    WHERE f.created_at >= %(start)s AND f.created_at < %(end)s
      AND (jsonb_array_length(inv.outcomes) = 0 OR inv.outcomes @> to_jsonb(f.outcome::text))
      {fu_scope}
    UNION ALL
    SELECT {order_key}, 0, 1, 0, 0, 0 FROM contracts_order o
    WHERE o.status IN ('confirmed', 'paid') AND o.signed_on BETWEEN %(first)s AND %(last)s
      {order_scope}
    UNION ALL
    SELECT {opp_key}, 0, 0, (o.status = 'won')::int, (o.status = 'lost')::int,
           CASE WHEN o.status = 'won'
                THEN extract(epoch FROM o.closed_at - o.created_at) / 86400 ELSE 0 END
    FROM opportunities_opportunity o
    WHERE o.status IN ('won', 'lost') AND o.closed_at >= %(start)s AND o.closed_at < %(end)s
      {opp_scope}
)
SELECT key, sum(invitations), sum(signings), sum(won), sum(lost), sum(days)
FROM facts GROUP BY 1
"""


@dataclass(frozen=True)
class RateRow:
    """One rep's or team's figures over the period."""

    key: object
    snapshot: SnapshotFigures | None
    dynamic_invitations: int
    dynamic_signings: int
    won_closed: int
    lost_closed: int
    days_to_close_total: Decimal
    label: str = ""

    @property
    def customers(self) -> int:
        return self.snapshot.customers if self.snapshot else 0

    @property
    def static_invitations(self) -> int:
        return self.snapshot.invitations if self.snapshot else 0

    @property
    def static_signings(self) -> int:
        return self.snapshot.orders if self.snapshot else 0

    @property
    def static_invitation_rate(self):
        return rate(self.static_invitations, self.customers)

    @property
    def dynamic_invitation_rate(self):
        return rate(self.dynamic_invitations, self.customers)

    @property
    def relative_static_signing_rate(self):
        return rate(self.static_signings, self.static_invitations)

    @property
    def relative_dynamic_signing_rate(self):
        return rate(self.dynamic_signings, self.static_invitations)

    @property
    def absolute_static_signing_rate(self):
        return rate(self.static_signings, self.customers)

    @property
    def absolute_dynamic_signing_rate(self):
        return rate(self.dynamic_signings, self.customers)

    @property
    def win_rate(self):
        return rate(self.won_closed, self.won_closed + self.lost_closed)

    @property
    def days_to_close(self) -> Decimal | None:
        if not self.won_closed:
            return None
        return (self.days_to_close_total / self.won_closed).quantize(Decimal("0.1"))


def rate_rows(*, scope: DataScopeFilter, start: date, end: date,
              by: str = "user") -> list[RateRow]:
    """Per rep (``by="user"``) or team (``"team"``): two queries besides the scope's."""
    snapshots = snapshot_totals(scope=scope, start=start, end=end, by=by)
    period_start, _ = day_bounds(start)
    _, period_end = day_bounds(end)
    params = {"start": period_start, "end": period_end, "first": start, "last": end,
              "tz": timezone.get_current_timezone_name()}
    scopes = {"fu_scope": "", "order_scope": "", "opp_scope": ""}
    if not scope.sees_all:
        params["users"] = list(scope.users().values_list("pk", flat=True))
        scopes = {"fu_scope": "AND f.author_id = ANY(%(users)s)",
                  "order_scope": "AND o.owner_id = ANY(%(users)s)",
                  "opp_scope": "AND o.owner_id = ANY(%(users)s)"}
    if by == "team":
        local = "(({col}) AT TIME ZONE %(tz)s)::date"
        keys = {"fu_key": _TEAM_ON.format(user="f.author_id",
                                          day=local.format(col="f.created_at")),
                "order_key": _TEAM_ON.format(user="o.owner_id", day="o.signed_on"),
                "opp_key": _TEAM_ON.format(user="o.owner_id",
                                           day=local.format(col="o.closed_at"))}
    else:
        keys = {"fu_key": "f.author_id", "order_key": "o.owner_id", "opp_key": "o.owner_id"}
    with connection.cursor() as cursor:
        cursor.execute(_LIVE.format(**keys, **scopes), params)
        live = {key: rest for key, *rest in cursor.fetchall()}
    rows = []
    for key in set(snapshots) | set(live):
        invitations, signings, won, lost, days = live.get(key, (0, 0, 0, 0, 0))
        rows.append(RateRow(key=key, snapshot=snapshots.get(key),
                            dynamic_invitations=int(invitations), dynamic_signings=int(signings),
                            won_closed=int(won), lost_closed=int(lost),
                            days_to_close_total=Decimal(days or 0)))
    return rows
