"""Export lists to .xlsx and .csv (UTF-8 with BOM), with the import template's headers.

The filters are those of the list pages (same query-string arguments), applied through
db.session so the scoping layer limits rows to the user's centres. Cells that a spreadsheet
would run as a formula (starting with = + - @, tab or CR) are neutralised with a leading
apostrophe, which the importer removes again, so exporting then importing changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from needs_tracker.common.listing import text_search
from needs_tracker.experts import resource_views
from needs_tracker.experts import views as expert_views
from needs_tracker.experts.models import Expert, Resource
from needs_tracker.experts.services import filter_experts, filter_resources
from needs_tracker.extensions import db
from needs_tracker.imports.parsing import CHOICE_LABELS, FORMULA_START, KINDS
from needs_tracker.needs import views as need_views
from needs_tracker.needs.models import Need
from needs_tracker.needs.services import filter_needs
from needs_tracker.organisations import views as organisation_views
from needs_tracker.organisations.models import Organisation
from needs_tracker.organisations.services import filter_organisations
from needs_tracker.visits import views as visit_views
from needs_tracker.visits.models import Visit
from needs_tracker.visits.services import filter_visits

EXPORT_KINDS = tuple(KINDS)


def neutralise(value: Any) -> Any:
    """Prefix an apostrophe to text a spreadsheet would treat as a formula."""
    if isinstance(value, str) and value and value[0] in FORMULA_START:
        return "'" + value
    return value


def filtered_select(kind: str, args: Mapping[str, str]) -> Select:
    """The list page's query for kind, filtered by the same query-string arguments.

    Filters and search columns are the list pages' own; only the order differs (a stable
    one for the file, not the page's sort).
    """
    errors: list[str] = []  # an unreadable date is ignored, as on the list page
    if kind == "organisations":
        stmt = filter_organisations(select(Organisation), args)
        columns = organisation_views.LIST_SPEC.search_columns
        order = (Organisation.name, Organisation.id)
    elif kind == "experts":
        stmt = filter_experts(select(Expert).options(selectinload(Expert.fields)), args)
        columns = expert_views.EXPERT_LIST.search_columns
        order = (Expert.name, Expert.id)
    elif kind == "resources":
        stmt = filter_resources(select(Resource).options(selectinload(Resource.fields)), args)
        columns = resource_views.RESOURCE_LIST.search_columns
        order = (Resource.name, Resource.id)
    elif kind == "needs":
        stmt = (
            select(Need)
            .join(Need.organisation)
            .options(selectinload(Need.organisation), selectinload(Need.fields))
        )
        stmt = filter_needs(stmt, args, errors)
        columns = need_views.LIST_SPEC.search_columns
        order = (Need.collected_on.desc(), Need.id.desc())
    elif kind == "visits":
        stmt = select(Visit).options(selectinload(Visit.organisations), selectinload(Visit.team))
        stmt = filter_visits(stmt, args, errors)
        columns = visit_views.LIST_SPEC.search_columns
        order = (Visit.visit_date.desc(), Visit.id.desc())
    else:
        raise ValueError(kind)
    stmt = text_search(stmt, columns, args.get("q", "").strip()[:100])
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
        return [
            obj.organisation.name,
            obj.title,
            obj.description,
            _names(obj.fields),
            labels["need_type"].get(obj.need_type, obj.need_type),
            labels["urgency"].get(obj.urgency, obj.urgency),
            obj.budget,
            obj.collected_on,
        ]
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


def headers_of(kind: str) -> list[str]:
    """The Chinese template headers of kind."""
    return [spec.label for spec in KINDS[kind]]


def export_rows(kind: str, args: Mapping[str, str] | None = None) -> list[list[Any]]:
    """Every row of kind visible to the current scope, filtered like the list page."""
    stmt = filtered_select(kind, args or {})
    return [row_of(kind, obj) for obj in db.session.scalars(stmt)]


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(neutralise(value))


def to_csv(headers: list[str], rows: list[list[Any]]) -> bytes:
    """CSV in UTF-8 with a BOM, so Excel opens Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(headers: list[str], rows: list[list[Any]], title: str = "Sheet1") -> bytes:
    """An .xlsx workbook; text is never written as a formula."""
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
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def template_bytes(kind: str, fmt: str) -> bytes:
    """An empty import template for kind, with one example row in the xlsx."""
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
    rows = [examples[kind]] if fmt == "xlsx" else []
    return to_xlsx(headers, rows, kind) if fmt == "xlsx" else to_csv(headers, rows)
