"""Export a report (the dict of Report.to_dict, text possibly edited) to docx, xlsx, md, json.

The documents are the centre's Chinese monthly report, so their wording is Chinese whatever
the UI language. Charts are drawn with matplotlib (Agg) in Noto Sans CJK SC, taken by file
from the noto-cjk-sans-otc package (a requirement), so they render Chinese on any machine
`pip install -r requirements.txt` set up, whatever fonts the system has.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import noto_cjk_sans_otc  # noqa: E402
from docx import Document  # noqa: E402
from docx.enum.text import WD_ALIGN_PARAGRAPH  # noqa: E402
from docx.oxml.ns import qn  # noqa: E402
from docx.shared import Cm, Pt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from openpyxl.styles import Alignment, Font  # noqa: E402

from needs_tracker.common.choices import LabelledEnum, NeedStatus, NeedType, Urgency  # noqa: E402
from needs_tracker.i18n import in_locale  # noqa: E402
from needs_tracker.matching.models import MatchStatus  # noqa: E402
from needs_tracker.reports.builder import centre_label  # noqa: E402
from needs_tracker.reports.kpis import EXTRA_METRICS, METRICS  # noqa: E402

BODY_FONT = "宋体"
HEADING_FONT = "黑体"
LATIN_FONT = "Times New Roman"
# The collection holds JP, KR, SC, TC and HK faces; SC draws simplified Chinese forms.
CHART_FONT_FILE = str(noto_cjk_sans_otc.FONT_PATH)
CHART_FONT = "Noto Sans CJK SC"

# Documents are Chinese whatever the UI language; every label comes from the zh catalogue.
DOCUMENT_LOCALE = "zh"


def code_labels(enum: type[LabelledEnum]) -> dict[str, str]:
    """Each stored code of enum with its label in the documents' language."""
    return enum.labels_in(DOCUMENT_LOCALE)


@dataclass(frozen=True)
class ReportStyle:
    """How a centre heads and numbers its monthly report (set once, on the centre).

    The generated section is pasted into the consortium's report, whose own numbering
    ("一、当月总体进展情况 … 2.产学融合") it must follow. Empty title and issuer fall back to
    the centre's name with its co-building organisations.
    """

    title: str = ""
    issuer: str = ""
    progress_heading: str = "一、当月总体进展情况"
    progress_topic: str = "产学融合"
    stats_heading: str = "二、数据统计"
    plan_heading: str = "三、下月工作计划"
    plan_topic: str = "产学融合"

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> ReportStyle:
        """A style from a centre's stored settings; unknown keys and blanks are ignored."""
        known = {f.name for f in fields(cls)}
        given = {
            k: str(v).strip()
            for k, v in (values or {}).items()
            if k in known and str(v or "").strip()
        }
        return cls(**given)


# ---------------------------------------------------------------------------- charts


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """Register the packaged Noto Sans CJK collection with matplotlib; the chart family's name.

    Registered by file, so a chart never depends on (or picks up) the system's fonts.
    """
    font_manager.fontManager.addfont(CHART_FONT_FILE)
    return CHART_FONT


def chart_font_path() -> font_manager.FontPath:
    """The file and face that matplotlib draws chart text from (the packaged SC face)."""
    props = font_manager.FontProperties(family=cjk_font())
    return font_manager.findfont(props, fallback_to_default=False)


def _figure():
    # DejaVu Sans ships with matplotlib: a fallback for any symbol the CJK font lacks.
    rc = {"font.family": [cjk_font(), "DejaVu Sans"], "axes.unicode_minus": False}
    return plt.rc_context(rc)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def chart_fields(data: dict[str, Any]) -> bytes | None:
    """Horizontal bar chart of needs by field."""
    items = list(data.get("needs_by_field", {}).items())[:12]
    if not items:
        return None
    with _figure():
        fig, ax = plt.subplots(figsize=(6, 0.45 * len(items) + 1.2))
        labels = [k for k, _ in items][::-1]
        values = [v for _, v in items][::-1]
        ax.barh(labels, values, color="#2f6db5")
        ax.set_title("技术需求领域分布（项）")
        ax.xaxis.get_major_locator().set_params(integer=True)
        for i, v in enumerate(values):
            ax.text(v, i, f" {v}", va="center")
        return _png(fig)


def chart_comparison(data: dict[str, Any]) -> bytes:
    """Grouped bars: this period vs the previous one."""
    keys = [
        ("visits", "走访"),
        ("companies_visited", "企业"),
        ("needs_collected", "需求"),
        ("matches_made", "推荐"),
        ("docking_meetings", "对接会"),
        ("resolved", "解决"),
    ]
    prev = data.get("previous", {})
    with _figure():
        fig, ax = plt.subplots(figsize=(6, 3))
        xs = range(len(keys))
        ax.bar([x - 0.2 for x in xs], [prev.get(k, 0) for k, _ in keys], 0.4, label="上期")
        ax.bar([x + 0.2 for x in xs], [data.get(k, 0) for k, _ in keys], 0.4, label="本期")
        ax.set_xticks(list(xs), [label for _, label in keys])
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_title("本期与上期对比")
        ax.legend()
        return _png(fig)


# ---------------------------------------------------------------------------- docx


def _set_run_font(run, east_asia: str = BODY_FONT, size: float | None = None, bold=None):
    """Latin and East Asian font on one run (python-docx sets only the Latin one)."""
    run.font.name = LATIN_FONT
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), east_asia)
    if size:
        run.font.size = Pt(size)
    if bold is not None:
        run.bold = bold


def _style_fonts(doc) -> None:
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3", "Table Grid"):
        try:
            style = doc.styles[name]
        except KeyError:
            continue
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.insert(0, fonts)
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(attr), None)
        fonts.set(qn("w:ascii"), LATIN_FONT)
        fonts.set(qn("w:hAnsi"), LATIN_FONT)
        fonts.set(qn("w:eastAsia"), BODY_FONT if name == "Normal" else HEADING_FONT)
        if name.startswith("Heading") or name == "Title":
            style.font.color.rgb = None


def _para(doc, text: str, size: float = 12, bold: bool = False, align=None, font=BODY_FONT):
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    run = p.add_run(text)
    _set_run_font(run, font, size, bold)
    return p


def _heading(doc, text: str, level: int):
    h = doc.add_heading(level=level)
    run = h.add_run(text)
    _set_run_font(run, HEADING_FONT, {1: 15, 2: 13, 3: 12}.get(level, 12), True)
    run.font.color.rgb = None
    return h


def _table(doc, header: list[str], rows: list[list[Any]]):
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        _set_run_font(cell.paragraphs[0].add_run(str(text)), HEADING_FONT, 10.5, True)
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = ""
            _set_run_font(cell.paragraphs[0].add_run(_fmt(value)), BODY_FONT, 10.5)
    doc.add_paragraph()
    return table


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def summary_rows(data: dict[str, Any]) -> list[list[Any]]:
    """(metric, this period, previous, change) rows."""
    prev = data.get("previous", {})
    rows = []
    for metric in METRICS + EXTRA_METRICS:
        key, label = metric.figure, in_locale(metric.label, DOCUMENT_LOCALE)
        cur, before = data.get(key), prev.get(key)
        change = (
            cur - before
            if isinstance(cur, int | float) and isinstance(before, int | float)
            else None
        )
        if isinstance(change, float):
            change = round(change, 1)
        rows.append([label, cur, before, f"{change:+g}" if change is not None else None])
    return rows


def _label_counts(counts: dict[str, int], labels: dict[str, str] | None = None):
    return [[(labels or {}).get(k, k), v] for k, v in counts.items()]


def to_docx(
    data: dict[str, Any], partners: list[str] | None = None, style: ReportStyle | None = None
) -> bytes:
    """The report as a Word document, headed and numbered as the centre's style says."""
    style = style or ReportStyle()
    doc = Document()
    _style_fonts(doc)
    for section in doc.sections:
        section.left_margin = section.right_margin = Cm(2.5)
    label = centre_label(data["centre"], partners or [])
    center = WD_ALIGN_PARAGRAPH.CENTER
    _para(doc, style.issuer or label, 16, True, center, HEADING_FONT)
    _para(doc, style.title or "进展情况月报", 22, True, center, HEADING_FONT)
    _para(doc, data.get("period_label", ""), 14, False, center)

    _heading(doc, style.progress_heading, 1)
    _heading(doc, style.progress_topic, 2)
    for text in (data.get("narrative") or "").split("\n"):
        if text.strip():
            p = _para(doc, text.strip())
            p.paragraph_format.first_line_indent = Pt(24)

    _heading(doc, style.stats_heading, 1)
    _heading(doc, "主要数据（与上期对比）", 2)
    _table(doc, ["指标", "本期", "上期", "变化"], summary_rows(data))
    if data.get("needs_by_field"):
        _heading(doc, "技术需求领域分布", 2)
        _table(doc, ["领域", "需求（项）"], _label_counts(data["needs_by_field"]))
    if data.get("needs_by_type"):
        _heading(doc, "需求类型", 2)
        _table(
            doc, ["类型", "需求（项）"], _label_counts(data["needs_by_type"], code_labels(NeedType))
        )
    if data.get("visited"):
        _heading(doc, "走访单位", 2)
        _table(
            doc,
            ["单位", "区县", "本期走访次数", "回访"],
            [[v["name"], v["district"], v["visits"], v["revisited"]] for v in data["visited"]],
        )
    if data.get("team"):
        _heading(doc, "服务团成员", 2)
        _table(
            doc,
            ["姓名", "职务", "单位"],
            [[m["name"], m["title"], m["organisation"]] for m in data["team"]],
        )
    if data.get("projects"):
        _heading(doc, "合作项目进展", 2)
        _table(
            doc,
            ["企业", "需求", "专家/资源", "进展"],
            [
                [
                    p["company"],
                    p["need"],
                    p["candidate"],
                    code_labels(MatchStatus).get(p["status"], ""),
                ]
                for p in data["projects"]
            ],
        )
    for image in (chart_comparison(data), chart_fields(data)):
        if image:
            doc.add_picture(io.BytesIO(image), width=Cm(15))

    _heading(doc, style.plan_heading, 1)
    _heading(doc, style.plan_topic, 2)
    p = _para(doc, data.get("next_month_plan") or "")
    p.paragraph_format.first_line_indent = Pt(24)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------------------- xlsx


# Codes in the raw sheets' columns, shown by their labels (the sheets are read, not parsed).
RAW_CODE_COLUMNS: dict[str, type[LabelledEnum]] = {
    "类型": NeedType,
    "紧急程度": Urgency,
    "状态": NeedStatus,
    "进展": MatchStatus,
}
# Columns holding prose: wide, wrapped; every other column is sized to its content.
PROSE_WIDTH = 90
MAX_WIDTH = 40


def _sheet(wb, title: str, header: list[str], rows: list[list[Any]], prose: int = 0) -> None:
    """A sheet a leader can print: bold repeated header, wrapped text, A4 fitted to width.

    prose is the 1-based column that holds paragraphs (0: none); it gets a wide column.
    """
    ws = wb.create_sheet(title)
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in rows:
        ws.append([v if isinstance(v, int | float | str) or v is None else str(v) for v in row])
    wrap = Alignment(wrap_text=True, vertical="top")
    for line in ws.iter_rows(min_row=2):
        for cell in line:
            cell.alignment = wrap
    for i, name in enumerate(header, start=1):
        letter = ws.cell(1, i).column_letter
        if i == prose:
            ws.column_dimensions[letter].width = PROSE_WIDTH
            continue
        width = max([len(str(name))] + [len(str(r[i - 1] or "")) for r in rows[:200]])
        ws.column_dimensions[letter].width = min(MAX_WIDTH, width * 1.8 + 2)
    ws.freeze_panes = "A2"
    # Printing: A4, the header row on every page, the whole width on one page.
    ws.print_area = f"A1:{ws.cell(1, len(header)).column_letter}{max(ws.max_row, 1)}"
    ws.print_title_rows = "1:1"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    wide = sum(
        ws.column_dimensions[ws.cell(1, i).column_letter].width for i in range(1, len(header) + 1)
    )
    ws.page_setup.orientation = "landscape" if wide > 100 else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = True


def _raw_values(rows: list[dict[str, Any]]) -> list[list[Any]]:
    """Raw rows with their codes (rnd, medium, in_progress) as labels."""
    labels = {column: code_labels(enum) for column, enum in RAW_CODE_COLUMNS.items()}
    return [
        [labels.get(k, {}).get(v, v) if isinstance(v, str) else v for k, v in r.items()]
        for r in rows
    ]


def to_xlsx(data: dict[str, Any], raw: dict[str, list[dict[str, Any]]] | None = None) -> bytes:
    """One sheet per table, plus the raw rows of the period."""
    wb = Workbook()
    wb.remove(wb.active)
    _sheet(wb, "主要数据", ["指标", "本期", "上期", "变化"], summary_rows(data))
    _sheet(wb, "需求领域", ["领域", "需求（项）"], _label_counts(data.get("needs_by_field", {})))
    _sheet(
        wb,
        "需求类型",
        ["类型", "需求（项）"],
        _label_counts(data.get("needs_by_type", {}), code_labels(NeedType)),
    )
    _sheet(wb, "需求区县", ["区县", "需求（项）"], _label_counts(data.get("needs_by_district", {})))
    _sheet(
        wb,
        "紧急程度",
        ["紧急程度", "需求（项）"],
        _label_counts(data.get("needs_by_urgency", {}), code_labels(Urgency)),
    )
    _sheet(
        wb,
        "走访单位",
        ["单位", "简称", "区县", "本期走访次数", "回访"],
        [
            [
                v["name"],
                v["short_name"],
                v["district"],
                v["visits"],
                "是" if v["revisited"] else "否",
            ]
            for v in data.get("visited", [])
        ],
    )
    _sheet(
        wb,
        "服务团成员",
        ["姓名", "职务", "单位"],
        [[m["name"], m["title"], m["organisation"]] for m in data.get("team", [])],
    )
    _sheet(
        wb,
        "合作项目",
        ["企业", "需求", "专家/资源", "单位", "进展"],
        [
            [
                p["company"],
                p["need"],
                p["candidate"],
                p["candidate_org"],
                code_labels(MatchStatus).get(p["status"], ""),
            ]
            for p in data.get("projects", [])
        ],
    )
    _sheet(
        wb,
        "久未推进需求",
        ["需求", "企业", "状态", "未变化天数"],
        [
            [s["title"], s["company"], code_labels(NeedStatus).get(s["status"], ""), s["days"]]
            for s in data.get("stale_needs", [])
        ],
    )
    _sheet(
        wb,
        "文字",
        ["部分", "内容"],
        [
            ["产学融合", data.get("narrative", "")],
            ["下月工作计划", data.get("next_month_plan", "")],
        ],
        prose=2,
    )
    for title, rows in (raw or {}).items():
        header = list(rows[0].keys()) if rows else ["（无）"]
        _sheet(wb, title[:31], header, _raw_values(rows))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------------------- md / json


def to_markdown(
    data: dict[str, Any], partners: list[str] | None = None, style: ReportStyle | None = None
) -> str:
    """The report as Markdown (to paste into a message or another document)."""
    style = style or ReportStyle()
    label = centre_label(data["centre"], partners or [])
    title = style.title or f"{style.issuer or label}进展情况月报"
    lines = [
        f"# {title} {data.get('period_label', '')}",
        "",
        f"## {style.progress_heading}",
        "",
        f"### {style.progress_topic}",
        "",
        data.get("narrative", ""),
        "",
        f"## {style.stats_heading}",
        "",
        "| 指标 | 本期 | 上期 | 变化 |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {r[0]} | {_fmt(r[1])} | {_fmt(r[2])} | {_fmt(r[3])} |" for r in summary_rows(data)
    ]
    if data.get("needs_by_field"):
        lines += ["", "| 领域 | 需求（项） |", "|---|---:|"]
        lines += [f"| {k} | {v} |" for k, v in data["needs_by_field"].items()]
    lines += [
        "",
        f"## {style.plan_heading}",
        "",
        f"### {style.plan_topic}",
        "",
        data.get("next_month_plan", ""),
        "",
    ]
    return "\n".join(lines)


def to_json(data: dict[str, Any]) -> str:
    """The report as JSON (the CLI contract)."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


# ---------------------------------------------------------------------------- any format

FORMATS = ("docx", "xlsx", "md", "json")


def render(
    fmt: str, data: dict, raw: dict, partners: list[str], style: dict | None = None
) -> bytes:
    """The report in one of FORMATS, as bytes; style is the centre's report_style."""
    report_style = ReportStyle.from_dict(style)
    if fmt == "docx":
        return to_docx(data, partners, report_style)
    if fmt == "xlsx":
        return to_xlsx(data, raw)
    if fmt == "md":
        return to_markdown(data, partners, report_style).encode("utf-8")
    return to_json(data).encode("utf-8")
