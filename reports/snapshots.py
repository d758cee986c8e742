"""The daily snapshot writer: one ``RepDay`` row per employee for a day, in one statement.

``snapshot_write(day=…)`` replaces the day's rows (delete + insert in one transaction,
under an advisory lock on the day, so two runs at once serialise and the second leaves
the same rows). Everything is read from the event log and the records' own dates, so any
past day can be (re)written; holdings chain from the previous day's rows when they exist
(only the leads touched that day are looked at) and are recomputed from the whole event
log otherwise.

Budget: at 5 M leads / 50 M events a day touches ~100 k events; the chained day is a
range scan over each table's day plus one index probe per touched lead (``event_lead_time``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.utils import timezone

from .models import RepDay

# pg_advisory_xact_lock(namespace, day): one lock per day written.
_LOCK_NAMESPACE = 0x5245  # "RE"

# Events after which the lead is held (open) by their ``to_owner``.
_HOLDING = "('created', 'assigned', 'claimed', 'transferred')"

_OWNER_AT = """
    SELECT DISTINCT ON (lead_id) lead_id, kind, to_owner_id
    FROM leads_leadevent WHERE created_at < %(bound)s
    ORDER BY lead_id, created_at DESC, id DESC
"""

_OPENING_FULL = f"""
    SELECT to_owner_id AS user_id, count(*) AS n
    FROM ({_OWNER_AT.replace("%(bound)s", "%(start)s")}) s
    WHERE to_owner_id IS NOT NULL AND kind IN {_HOLDING}
    GROUP BY 1
"""

_OPENING_CHAINED = "SELECT user_id, held AS n FROM reports_repday WHERE day = %(prev)s"

_LAST_OWNER = """
    (SELECT CASE WHEN b.kind IN {holding} THEN b.to_owner_id END
     FROM leads_leadevent b WHERE b.lead_id = t.lead_id AND b.created_at < {bound}
     ORDER BY b.created_at DESC, b.id DESC LIMIT 1)
"""

_SQL = """
WITH reps AS (
    SELECT e.user_id,
           (SELECT ts.org_unit_id FROM orgs_teamstint ts
            WHERE ts.employee_id = e.id AND ts.started_on <= %(day)s
              AND (ts.ended_on IS NULL OR ts.ended_on > %(day)s)
            ORDER BY ts.started_on DESC LIMIT 1) AS team_id
    FROM orgs_employee e
    WHERE e.departed_at IS NULL OR e.departed_at >= %(start)s
),
ineffective AS (
    SELECT i.code FROM orgs_dictionaryitem i JOIN orgs_dictionary d ON d.id = i.dictionary_id
    WHERE d.code = 'transfer_reason' AND i.extra @> '{{"ineffective_followup": true}}'
),
invitation AS (
    SELECT i.code, i.extra -> 'invitation' AS outcomes
    FROM orgs_dictionaryitem i JOIN orgs_dictionary d ON d.id = i.dictionary_id
    WHERE d.code = 'followup_type' AND jsonb_typeof(i.extra -> 'invitation') = 'array'
),
ev AS (
    SELECT lead_id, kind, from_owner_id, to_owner_id, reason FROM leads_leadevent
    WHERE created_at >= %(start)s AND created_at < %(end)s
),
received AS (
    SELECT to_owner_id AS user_id, count(*) AS n FROM ev
    WHERE to_owner_id IS NOT NULL AND kind IN {holding}
      AND to_owner_id IS DISTINCT FROM from_owner_id
    GROUP BY 1
),
transfers AS (
    SELECT ev.from_owner_id AS user_id,
           count(*) FILTER (WHERE i.code IS NULL) AS moved,
           count(*) FILTER (WHERE i.code IS NOT NULL) AS kept,
           count(*) FILTER (WHERE i.code IS NOT NULL AND a.team_id = b.team_id) AS kept_in_team
    FROM ev LEFT JOIN ineffective i ON i.code = ev.reason
    LEFT JOIN reps a ON a.user_id = ev.from_owner_id
    LEFT JOIN reps b ON b.user_id = ev.to_owner_id
    WHERE ev.kind = 'transferred' AND ev.from_owner_id IS NOT NULL
      AND ev.to_owner_id IS DISTINCT FROM ev.from_owner_id
    GROUP BY 1
),
touched AS (SELECT DISTINCT lead_id FROM ev),
states AS (
    SELECT {before} AS before_owner, {after} AS after_owner FROM touched t
),
delta AS (
    SELECT user_id, sum(n) AS n FROM (
        SELECT after_owner AS user_id, 1 AS n FROM states WHERE after_owner IS NOT NULL
        UNION ALL
        SELECT before_owner, -1 FROM states WHERE before_owner IS NOT NULL
    ) x GROUP BY 1
),
opening AS ({opening}),
fu AS (
    SELECT f.author_id AS user_id, count(*) AS n,
           count(*) FILTER (WHERE f.qualifies) AS qualifying,
           count(*) FILTER (WHERE inv.code IS NOT NULL AND (
               jsonb_array_length(inv.outcomes) = 0 OR inv.outcomes @> to_jsonb(f.outcome::text)
           )) AS invitations
    FROM leads_followup f LEFT JOIN invitation inv ON inv.code = f.kind
    WHERE f.created_at >= %(start)s AND f.created_at < %(end)s
    GROUP BY 1
),
opened AS (
    SELECT to_owner_id AS user_id, count(*) AS n FROM opportunities_opportunityevent
    WHERE kind = 'created' AND to_owner_id IS NOT NULL
      AND created_at >= %(start)s AND created_at < %(end)s
    GROUP BY 1
),
won AS (
    SELECT owner_id AS user_id, count(*) AS n FROM opportunities_opportunity
    WHERE status = 'won' AND owner_id IS NOT NULL
      AND closed_at >= %(start)s AND closed_at < %(end)s
    GROUP BY 1
),
orders AS (
    SELECT o.owner_id AS user_id, count(*) AS n, sum(o.total) AS amount, sum(c.cost) AS cost
    FROM contracts_order o
    CROSS JOIN LATERAL (
        SELECT coalesce(sum(l.quantity * coalesce(p.unit_cost, 0)), 0) AS cost
        FROM contracts_orderline l JOIN contracts_product p ON p.id = l.product_id
        WHERE l.order_id = o.id
    ) c
    WHERE o.status IN ('confirmed', 'paid') AND o.signed_on = %(day)s
    GROUP BY 1
),
paid AS (
    SELECT i.owner_id AS user_id, sum(p.amount) AS amount
    FROM contracts_payment p JOIN contracts_paymentinstalment i ON i.id = p.instalment_id
    WHERE p.received_on = %(day)s
    GROUP BY 1
)
INSERT INTO reports_repday (
    day, user_id, team_id, opening, held, received, transferred_out, transferred_kept,
    kept_in_team, followups, qualifying_followups, invitations, opportunities, won, orders,
    orders_amount, orders_cost, gross_margin, payments)
SELECT %(day)s, r.user_id, r.team_id,
       coalesce(op.n, 0), greatest(coalesce(op.n, 0) + coalesce(d.n, 0), 0),
       coalesce(rc.n, 0), coalesce(tr.moved, 0), coalesce(tr.kept, 0),
       coalesce(tr.kept_in_team, 0), coalesce(fu.n, 0), coalesce(fu.qualifying, 0),
       coalesce(fu.invitations, 0), coalesce(opened.n, 0), coalesce(won.n, 0),
       coalesce(orders.n, 0), coalesce(orders.amount, 0), coalesce(orders.cost, 0),
       coalesce(orders.amount, 0) - coalesce(orders.cost, 0), coalesce(paid.amount, 0)
FROM reps r
LEFT JOIN opening op ON op.user_id = r.user_id
LEFT JOIN delta d ON d.user_id = r.user_id
LEFT JOIN received rc ON rc.user_id = r.user_id
LEFT JOIN transfers tr ON tr.user_id = r.user_id
LEFT JOIN fu ON fu.user_id = r.user_id
LEFT JOIN opened ON opened.user_id = r.user_id
LEFT JOIN won ON won.user_id = r.user_id
LEFT JOIN orders ON orders.user_id = r.user_id
LEFT JOIN paid ON paid.user_id = r.user_id
"""


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The day's start and end (exclusive) in the site's time zone."""
    zone = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), zone)
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), zone)
    return start, end


def _statement(*, chained: bool) -> str:
    return _SQL.format(
        holding=_HOLDING,
        before=_LAST_OWNER.format(holding=_HOLDING, bound="%(start)s"),
        after=_LAST_OWNER.format(holding=_HOLDING, bound="%(end)s"),
        opening=_OPENING_CHAINED if chained else _OPENING_FULL,
    )


def snapshot_write(*, day: date) -> int:
    """(Re)write every rep's row for ``day``; returns how many rows it wrote.

    Idempotent and safe to run twice at once: the second run waits for the first's lock,
    then replaces its rows with the same figures.
    """
    start, end = day_bounds(day)
    params = {"day": day, "prev": day - timedelta(days=1), "start": start, "end": end}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)",
                       [_LOCK_NAMESPACE, day.toordinal()])
        chained = RepDay.objects.filter(day=params["prev"]).exists()
        RepDay.objects.filter(day=day).delete()
        cursor.execute(_statement(chained=chained), params)
        return cursor.rowcount


def snapshot_backfill(*, start: date, end: date, progress=None) -> int:
    """Write every day from ``start`` to ``end`` (inclusive), oldest first so that each
    day chains from the one before; one transaction per day. Returns the rows written."""
    written = 0
    day = start
    while day <= end:
        written += snapshot_write(day=day)
        if progress is not None:
            progress(day)
        day += timedelta(days=1)
    return written
