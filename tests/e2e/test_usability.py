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
