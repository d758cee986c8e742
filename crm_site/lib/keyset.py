"""Keyset ("seek") pagination on an indexed column plus the primary key.

No OFFSET and no COUNT(*): the next page starts after the last row of this one, so a
page costs the same at row 10 and at row 10 million. The cursor is an opaque token.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.utils.dateparse import parse_datetime


@dataclass(frozen=True)
class Page:
    rows: list
    next_cursor: str | None


def _encode(value, pk) -> str:
    if isinstance(value, datetime):
        value = {"dt": value.isoformat()}
    elif isinstance(value, date):
        value = value.isoformat()  # read back by the DateField's to_python
    raw = json.dumps([value, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, model, field: str):
    """The cursor's ``(value, pk)``, or None when it is not one this list could have made.

    A cursor comes back from the browser: edited, stale, or from another sort order, it
    must not reach the query as a value of the wrong type (a server error).
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if isinstance(value, dict) and "dt" in value:
            value = parse_datetime(value["dt"])
        if value is not None:
            value = _model_field(model, field).to_python(value)
        pk = model._meta.pk.to_python(pk)
    except (ValueError, TypeError, ValidationError):
        return None
    return (value, pk) if pk is not None else None


def _model_field(model, field: str):
    *path, name = field.split("__")
    for part in path:
        model = model._meta.get_field(part).related_model
    return model._meta.get_field(name)


def keyset_page(queryset: QuerySet, *, field: str, descending: bool = False,
                cursor: str | None = None, size: int = 50) -> Page:
    """One page of ``queryset`` ordered by ``field`` (nulls last) then primary key."""
    direction = "lt" if descending else "gt"
    if _model_field(queryset.model, field).null:
        order_field = (F(field).desc(nulls_last=True) if descending
                       else F(field).asc(nulls_last=True))
    else:
        # A plain ORDER BY on a NOT NULL column, so a (… field DESC, id DESC) index serves it.
        order_field = f"-{field}" if descending else field
    order_pk = "-pk" if descending else "pk"
    if cursor:
        decoded = _decode(cursor, queryset.model, field)
        if decoded is not None:
            value, pk = decoded
            if value is None:
                queryset = queryset.filter(Q(**{f"{field}__isnull": True, f"pk__{direction}": pk}))
            else:
                queryset = queryset.filter(
                    Q(**{f"{field}__{direction}": value})
                    | Q(**{field: value, f"pk__{direction}": pk})
                    | Q(**{f"{field}__isnull": True})
                )
    rows = list(queryset.order_by(order_field, order_pk)[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        value = last
        for part in field.split("__"):
            value = getattr(value, part)
        next_cursor = _encode(value, last.pk)
    return Page(rows=rows, next_cursor=next_cursor)
