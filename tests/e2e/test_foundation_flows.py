"""Foundation flows in a real browser, each as the role that does it."""

from __future__ import annotations

import re

import pytest

from tests.e2e.support import PASSWORD

pytestmark = pytest.mark.e2e


def test_member_records_visit_with_team_and_needs_on_phone(member):
    """Member, 390x844: two companies, a three-person team from two organisations, two needs."""
    b, page = member, member.page
    assert page.viewport_size == {"width": 390, "height": 844}
    # On a phone the menu is collapsed behind the toggler.
    page.get_by_role("button", name="菜单").click()
    with page.expect_navigation():
        page.get_by_role("link", name="走访", exact=True).click()
    b.check("visits list")
    with page.expect_navigation():
        page.get_by_role("link", name="记录走访").click()
    b.check("visit form")

    page.get_by_label("目的").fill("E2E 手机走访：传动与检测企业需求调研")
    page.locator("#organisation_ids").select_option(label="山东华特磁电科技股份有限公司")
    page.locator("#new_organisations").fill("潍坊新锐智能装备有限公司")
    page.locator("#new_organisations").blur()  # the need rows learn the new company

    team = [
        ("胡志强", "联合体专家", "中国科协智能制造学会联合体"),
        ("孙晓非", "科协干部", "潍坊市科协"),
        ("赵敏", "科普部部长", "潍坊市科协"),
    ]
    for i, (name, title, org) in enumerate(team):
        page.locator(f"#team-{i}-name").fill(name)
        page.locator(f"#team-{i}-title").fill(title)
        page.locator(f"#team-{i}-organisation_name").fill(org)

    page.locator("#needs-0-organisation").select_option(label="山东华特磁电科技股份有限公司")
    page.locator("#needs-0-title").fill("磁选设备在线状态监测")
    page.locator("#needs-0-description").fill(
        "希望对接高校团队，建立磁选机振动与温度的在线监测与预警。"
    )
    page.locator("#needs-0-field_ids").select_option(label="智能检测")
    page.locator("#needs-1-organisation").select_option(label="潍坊新锐智能装备有限公司")
    page.locator("#needs-1-title").fill("装配线工业互联网改造")
    page.locator("#needs-1-description").fill(
        "装配线数据采集与排产优化，需要工业互联网平台与人才培训。"
    )
    page.locator("#summary").fill("走访两家企业，收集需求两项。")
    page.screenshot(path=str(b.shots / f"{b.label}-filled-visit-form.png"), full_page=True)

    b.submit(page.get_by_role("button", name="保存走访"), "visit detail")
    assert page.get_by_role("alert").filter(has_text="2").count() == 1
    body = page.locator("main").inner_text()
    for name, title, org in team:
        assert f"{org} {title} {name}" in body
    assert "华特磁电" in body
    assert "潍坊新锐智能装备有限公司" in body
    assert "磁选设备在线状态监测" in body
    assert "装配线工业互联网改造" in body

    b.goto("/visits/?q=E2E", "visits list after save")
    row = page.locator("tbody tr", has_text="E2E 手机走访")
    assert row.count() == 1
    assert "华特磁电" in row.inner_text()
    assert "潍坊新锐智能装备有限公司" in row.inner_text()
    # Nothing on the phone page is wider than the screen.
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= 390, f"page is {overflow}px wide on a 390px screen"


def test_admin_creates_user_who_sees_only_that_centre(admin, browse):
    """Admin puts a new member in the second centre; the member sees that centre only."""
    b, page = admin, admin.page
    b.goto("/users/new", "new user form")
    page.locator("#username").fill("qd_member")
    page.locator("#display_name").fill("青岛 服务团成员")
    page.locator("#role").select_option("member")
    page.locator("#centre_id").select_option(label="青岛服务中心")
    page.locator("#password").fill("Qingdao-pass-2026")
    b.submit(page.locator("main form button[type=submit]"), "user created")
    assert "qd_member" in page.locator("main").inner_text()
    assert "青岛服务中心" in page.locator("main").inner_text()

    user = browse(name="qd_member")
    user.login("qd_member", "Qingdao-pass-2026")
    assert "青岛服务中心" in user.page.locator("nav").inner_text()
    user.goto("/organisations/", "organisations of the second centre")
    orgs = user.page.locator("main").inner_text()
    assert "青岛海纳光电有限公司" in orgs
    assert "华特磁电" not in orgs
    assert "潍柴" not in orgs
    user.goto("/visits/", "no visits of the demo centre")
    assert "没有找到记录" in user.page.locator("tbody").inner_text()
    user.goto("/needs/", "no needs of the demo centre")
    assert "没有找到记录" in user.page.locator("tbody").inner_text()
    # The demo centre's first visit (id 1 in the fresh database) is not found, not forbidden.
    user.allow_http_error(404, "/visits/1")
    response = user.goto("/visits/1", "another centre's visit")
    assert response.status == 404


def test_language_switch_logout_and_back_button(leader):
    """Switch to English and back; log out; Back does not show the private page again."""
    b, page = leader, leader.page
    b.goto("/needs/", "needs in Chinese")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    private_text = page.locator("main").inner_text()
    assert "需求" in private_text

    b.submit(page.get_by_role("button", name="English"), "needs in English")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.url.endswith("/needs/")
    assert page.get_by_role("link", name="Visits", exact=True).is_visible()
    b.submit(page.get_by_role("button", name="中文"), "needs in Chinese again")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_role("link", name="走访", exact=True).is_visible()

    response = page.request.get("/needs/")
    assert response.headers.get("cache-control") == "no-store"

    b.submit(page.get_by_role("button", name="退出"), "logged out")
    assert re.search(r"/login", page.url)
    assert page.locator("#username").is_visible()

    page.go_back()
    b.check("back after logout")
    assert "/login" in page.url, f"Back after logout showed {page.url}"
    assert page.locator("#username").is_visible()
    assert page.get_by_role("button", name="退出").count() == 0
    # The private list is not shown from the cache either.
    assert "张伟" not in page.locator("body").inner_text()


def test_keyboard_only_login_and_visit_entry(browse):
    """Log in and record a visit using the keyboard alone (Tab, typing, arrows, Enter)."""
    b = browse(name="keyboard")
    page, kb = b.page, b.page.keyboard
    b.goto("/login", "login")
    b.tab_to("#username")
    kb.type("demo_member")
    kb.press("Tab")
    assert b.focused() == "password"
    kb.type(PASSWORD)
    with page.expect_navigation():
        kb.press("Enter")
    b.check("home")
    assert "王晓明" in page.locator("nav").inner_text()

    # The skip link is the first stop and leads to the content.
    kb.press("Tab")
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == "#main"

    b.tab_to('nav a[href$="/visits/"]')
    with page.expect_navigation():
        kb.press("Enter")
    b.check("visits list")
    b.tab_to('a[href$="/visits/new"]')
    with page.expect_navigation():
        kb.press("Enter")
    b.check("visit form")

    b.tab_to("#purpose")
    kb.type("键盘录入走访")
    # The company picker is a search box (Tom Select): type part of a name, Enter picks it.
    b.tab_to("#organisation_ids-ts-control")
    for n, part in enumerate(("华特", "天恒"), start=1):
        kb.type(part)
        page.locator(".ts-dropdown .option.active", has_text=part).wait_for()
        kb.press("Enter")
        page.wait_for_function(
            "n => document.getElementById('organisation_ids').selectedOptions.length === n", arg=n
        )
    kb.press("Escape")
    selected = page.eval_on_selector(
        "#organisation_ids", "s => Array.from(s.selectedOptions).map(o => o.value)"
    )
    assert len(selected) == 2
    b.tab_to("#team-0-name")
    kb.press("Control+A")
    kb.type("王晓明")
    kb.press("Tab")
    kb.type("服务团成员")
    kb.press("Tab")
    kb.type("潍坊服务中心")
    kb.press("Tab")
    kb.type("孙晓非")
    b.tab_to("#needs-0-organisation")
    kb.press("ArrowDown")  # the first company, which is also the first visited
    assert page.eval_on_selector("#needs-0-organisation", "s => s.value") == selected[0]
    b.tab_to("#needs-0-title")
    kb.type("键盘录入的需求")
    with page.expect_navigation():
        kb.press("Enter")  # implicit submission from a text field
    b.check("visit saved")
    main = page.locator("main").inner_text()
    assert "键盘录入的需求" in main
    assert "孙晓非" in main
    assert re.search(r"/visits/\d+$", page.url)


def test_errors_are_announced(browse):
    """Login and visit-form errors are tied to their fields and announced (role=alert)."""
    b = browse(name="errors")
    page = b.page
    b.goto("/login", "login")
    b.submit(page.locator("main form button[type=submit]"), "empty login")
    state = b.errors_announced()
    assert state["invalid"] >= 2, state
    assert state["bad"] == [], state

    page.locator("#username").fill("demo_member")
    page.locator("#password").fill("not the password")
    b.submit(page.locator("main form button[type=submit]"), "wrong password")
    assert "用户名或密码错误" in page.get_by_role("alert").first.inner_text()

    page.locator("#password").fill(PASSWORD)
    b.submit(page.locator("main form button[type=submit]"), "home")
    b.goto("/visits/new", "visit form")
    page.locator("#needs-0-description").fill("有描述没有标题")
    b.submit(page.get_by_role("button", name="保存走访"), "visit form with errors")
    state = b.errors_announced()
    assert state["invalid"] >= 1, state
    assert state["bad"] == [], state
    assert page.get_by_role("alert").first.is_visible()
