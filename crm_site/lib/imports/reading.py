"""Reading an uploaded CSV or XLSX file within limits, row by row, in the worker.

A file that cannot be read at all (wrong type, no header, a header with a NUL byte, two
byte-order marks, a sheet declaring more columns or rows than allowed, a zip bomb) raises
``ImportFileError`` with a message in the user's language. A *row* that cannot be read —
undecodable text, a NUL byte, a quote that is never closed (a field swallowing the lines
after it), a cell longer than a spreadsheet cell may be — is listed in ``Table.rejects``
with its line number and reason, and the rest of the file goes on.

Budget: the file is in memory (at most ``MAX_BYTES``, 50 MB) and so are its rows
(~1 KB a row of a typical lead sheet: ~100 MB at ``MAX_ROWS``). An XLSX sheet is read in
openpyxl's read-only mode, at most ``MAX_COLUMNS`` cells a row: its declared dimension is
checked before a cell is read, so a 1.6 KB sheet declaring columns up to XFD is refused
in milliseconds.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

MAX_BYTES = 50 * 1024 * 1024  # ~300,000 rows of a typical lead sheet
MAX_ROWS = 500_000
MAX_COLUMNS = 500
MAX_CELL_CHARS = 32_767  # what one Excel cell may hold
MAX_UNZIPPED_BYTES = 600 * 1024 * 1024  # an XLSX of MAX_BYTES unzips to ~10×
# A quoted field running over more physical lines than this has lost its closing quote:
# its line is rejected and reading goes on at the next line.
MAX_RECORD_LINES = 20
ENCODING_SAMPLE = 256 * 1024
# Legacy encodings told apart when a file is not UTF-8 (GB18030 covers GBK and GB2312,
# cp932 is the Shift-JIS Excel writes).
LEGACY_ENCODINGS = ["gb18030", "cp932", "big5", "euc_kr", "cp1252"]


def limit(name: str) -> int:
    """A limit, overridable in settings (``IMPORT_MAX_ROWS`` ...)."""
    return getattr(settings, f"IMPORT_{name}", globals()[name])


class ImportFileError(Exception):
    """The file cannot be read at all; the message says why, in the user's language."""


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (line number in the file, cells)
    encoding: str
    total: int  # rows read and rows rejected while reading
    rejects: list[tuple[int, str, dict]] = field(default_factory=list)

    def preview(self, count: int = 5) -> list[list]:
        """The first rows as ``[line, cells]``, for the mapping page (stored as JSON)."""
        return [[line, cells] for line, cells in self.rows[:count]]


def _too_long(cells: list[str]) -> bool:
    most = limit("MAX_CELL_CHARS")
    return any(len(cell) > most for cell in cells)


def _cell_message() -> str:
    return _("A cell is longer than %(limit)s characters.") % {
        "limit": f"{limit('MAX_CELL_CHARS'):,}"}


def _rows_message(count) -> str:
    return _("The file has more than %(limit)s rows (%(count)s). Split it and import the "
             "parts.") % {"limit": f"{limit('MAX_ROWS'):,}", "count": count}


def read_table(raw: bytes, filename: str) -> Table:
    """Parse CSV or XLSX bytes into a header, numbered rows and the rows that could not
    be read."""
    if len(raw) > limit("MAX_BYTES"):
        raise ImportFileError(_("The file is larger than %(size)d MB. Split it and import "
                                "the parts.") % {"size": limit("MAX_BYTES") // 2**20})
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _read_xlsx(raw)
    if not name.endswith((".csv", ".txt")):
        raise ImportFileError(_("Upload a .csv or .xlsx file."))
    return _read_csv(raw)


# --- CSV ----------------------------------------------------------------------------------


def detect_encoding(raw: bytes) -> str:
    """UTF-8 with or without BOM; else the legacy encoding the text reads best in.

    A UTF-8 file with a few undecodable lines stays UTF-8 (those lines are rejected).
    """
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    lines = raw.splitlines()
    bad = 0
    for line in lines:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad += 1
    if bad == 0 or (bad <= max(2, len(lines) // 200) and not raw.isascii()):
        return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:ENCODING_SAMPLE], cp_isolation=LEGACY_ENCODINGS).best()
    if best is None:
        raise ImportFileError(_("The file's text encoding is not recognised. Save it as "
                                "UTF-8 CSV and upload it again."))
    encoding = codecs.lookup(best.encoding).name
    return {"gb2312": "gb18030", "gbk": "gb18030", "shift_jis": "cp932"}.get(encoding,
                                                                            encoding)


def _decoded_lines(raw: bytes, encoding: str) -> tuple[list[str], set[int]]:
    """The file's physical lines as text, and the numbers (1-based) of those that are not
    valid ``encoding`` (kept with replacement characters, to be rejected)."""
    if encoding.startswith("utf-16"):
        try:
            return raw.decode(encoding).splitlines(keepends=True), set()
        except UnicodeDecodeError as exc:
            raise ImportFileError(_("The file is not valid UTF-16 text.")) from exc
    if encoding == "utf-8-sig":
        raw, encoding = raw[len(codecs.BOM_UTF8):], "utf-8"
    lines, bad = [], set()
    for number, line in enumerate(raw.splitlines(keepends=True), start=1):
        try:
            lines.append(line.decode(encoding))
        except UnicodeDecodeError:
            lines.append(line.decode(encoding, errors="replace"))
            bad.add(number)
    return lines, bad


class _Runaway(Exception):
    """A quoted field ran over ``MAX_RECORD_LINES`` lines."""


class _Lines:
    """The physical lines a ``csv.reader`` pulls, refusing to let one record run over
    ``most`` of them."""

    def __init__(self, lines: list[str], most: int):
        self.lines, self.most = lines, most
        self.cursor = 0  # the next line to hand out
        self.start = 0  # the first line of the record being read

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self.cursor >= len(self.lines):
            raise StopIteration
        if self.cursor - self.start >= self.most:
            raise _Runaway
        self.cursor += 1
        return self.lines[self.cursor - 1]


def _records(lines: list[str]):
    """``(first line, last line, cells or None, problem)`` of every record.

    One ``csv.reader`` reads on as long as records are sound; when a quoted field runs
    over ``MAX_RECORD_LINES`` lines (its closing quote is missing) its first line is
    reported and a new reader starts on the next line, so the rest of the file is read.
    """
    feed = _Lines(lines, limit("MAX_RECORD_LINES"))
    while feed.cursor < len(lines):
        feed.start = feed.cursor
        try:
            for cells in csv.reader(feed):
                yield feed.start + 1, feed.cursor, cells, None
                feed.start = feed.cursor
        except _Runaway:
            yield feed.start + 1, feed.start + 1, None, _(
                "A quote opened on this line is not closed within %(count)d lines; the "
                "row is skipped and reading goes on with the next line.") % {
                    "count": feed.most}
            feed.cursor = feed.start + 1
            continue
        except csv.Error as exc:
            problem = (_cell_message() if "field larger" in str(exc)
                       else _("The row cannot be read as CSV."))
            yield feed.start + 1, feed.cursor, None, problem
            feed.cursor = max(feed.cursor, feed.start + 1)
            continue
        break


def _read_csv(raw: bytes) -> Table:
    encoding = detect_encoding(raw)
    lines, undecodable = _decoded_lines(raw, encoding)
    if lines and lines[0].startswith("\ufeff"):
        raise ImportFileError(_("The file starts with two byte-order marks (BOM). Open it "
                                "in a text editor, save it as UTF-8 and upload it again."))
    records = _records(lines)
    headers = None
    for first, last, cells, problem in records:
        if problem:
            raise ImportFileError(_("The header row cannot be read: %(reason)s")
                                  % {"reason": problem})
        if any(number in undecodable for number in range(first, last + 1)):
            raise ImportFileError(_("The header row is not valid %(encoding)s text.")
                                  % {"encoding": encoding})
        if not any(cell.strip() for cell in cells):
            continue
        if any("\x00" in cell for cell in cells):
            raise ImportFileError(_("The header row contains a NUL byte: the file is not a "
                                    "plain text CSV file."))
        headers = [cell.strip() for cell in cells]
        break
    if headers is None:
        raise ImportFileError(_("The file has no header row."))
    rows, rejects = [], []
    most = limit("MAX_ROWS")
    for first, last, cells, problem in records:
        if problem is None and any(n in undecodable for n in range(first, last + 1)):
            problem = _("The row is not valid %(encoding)s text.") % {"encoding": encoding}
        elif problem is None and cells is not None:
            # "".join(row).strip() is any(cell.strip() ...) in one call per row.
            joined = "".join(cells)
            if not joined.strip():
                continue
            if "\x00" in joined:
                problem = _("The row contains a NUL byte.")
            elif _too_long(cells):
                problem = _cell_message()
        if problem:
            rejects.append((first, problem, {}))
        else:
            rows.append((first, cells))
        if len(rows) + len(rejects) > most:
            raise ImportFileError(_rows_message(_("more")))
    return Table(headers=headers, rows=rows, encoding=encoding,
                 total=len(rows) + len(rejects), rejects=rejects)


# --- XLSX ---------------------------------------------------------------------------------


def _read_xlsx(raw: bytes) -> Table:
    from openpyxl import load_workbook

    unreadable = _("The file is not a readable Excel (.xlsx) workbook.")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ImportFileError(unreadable) from exc
    if unzipped > limit("MAX_UNZIPPED_BYTES"):
        raise ImportFileError(_("The workbook unpacks to more than %(size)d MB. Save the "
                                "sheet as CSV and import that.")
                              % {"size": limit("MAX_UNZIPPED_BYTES") // 2**20})
    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise ImportFileError(unreadable) from exc
    try:
        return _read_sheet(workbook.worksheets[0])
    except ImportFileError:
        raise
    except Exception as exc:
        raise ImportFileError(unreadable) from exc
    finally:
        workbook.close()


def _read_sheet(sheet) -> Table:
    columns, most = limit("MAX_COLUMNS"), limit("MAX_ROWS")
    # Read-only mode takes both from the sheet's <dimension> element without reading a
    # cell, and would pad every row to the declared width.
    if (sheet.max_column or 0) > columns:
        raise ImportFileError(_("The sheet declares %(count)s columns; at most %(limit)d "
                                "can be imported. Delete the empty columns (or save the "
                                "sheet as CSV) and upload it again.")
                              % {"count": f"{sheet.max_column:,}", "limit": columns})
    if (sheet.max_row or 0) - 1 > most:
        raise ImportFileError(_rows_message(f"{sheet.max_row - 1:,}"))
    rows, rejects, headers = [], [], None
    # Rows are padded to this width: the declared one, else the limit (then trimmed).
    width = min(sheet.max_column or columns, columns)
    for number, values in enumerate(sheet.iter_rows(values_only=True, max_col=width),
                                    start=1):
        cells = ["" if v is None else str(v).strip() for v in values]
        while cells and not cells[-1]:
            cells.pop()
        if headers is None:
            if not any(cells):
                raise ImportFileError(_("The file has no header row."))
            if any("\x00" in cell for cell in cells):
                raise ImportFileError(_("The header row contains a NUL byte."))
            headers = cells
            continue
        if not any(cells):
            continue
        if any("\x00" in cell for cell in cells):
            rejects.append((number, _("The row contains a NUL byte."), {}))
        elif _too_long(cells):
            rejects.append((number, _cell_message(), {}))
        else:
            rows.append((number, cells))
        if len(rows) + len(rejects) > most:
            raise ImportFileError(_rows_message(_("more")))
    if headers is None:
        raise ImportFileError(_("The file has no header row."))
    return Table(headers=headers, rows=rows, encoding="xlsx",
                 total=len(rows) + len(rejects), rejects=rejects)
