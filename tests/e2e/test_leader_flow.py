"""Leader: the month's report downloaded as .docx and .xlsx; the dashboard's charts."""

from __future__ import annotations

import re

import pytest
from docx import Document
from openpyxl import load_workbook

pytestmark = pytest.mark.e2e


def test_leader_downloads_the_months_docx_and_xlsx(leader, tmp_path):
    """March 2021 (the demo's Q1 visit): both files arrive and open; leaders cannot edit."""
    b, page = leader, leader.page
    with page.expect_navigation():
        page.locator('nav a[href$="/reports/"]').click()
    b.check("reports")
    page.locator("#start").fill("2021-03")
    page.locator("#end").fill("")
    b.submit(page.locator("main form[method=get] button"), "report of March 2021")
    assert "start=2021-03" in page.url
    assert "华特磁电" in page.locator("main").inner_text()
    assert page.locator('form[action$="/reports/edit"]').count() == 0  # leaders read only

    docx_path = b.download(page.locator('main a[href*="/reports/download.docx"]').first, tmp_path)
    assert docx_path.suffix == ".docx"
    assert "2021-03" in docx_path.name
    text = "\n".join(p.text for p in Document(str(docx_path)).paragraphs)
    for expected in ("产学融合", "华特磁电", "潍坊学院", "胡志强"):
        assert expected in text, f"{expected} not in the Word report"

    xlsx_path = b.download(page.locator('main a[href*="/reports/download.xlsx"]').first, tmp_path)
    assert xlsx_path.suffix == ".xlsx"
    workbook = load_workbook(xlsx_path, read_only=True)
    assert len(workbook.sheetnames) >= 2
    cells = [
        str(c)
        for ws in workbook.worksheets
        for row in ws.iter_rows(values_only=True)
        for c in row
        if c is not None
    ]
    assert any("华特磁电" in c for c in cells)
    workbook.close()


CHARTS_JS = """
() => Array.from(document.querySelectorAll("main .chart")).map((el) => {
  const box = el.getBoundingClientRect();
  const svg = el.querySelector("svg");
  const canvas = el.querySelector("canvas");
  const drawn = svg
    ? svg.querySelectorAll("path, rect, circle, polyline, polygon").length
    : 0;
  const texts = svg ? Array.from(svg.querySelectorAll("text")).map((t) => t.textContent) : [];
  let painted = 0;
  if (canvas && canvas.width && canvas.height) {
    const px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < px.length; i += 4) { if (px[i]) { painted++; } }
  }
  return {id: el.id, width: box.width, height: box.height, svg: !!svg, canvas: !!canvas,
          drawn, painted, texts};
})
"""


def _charts(page) -> list[dict]:
    page.wait_for_function(
        "() => document.querySelectorAll('main .chart svg, main .chart canvas').length"
        " === document.querySelectorAll('main .chart').length"
    )
    page.wait_for_timeout(600)  # let ECharts finish its entry animation before the screenshot
    return page.evaluate(CHARTS_JS)


def _assert_charts_rendered(charts: list[dict]) -> None:
    assert len(charts) >= 5, charts
    for chart in charts:
        assert chart["svg"] or chart["canvas"], f"{chart['id']}: no svg or canvas"
        assert chart["width"] > 100, chart
        assert chart["height"] > 100, chart
        assert chart["drawn"] > 0 or chart["painted"] > 0, f"{chart['id']} is empty"
        if chart["svg"]:
            text = "".join(chart["texts"])
            assert re.search(r"[\u4e00-\u9fff]", text), f"{chart['id']}: no Chinese label"


def test_leader_dashboard_charts_render_and_period_switches(leader):
    """Charts are drawn (svg/canvas, non-empty, Chinese labels); switching to Q1 2021 redraws."""
    b, page = leader, leader.page
    with page.expect_navigation():
        page.locator('nav a[href$="/dashboard/"]').click()
    _assert_charts_rendered(_charts(page))
    b.check("dashboard")
    default_label = page.locator("main p.text-muted.small").first.inner_text()

    page.locator("#start").fill("2021-01")
    page.locator("#end").fill("2021-03")
    with page.expect_navigation():
        page.locator("main form[method=get] button").click()
    charts = _charts(page)
    b.check("dashboard Q1 2021")
    assert "start=2021-01" in page.url
    assert "end=2021-03" in page.url
    assert page.locator("main p.text-muted.small").first.inner_text() != default_label
    _assert_charts_rendered(charts)
    assert int(page.locator('[data-kpi="visits"]').inner_text()) >= 1
    assert int(page.locator('[data-kpi="needs"]').inner_text()) >= 1
    # The funnel reads in the order of the stages, whatever the sizes of its steps.
    funnel = [
        t.split(":")[0].strip()
        for t in page.locator("#chart-funnel svg text").all_text_contents()
        if ":" in t
    ]
    assert funnel == ["已征集", "已匹配", "推进中", "已解决"], funnel
    # Leaders read only: nothing on the dashboard posts.
    assert page.locator("main form[method=post]").count() == 0
