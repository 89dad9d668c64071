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
from sqlalchemy.orm import selectinload

from needs_tracker.experts import resource_views
from needs_tracker.experts import views as expert_views
from needs_tracker.experts.models import Expert, Resource
from needs_tracker.experts.services import filter_experts, filter_resources
from needs_tracker.extensions import db
from needs_tracker.imports.parsing import (
    CHOICE,
    CHOICE_LABELS,
    FORMULA_START,
    KINDS,
    allowed_labels,
)
from needs_tracker.needs import views as need_views
from needs_tracker.needs.models import Need, need_fields
from needs_tracker.needs.services import filter_needs
from needs_tracker.organisations import views as organisation_views
from needs_tracker.organisations.models import Organisation
from needs_tracker.organisations.services import filter_organisations
from needs_tracker.taxonomy.models import TechField
from needs_tracker.visits import views as visit_views
from needs_tracker.visits.models import Visit
from needs_tracker.visits.services import filter_visits

EXPORT_KINDS = tuple(KINDS)


def neutralise(value: Any) -> Any:
    """Prefix an apostrophe to text a spreadsheet would treat as a formula."""
    if isinstance(value, str) and value and value[0] in FORMULA_START:
        return "'" + value
    return value


# The columns of a need's export row (no ORM objects: 300,000 of them cost minutes).
NEED_COLUMNS = (
    Need.id,
    Organisation.name,
    Need.title,
    Need.description,
    Need.need_type,
    Need.urgency,
    Need.budget,
    Need.collected_on,
)


def filtered_select(kind: str, args: Mapping[str, str], *, columns: bool = False) -> Select:
    """The list page's query for kind, filtered by the same query-string arguments.

    Filters and search columns are the list pages' own; only the order differs (a stable
    one for the file, not the page's sort).
    """
    errors: list[str] = []  # an unreadable date is ignored, as on the list page
    if kind == "organisations":
        stmt = filter_organisations(select(Organisation), args)
        spec = organisation_views.LIST_SPEC
        order = (Organisation.name, Organisation.id)
    elif kind == "experts":
        stmt = filter_experts(select(Expert).options(selectinload(Expert.fields)), args)
        spec = expert_views.EXPERT_LIST
        order = (Expert.name, Expert.id)
    elif kind == "resources":
        stmt = filter_resources(select(Resource).options(selectinload(Resource.fields)), args)
        spec = resource_views.RESOURCE_LIST
        order = (Resource.name, Resource.id)
    elif kind == "needs":
        if columns:
            stmt = select(*NEED_COLUMNS).join(Need.organisation)
        else:
            stmt = (
                select(Need)
                .join(Need.organisation)
                .options(selectinload(Need.organisation), selectinload(Need.fields))
            )
        stmt = filter_needs(stmt, args, errors)
        spec = need_views.LIST_SPEC
        order = (Need.collected_on.desc(), Need.id.desc())
    elif kind == "visits":
        stmt = select(Visit).options(selectinload(Visit.organisations), selectinload(Visit.team))
        stmt = filter_visits(stmt, args, errors)
        spec = visit_views.LIST_SPEC
        order = (Visit.visit_date.desc(), Visit.id.desc())
    else:
        raise ValueError(kind)
    stmt = spec.search(stmt, args.get("q", "").strip()[:100])
    return stmt.order_by(*order)


def _names(objs: list[Any]) -> str:
    return "、".join(o.name for o in objs)


def row_of(kind: str, obj: Any) -> list[Any]:
    """One export row, in the order of the kind's template headers."""
    labels = CHOICE_LABELS
    if kind == "organisations":
        return [
            obj.name,
            obj.credit_code or "",
            obj.short_name,
            labels["org_kind"].get(obj.kind, obj.kind),
            obj.district,
            obj.industry,
            labels["size"].get(obj.size, obj.size),
            obj.address,
            obj.contact_name,
            obj.contact_phone,
        ]
    if kind == "experts":
        return [
            obj.name,
            obj.organisation,
            obj.title,
            obj.department,
            obj.expertise,
            _names(obj.fields),
            obj.phone,
            obj.email,
            obj.region,
        ]
    if kind == "resources":
        return [
            obj.name,
            labels["resource_kind"].get(obj.kind, obj.kind),
            obj.owner_organisation,
            obj.description,
            _names(obj.fields),
            obj.maturity,
        ]
    if kind == "needs":
        return _need_row(
            (obj.id, obj.organisation.name, obj.title, obj.description, obj.need_type)
            + (obj.urgency, obj.budget, obj.collected_on),
            _names(obj.fields),
        )
    if kind == "visits":
        team = "、".join(
            "/".join(p for p in (m.name, m.title, m.organisation_name)).rstrip("/")
            for m in obj.team
        )
        return [
            obj.visit_date,
            _names(obj.organisations),
            team,
            obj.purpose,
            obj.summary,
            labels["visit_status"].get(obj.status, obj.status),
        ]
    raise ValueError(kind)


def _need_row(values: tuple, fields: str) -> list[Any]:
    """A need's export row from its NEED_COLUMNS values and its field names."""
    _id, company, title, description, need_type, urgency, budget, collected_on = values
    labels = CHOICE_LABELS
    return [
        company,
        title,
        description,
        fields,
        labels["need_type"].get(need_type, need_type),
        labels["urgency"].get(urgency, urgency),
        budget,
        collected_on,
    ]


def _need_field_names(need_ids: list[int]) -> dict[int, str]:
    """The field names of each need, joined as in the export, in the fields' order."""
    stmt = (
        select(need_fields.c.need_id, TechField.name)
        .join(TechField, TechField.id == need_fields.c.field_id)
        .where(need_fields.c.need_id.in_(need_ids))
        .order_by(need_fields.c.need_id, TechField.position)
    )
    out: dict[int, list[str]] = {}
    for need_id, name in db.session.execute(stmt):
        out.setdefault(need_id, []).append(name)
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
    if kind == "needs":
        stmt = filtered_select(kind, args or {}, columns=True)
        result = db.session.execute(stmt.execution_options(yield_per=EXPORT_BATCH))
        for batch in result.partitions():
            names = _need_field_names([r[0] for r in batch])
            for r in batch:
                yield _need_row(tuple(r), names.get(r[0], ""))
        return
    stmt = filtered_select(kind, args or {}).execution_options(yield_per=EXPORT_BATCH)
    for obj in db.session.scalars(stmt):
        yield row_of(kind, obj)


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
    headers = [spec.label + ("*" if spec.required else "") for spec in KINDS[kind]]
    examples = {
        "organisations": [
            "潍坊天恒检测科技有限公司",
            "",
            "天恒检测",
            "企业",
            "高新区",
            "检验检测",
            "小型",
            "",
            "",
            "",
        ],
        "experts": [
            "邢卫东",
            "山东大学",
            "教授",
            "机械工程学院",
            "超声相控阵无损检测",
            "智能检测",
            "",
            "",
            "山东省",
        ],
        "resources": [
            "智能制造学习工厂",
            "学习工厂",
            "同济大学",
            "面向工程师培训的学习工厂",
            "人才培养",
            "",
        ],
        "needs": [
            "潍坊天恒检测科技有限公司",
            "焊缝缺陷自动检测",
            "需要自动识别焊缝缺陷",
            "智能检测",
            "技术攻关",
            "一般",
            "20",
            "2021-03-26",
        ],
        "visits": [
            "2021-03-18",
            "潍坊天恒检测科技有限公司、盛瑞传动股份有限公司",
            "胡志强/秘书长助理/联合体、孙晓非//潍坊市科协",
            "需求征集",
            "",
            "已完成",
        ],
    }
    rows = [examples[kind]]
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
