"""The monthly workbook reads and prints (issue 14): labels, wrapped text, fitted pages."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from needs_tracker.reports.export import to_xlsx

DATA = {
    "centre": "潍坊服务中心",
    "period_label": "2021 年 3 月",
    "visits": 1,
    "previous": {},
    "narrative": "3 月，服务团走访企业 8 家，" + "征集技术需求若干项，推荐专家与资源。" * 40,
    "next_month_plan": "4 月继续走访。",
    "needs_by_type": {"rnd": 3},
}
RAW = {
    "原始-需求": [
        {
            "需求编号": 1,
            "征集日期": "2021-03-18",
            "企业": "天恒检测",
            "需求": "焊缝缺陷自动检测",
            "领域": "智能检测",
            "类型": "rnd",
            "紧急程度": "medium",
            "状态": "in_progress",
        }
    ],
    "原始-匹配进展": [
        {
            "匹配编号": 1,
            "时间": "2021-03-20",
            "进展": "meeting_held",
            "需求": "焊缝缺陷自动检测",
            "企业": "天恒检测",
            "专家/资源": "邢卫东",
            "单位": "山东大学",
        }
    ],
}


def _workbook():
    return load_workbook(io.BytesIO(to_xlsx(DATA, RAW)))


def test_raw_sheets_show_labels_not_codes():
    wb = _workbook()
    need = [c.value for c in wb["原始-需求"][2]]
    assert need[5:] == ["技术攻关", "较急", "推进中"]
    step = [c.value for c in wb["原始-匹配进展"][2]]
    assert step[2] == "已召开对接会"  # the app's label for meeting_held (one label source)


def test_text_sheet_wraps_its_paragraphs_in_a_readable_column():
    ws = _workbook()["文字"]
    cell = ws["B2"]
    assert cell.alignment.wrap_text is True
    assert 60 <= ws.column_dimensions["B"].width <= 100


def test_every_sheet_prints_fitted_to_the_page_width_with_its_header():
    wb = _workbook()
    for ws in wb.worksheets:
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True, ws.title
        assert ws.page_setup.fitToWidth == 1, ws.title
        assert ws.page_setup.fitToHeight == 0, ws.title
        assert ws.print_area, ws.title
        assert ws.print_title_rows == "$1:$1", ws.title
        assert all(ws.column_dimensions[c].width <= 100 for c in ws.column_dimensions), ws.title
