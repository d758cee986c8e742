"""Column headers → fields: recognised header names, saved mappings, splitting a row."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.utils import translation

ATTRIBUTE = "__attribute__"  # keep the column in the record's attribute bag
IGNORE = "__ignore__"
DEFAULT_EMPTY_MARKERS = ["select", "n/a", "na", "null", "none", "-", "--"]

_SEPARATORS = re.compile(r"[\s_\-]+")


def header_key(header: str) -> str:
    """A header as it is compared: width- and case-folded, without spaces, underscores or
    hyphens (``Product_Category`` = ``product category`` = ``ＰＲＯＤＵＣＴ－ＣＡＴＥＧＯＲＹ``)."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", header or "").casefold())


def compact(value: str) -> str:
    """A comparison key for values: case- and width-folded, letters and digits only
    (``GTXPro`` = ``GTX Pro``)."""
    value = unicodedata.normalize("NFKC", value or "").casefold()
    return re.sub(r"[\W_]+", "", value)


def header_names(target: str, label=None, aliases: Iterable[str] = ()) -> set[str]:
    """What a column of ``target`` may be headed: the field's name, its label in every UI
    language and the aliases, folded as ``header_key`` folds headers."""
    names = {target, *aliases}
    if label is not None:
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                names.add(str(label))
    return {header_key(name) for name in names} - {""}


def match_headers(headers: list[str], fields: dict[str, set[str]]) -> dict[str, str]:
    """Map each header that names a field (``header_names``) to it, the first column
    winning when two name the same field; every other column goes to the attribute bag."""
    mapping, taken = {}, set()
    for header in headers:
        if not header:
            continue
        key = header_key(header)
        target = next((f for f, names in fields.items() if key in names and f not in taken),
                      ATTRIBUTE)
        if target != ATTRIBUTE:
            taken.add(target)
        mapping[header] = target
    return mapping


def plan(headers: list[str], mapping: dict) -> list[tuple[int, str, str]]:
    """``(column index, header, target)`` of every named column, worked out once a file."""
    return [(index, header, mapping.get(header, ATTRIBUTE))
            for index, header in enumerate(headers) if header]


def split_row(cells: list[str], columns: list[tuple[int, str, str]], empty: set[str], *,
              first_wins: bool = False) -> tuple[dict, dict]:
    """A row's mapped values and its attribute bag (named columns mapped to nothing).

    Blank cells and the file's empty markers (``Select``) are dropped; when two columns map
    to the same field the last one wins, or the first with ``first_wins``.
    """
    values, attributes = {}, {}
    width = len(cells)
    for index, header, target in columns:
        value = cells[index].strip() if index < width and cells[index] else ""
        if not value or target == IGNORE or value.lower() in empty:
            continue
        if target == ATTRIBUTE:
            attributes[header] = value
        elif not (first_wins and target in values):
            values[target] = value
    return values, attributes


def empty_set(markers) -> set[str]:
    """The file's empty markers, lower-cased (the defaults when none are given)."""
    return {m.lower() for m in (markers if markers is not None else DEFAULT_EMPTY_MARKERS)}


def batches(rows: Iterable, size: int) -> Iterator[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
