"""The batch runner of record kinds (customers, contacts, opportunities, products,
employees): every row is checked, rejected rows are reported by line, duplicates inside
the file skipped, and the good rows of each batch written in one short transaction.

Budget: a batch of 2,000 rows is one transaction of a few set-based statements; what a
kind looks up once a run (people, products, dictionaries) sits in its context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .columns import batches, empty_set, plan, split_row
from .reading import Table
from .registry import (
    ImportCounts,
    ImportOptions,
    Journal,
    NullJournal,
    RowRejected,
    record_read_rejects,
)

BATCH_SIZE = 2000


@dataclass
class RecordContext:
    """What a run looks up once (or once per batch) instead of once per row."""

    actor_id: int | None
    prefix: str  # of external IDs, from a built-in mapping (``maven:``)
    now: datetime
    matchers: dict = field(default_factory=dict)  # field → DictionaryMatcher
    raw: dict = field(default_factory=dict)  # line → the row as read, for the report
    lookups: dict = field(default_factory=dict)  # whatever else the kind preloads


@dataclass(frozen=True)
class RecordSteps:
    """A record kind: ``prepare(ctx)`` loads lookups once, ``check(values, attributes,
    ctx) -> (key, data)`` raises ``RowRejected``, ``write(rows, ctx, counts)`` writes
    ``[(line, key, data)]`` inside the batch's transaction."""

    check: Callable[[dict, dict, RecordContext], tuple[str, dict]]
    write: Callable[[list, RecordContext, ImportCounts], None]
    prepare: Callable[[RecordContext], None] | None = None


def run_records(steps: RecordSteps, *, table: Table, options: ImportOptions,
                journal: Journal | None = None, prefix: str = "") -> ImportCounts:
    """Import every row of ``table`` with ``steps``; returns counts and rejects (of the
    batches this run wrote, when a journal says earlier ones were written)."""
    journal = journal or NullJournal()
    empty = empty_set(options.empty_markers)
    ctx = RecordContext(actor_id=getattr(options.actor, "pk", None), prefix=prefix,
                        now=timezone.now())
    if steps.prepare:
        steps.prepare(ctx)
    counts = record_read_rejects(table, journal)
    seen: dict[str, int] = {}
    columns = plan(table.headers, options.mapping)
    processed = len(table.rejects)
    headers = table.headers
    for number, batch in enumerate(batches(table.rows, options.batch_size or BATCH_SIZE),
                                   start=1):
        done = journal.written(number)
        part, good = ImportCounts(), []
        for line, cells in batch:
            values, attributes = split_row(cells, columns, empty, first_wins=True)
            try:
                key, data = steps.check(values, attributes, ctx)
            except RowRejected as problem:
                part.rejected += 1
                part.rejects.append((line, str(problem),
                                     dict(zip(headers, cells, strict=False))))
                continue
            if key and key in seen:
                part.skipped += 1
                part.rejects.append((line, _("Duplicate of line %(line)d in this file.")
                                     % {"line": seen[key]},
                                     dict(zip(headers, cells, strict=False))))
                continue
            if key:
                seen[key] = line
            good.append((line, key, data))
            ctx.raw[line] = dict(zip(headers, cells, strict=False))
        if not done:
            with transaction.atomic():
                if good:
                    steps.write(good, ctx, part)
                journal.record(number, batch[0][0], len(batch), part)
            counts.add(part)
        ctx.raw.clear()
        processed += len(batch)
        journal.progress(processed, counts)
    return counts


def record_kind_runner(steps: RecordSteps, prefixes: dict[str, str] | None = None,
                       ) -> Callable[..., ImportCounts]:
    """The ``run`` of an ``ImportKind`` made of ``steps``; ``prefixes`` gives the external
    ID prefix of a built-in mapping's records."""

    def run(*, table: Table, options: ImportOptions, journal: Journal | None = None,
            ) -> ImportCounts:
        return run_records(steps, table=table, options=options, journal=journal,
                           prefix=(prefixes or {}).get(options.mapping_name, ""))

    return run


def fields_guesser(model_for: Callable[[], Any], fields: dict[str, list[str]],
                   ) -> Callable[[list[str]], dict[str, str]]:
    """A ``guess_mapping`` that recognises ``fields`` by name, alias or the model field's
    label in either language."""
    from .columns import header_names, match_headers

    def guess(headers: list[str]) -> dict[str, str]:
        model = model_for()
        labels = {f.name: f.verbose_name for f in model._meta.get_fields()
                  if hasattr(f, "verbose_name")}
        return match_headers(headers, {name: header_names(name, labels.get(name), aliases)
                                       for name, aliases in fields.items()})

    return guess
