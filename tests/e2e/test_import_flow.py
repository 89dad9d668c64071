"""Coordinator: import an organisations spreadsheet with one bad row, fix it, import, undo."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from needs_tracker.common.validators import credit_code_check_char

pytestmark = pytest.mark.e2e

GOOD_17 = "91370700MA3C4E5F6"  # 17 characters; the 18th is the GB 32100-2015 check character
GOOD_CODE = GOOD_17 + credit_code_check_char(GOOD_17)
BAD_CODE = GOOD_17 + ("0" if GOOD_CODE[-1] != "0" else "1")  # same code, wrong check character
COMPANIES = [
    ("潍坊导入测试精工有限公司", "", "高新区", "精密制造"),
    ("潍坊导入测试新材料有限公司", "", "坊子区", "新材料"),
    ("潍坊导入测试热管理有限公司", None, "寿光市", "热管理"),  # row 4: the credit code column
]


def _write_sheet(path: Path, third_code: str) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "企业"
    ws.append(["企业名称", "统一社会信用代码", "所属区县", "行业"])
    for name, code, district, industry in COMPANIES:
        ws.append([name, third_code if code is None else code, district, industry])
    wb.save(path)
    return path


def _upload(b, path: Path, name: str) -> None:
    page = b.page
    page.get_by_label("数据类型").select_option("organisations")
    page.get_by_label("表格文件（.xlsx 或 .csv）").set_input_files(str(path))
    b.submit(page.get_by_role("button", name="上传并预览"), name)


def test_coordinator_imports_organisations_with_a_bad_row_then_undoes(coordinator, tmp_path):
    b, page = coordinator, coordinator.page
    with page.expect_navigation():
        page.locator("nav").get_by_role("link", name="导入", exact=True).click()
    b.check("imports")

    bad = _write_sheet(tmp_path / "企业名单.xlsx", BAD_CODE)
    _upload(b, bad, "preview with a row error")
    alert = page.locator(".alert-danger[role=alert]")
    assert alert.is_visible()
    text = alert.inner_text()
    assert "第 4 行" in text
    assert "统一社会信用代码" in text
    assert "校验位错误" in text
    assert page.get_by_role("button", name="确认导入").count() == 0  # nothing can be imported

    b.goto("/imports/", "imports again")
    fixed = _write_sheet(tmp_path / "企业名单-已改正.xlsx", GOOD_CODE)
    _upload(b, fixed, "preview of the fixed file")
    assert page.locator(".alert-danger").count() == 0
    assert "新建: 3" in page.locator("main").inner_text().replace("：", ": ")
    # While the import runs, the button cannot be pressed again and the page says why. The
    # first request is answered here with "204 No Content", so the page stays as it is then.
    sent = []

    def no_content(route):
        sent.append(route.request.method)
        b.answer_no_content(route)

    page.route("**/imports/preview/*/confirm", no_content)
    confirm = page.get_by_role("button", name="确认导入")
    confirm.click(no_wait_after=True)
    page.locator("form[aria-busy=true] button:disabled").wait_for()
    assert confirm.is_disabled()
    assert page.get_by_role("status").filter(has_text="正在导入…").is_visible()
    confirm.click(force=True, no_wait_after=True)  # a second tap sends nothing
    page.wait_for_timeout(300)
    assert sent == ["POST"]
    page.unroute("**/imports/preview/*/confirm")
    page.reload()
    b.check("preview again")
    b.submit(page.get_by_role("button", name="确认导入"), "import done")
    assert "/imports/batches/" in page.url
    batch_url = page.url

    b.goto("/organisations/?q=导入测试", "organisations imported")
    listed = page.locator("tbody").inner_text()
    for name, *_ in COMPANIES:
        assert name in listed

    b.goto(batch_url, "import batch")
    b.submit(page.get_by_role("button", name="撤销本次导入"), "import undone")
    assert "已撤销本次导入" in page.get_by_role("alert").first.inner_text()

    b.goto("/organisations/?q=导入测试", "organisations after undo")
    listed = page.locator("tbody").inner_text()
    for name, *_ in COMPANIES:
        assert name not in listed
