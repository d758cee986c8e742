"""The customers and contacts a lead import collides with (registered with the lead
kind in ``OpportunitiesConfig.ready``)."""

from __future__ import annotations

from django.db import connection

from crm_site.lib.bulk import text_array_literal

from ..models import ContactMethod, Customer, CustomerContact


def customer_hits(phones: list[str], emails: list[str], companies: list[str],
                  ) -> dict[str, tuple[int | None, int | None]]:
    """Customers and contacts already holding a key of a batch: key → (owner, customer).

    Keys are ``m:``/``e:`` (a contact method's phone or e-mail) and ``c:`` (a customer's
    name). Two statements per batch, arrays instead of parameter lists.
    """
    found: dict[str, tuple[int | None, int | None]] = {}
    with connection.cursor() as cursor:
        if phones or emails:
            cursor.execute(
                f"""
                SELECT CASE WHEN m.kind = 'email' THEN 'e:' ELSE 'm:' END || m.value_key,
                       c.owner_id, c.id
                FROM {ContactMethod._meta.db_table} m
                LEFT JOIN {CustomerContact._meta.db_table} cc ON cc.contact_id = m.contact_id
                LEFT JOIN {Customer._meta.db_table} c
                       ON c.id = cc.customer_id AND c.merged_into_id IS NULL
                WHERE ((m.kind IN ('mobile', 'phone') AND m.value_key = ANY(%s::text[]))
                       OR (m.kind = 'email' AND m.value_key = ANY(%s::text[])))
                  AND NOT (m.value_key = '')
                ORDER BY (c.owner_id IS NULL), cc.is_primary DESC, m.id
                """,
                [text_array_literal(phones), text_array_literal(emails)],
            )
            for key, owner_id, customer_id in cursor.fetchall():
                found.setdefault(key, (owner_id, customer_id))
        if companies:
            cursor.execute(
                f"""
                SELECT 'c:' || name_key, owner_id, id FROM {Customer._meta.db_table}
                WHERE name_key = ANY(%s::text[]) AND NOT (name_key = '')
                  AND merged_into_id IS NULL
                ORDER BY (owner_id IS NULL), id
                """,
                [text_array_literal(companies)],
            )
            for key, owner_id, customer_id in cursor.fetchall():
                found.setdefault(key, (owner_id, customer_id))
    return found


