"""Coordinator: suggestions with reasons, propose two experts, move one match to resolved,
then find an expert the suggestions miss and propose her by hand."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e

# A demo need that the demo seed leaves without matches.
NEED_TITLE = "基于机器视觉的零部件表面缺陷在线检测"


def _need_status(page) -> str:
    return page.locator("main h1 .badge").first.inner_text().strip()


def _step(b, match_id: int, status: str, name: str, **extra: str) -> None:
    """Open the match's "next step" form, choose status, fill the extra fields, save."""
    page = b.page
    box = page.locator(f"#match-{match_id}")
    box.locator("details > summary").click()
    page.locator(f"#m{match_id}-to_status").select_option(status)
    for key, value in extra.items():
        page.locator(f"#m{match_id}-{key}").fill(value)
    b.submit(
        box.locator("form.match-step button[type=submit], form.match-step button:not([type])"), name
    )


def test_coordinator_proposes_experts_and_moves_a_match_to_resolved(coordinator):
    b, page = coordinator, coordinator.page
    b.goto("/needs/?q=机器视觉", "needs search")
    with page.expect_navigation():
        page.get_by_role("link", name=NEED_TITLE).click()
    b.check("need with suggestions")
    need_url = page.url.split("#")[0]
    assert _need_status(page) == "已征集"

    panel = page.locator("#matching")
    suggestions = panel.locator("li.suggestion")
    assert suggestions.count() >= 2
    experts = suggestions.filter(has=page.locator('input[name=kind][value="expert"]'))
    assert experts.count() >= 2, "fewer than two experts suggested"
    for i in range(experts.count()):
        item = experts.nth(i)
        reason = item.locator("div.small").first.inner_text().strip()
        assert reason, f"suggestion {i} has no reason"
        assert re.search(r"[\u4e00-\u9fff]", reason), f"reason is not in Chinese: {reason}"

    proposed: list[str] = []
    for n in range(2):
        first = (
            panel.locator("li.suggestion")
            .filter(has=page.locator('input[name=kind][value="expert"]'))
            .first
        )
        proposed.append(first.locator(".fw-semibold a").first.inner_text().strip())
        b.submit(first.locator('form[action$="/propose"] button'), f"proposed expert {n + 1}")
        assert page.locator(".alert-success").count() == 1
    assert len(set(proposed)) == 2
    matches = page.locator("#matching .match")
    assert matches.count() == 2
    names = matches.all_inner_texts()
    for name in proposed:
        assert any(name in text for text in names)
    # The proposed experts are no longer offered as suggestions.
    still_suggested = panel.locator("li.suggestion .fw-semibold a").all_inner_texts()
    assert not set(proposed) & {s.strip() for s in still_suggested}
    assert _need_status(page) == "匹配中"

    match_id = int(matches.first.get_attribute("id").removeprefix("match-"))
    _step(b, match_id, "contacted", "contacted", note="已电话联系专家，约定走访时间")
    assert _need_status(page) == "已匹配"
    _step(
        b,
        match_id,
        "meeting_held",
        "docking meeting",
        held_on="2026-11-20",
        place="中科普锐检测会议室",
        attendees="企业技术总监、专家、服务团成员",
        minutes="确定光学方案与样件测试计划。",
    )
    assert _need_status(page) == "推进中"
    _step(b, match_id, "agreement", "agreement", amount="30")
    assert _need_status(page) == "推进中"
    _step(b, match_id, "resolved", "resolved", note="样线验收通过")
    assert _need_status(page) == "已解决"

    box = page.locator(f"#match-{match_id}")
    assert box.locator(".match-timeline li").count() == 5
    assert "中科普锐检测会议室" in box.inner_text()
    # A resolved match has no next step; the other proposal is still open.
    assert box.locator("form.match-step").count() == 0
    assert page.locator("#matching .match form.match-step").count() == 1
    history = page.locator("main").inner_text()
    for status in ("匹配中", "已匹配", "推进中", "已解决"):
        assert status in history
    assert page.url.startswith(need_url)

    # 吕冬梅 (gear design) is no suggestion for a vision need; the coordinator knows her.
    assert "吕冬梅" not in panel.locator("li.suggestion").all_inner_texts()
    page.get_by_label(re.compile("另有人选")).fill("吕冬梅")
    b.submit(page.locator("#pool-search button"), "pool search")
    hits = page.locator("#matching li.pool-hit")
    assert hits.count() == 1
    assert "重庆大学" in hits.first.inner_text()
    b.submit(hits.first.locator('form[action$="/propose"] button'), "proposed by hand")
    assert page.locator(".alert-success").count() == 1
    assert page.locator("#matching .match").count() == 3
    assert "吕冬梅" in page.locator("#matching .match").first.inner_text()
