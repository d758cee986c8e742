"""Scale the demo's leads up in a few set-based statements (no Python loop per row).

Each demo lead is copied ``times`` times as a fresh pool lead of the same pool (contact
keys blanked so copies are not each other's duplicates), each copy with its CREATED event.
~100,000 leads in well under a minute on a laptop.
"""

from __future__ import annotations

from django.db import connection, transaction

from leads.models import Lead, LeadEvent

SCALED_PREFIX = "load-"
# Copies differ from their original in these columns; every other column is copied.
_OVERRIDES = {
    "owner_id": "NULL", "status": "'in_pool'", "assigned_at": "NULL",
    "last_qualified_at": "NULL", "recycle_due_at": "NULL", "recycle_rule_id": "NULL",
    "recycle_warn_at": "NULL", "clock_paused_at": "NULL", "recycle_count": "0",
    "customer_id": "NULL", "contact_id": "NULL", "opportunity_id": "NULL",
    "converted_at": "NULL", "last_followup_at": "NULL", "next_followup_at": "NULL",
    "is_starred": "false", "invalid_reason": "''", "mobile_key": "''", "email_key": "''",
    "company_key": "''",
    "external_id": f"'{SCALED_PREFIX}' || %(batch)s || '-' || g || '-' || l.id",
    "pooled_at": "now() - (random() * interval '30 days')",
    "created_at": "now() - (random() * interval '60 days')",
}


def scale_leads(*, target: int) -> int:
    """Copy the sub-pools' demo leads until about ``target`` leads exist; returns how many
    were added."""
    existing = Lead.objects.count()
    sources = Lead.objects.filter(pool__kind="sub").exclude(
        external_id__startswith=SCALED_PREFIX).count()
    if existing >= target or not sources:
        return 0
    times = max(1, -(-(target - existing) // sources))
    columns = [f.column for f in Lead._meta.concrete_fields if f.column != "id"]
    select = ", ".join(_OVERRIDES.get(c, f"l.{c}") for c in columns).replace(
        "%(batch)s", "%s")
    event_columns = [f.column for f in LeadEvent._meta.concrete_fields if f.column != "id"]
    event_values = {"kind": "'created'", "to_pool_id": "n.pool_id", "created_at": "n.created_at",
                    "lead_id": "n.id", "reason": "'load_test'", "note": "''",
                    "detail": "NULL"}
    event_select = ", ".join(event_values.get(c, "NULL") for c in event_columns)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"WITH n AS (INSERT INTO {Lead._meta.db_table} ({', '.join(columns)}) "
            f"SELECT {select} FROM {Lead._meta.db_table} l "
            f"JOIN leads_leadpool p ON p.id = l.pool_id AND p.kind = 'sub' "
            f"CROSS JOIN generate_series(1, %s) g "
            f"WHERE l.external_id NOT LIKE %s RETURNING id, pool_id, created_at) "
            f"INSERT INTO {LeadEvent._meta.db_table} ({', '.join(event_columns)}) "
            f"SELECT {event_select} FROM n",
            # A batch number per call keeps the copies' external ids unique across calls.
            [existing, times, f"{SCALED_PREFIX}%"])
        added = cursor.rowcount
        cursor.execute(f"ANALYZE {Lead._meta.db_table}")
        cursor.execute(f"ANALYZE {LeadEvent._meta.db_table}")
    return added
