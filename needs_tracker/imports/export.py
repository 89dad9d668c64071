"""Export lists to .xlsx and .csv (UTF-8 with BOM), with the import template's headers.

The filters are those of the list pages (same query-string arguments), applied through
db.session so the scoping layer limits rows to the user's centres. Cells that a spreadsheet
would run as a formula (starting with = + - @, tab or CR) are neutralised with a leading
apostrophe, which the importer removes again, so exporting then importing changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select

from needs_tracker.extensions import db
from needs_tracker.imports.adapter import KindAdapter
from needs_tracker.imports.commit import field_link
from needs_tracker.imports.parsing import CHOICE, CREDIT_CODE, FORMULA_START, TEXT, allowed_labels
from needs_tracker.imports.registry import KINDS, adapter
from needs_tracker.taxonomy.models import TechField

EXPORT_KINDS = KINDS  # every importable kind exports with the same columns


def neutralise(value: Any) -> Any:
    """Prefix an apostrophe to text a spreadsheet would treat as a formula."""
    if isinstance(value, str) and value and value[0] in FORMULA_START:
        return "'" + value
    return value


def filtered_select(kind: str, args: Mapping[str, str], *, columns: bool = False) -> Select:
    """The list page's query for kind, filtered by the same query-string arguments.

    Filters and search are the list pages' own (through the kind's adapter); only the order
    differs (a stable one for the file, not the page's sort). columns: read the adapter's
    export columns instead of records, for kinds that declare them.
    """
    a = adapter(kind)
    errors: list[str] = []  # an unreadable date is ignored, as on the list page
    stmt = a.filter(a.export_select(columns=columns), args, errors)
    stmt = a.search(stmt, args.get("q", "").strip()[:100])
    return stmt.order_by(*a.list_order)


def row_of(kind: KindAdapter, record: Any, cells: Mapping[str, Any]) -> list[Any]:
    """One export row, in the order of the kind's template headers.

    A cell is the record's own attribute unless cells gives it; a choice is written as its
    Chinese label (from the catalogue), an empty text as "".
    """
    row = []
    for spec in kind.columns:
        value = cells[spec.name] if spec.name in cells else getattr(record, spec.name)
        if spec.type == CHOICE and spec.choices is not None:
            value = spec.choices.labels_in("zh").get(value, value)
        elif value is None and spec.type in (TEXT, CREDIT_CODE):
            value = ""
        row.append(value)
    return row


def _field_names(kind: KindAdapter, ids: list[int]) -> dict[int, str]:
    """The technical field names of each record, joined as in the export, in the fields' order."""
    link = field_link(kind.model)
    if link is None:
        return {}
    table, own = link
    stmt = (
        select(table.c[own], TechField.name)
        .join(TechField, TechField.id == table.c.field_id)
        .where(table.c[own].in_(ids))
        .order_by(table.c[own], TechField.position)
    )
    out: dict[int, list[str]] = {}
    for record_id, name in db.session.execute(stmt):
        out.setdefault(record_id, []).append(name)
    return {k: "、".join(v) for k, v in out.items()}


def headers_of(kind: str) -> list[str]:
    """The Chinese template headers of kind."""
    return [spec.label for spec in KINDS[kind]]


# Rows fetched (and their related rows loaded) per round trip when streaming an export.
EXPORT_BATCH = 1000


def export_rows(kind: str, args: Mapping[str, str] | None = None) -> list[list[Any]]:
    """Every row of kind visible to the current scope, filtered like the list page."""
    return list(iter_export_rows(kind, args))


def iter_export_rows(kind: str, args: Mapping[str, str] | None = None) -> Iterator[list[Any]]:
    """The rows of export_rows one batch at a time, so 300,000 needs use constant memory."""
    a = adapter(kind)
    if a.export_sql is not None:
        stmt = filtered_select(kind, args or {}, columns=True)
        result = db.session.execute(stmt.execution_options(yield_per=EXPORT_BATCH))
        for batch in result.partitions():
            names = _field_names(a, [r.id for r in batch])
            for r in batch:
                yield row_of(a, r, {"fields": names.get(r.id, "")})
        return
    stmt = filtered_select(kind, args or {}).execution_options(yield_per=EXPORT_BATCH)
    for obj in db.session.scalars(stmt):
        yield row_of(a, obj, a.export_cells(obj))


def count_export_rows(kind: str, args: Mapping[str, str] | None = None) -> int:
    """How many rows the export of kind with these filters will write."""
    sub = filtered_select(kind, args or {}).order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(sub)) or 0


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(neutralise(value))


def to_csv(headers: list[str], rows: Iterable[list[Any]]) -> bytes:
    """CSV in UTF-8 with a BOM, so Excel opens Chinese text correctly."""
    return b"".join(iter_csv(headers, rows))


def iter_csv(headers: list[str], rows: Iterable[list[Any]], chunk: int = 500) -> Iterator[bytes]:
    """to_csv in pieces of about chunk rows, for a streamed download or file."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    first = True
    for i, row in enumerate(rows, start=1):
        writer.writerow([_csv_value(v) for v in row])
        if i % chunk == 0:
            yield out.getvalue().encode("utf-8-sig" if first else "utf-8")
            first = False
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8-sig" if first else "utf-8")


def to_xlsx(headers: list[str], rows: Iterable[list[Any]], title: str = "Sheet1") -> bytes:
    """An .xlsx workbook; text is never written as a formula."""
    buf = io.BytesIO()
    write_xlsx(buf, headers, rows, title)
    return buf.getvalue()


def write_xlsx(
    target: Any, headers: list[str], rows: Iterable[list[Any]], title: str = "Sheet1"
) -> None:
    """Write an .xlsx workbook to target (a path or binary file) in openpyxl's write-only
    mode, which keeps rows on disk, not in memory; text is never written as a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    bold = Font(bold=True)
    header_cells = []
    for h in headers:
        c = WriteOnlyCell(ws, value=h)
        c.font = bold
        header_cells.append(c)
    ws.append(header_cells)
    for row in rows:
        cells = []
        for v in row:
            if isinstance(v, Decimal):
                v = float(v)
            cell = WriteOnlyCell(ws, value=neutralise(v) if isinstance(v, str) else v)
            if isinstance(v, date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        ws.append(cells)
    wb.save(target)


def annotated_xlsx(
    header: list[str], rows: list[tuple[list[str], list[tuple[str | None, str]]]], note: str
) -> bytes:
    """Rows handed back to the user: the file's own columns, a last column `note` with the
    messages, and a comment on each cell a message is about (so the file can be fixed and
    imported again in one go)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("rows")
    bold = Font(bold=True)
    mark = PatternFill("solid", fgColor="FFF2CC")
    header_cells = []
    for h in [*header, note]:
        c = WriteOnlyCell(ws, value=h)
        c.font = bold
        header_cells.append(c)
    ws.append(header_cells)
    column_of = {h: i for i, h in enumerate(header) if h}
    for cells, messages in rows:
        by_column: dict[int, list[str]] = {}
        for column, message in messages:
            if column in column_of:
                by_column.setdefault(column_of[column], []).append(message)
        out = []
        for i in range(len(header)):
            value = cells[i] if i < len(cells) else ""
            cell = WriteOnlyCell(ws, value=neutralise(value) if value else None)
            if i in by_column:
                cell.comment = Comment("\n".join(by_column[i]), "needs-tracker")
                cell.fill = mark
            out.append(cell)
        out.append(WriteOnlyCell(ws, value=neutralise("；".join(m for _c, m in messages))))
        ws.append(out)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def template_bytes(kind: str, fmt: str) -> bytes:
    """An import template for kind: headers and one example row; the xlsx has a second sheet
    listing the allowed values of each choice column."""
    columns = KINDS[kind]
    headers = [spec.label + ("*" if spec.required else "") for spec in columns]
    example = list(adapter(kind).example)
    rows = [example + [""] * (len(columns) - len(example))]
    if fmt != "xlsx":
        return to_csv(headers, rows)
    return _with_choices_sheet(to_xlsx(headers, rows, kind), kind)


def _with_choices_sheet(data: bytes, kind: str) -> bytes:
    """Add the sheet 可选值: one column per choice column, its allowed values below."""
    from openpyxl import load_workbook
    from openpyxl.styles import Font

    choices = [(s.label, allowed_labels(s)) for s in KINDS[kind] if s.type == CHOICE]
    if not choices:
        return data
    wb = load_workbook(io.BytesIO(data))
    ws = wb.create_sheet("可选值")
    for col, (label, values) in enumerate(choices, start=1):
        ws.cell(row=1, column=col, value=label).font = Font(bold=True)
        for row, value in enumerate(values, start=2):
            ws.cell(row=row, column=col, value=value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
