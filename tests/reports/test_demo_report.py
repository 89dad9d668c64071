"""The Q1 2021 report of the demo centre: narrative, CLI contract, Word file that opens."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from needs_tracker.reports.builder import Period
from needs_tracker.reports.services import build_centre_report

COMPANIES = [
    "华特磁电",
    "天恒检测",
    "中科普锐检测",
    "潍柴集团",
    "盛瑞传动",
    "银轮股份",
    "雅士股份",
    "福田汽车",
]
TEAM = [
    "中国科协智能制造学会联合体秘书长助理胡志强",
    "潍坊市科协党组书记、主席孙晓非",
    "潍坊市高新区科技局副局长刘军",
]


def test_q1_paragraph_names_team_companies_and_university(demo):
    report = build_centre_report(demo.centre, Period.months("2021-01", "2021-03"))
    text = report.narrative
    assert "联合体-潍坊服务中心三家共建单位分别派出" in text
    for person in TEAM:
        assert person in text
    assert "，".join(TEAM) + "，联合组成服务团走访了高新区" in text
    assert "走访了高新区" + "、".join(COMPANIES) + "等部分企业和潍坊学院。" in text
    assert "正积极推进同济大学智能制造学习工厂项目与潍坊学院的交流合作" in text
    assert report.current.companies_visited == 8
    assert report.current.organisations_visited == 9
    assert report.current.needs_collected == 11
    assert report.next_month_plan.startswith(
        "继续走访潍坊市企业，征集企业需求，探讨服务方向与方式。"
    )
    assert "豪迈科技" in report.next_month_plan


def test_april_counts_the_docking_meetings(demo):
    report = build_centre_report(demo.centre, Period.months("2021-04"))
    assert report.current.docking_meetings == 2
    assert report.current.visits == 0
    assert report.previous.visits == 1
    assert report.change()["visits"] == -1


def _cli(runner, tmp_path, fmt, *extra):
    out = tmp_path / f"report.{fmt}"
    args = ["report", "monthly", "--centre", "潍坊服务中心", "--from", "2021-01"]
    result = runner.invoke(args=[*args, *extra, "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_cli_json_contract(demo, runner, tmp_path):
    data = json.loads(_cli(runner, tmp_path, "json", "--to", "2021-03").read_text("utf-8"))
    for key in (
        "centre",
        "period_start",
        "period_end",
        "visits",
        "organisations_visited",
        "companies_visited",
        "needs_collected",
        "needs_by_field",
        "matches_made",
        "docking_meetings",
        "resolved",
        "narrative",
        "next_month_plan",
    ):
        assert key in data
    assert data["centre"] == "潍坊服务中心"
    assert (data["period_start"], data["period_end"]) == ("2021-01-01", "2021-03-31")
    assert (data["visits"], data["companies_visited"]) == (1, 8)
    assert isinstance(data["needs_by_field"], dict)
    assert sum(data["needs_by_field"].values()) >= data["needs_collected"]
    assert data["matches_made"] == 4
    assert "潍坊学院" in data["narrative"]


def test_cli_markdown_and_xlsx(demo, runner, tmp_path):
    md = _cli(runner, tmp_path, "md", "--to", "2021-03").read_text("utf-8")
    assert "## 三、下月工作计划" in md
    wb = load_workbook(_cli(runner, tmp_path, "xlsx", "--to", "2021-03"))
    assert {"主要数据", "需求领域", "走访单位", "服务团成员", "原始-走访", "原始-需求"} <= set(
        wb.sheetnames
    )
    assert wb["走访单位"].max_row == 10  # header + 9 organisations


def test_cli_errors(demo, runner, tmp_path):
    out = str(tmp_path / "x.json")
    result = runner.invoke(
        args=["report", "monthly", "--centre", "没有", "--from", "2021-01", "-o", out]
    )
    assert result.exit_code != 0
    assert "No centre" in result.output
    result = runner.invoke(
        args=["report", "monthly", "--centre", "潍坊服务中心", "--from", "2021-3x", "-o", out]
    )
    assert result.exit_code != 0


def test_docx_reads_back_with_east_asian_fonts(demo, runner, tmp_path):
    path = _cli(runner, tmp_path, "docx", "--to", "2021-03")
    doc = Document(str(path))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "进展情况月报" in text
    assert "2021 年 1-3 月" in text
    assert "走访了高新区华特磁电" in text
    assert "继续走访潍坊市企业" in text
    runs = [r for p in doc.paragraphs for r in p.runs if r.text.strip()]
    cells = [c for t in doc.tables for c in t._cells]
    runs += [r for c in cells for p in c.paragraphs for r in p.runs if r.text.strip()]
    assert runs
    for run in runs:
        fonts = run._element.rPr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:eastAsia")) in ("宋体", "黑体")
    assert len(doc.inline_shapes) == 2  # comparison and fields charts
    assert len(doc.tables) >= 4


@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="libreoffice is not installed")
def test_libreoffice_converts_docx_to_pdf(demo, runner, tmp_path):
    path = _cli(runner, tmp_path, "docx", "--to", "2021-03")
    profile = tmp_path / "lo-profile"
    subprocess.run(
        [
            "libreoffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = (tmp_path / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 10_000


def test_chart_uses_cjk_font():
    """Charts draw Chinese in the SC face of the font file that a pip requirement ships."""
    import noto_cjk_sans_otc

    from needs_tracker.reports.export import chart_fields, chart_font_path, cjk_font

    assert cjk_font() == "Noto Sans CJK SC"
    used = chart_font_path()
    packaged = Path(str(noto_cjk_sans_otc.FONT_PATH)).resolve()
    assert Path(used).resolve() == packaged
    assert packaged.is_relative_to(Path(noto_cjk_sans_otc.__file__).resolve().parent)
    # The SC face of the collection, not the JP one (face 0) with Japanese glyph forms.
    assert used.face_index == 2
    png = chart_fields({"needs_by_field": {"智能检测": 2, "工业软件": 1}})
    assert png.startswith(b"\x89PNG")
    assert io.BytesIO(png).getbuffer().nbytes > 1000


def test_charts_render_chinese_glyphs_without_system_fonts(monkeypatch):
    """No glyph is missing although matplotlib is shown none of the system's fonts.

    The font manager keeps only the fonts matplotlib bundles, as on a machine with no CJK
    font installed; then every chart is drawn with warnings as errors, where a Chinese label
    without a glyph warns "Glyph ... missing from font(s)".
    """
    import warnings

    import matplotlib
    from matplotlib import font_manager

    from needs_tracker.reports import export

    manager = font_manager.fontManager
    bundled = Path(matplotlib.get_data_path()).resolve()
    only_bundled = [f for f in manager.ttflist if Path(f.fname).resolve().is_relative_to(bundled)]
    assert not any("CJK" in f.name for f in only_bundled)
    monkeypatch.setattr(manager, "ttflist", only_bundled)
    export.cjk_font.cache_clear()
    manager._findfont_cached.cache_clear()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            data = {
                "needs_by_field": {"智能检测": 2, "工业软件": 1, "新材料与化工": 3},
                "visits": 4,
                "previous": {"visits": 2},
            }
            assert export.chart_fields(data).startswith(b"\x89PNG")
            assert export.chart_comparison(data).startswith(b"\x89PNG")
        assert [f.name for f in only_bundled if f.name == "Noto Sans CJK SC"]
    finally:
        monkeypatch.undo()
        export.cjk_font.cache_clear()
        manager._findfont_cached.cache_clear()


def test_report_page_draws_needs_by_field_as_bars(demo, client, auth):
    """Each field's bar is as long, relative to the largest, as its count (工业软件 3 of 3)."""
    import re

    assert auth.login("demo_leader", "demo password 1").status_code == 302
    page = client.get("/reports/?start=2021-01&end=2021-03").get_data(as_text=True)
    rows = re.findall(
        r"<tr><td class=\"text-nowrap\">([^<]+)</td><td class=\"text-end\">(\d+)</td>"
        r"<td class=\"w-100\"><svg [^>]*><rect width=\"([\d.]+)%\"",
        page,
    )
    assert rows, "no field bars on the report page"
    counts = {name: int(n) for name, n, _ in rows}
    most = max(counts.values())
    for name, n, width in rows:
        assert float(width) == pytest.approx(100 * int(n) / most, abs=0.1), name
    assert counts["工业软件"] == 3
    assert (
        'style="'
        not in page.split('class="table table-sm align-middle field-bars"', 1)[1].split("</table>")[
            0
        ]
    )
