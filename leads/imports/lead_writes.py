"""The lead kind's writes: one batch of checked rows in one transaction.

New leads and their ``created`` events go in as one ``INSERT … SELECT FROM unnest``;
rows repeating a lead are skipped or merged; rows repeating a customer or contact follow
the channel's collision policy (``leads.collision``), the customers and contacts being
looked up through the registry the opportunities app fills (``register_customer_hits``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.lib.bulk import text_array_literal
from crm_site.lib.imports.registry import ImportCounts

from ..models import Lead, LeadEvent
from .lead_rows import _ROW_COLUMNS, _ROW_ORDER, TARGET_FIELDS, _add_keys, _Row


class _Hit(NamedTuple):
    """A lead already in the database that a row of the file repeats."""

    pk: int
    channel: str
    external_id: str


def _existing(candidates: list[_Row], channel: str) -> dict[str, _Hit]:
    """Leads already in the database under any key of the batch, by key (one query)."""
    mobiles = [row.mobile_key for row in candidates if row.mobile_key]
    emails = [row.email_key for row in candidates if row.email_key]
    externals = [row.values["external_id"] for row in candidates
                 if row.values.get("external_id")]
    # A row's channel is the file's column, else the job's. Both lists go to the index
    # (channel, external_id); a lead matching a channel and an ID of two different rows
    # matches no row's key and is not a hit.
    channels = sorted({row.values.get("channel") or channel for row in candidates
                       if row.values.get("external_id")})
    if not (mobiles or emails or externals):
        return {}
    # One array per key instead of IN lists of 2,000 parameters (half the time, on both
    # sides). Each test repeats its partial index's predicate: PostgreSQL proves that a
    # list of values implies it only up to 100 values, and without it the lookup is a
    # sequential scan (~250 ms a batch at a million leads).
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT id, mobile_key, email_key, channel, external_id
            FROM {Lead._meta.db_table}
            WHERE (mobile_key = ANY(%s::text[]) AND NOT (mobile_key = ''))
               OR (email_key = ANY(%s::text[]) AND NOT (email_key = ''))
               OR (channel = ANY(%s::text[]) AND external_id = ANY(%s::text[])
                   AND NOT (external_id = ''))
            ORDER BY id
            """,
            [text_array_literal(mobiles), text_array_literal(emails),
             text_array_literal(channels), text_array_literal(externals)],
        )
        rows = cursor.fetchall()
    found: dict[str, _Hit] = {}
    for pk, mobile_key, email_key, lead_channel, external_id in rows:
        hit = _Hit(pk, lead_channel, external_id)
        for key in _add_keys([], mobile_key, email_key, lead_channel, external_id):
            found.setdefault(key, hit)
    return found


# Who may hold a row's phone, e-mail or company besides a lead: filled by the app that
# owns customers and contacts (``register_customer_hits`` in its ``AppConfig.ready``).
# ``fn(phones, emails, companies) -> {key: (owner id, customer id)}`` with keys
# ``m:<phone key>``, ``e:<e-mail key>`` and ``c:<company key>``, one or two set-based
# statements for a whole batch.
CustomerHits = Callable[[list[str], list[str], list[str]],
                        dict[str, tuple[int | None, int | None]]]
_CUSTOMER_HITS: list[CustomerHits] = []


def register_customer_hits(fn: CustomerHits) -> CustomerHits:
    if fn not in _CUSTOMER_HITS:
        _CUSTOMER_HITS.append(fn)
    return fn


def _customer_hits(rows: list[_Row]) -> dict[str, tuple[int | None, int | None]]:
    """Customers and contacts already holding a key of the batch: key → (owner, customer)."""
    phones = [row.mobile_key for row in rows if row.mobile_key]
    emails = [row.email_key for row in rows if row.email_key]
    companies = [row.company_key for row in rows if row.company_key]
    found: dict[str, tuple[int | None, int | None]] = {}
    if not (phones or emails or companies):
        return found
    for lookup in _CUSTOMER_HITS:
        for key, hit in lookup(phones, emails, companies).items():
            found.setdefault(key, hit)
    return found


def _customer_keys(row: _Row) -> list[str]:
    keys = []
    if row.mobile_key:
        keys.append(f"m:{row.mobile_key}")
    if row.email_key:
        keys.append(f"e:{row.email_key}")
    if row.company_key:
        keys.append(f"c:{row.company_key}")
    return keys


def _attach_new(attach: list[tuple[_Row, str, int, int]], *, pool, ids: list[int],
                actor_id, now) -> None:
    """Hand freshly inserted leads that belong to a known customer to its owner, linked to
    the customer, with an ASSIGNED event each (one UPDATE for the batch)."""
    from ..circulation import refresh_due
    from ..subjects import LEADS

    kinds, keys, owners, customers = [], [], [], []
    for _row, key, owner_id, customer_id in attach:
        kinds.append(key[0])
        keys.append(key[2:])
        owners.append(str(owner_id))
        customers.append(str(customer_id))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH hits AS (
                SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::bigint[])
                    AS h(kind, key, owner_id, customer_id)
            )
            UPDATE {Lead._meta.db_table} AS l
            SET owner_id = h.owner_id, customer_id = h.customer_id, status = 'assigned',
                assigned_at = %s
            FROM hits h
            WHERE l.id = ANY(%s::bigint[]) AND l.owner_id IS NULL
              AND l.status = 'in_pool'
              AND ((h.kind = 'm' AND l.mobile_key = h.key)
                   OR (h.kind = 'e' AND l.email_key = h.key)
                   OR (h.kind = 'c' AND l.company_key = h.key))
            RETURNING l.id, l.owner_id
            """,
            [text_array_literal(kinds), text_array_literal(keys), text_array_literal(owners),
             text_array_literal(customers), now, text_array_literal([str(pk) for pk in ids])],
        )
        assigned = cursor.fetchall()
    LeadEvent.objects.bulk_create(
        LeadEvent(lead_id=pk, kind=LeadEvent.Kind.ASSIGNED, actor_id=actor_id,
                  to_owner_id=owner_id, from_pool=pool, to_pool=pool, reason="collision",
                  created_at=now)
        for pk, owner_id in assigned)
    refresh_due(LEADS, ids=[pk for pk, _owner in assigned])


def _write_batch(candidates: list[_Row], *, pool, channel, actor, merge: bool,
                 policy: str = "refuse") -> ImportCounts:
    """Write one batch in one transaction; returns what became of its rows. Rows that are
    already leads are skipped or merged (the job's choice; under the ``pool`` policy they
    enter the pool flagged); rows that are already customers or contacts follow the
    channel's collision policy (``leads.collision``)."""
    counts = ImportCounts()
    if not candidates:
        return counts
    now = timezone.now()
    actor_id = actor.pk if actor is not None else None
    with transaction.atomic():
        existing = _existing(candidates, channel)
        fresh = [row for row in candidates
                 if not any(k in existing for k in row.keys)]
        known = _customer_hits(fresh)
        new, merges, attach = [], [], []
        for row in candidates:
            hit = next((existing[k] for k in row.keys if k in existing), None)
            owner_key = next((k for k in _customer_keys(row) if k in known), None)
            if hit is None and owner_key is not None:
                owner_id, customer_id = known[owner_key]
                if policy == "refuse":
                    counts.skipped += 1
                    counts.rejects.append((row.line, _("Already a customer or contact in "
                                                       "LeadPool: skipped."), {}))
                    continue
                if policy == "attach" and owner_id is not None:
                    attach.append((row, owner_key, owner_id, customer_id))
                else:
                    row.attributes["_possible_duplicates"] = [
                        {"kind": "customer", "id": customer_id, "on": owner_key[0]}]
                    row = row.with_columns()
                new.append(row)
            elif hit is not None and policy == "pool" and not (
                    row.values.get("external_id") and hit.external_id ==
                    row.values.get("external_id") and hit.channel == (
                        row.values.get("channel") or channel)):
                row.attributes["_possible_duplicates"] = [{"kind": "lead", "id": hit.pk}]
                new.append(row.with_columns())
            elif hit is None:
                new.append(row)
            elif merge:
                merges.append((row, hit.pk))
            else:
                counts.skipped += 1
                counts.rejects.append((row.line,
                                       _("Already in LeadPool (lead %(id)d): skipped.")
                                       % {"id": hit.pk}, {}))
        ids = _insert_new(new, pool=pool, channel=channel, actor_id=actor_id,
                          now=now) if new else []
        if attach:
            _attach_new(attach, pool=pool, ids=ids, actor_id=actor_id, now=now)
        merged = _merge(merges)
        if merged:
            Lead.objects.bulk_update(list(merged.values()),
                                     [*TARGET_FIELDS, "attributes", "mobile_key", "email_key",
                                      "company_key"])
            LeadEvent.objects.bulk_create(
                [LeadEvent(lead=lead, kind=LeadEvent.Kind.MERGED, actor_id=actor_id,
                           from_pool_id=lead.pool_id, to_pool_id=lead.pool_id,
                           from_owner_id=lead.owner_id, to_owner_id=lead.owner_id,
                           reason=channel, note=_("Merged from a file import."),
                           created_at=now)
                 for lead in merged.values()]
            )
    counts.accepted += len(new)
    counts.merged += len(merged)
    return counts


def _merge(merges: list[tuple[_Row, int]]) -> dict[int, Lead]:
    """Fill the blank fields of existing leads from the rows that repeat them (in file
    order; the lead's own values and attributes win).

    The leads are locked first (in id order): a rep editing one, or another batch of the
    same file merging into it, waits, and what it wrote is read before filling in.
    """
    if not merges:
        return {}
    leads = {lead.pk: lead for lead in Lead.objects.select_for_update()
             .filter(pk__in={pk for _row, pk in merges}).order_by("pk")}
    merged: dict[int, Lead] = {}
    for row, pk in merges:
        lead = leads[pk]
        for name in TARGET_FIELDS:
            if not getattr(lead, name) and row.values.get(name):
                setattr(lead, name, row.values[name])
        lead.attributes = {**row.attributes, **(lead.attributes or {})}
        lead.refresh_keys()
        merged[pk] = lead
    return merged


def _insert_new(rows: list[_Row], *, pool, channel: str, actor_id, now) -> list[int]:
    """Insert the new leads and their CREATED events in one statement; returns their ids.

    ``bulk_create`` spent ~100 µs a row in Python preparing 30 field values one by one
    (``crm_bench``, 2 cores), twice the whole budget of a 20,000 rows/s import. Here each
    per-row column travels as one array (``unnest``), every other column is a constant,
    by default the model field's default (so a field added later is filled here as
    well), and data-modifying CTEs write the events from what the insert returns. A row's
    channel, created time and status are the file's when it gives them (history from
    another CRM: the events carry the lead's own date, and a converted or invalid lead
    gets that outcome's event too), else the job's channel, now and "in pool".
    """
    lead_columns, lead_select, params = [], [], []
    # One array literal per column, from the values the checking thread prepared.
    arrays = [text_array_literal(column) for column in zip(*(row.columns for row in rows),
                                                       strict=True)]
    column = {name: f"u.c{_ROW_ORDER.index(name) + 1}" for name in _ROW_ORDER}
    defaults = {"channel": channel, "status": Lead.Status.IN_POOL.value}
    for model_field in _insertable(Lead):
        name = model_field.name
        lead_columns.append(connection.ops.quote_name(model_field.column))
        # No casts to varchar(n): they truncate, while assigning text raises on a value
        # that is too long, as ``bulk_create`` did. Constants take the column's type.
        if name == "created_at":
            lead_select.append(f"COALESCE(NULLIF({column[name]}, '')::timestamptz, %s)")
            params.append(now)
        elif name == "converted_at":
            lead_select.append(f"CASE WHEN {column['status']} = 'converted' THEN "
                               f"COALESCE(NULLIF({column['created_at']}, '')::timestamptz, "
                               f"%s) END")
            params.append(now)
        elif name in defaults:
            lead_select.append(f"COALESCE(NULLIF({column[name]}, ''), %s)")
            params.append(defaults[name])
        elif name in _ROW_COLUMNS:
            json_cast = "::jsonb" if model_field.get_internal_type() == "JSONField" else ""
            lead_select.append(f"{column[name]}{json_cast}")
        else:
            lead_select.append("%s")
            params.append(_constant(model_field, {"pool": pool.pk, "created_by": actor_id}))
    params += arrays
    outcome_kind = (f"CASE new.status WHEN 'converted' THEN "
                    f"'{LeadEvent.Kind.CONVERTED.value}' ELSE "
                    f"'{LeadEvent.Kind.INVALIDATED.value}' END")
    event_columns, created_select, outcome_select = [], [], []
    for model_field in _insertable(LeadEvent):
        event_columns.append(connection.ops.quote_name(model_field.column))
        if model_field.name == "lead":
            created_select.append("new.id")
            outcome_select.append("new.id")
        elif model_field.name in ("reason", "created_at"):
            source = {"reason": "new.channel", "created_at": "new.created_at"}[model_field.name]
            created_select.append(source)
            outcome_select.append(source)
        elif model_field.name == "kind":
            created_select.append("%s")
            params.append(LeadEvent.Kind.CREATED.value)
            outcome_select.append(outcome_kind)
        else:
            value = _constant(model_field, {"actor": actor_id, "to_pool": pool.pk})
            created_select.append("%s")
            outcome_select.append("%s")
            params.append(value)
    # The outcome events' constants follow the created events' in the statement.
    params += [_constant(f, {"actor": actor_id, "to_pool": pool.pk})
               for f in _insertable(LeadEvent)
               if f.name not in ("lead", "reason", "created_at", "kind")]
    unnest = ", ".join(["%s::text[]"] * len(arrays))
    aliases = ", ".join(f"c{number}" for number in range(1, len(arrays) + 1))
    events = LeadEvent._meta.db_table
    sql = f"""
        WITH new AS (
            INSERT INTO {Lead._meta.db_table} ({", ".join(lead_columns)})
            SELECT {", ".join(lead_select)} FROM unnest({unnest}) AS u({aliases})
            RETURNING id, channel, created_at, status
        ), created AS (
            INSERT INTO {events} ({", ".join(event_columns)})
            SELECT {", ".join(created_select)} FROM new
        ), outcome AS (
            INSERT INTO {events} ({", ".join(event_columns)})
            SELECT {", ".join(outcome_select)} FROM new
            WHERE new.status IN ('converted', 'invalid')
        )
        SELECT id FROM new
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [pk for (pk,) in cursor.fetchall()]


def _insertable(model) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _constant(model_field, values: dict):
    value = values[model_field.name] if model_field.name in values else model_field.get_default()
    return model_field.get_db_prep_save(value, connection)




