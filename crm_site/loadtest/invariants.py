"""What must hold after any load, whatever the interleaving (one SQL query each).

- no lead has two owners: an owned lead's latest ownership event is an acquiring one that
  names its owner, and a pool lead's latest is not an acquiring one;
- no cap was passed: nobody holds more open leads of a pool than its cap, or more open
  leads in all than the overall cap, or claimed more today than the pool's daily limit,
  unless they already did before the run (``baseline``);
- every move has its event: each opportunity's stage is the one its latest stage change
  moved it to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from leads.models import LeadEvent
from leads.pools.config import OVERALL_CAP

ACQUIRING = tuple(str(k) for k in LeadEvent.ACQUIRING)
LOSING = tuple(str(k) for k in LeadEvent.LOSING)


@dataclass
class Report:
    two_owners: int = 0
    over_pool_cap: list = field(default_factory=list)
    over_overall_cap: list = field(default_factory=list)
    over_daily_limit: list = field(default_factory=list)
    moves_without_event: int = 0

    @property
    def ok(self) -> bool:
        return not (self.two_owners or self.over_pool_cap or self.over_overall_cap
                    or self.over_daily_limit or self.moves_without_event)


def _rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def loads() -> dict:
    """Who holds how much now (per pool, in all) and claimed how much today."""
    per_pool = {(u, p): n for u, p, n in _rows(
        "SELECT owner_id, pool_id, count(*) FROM leads_lead WHERE owner_id IS NOT NULL "
        "AND status IN ('assigned', 'following') GROUP BY 1, 2")}
    total = dict(_rows(
        "SELECT owner_id, count(*) FROM leads_lead WHERE owner_id IS NOT NULL "
        "AND status IN ('assigned', 'following') GROUP BY 1"))
    today = {(u, p): n for u, p, n in _rows(
        "SELECT actor_id, from_pool_id, count(*) FROM leads_leadevent WHERE kind = 'claimed' "
        "AND created_at >= date_trunc('day', now() AT TIME ZONE %s) AT TIME ZONE %s "
        "GROUP BY 1, 2", [connection.timezone_name, connection.timezone_name])}
    return {"per_pool": per_pool, "total": total, "today": today}


def check(baseline: dict) -> Report:
    report = Report()
    # A lead entered straight into someone's hands has a CREATED event naming them.
    report.two_owners = _rows(
        "SELECT count(*) FROM leads_lead l LEFT JOIN LATERAL ("
        "  SELECT kind = ANY(%s) OR kind = 'created' AS acquiring, to_owner_id "
        "  FROM leads_leadevent e WHERE e.lead_id = l.id AND (e.kind = ANY(%s) OR "
        "  (e.kind = 'created' AND e.to_owner_id IS NOT NULL)) "
        "  ORDER BY e.created_at DESC, e.id DESC LIMIT 1) last ON true "
        "WHERE (l.owner_id IS NOT NULL AND l.status IN ('assigned', 'following') AND "
        "       NOT coalesce(last.acquiring AND last.to_owner_id = l.owner_id, false)) "
        "   OR (l.owner_id IS NULL AND l.status = 'in_pool' AND "
        "       coalesce(last.acquiring, false))",
        [list(ACQUIRING), list(ACQUIRING + LOSING)])[0][0]
    now = loads()
    caps = {p: (cap, limit) for p, cap, limit in _rows(
        "SELECT id, owned_cap, daily_claim_limit FROM leads_leadpool")}
    for (user, pool), held in now["per_pool"].items():
        cap = caps.get(pool, (None, None))[0]
        if cap is not None and held > max(cap, baseline["per_pool"].get((user, pool), 0)):
            report.over_pool_cap.append((user, pool, held, cap))
    for user, held in now["total"].items():
        if held > max(OVERALL_CAP, baseline["total"].get(user, 0)):
            report.over_overall_cap.append((user, held, OVERALL_CAP))
    for (user, pool), claimed in now["today"].items():
        limit = caps.get(pool, (None, None))[1]
        if limit is not None and claimed > max(limit, baseline["today"].get((user, pool), 0)):
            report.over_daily_limit.append((user, pool, claimed, limit))
    report.moves_without_event = _rows(
        "SELECT count(*) FROM opportunities_opportunity o JOIN LATERAL ("
        "  SELECT to_stage FROM opportunities_opportunitystagechange c "
        "  WHERE c.opportunity_id = o.id ORDER BY c.changed_at DESC, c.id DESC LIMIT 1"
        ") last ON true WHERE last.to_stage <> o.stage")[0][0]
    return report
