"""CSV and XLSX exports that open cleanly in Excel (CSV in UTF-8 with BOM) and cannot
carry formulas."""

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import HttpResponse, StreamingHttpResponse

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    """Defuse spreadsheet formula injection: a cell never starts with = + - @ or a tab."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence]
) -> StreamingHttpResponse:
    """Stream ``rows`` as a CSV download; memory stays flat whatever the row count."""
    writer = csv.writer(_Echo())

    def stream():
        yield "\ufeff"
        yield writer.writerow([neutralise(h) for h in header])
        for row in rows:
            yield writer.writerow([neutralise(cell) for cell in row])

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_response(filename: str, header: Sequence[str], rows: Iterable[Sequence],
                  *, title: str = "Sheet1") -> HttpResponse:
    """``rows`` as an Excel workbook (openpyxl's write-only mode: flat memory per row).

    Text cells are neutralised like the CSV's, so a cell never holds a formula; numbers
    stay numbers.
    """
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "Sheet1")

    def cell(value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int | float | Decimal):
            return value
        return neutralise(value)

    sheet.append([neutralise(h) for h in header])
    for row in rows:
        sheet.append([cell(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
