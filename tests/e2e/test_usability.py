"""Issue 14, in the browser: what each role sees after acting, on a desktop and a phone."""

from __future__ import annotations

import pytest

from tests.e2e.support import ARTIFACTS, _slug

pytestmark = pytest.mark.e2e

WIDE = {"width": 1366, "height": 900}
NARROW = {"width": 390, "height": 844}


def shot(b, name: str) -> None:
    """A screenshot of what the user sees now (the viewport, not the whole page)."""
    folder = ARTIFACTS / "usability"
    folder.mkdir(parents=True, exist_ok=True)
    b.page.screenshot(path=str(folder / f"{_slug(name)}.png"), scale="css")


def in_viewport(locator) -> bool:
    """True when the element's box is at least partly inside the visible window."""
    box = locator.bounding_box()
    size = locator.page.viewport_size
    return bool(box) and box["y"] < size["height"] and box["y"] + box["height"] > 0


def test_match_step_answer_is_shown_beside_the_match(coordinator):
    b, page = coordinator, coordinator.page
    page.set_viewport_size(WIDE)
    b.goto("/needs/?q=相控阵", "needs search")
    with page.expect_navigation():
        page.get_by_role("link", name="焊缝缺陷超声相控阵自动检测").click()
    b.check("need page")
    assert page.locator("#matching-title").inner_text() == "推荐专家与资源"
    first = page.locator("#matching li.suggestion").first
    b.submit(first.locator('form[action$="/propose"] button'), "proposed")
    notice = page.locator("#matching .match-notice")
    assert notice.count() == 1
    assert in_viewport(notice)
    match = page.locator("#matching .match").first
    match_id = match.get_attribute("id")
    match.locator("details > summary").click()
    # A page left open while a colleague moved on: force the step the workflow refuses.
    select = match.locator("select[name$='-to_status']")
    select.evaluate("s => s.add(new Option('达成合作意向', 'agreement'))")
    select.select_option("agreement")
    b.submit(match.locator("form.match-step button"), "refused step")
    assert page.url.endswith(f"#{match_id}")
    refusal = page.locator(f"#{match_id} [role=alert]")
    assert refusal.inner_text() == "对接不能从“已推荐”直接变为“达成合作意向”：需先记录“已联系”。"
    assert in_viewport(refusal), "the refusal is off-screen"
    shot(b, "coordinator-refused-step-1366")
    match = page.locator(f"#{match_id}")
    match.locator("details > summary").click()
    match.locator("select[name$='-to_status']").select_option("contacted")
    b.submit(match.locator("form.match-step button"), "contacted")
    ok = page.locator(f"#{match_id} [role=alert]")
    assert ok.inner_text() == "对接已更新为“已联系”。"
    assert in_viewport(ok)
    page.set_viewport_size(NARROW)
    page.locator(f"#{match_id}").scroll_into_view_if_needed()
    shot(b, "coordinator-step-done-390")

    # The need's own status form: nothing preselected.
    status = page.locator("form.need-status select")
    assert status.input_value() == ""
    b.goto("/matching/groups", "groups")
    shot(b, "coordinator-groups-390")
    page.set_viewport_size(WIDE)
    shot(b, "coordinator-groups-1366")


def _fill_visit(page, purpose: str) -> None:
    """Choose a company through the search box, fill a need and the purpose."""
    page.get_by_label("目的").fill(purpose)
    control = page.locator(".visit-orgs .ts-control input")
    control.click()
    control.fill("华特")
    page.locator(".ts-dropdown .option", has_text="山东华特磁电科技股份有限公司").click()
    page.keyboard.press("Escape")
    page.locator("#needs-0-organisation").select_option(label="山东华特磁电科技股份有限公司")
    page.locator("#needs-0-title").fill("磁选设备在线状态监测")
    page.locator("#needs-0-description").fill("振动与温度在线监测与预警。")
    page.locator("#summary").fill("走访一家企业。")


def _forget_network_failures(b) -> None:
    """The test cut the network on purpose: the failed request and its console line are expected."""
    b.failed_requests.clear()
    b.console_errors[:] = [m for m in b.console_errors if "ERR_" not in m]


def _count_visits(b, purpose: str) -> int:
    b.goto(f"/visits/?q={purpose}", "visits found")
    return b.page.locator("tbody tr", has_text=purpose).count()


def test_visit_draft_survives_a_cut_network_and_a_resend_saves_once(member):
    b, page = member, member.page
    b.goto("/visits/new", "visit form")
    # The needs' company list is the visit's: empty until a company is chosen.
    assert page.locator("#needs-0-organisation option").count() == 1
    _fill_visit(page, "断网草稿走访")
    assert page.locator("#organisation_ids").evaluate(
        "s => Array.from(s.selectedOptions).map(o => o.text)"
    ) == ["山东华特磁电科技股份有限公司"]
    assert page.locator("#needs-0-organisation option").all_inner_texts() == [
        "—",
        "山东华特磁电科技股份有限公司",
    ]
    assert page.locator("#needs-0-organisation").input_value() != ""
    shot(b, "member-visit-form-picker-390")

    # The connection drops while sending.
    page.wait_for_timeout(400)  # the draft is written a moment after the last keystroke
    b.context.set_offline(True)
    page.get_by_role("button", name="保存走访").click()
    page.wait_for_url(lambda url: url.startswith("chrome-error"))
    b.context.set_offline(False)
    _forget_network_failures(b)
    b.goto("/visits/new", "visit form with a draft")
    banner = page.locator(".draft-banner")
    assert banner.is_visible()
    shot(b, "member-draft-banner-390")
    page.get_by_role("button", name="恢复草稿").click()
    assert page.get_by_label("目的").input_value() == "断网草稿走访"
    assert page.locator("#needs-0-title").input_value() == "磁选设备在线状态监测"
    assert "山东华特磁电科技股份有限公司" in page.locator(".visit-orgs .ts-control").inner_text()

    # Sent again; this time the visit is saved but the answer is lost on the way back.
    def lose_answer(route):
        route.fetch()  # the server receives and saves it
        route.abort("connectionreset")

    page.route(
        "**/visits/new",
        lambda route: lose_answer(route) if route.request.method == "POST" else route.continue_(),
    )
    page.get_by_role("button", name="保存走访").click()
    page.wait_for_url(lambda url: url.startswith("chrome-error"))
    page.unroute("**/visits/new")
    _forget_network_failures(b)
    b.goto("/visits/new", "visit form, draft kept after the lost answer")
    page.get_by_role("button", name="恢复草稿").click()
    b.submit(page.get_by_role("button", name="保存走访"), "visit already saved")
    assert "未重复保存" in page.get_by_role("alert").first.inner_text()
    shot(b, "member-already-saved-390")
    # The draft of the saved visit is gone; one visit only.
    assert (
        page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('visit-draft'))")
        == []
    )
    assert _count_visits(b, "断网草稿走访") == 1
    b.goto("/visits/new", "visit form without a draft")
    assert not page.locator(".draft-banner").is_visible()


def test_overdue_planned_visit_on_the_phone_home(member):
    b, page = member, member.page
    b.goto("/visits/new", "visit form")
    page.get_by_label("日期").fill("2021-01-05")
    page.get_by_label("状态").select_option("planned")
    _fill_visit(page, "早已过期的计划走访")
    b.submit(page.get_by_role("button", name="保存走访"), "planned visit saved")
    b.goto("/", "home with an overdue plan")
    item = page.locator("li.planned-visit", has_text="早已过期的计划走访")
    assert "已逾期" in item.inner_text()
    item.scroll_into_view_if_needed()
    shot(b, "member-overdue-home-390")
    page.once("dialog", lambda d: d.accept())
    b.submit(item.get_by_role("button", name="取消走访"), "plan cancelled")
    assert page.locator("li.planned-visit", has_text="早已过期的计划走访").count() == 0


# Every text of a chart: its box, and whether ECharts shortened it ("…").
CHART_TEXTS_JS = """
(id) => {
  const box = document.getElementById(id).getBoundingClientRect();
  return {
    box: {left: box.left, right: box.right, top: box.top, bottom: box.bottom},
    texts: Array.from(document.querySelectorAll('#' + id + ' svg text'))
      .filter(t => t.textContent.trim() && t.getBoundingClientRect().width > 0)
      .map(t => { const r = t.getBoundingClientRect();
                  return {text: t.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom}; }),
  };
}
"""


def _overlap(a: dict, b: dict) -> float:
    w = min(a["right"], b["right"]) - max(a["left"], b["left"])
    h = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
    return w * h if w > 0 and h > 0 else 0.0


def test_dashboard_charts_are_readable_on_a_phone(browse):
    b = browse(phone=True, name="leader")
    b.login("demo_leader")
    page = b.page
    b.goto("/dashboard/?start=2021-01&end=2021-03", "dashboard on a phone")
    page.wait_for_function(
        "() => document.querySelectorAll('main .chart svg').length"
        " === document.querySelectorAll('main .chart').length"
    )
    page.wait_for_timeout(1200)  # entry animations
    problems = []
    for chart in page.locator("main .chart").all():
        cid = chart.get_attribute("id")
        chart.scroll_into_view_if_needed()
        info = page.evaluate(CHART_TEXTS_JS, cid)
        texts = info["texts"]
        assert texts, cid
        for t in texts:
            if "…" in t["text"] or "..." in t["text"]:
                problems.append(f"{cid}: shortened label {t['text']!r}")
            if t["left"] < info["box"]["left"] - 1 or t["right"] > info["box"]["right"] + 1:
                problems.append(f"{cid}: {t['text']!r} runs out of the chart")
        for i, first in enumerate(texts):
            for second in texts[i + 1 :]:
                if _overlap(first, second) > 4:
                    problems.append(f"{cid}: {first['text']!r} overlaps {second['text']!r}")
    page.locator("#chart-trend").scroll_into_view_if_needed()
    shot(b, "leader-dashboard-trend-390")
    page.locator("#chart-field").scroll_into_view_if_needed()
    shot(b, "leader-dashboard-fields-390")
    page.locator("#chart-status").scroll_into_view_if_needed()
    shot(b, "leader-dashboard-status-390")
    funnel = " ".join(t["text"] for t in page.evaluate(CHART_TEXTS_JS, "chart-funnel")["texts"])
    for stage in ("已征集", "已匹配", "推进中", "已解决"):
        assert stage in funnel
    assert not problems, "\n".join(problems)


def test_dashboard_period_message_inline(leader):
    b, page = leader, leader.page
    page.set_viewport_size(WIDE)
    b.goto("/dashboard/", "dashboard default")
    assert page.locator("#start").input_value() == page.locator("#end").input_value() != ""
    shot(b, "leader-dashboard-1366")
    page.locator("#start").fill("2021-03")
    page.locator("#end").fill("2021-01")
    with page.expect_navigation():
        page.locator("main form[method=get] button").click()
    b.check("reversed range")
    assert "早于开始月份" in page.locator("#period-error").inner_text()
    shot(b, "leader-dashboard-reversed-1366")


def test_admin_pages_read_as_sentences_and_labels(browse, tmp_path):
    from openpyxl import Workbook

    # The login page says which product and which centres, on a phone and a desktop.
    phone = browse(phone=True, name="anonymous-phone")
    phone.goto("/login", "login on a phone")
    header = phone.page.locator("header.login-product").inner_text()
    assert "需求对接管理" in header
    assert "潍坊服务中心" in header
    shot(phone, "login-390")

    b = browse(name="admin")
    page = b.page
    page.set_viewport_size(WIDE)
    b.goto("/login", "login on a desktop")
    shot(b, "login-1366")
    b.login("demo_admin")

    # Import preview of an update: labels and values in Chinese, no Python repr.
    wb = Workbook()
    ws = wb.active
    ws.append(["企业名称", "所属区县", "企业规模"])
    ws.append(["潍坊天恒检测科技有限公司", "坊子区", "中型"])
    path = tmp_path / "更新.xlsx"
    wb.save(path)
    b.goto("/imports/", "imports")
    page.get_by_label("数据类型").select_option("organisations")
    page.get_by_label("表格文件（.xlsx 或 .csv）").set_input_files(str(path))
    b.submit(page.get_by_role("button", name="上传并预览"), "import preview")
    main = page.locator("main").inner_text()
    assert "built-in method" not in main
    assert "更新: 1" in main
    assert "企业规模: 小型 → 中型" in main
    shot(b, "admin-import-preview-1366")

    # The audit trail: sentences with names, record kinds by name in the filter.
    b.goto("/audit/?table=needs", "audit trail")
    sentences = page.locator(".audit-sentence").all_inner_texts()
    assert sentences
    assert all("需求“" in s for s in sentences[:5]), sentences[:5]
    assert page.locator("#table option:checked").inner_text() == "需求"
    shot(b, "admin-audit-1366")
    page.set_viewport_size(NARROW)
    shot(b, "admin-audit-390")
