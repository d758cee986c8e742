"""Set-based writes of many rows: one statement per batch, on PostgreSQL and SQLite.

On PostgreSQL each column travels as one array literal and is unnested server-side
(``UPDATE … FROM unnest(…)``, ``INSERT … SELECT FROM unnest(…)``): one statement and a few
parameters per batch, whatever its size — psycopg2 adapting a list element by element
costs ~10 µs a value, an array literal a tenth of that. SQLite (the zero-setup demo) takes
the ORM's ``bulk_update``/``bulk_create``, which is plenty at demo sizes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection


def _element(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (datetime, date)):
        return f'"{value.isoformat()}"'
    if isinstance(value, timedelta):
        return f'"{value.total_seconds()} seconds"'
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    value = str(value)
    if "\\" in value or '"' in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{value}"'


def _text_element(value: str) -> str:
    if "\\" in value or '"' in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{value}"'


# The common types by exact type, without ``_element``'s chain of isinstance checks: a
# batch of 5,000 rows has ~50,000 values.
_FAST = {int: str, str: _text_element, type(None): lambda _value: "NULL"}


def array_literal(values: Sequence) -> str:
    """A PostgreSQL array literal (``{1,NULL,"a b"}``) of ints, text, times or JSON."""
    fast = _FAST
    return "{" + ",".join([fast[type(v)](v) if type(v) in fast else _element(v)
                           for v in values]) + "}"


def _sql_type(model, name: str) -> str:
    if name in ("id", "pk"):
        return "bigint"
    field = model._meta.get_field(name)
    target = field.target_field if field.is_relation else field
    internal = target.get_internal_type()
    if internal in ("AutoField", "BigAutoField", "ForeignKey"):
        return "bigint"
    if internal == "JSONField":
        return "jsonb"
    return target.db_type(connection)


def _column(model, name: str) -> str:
    if name in ("id", "pk"):
        return model._meta.pk.column
    return model._meta.get_field(name).column


def update_rows(model, names: Sequence[str], rows: Sequence[Sequence], *,
                constants: dict | None = None) -> int:
    """Set ``names[1:]`` of the rows whose primary key is ``row[0]``; plus ``constants``.

    ``rows`` are tuples ``(pk, value, …)`` in the order of ``names`` (``names[0]`` is the
    key). Returns the number of rows updated.
    """
    if not rows:
        return 0
    constants = constants or {}
    if connection.vendor != "postgresql":
        return _update_rows_orm(model, names, rows, constants)
    table = connection.ops.quote_name(model._meta.db_table)
    key = names[0]
    arrays, assignments = [], []
    for position, name in enumerate(names):
        arrays.append(array_literal([row[position] for row in rows]))
        if position:
            assignments.append(f"{connection.ops.quote_name(_column(model, name))} = u.c{position}")
    params: list = []
    for name, value in constants.items():
        assignments.append(f"{connection.ops.quote_name(_column(model, name))} = %s")
        field = model._meta.get_field(name)
        params.append(field.get_db_prep_save(value, connection))
    unnest = ", ".join(f"%s::{_sql_type(model, name)}[]" for name in names)
    aliases = ", ".join(f"c{n}" for n in range(len(names)))
    sql = (f"UPDATE {table} SET {', '.join(assignments)} "
           f"FROM unnest({unnest}) AS u({aliases}) "
           f"WHERE {table}.{connection.ops.quote_name(_column(model, key))} = u.c0")
    with connection.cursor() as cursor:
        cursor.execute(sql, params + arrays)
        return cursor.rowcount


def _update_rows_orm(model, names, rows, constants) -> int:
    fields = [model._meta.get_field(n).name for n in names[1:]] + list(constants)
    objects = []
    for row in rows:
        obj = model(pk=row[0])
        for name, value in zip(names[1:], row[1:], strict=True):
            setattr(obj, model._meta.get_field(name).attname, value)
        for name, value in constants.items():
            setattr(obj, model._meta.get_field(name).attname, value)
        objects.append(obj)
    return model.objects.bulk_update(objects, fields, batch_size=500) if fields else 0


def insert_rows(model, names: Sequence[str], rows: Sequence[Sequence], *,
                constants: dict | None = None) -> int:
    """Insert one row per tuple of ``rows`` (values in the order of ``names``), every other
    named column in ``constants``; columns not named take their model default."""
    if not rows:
        return 0
    constants = constants or {}
    if connection.vendor != "postgresql":
        objects = []
        for row in rows:
            values = dict(zip(names, row, strict=True))
            values.update(constants)
            objects.append(model(**{model._meta.get_field(n).attname: v
                                    for n, v in values.items()}))
        model.objects.bulk_create(objects, batch_size=500)
        return len(objects)
    table = connection.ops.quote_name(model._meta.db_table)
    columns, select, params = [], [], []
    given = set(names) | set(constants)
    for field in model._meta.concrete_fields:
        if field.primary_key and field.name not in given:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name in names:
            select.append(f"u.c{names.index(field.name)}")
        else:
            value = constants[field.name] if field.name in constants else field.get_default()
            select.append("%s")
            params.append(field.get_db_prep_save(value, connection))
    arrays = [array_literal([row[position] for row in rows]) for position in range(len(names))]
    unnest = ", ".join(f"%s::{_sql_type(model, name)}[]" for name in names)
    aliases = ", ".join(f"c{n}" for n in range(len(names)))
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
           f"SELECT {', '.join(select)} FROM unnest({unnest}) AS u({aliases})")
    with connection.cursor() as cursor:
        cursor.execute(sql, params + arrays)
        return cursor.rowcount
