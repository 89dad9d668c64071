"""What a coordinator sees after acting on a need page: the answer beside the match, a
status select that resets nothing by accident, and a panel named for what it holds."""

from __future__ import annotations

import lxml.html

from needs_tracker.extensions import db
from needs_tracker.matching import services
from needs_tracker.matching.models import Match
from needs_tracker.needs.models import Need


def _match(pool):
    match = services.propose_match(
        pool["need_a"], "expert", pool["expert"].id, pool["users"]["coordinator"]
    )
    db.session.commit()
    return match


def _texts(html: str, xpath: str) -> list[str]:
    return [e.text_content().strip() for e in lxml.html.fromstring(html).xpath(xpath)]


def test_refused_step_is_answered_beside_the_match_not_at_the_top(pool, client, auth):
    match = _match(pool)
    auth.login("coordinator")
    resp = client.post(
        f"/matching/{match.id}/step",
        data={f"m{match.id}-to_status": "agreement", f"m{match.id}-version": match.version},
    )
    assert resp.headers["Location"].endswith(f"#match-{match.id}")
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    beside = _texts(html, f'//div[@id="match-{match.id}"]//div[@role="alert"]')
    assert beside == ["对接不能从“已推荐”直接变为“达成合作意向”：需先记录“已联系”。"]
    # Not repeated in the flash area at the top of the page, which the anchor scrolls past.
    assert "需先记录" not in html[: html.index('id="matching"')]
    # Shown once: the next page load has no stale message.
    again = client.get(f"/needs/{pool['need_a'].id}").get_data(as_text=True)
    assert "需先记录" not in again


def test_successful_step_is_confirmed_beside_the_match(pool, client, auth):
    match = _match(pool)
    auth.login("coordinator")
    html = client.post(
        f"/matching/{match.id}/step",
        data={f"m{match.id}-to_status": "contacted", f"m{match.id}-version": match.version},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert _texts(html, f'//div[@id="match-{match.id}"]//div[@role="alert"]') == [
        "对接已更新为“已联系”。"
    ]
    db.session.expire_all()
    assert db.session.get(Match, match.id).status == "contacted"


def test_proposal_is_confirmed_at_the_top_of_the_panel(pool, client, auth):
    auth.login("coordinator")
    html = client.post(
        f"/matching/needs/{pool['need_a'].id}/propose",
        data={"kind": "expert", "candidate_id": pool["vision"].id},
        follow_redirects=True,
    ).get_data(as_text=True)
    alerts = _texts(html, '//section[@id="matching"]/div/div[@role="alert"]')
    assert len(alerts) == 1
    assert "于晓东" in alerts[0]


def test_suggestions_panel_is_named_for_what_it_holds(pool, client, auth):
    auth.login("coordinator")
    html = client.get(f"/needs/{pool['need_a'].id}").get_data(as_text=True)
    assert _texts(html, '//h2[@id="matching-title"]') == ["推荐专家与资源"]


def test_status_select_preselects_nothing_and_offers_only_allowed_moves(pool, client, auth):
    auth.login("coordinator")
    html = client.get(f"/needs/{pool['need_a'].id}").get_data(as_text=True)
    doc = lxml.html.fromstring(html)
    select = doc.xpath('//form[contains(@class,"need-status")]//select[@name="to_status"]')[0]
    options = [(o.get("value"), o.get("selected")) for o in select.xpath("option")]
    assert options[0][0] == ""
    assert [v for v, _ in options[1:]] == ["assessing", "matching", "closed"]
    assert all(sel is None for v, sel in options if v)
    # Submitting the untouched form changes nothing and says why.
    need = pool["need_a"]
    resp = client.post(
        f"/needs/{need.id}/status",
        data={"to_status": "", "version": need.version},
        follow_redirects=True,
    )
    assert "请选择新状态。" in resp.get_data(as_text=True)
    assert db.session.get(Need, need.id).status == "collected"


def test_backward_status_move_needs_a_confirmation(pool, client, auth):
    need = pool["need_a"]
    auth.login("coordinator")
    for status in ("assessing", "matching"):
        db.session.expire_all()
        client.post(
            f"/needs/{need.id}/status",
            data={"to_status": status, "version": db.session.get(Need, need.id).version},
        )
    db.session.expire_all()
    assert db.session.get(Need, need.id).status == "matching"
    html = client.get(f"/needs/{need.id}").get_data(as_text=True)
    form = lxml.html.fromstring(html).xpath('//form[contains(@class,"need-status")]')[0]
    assert form.get("data-backward") == "assessing"
    resp = client.post(
        f"/needs/{need.id}/status",
        data={"to_status": "assessing", "version": db.session.get(Need, need.id).version},
        follow_redirects=True,
    )
    assert "将需求从“匹配中”退回到“评估中”会撤销已有进展" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Need, need.id).status == "matching"
    client.post(
        f"/needs/{need.id}/status",
        data={
            "to_status": "assessing",
            "confirm_back": "y",
            "version": db.session.get(Need, need.id).version,
        },
    )
    db.session.expire_all()
    assert db.session.get(Need, need.id).status == "assessing"
