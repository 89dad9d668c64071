"""Leader: the month's report downloaded as .docx and .xlsx; the dashboard's charts."""

from __future__ import annotations

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
