"""The lead kind: rows of a file become leads in the pool chosen on upload.

The stages overlap (``crm_site.lib.overlap``): rows are checked a batch ahead in a thread
of their own, and outside a transaction two batches are written at once on two
connections. Duplicates inside the file are found while checking, before any batch is
written, so batches written side by side never hold the same person; a lead that rows of
two batches merge into is locked by the first and read afresh by the second. Re-importing
the same file adds nothing twice: external ids, mobiles and e-mails already present are
duplicates.

Budget: a batch of 2,000 rows in hand adds ~2,000 small tuples and one ~1 MB statement,
and at most a few batches are in hand. ``crm_bench`` measures the throughput (target
≥ 20,000 rows/s against a million leads).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection, transaction
from django.utils.translation import gettext_lazy

from crm_site.lib.imports.columns import empty_set, plan
from crm_site.lib.imports.reading import Table
from crm_site.lib.imports.registry import (
    ImportCounts,
    ImportKind,
    ImportOptions,
    Journal,
    NullJournal,
    record_read_rejects,
)
from crm_site.lib.overlap import read_ahead, side_by_side

from ..models import LeadPool
from . import lead_writes
from .lead_rows import _Checked, _checked_batches, guess_mapping, lead_matchers

BATCH_SIZE = 2000
# Connections writing batches at once (outside a transaction, on PostgreSQL): two keep
# both cores of a small server busy; more only queue up behind each other.
WRITERS = 2


def run_import(*, table: Table, pool: LeadPool, channel: str, mapping: dict, actor,
               merge: bool = False, name_template: str = "", empty_markers=None,
               on_progress: Callable[[int, ImportCounts], None] | None = None,
               batch_size: int | None = None, journal: Journal | None = None,
               ) -> ImportCounts:
    """Import every row of ``table`` into ``pool``; returns the counts and rejected rows
    (of the batches this run wrote, when the journal says earlier ones were written).

    A file of several batches is worked in overlapping stages: the next batch is checked
    in a thread of its own while earlier ones are written, and, outside a transaction
    (the import task, ``import_leads``), two batches are written at once on two
    connections, each batch in its own transaction with its journal entry. Inside a
    transaction every batch is written on the caller's connection, one after the other.
    """
    from ..collision import policy_for

    journal = journal or NullJournal(on_progress)
    batch_size = batch_size or BATCH_SIZE
    counts = record_read_rejects(table, journal)
    processed = len(table.rejects)
    policy = policy_for(channel, "import")
    batches = _checked_batches(table, plan(table.headers, mapping),
                               empty_set(empty_markers), name_template, channel, batch_size,
                               lead_matchers())
    several = len(table.rows) > batch_size
    if several:
        batches = read_ahead(batches)

    def write(checked: _Checked) -> ImportCounts:
        if journal.written(checked.number):
            return None
        with transaction.atomic():
            outcome = lead_writes._write_batch(checked.candidates, pool=pool,
                                               channel=channel, actor=actor, merge=merge,
                                               policy=policy)
            both = ImportCounts()
            both.add(checked.counts)
            both.add(outcome)
            journal.record(checked.number, checked.first_line, checked.size, both)
        return both

    if several and WRITERS > 1 and not connection.in_atomic_block:
        written = side_by_side(batches, write, workers=WRITERS)
    else:
        written = ((checked, write(checked)) for checked in batches)
    for checked, outcome in written:
        if outcome is not None:
            counts.add(outcome)
        processed += checked.size
        journal.progress(processed, counts)
    counts.rejects.sort(key=lambda reject: reject[0])  # line order, whoever found them
    return counts


def _run(*, table: Table, options: ImportOptions, journal: Journal | None = None,
         ) -> ImportCounts:
    return run_import(table=table, pool=options.pool, channel=options.channel,
                      mapping=options.mapping, actor=options.actor, merge=options.merge,
                      name_template=options.name_template,
                      empty_markers=options.empty_markers, batch_size=options.batch_size,
                      journal=journal)


def _after(options: ImportOptions, counts: ImportCounts) -> None:
    """New leads in a pool are routed and assigned by its strategy right away."""
    if counts.accepted and options.pool is not None:
        from ..circulation import schedule_arrivals

        schedule_arrivals([options.pool.pk])


LEADS = ImportKind(code="leads", label=gettext_lazy("Leads"), run=_run,
                   guess_mapping=guess_mapping, into_pool=True, after=_after, order=0)
