"""The two file formats, each a generator the view streams.

CSV: UTF-8 with a byte order mark (Excel reads the file as UTF-8 only with
it), one header line in the reader's language, times on the reader's wall
clock, amounts as plain numbers with a dot, text defused against formula
injection (``cells.py``). Lines go out in small groups as rows are read.

Excel: an openpyxl write-only workbook (rows go to a temporary file as they
are appended, never into a tree in memory), with typed cells: real dates and
times (Excel has no time zones, so the wall-clock time of the reader's zone;
the ISO column keeps the offset), numbers for amounts and measures, booleans.
A zip file is only complete at its end, so the workbook is streamed from
its temporary file once written."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.utils import get_column_letter

from ..i18n import translate
from .cells import defused
from .table import Column, Context

LINES_PER_CHUNK = 200
FILE_CHUNK = 64 * 1024


def csv_lines(columns: tuple[Column, ...], rows: Iterable, ctx: Context) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yes, no = translate("Yes", ctx.lang), translate("No", ctx.lang)
    shows = [_csv_shower(c.kind, ctx, yes, no) for c in columns]
    readers = [c.value for c in columns]
    # The byte order mark and the header leave at once: the download
    # starts before the first row is read.
    writer.writerow([defused(translate(c.header, ctx.lang)) for c in columns])
    yield "\ufeff" + flush()
    n = 0
    for row in rows:
        writer.writerow([show(read(row, ctx)) for show, read in zip(shows, readers, strict=True)])
        n += 1
        if n % LINES_PER_CHUNK == 0:
            yield flush()
    tail = flush()
    if tail:
        yield tail


def _csv_shower(kind: str, ctx: Context, yes: str, no: str):
    zone = ctx.zone

    def text(value):
        return defused(value)

    def time(value):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if value else ""

    def iso(value):
        return value.astimezone(zone).isoformat() if value else ""

    def day(value):
        return value.isoformat() if value else ""

    def number(value):
        # Our own numbers, never text from the field: no defusing, so a
        # spreadsheet reads them as numbers.
        if value is None:
            return ""
        if isinstance(value, float):
            return f"{value:.1f}"
        return str(value)

    def boolean(value):
        return "" if value is None else (yes if value else no)

    return {"text": text, "time": time, "iso": iso, "date": day, "money": number,
            "number": number, "bool": boolean}[kind]


def xlsx_chunks(columns: tuple[Column, ...], rows: Iterable, ctx: Context,
                sheet_title: str) -> Iterator[bytes]:
    """Write the workbook to a temporary file as rows come, then send the
    file in chunks. Nothing is read before the generator starts, so a view
    returns at once."""
    with tempfile.TemporaryFile() as spool:
        _write_workbook(spool, columns, rows, ctx, sheet_title)
        spool.seek(0)
        while chunk := spool.read(FILE_CHUNK):
            yield chunk


def _write_workbook(spool, columns, rows, ctx: Context, sheet_title: str) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=sheet_title[:31])
    for i, column in enumerate(columns, 1):
        width = {"time": 17, "iso": 26, "date": 11, "money": 13, "number": 10, "bool": 8}
        sheet.column_dimensions[get_column_letter(i)].width = width.get(column.kind, 18)
    sheet.freeze_panes = "A2"
    sheet.append([_text_cell(sheet, translate(c.header, ctx.lang)) for c in columns])
    makers = [_xlsx_maker(sheet, c.kind, ctx) for c in columns]
    readers = [c.value for c in columns]
    for row in rows:
        sheet.append([make(read(row, ctx)) for make, read in zip(makers, readers, strict=True)])
    book.save(spool)


def _text_cell(sheet, value):
    """A text cell stays text: openpyxl would store ``=...`` as a formula
    and ``#N/A`` as an error, so those get the string type explicitly
    (Excel never evaluates a string cell); characters XML cannot hold
    (control characters) are dropped."""
    if value is None or value == "":
        return None
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if text.startswith("=") or text in ERROR_CODES:
        cell = WriteOnlyCell(sheet, text)
        cell.data_type = "s"
        return cell
    return text


def _xlsx_maker(sheet, kind: str, ctx: Context):
    zone = ctx.zone

    def text(value):
        return _text_cell(sheet, value)

    def time(value: datetime | None):
        if value is None:
            return None
        cell = WriteOnlyCell(sheet, value.astimezone(zone).replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell

    def iso(value: datetime | None):
        return value.astimezone(zone).isoformat() if value else None

    def day(value: date | None):
        if value is None:
            return None
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = "yyyy-mm-dd"
        return cell

    def money(value):
        if value is None:
            return None
        cell = WriteOnlyCell(sheet, value)
        exponent = -value.as_tuple().exponent if hasattr(value, "as_tuple") else 2
        cell.number_format = "#,##0" + ("." + "0" * exponent if exponent > 0 else "")
        return cell

    def plain(value):
        return value

    return {"text": text, "time": time, "iso": iso, "date": day, "money": money,
            "number": plain, "bool": plain}[kind]
