"""Follow-ups per day or week by type, in the viewer's scope (one grouped query)."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.utils import timezone

from orgs.selectors import DataScopeFilter

from .snapshots import day_bounds

_SQL = """
SELECT to_char(date_trunc(%(unit)s, f.created_at AT TIME ZONE %(tz)s), 'YYYY-MM-DD'), f.kind,
       count(*)
FROM leads_followup f
WHERE f.created_at >= %(start)s AND f.created_at < %(end)s {scope}
GROUP BY 1, 2 ORDER BY 1, 2
"""


def followup_trend(*, scope: DataScopeFilter, start: date, end: date,
                   unit: str = "day") -> dict:
    """``{"periods": [...], "kinds": {kind: [count per period]}}``: days, or the Monday of
    each week when ``unit`` is ``week``."""
    if unit not in ("day", "week"):
        raise ValueError(unit)
    period_start, _ = day_bounds(start)
    _, period_end = day_bounds(end)
    params = {"unit": unit, "tz": timezone.get_current_timezone_name(),
              "start": period_start, "end": period_end}
    where = ""
    if not scope.sees_all:
        params["users"] = list(scope.users().values_list("pk", flat=True))
        where = "AND f.author_id = ANY(%(users)s)"
    with connection.cursor() as cursor:
        cursor.execute(_SQL.format(scope=where), params)
        found = cursor.fetchall()
    periods = sorted({p for p, _, _ in found})
    index = {p: i for i, p in enumerate(periods)}
    kinds: dict[str, list[int]] = {}
    for period, kind, count in found:
        kinds.setdefault(kind, [0] * len(periods))[index[period]] = count
    return {"periods": periods, "kinds": kinds}
