"""The registry of import kinds, filled by each app in ``AppConfig.ready()``.

A kind is what the rows of a file become (leads, customers, contacts, opportunities,
products, employees). The app that owns the records registers it::

    from crm_site.lib.imports.registry import ImportKind, register_kind

    register_kind(ImportKind(code="products", label=_("Products"), run=run_products,
                             guess_mapping=guess_product_mapping, presets=...))

``run(*, table, options, journal)`` imports a parsed ``Table`` and returns its
``ImportCounts``; it writes in batches of one short transaction each and, inside each
batch's transaction, calls ``journal.record(...)`` so that a job resumed after its worker
died skips the batches already written (``journal.written(number)``). Batch 0 holds the
rows rejected while reading the file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import transaction


@dataclass
class ImportCounts:
    total: int = 0
    accepted: int = 0
    merged: int = 0
    skipped: int = 0
    rejected: int = 0
    rejects: list[tuple[int, str, dict]] = field(default_factory=list)
    created: dict = field(default_factory=dict)  # side effects: org units, managers, ...

    def add(self, other: ImportCounts) -> None:
        """Count a batch's outcome in."""
        self.accepted += other.accepted
        self.merged += other.merged
        self.skipped += other.skipped
        self.rejected += other.rejected
        self.rejects += other.rejects
        for key, value in other.created.items():
            self.created[key] = self.created.get(key, 0) + value


class RowRejected(Exception):
    """A row that cannot be imported; the message says why, in the user's language."""


class Journal(Protocol):
    """Where a run records each batch it wrote (the job's, or nowhere for a command)."""

    def written(self, number: int) -> bool: ...

    def record(self, number: int, first_line: int, rows: int, counts: ImportCounts) -> None:
        """Called inside the batch's transaction."""

    def progress(self, processed: int, counts: ImportCounts) -> None:
        """Called between batches, outside any batch transaction."""


class NullJournal:
    """A run outside a job (``manage.py``): nothing to resume, progress to a callback."""

    def __init__(self, on_progress: Callable[[int, ImportCounts], None] | None = None):
        self.on_progress = on_progress

    def written(self, number: int) -> bool:
        return False

    def record(self, number: int, first_line: int, rows: int, counts: ImportCounts) -> None:
        pass

    def progress(self, processed: int, counts: ImportCounts) -> None:
        if self.on_progress:
            self.on_progress(processed, counts)


@dataclass(frozen=True)
class ImportOptions:
    """How one file is imported: its mapping and what the job's form chose."""

    mapping: dict
    actor: Any = None
    mapping_name: str = ""
    empty_markers: list[str] | None = None
    name_template: str = ""
    pool: Any = None  # kinds with ``into_pool``
    channel: str = "file_import"
    merge: bool = False
    batch_size: int | None = None


@dataclass(frozen=True)
class ImportKind:
    code: str
    label: Any
    run: Callable[..., ImportCounts]  # run(*, table, options, journal) -> ImportCounts
    guess_mapping: Callable[[list[str]], dict[str, str]]
    presets: Mapping[str, dict] = field(default_factory=dict)  # built-in mappings by name
    into_pool: bool = False  # rows enter a lead pool chosen on upload
    admin_only: bool = False  # needs the administration entry as well as the import right
    after: Callable[[Any, ImportCounts], None] | None = None  # after(options, counts), done
    order: int = 50  # place in the lists of kinds


_KINDS: dict[str, ImportKind] = {}


def register_kind(kind: ImportKind) -> ImportKind:
    _KINDS[kind.code] = kind
    return kind


def get_kind(code: str) -> ImportKind:
    """The kind registered as ``code``; ``KeyError`` if none is."""
    return _KINDS[code]


def all_kinds() -> dict[str, ImportKind]:
    """Every registered kind, in their ``order``."""
    return dict(sorted(_KINDS.items(), key=lambda item: item[1].order))


def record_read_rejects(table, journal: Journal) -> ImportCounts:
    """The counts a run starts from: the rows rejected while reading, recorded as batch 0
    (once, in its own transaction)."""
    counts = ImportCounts(total=table.total)
    if table.rejects and not journal.written(0):
        read = ImportCounts(rejected=len(table.rejects), rejects=list(table.rejects))
        with transaction.atomic():
            journal.record(0, table.rejects[0][0], len(table.rejects), read)
        counts.add(read)
    return counts
