"""Matching pages and actions: every route x every role, and what each role sees."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from needs_tracker.common.models import utcnow
from needs_tracker.extensions import db
from needs_tracker.matching import services
from needs_tracker.matching.models import Match, MatchDismissal
from needs_tracker.matching.services import MeetingData, transition_match

ROLES = ["member", "coordinator", "leader", "admin", "consortium", "other", "other_coordinator"]
ACTORS = {"coordinator", "admin"}


def _match(pool, status="proposed"):
    user = pool["users"]["coordinator"]
    match = services.propose_match(pool["need_a"], "expert", pool["expert"].id, user)
    if status != "proposed":
        transition_match(match, "contacted", user)
    db.session.commit()
    return match


@pytest.mark.parametrize("role", ROLES)
def test_need_page_panel_by_role(pool, client, auth, role):
    _match(pool)
    auth.login(role)
    resp = client.get(f"/needs/{pool['need_a'].id}")
    if role in {"other", "other_coordinator"}:
        assert resp.status_code == 404
        return
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "推荐专家与资源" in html
    assert "对接记录" in html
    assert "领域一致：智能检测" in html
    assert "邢卫东" in html
    assert "已推荐" in html
    assert ("推荐</button>" in html) == (role in ACTORS)
    assert ("记录下一步" in html) == (role in ACTORS)
    assert "js/matching.js" in html


@pytest.mark.parametrize("role", ROLES)
def test_propose_by_role(pool, client, auth, role):
    auth.login(role)
    resp = client.post(
        f"/matching/needs/{pool['need_a'].id}/propose",
        data={"kind": "expert", "candidate_id": pool["expert"].id},
    )
    expected = 302 if role in ACTORS else 404 if role.startswith("other") else 403
    assert resp.status_code == expected
    count = db.session.scalar(select(func.count()).select_from(Match))
    assert count == (1 if role in ACTORS else 0)


@pytest.mark.parametrize("role", ROLES)
def test_dismiss_by_role(pool, client, auth, role):
    auth.login(role)
    resp = client.post(
        f"/matching/needs/{pool['need_a'].id}/dismiss",
        data={"kind": "expert", "candidate_id": pool["expert"].id},
    )
    expected = 302 if role in ACTORS else 404 if role.startswith("other") else 403
    assert resp.status_code == expected
    assert db.session.scalar(select(func.count()).select_from(MatchDismissal)) == (
        1 if role in ACTORS else 0
    )


@pytest.mark.parametrize("role", ROLES)
def test_step_by_role(pool, client, auth, role):
    match = _match(pool)
    auth.login(role)
    resp = client.post(
        f"/matching/{match.id}/step",
        data={f"m{match.id}-to_status": "contacted", f"m{match.id}-version": match.version},
    )
    expected = 302 if role in ACTORS else 404 if role.startswith("other") else 403
    assert resp.status_code == expected
    db.session.expire_all()
    assert db.session.get(Match, match.id).status == ("contacted" if role in ACTORS else "proposed")


@pytest.mark.parametrize("role", ROLES)
def test_groups_page_by_role(pool, client, auth, role, make_need):
    make_need(
        pool["org_a2"], "焊缝缺陷检测", description="焊缝无损检测", field_ids=[pool["field"].id]
    )
    auth.login(role)
    resp = client.get("/matching/groups")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    if role.startswith("other"):
        assert "焊缝缺陷自动检测" not in html
    else:
        assert "焊缝缺陷自动检测" in html
        assert "推荐专家" in html
    assert ("创建对接活动" in html) == (role in ACTORS and not role.startswith("other"))


@pytest.mark.parametrize("role", ROLES)
def test_group_event_by_role(pool, client, auth, role, make_need):
    other = make_need(pool["org_a2"], "焊缝缺陷检测", field_ids=[pool["field"].id])
    auth.login(role)
    resp = client.post(
        "/matching/groups/event",
        data={
            "need_ids": f"{pool['need_a'].id},{other.id}",
            "expert_id": pool["expert"].id,
            "title": "焊缝检测专题对接会",
        },
    )
    created = db.session.scalar(select(func.count()).select_from(Match))
    if role in ACTORS:
        assert resp.status_code == 302
        assert created == 2
    elif role == "other_coordinator":
        # Needs of another centre are invisible: refused, nothing created.
        assert resp.status_code == 302
        assert created == 0
    else:
        assert resp.status_code == 403
        assert created == 0


def test_other_centre_cannot_move_or_see_a_match(pool, client, auth):
    match = _match(pool)
    auth.login("other_coordinator")
    resp = client.post(
        f"/matching/{match.id}/step",
        data={f"m{match.id}-to_status": "contacted", f"m{match.id}-version": match.version},
    )
    assert resp.status_code == 404
    assert (
        "邢卫东"
        not in client.get(f"/experts/{pool['expert'].id}").get_data(as_text=True)[
            client.get(f"/experts/{pool['expert'].id}")
            .get_data(as_text=True)
            .find("已对接的需求") :
        ]
    )


def test_illegal_jump_is_refused_in_the_page_with_a_message(pool, client, auth):
    match = _match(pool)
    auth.login("coordinator")
    resp = client.post(
        f"/matching/{match.id}/step",
        data={f"m{match.id}-to_status": "resolved", f"m{match.id}-version": match.version},
        follow_redirects=True,
    )
    assert "对接不能从“已推荐”直接变为“已解决”：需先记录“已联系”。" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Match, match.id).status == "proposed"


def test_meeting_step_from_the_form_records_the_event(pool, client, auth):
    match = _match(pool, "contacted")
    auth.login("coordinator")
    p = f"m{match.id}-"
    client.post(
        f"/matching/{match.id}/step",
        data={
            p + "to_status": "meeting_held",
            p + "version": match.version,
            p + "held_on": "2021-04-08",
            p + "place": "潍坊学院",
            p + "attendees": "胡志强、邢卫东",
            p + "minutes": "确定检测方案",
        },
    )
    db.session.expire_all()
    match = db.session.get(Match, match.id)
    assert match.status == "meeting_held"
    assert match.docking_event.held_on == date(2021, 4, 8)
    assert match.docking_event.attendees == "胡志强、邢卫东"
    html = client.get(f"/needs/{pool['need_a'].id}").get_data(as_text=True)
    assert "确定检测方案" in html
    assert "已召开对接会" in html


def test_stale_version_is_refused(pool, client, auth):
    match = _match(pool)
    auth.login("coordinator")
    resp = client.post(
        f"/matching/{match.id}/step",
        data={f"m{match.id}-to_status": "contacted", f"m{match.id}-version": match.version + 5},
        follow_redirects=True,
    )
    assert "已被他人更新" in resp.get_data(as_text=True)


def test_dismissed_suggestion_disappears_from_the_page(pool, client, auth):
    auth.login("coordinator")
    url = f"/needs/{pool['need_a'].id}"
    assert "于晓东" in client.get(url).get_data(as_text=True)
    client.post(
        f"/matching/needs/{pool['need_a'].id}/dismiss",
        data={"kind": "expert", "candidate_id": pool["vision"].id},
    )
    html = client.get(url).get_data(as_text=True)
    suggested = html.split("推荐专家与资源", 1)[1].split("已标记为不相关", 1)[0]
    assert "于晓东" not in suggested


@pytest.mark.parametrize("role", ["member", "coordinator", "leader", "admin", "other"])
def test_expert_and_resource_panels_show_matched_needs_of_own_centre(pool, client, auth, role):
    match = _match(pool)
    transition_match(match, "contacted", pool["users"]["coordinator"])
    services.propose_match(pool["need_a"], "resource", pool["resource"].id, pool["users"]["admin"])
    db.session.commit()
    auth.login(role)
    expert_html = client.get(f"/experts/{pool['expert'].id}").get_data(as_text=True)
    resource_html = client.get(f"/resources/{pool['resource'].id}").get_data(as_text=True)
    assert "已对接的需求" in expert_html
    assert "已对接的需求" in resource_html
    visible = role != "other"
    assert ("焊缝缺陷自动检测" in expert_html) == visible
    assert ("已联系: 1" in expert_html) == visible
    assert ("焊缝缺陷自动检测" in resource_html) == visible


@pytest.mark.parametrize("role", ROLES)
def test_stale_matches_on_the_home_page_for_coordinators(pool, client, auth, role, app):
    match = _match(pool)
    match.status_changed_at = utcnow() - timedelta(days=app.config["STALE_DAYS"] + 1)
    db.session.commit()
    auth.login(role)
    html = client.get("/").get_data(as_text=True)
    shows_panel = role in ACTORS or role == "other_coordinator"
    heading = f"超过 {app.config['STALE_DAYS']} 天无进展的对接"
    assert (heading in html) == shows_panel
    if shows_panel:
        section = html.split(heading)[1].split("</section>")[0]
        assert ("焊缝缺陷自动检测" in section) == (role in ACTORS)


def test_meeting_data_class_defaults():
    assert MeetingData(date(2021, 1, 1)).place == ""


@pytest.mark.parametrize("role", ROLES)
def test_pool_search_on_the_need_page_by_role(pool, client, auth, role):
    """Coordinators find and propose someone the suggestions miss; nobody else sees the search."""
    need = pool["need_a"]
    auth.login(role)
    resp = client.get(f"/needs/{need.id}?cq=重庆大学")
    if role.startswith("other"):
        assert resp.status_code == 404
        return
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    # 吕冬梅 (gears, Chongqing) is no suggestion for an inspection need: only the search finds her.
    assert "吕冬梅" not in client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert ("吕冬梅" in html) == (role in ACTORS)
    assert ('id="pool-search"' in html) == (role in ACTORS)


def test_pool_search_proposes_and_marks_who_is_already_proposed(pool, client, auth):
    need, gear = pool["need_a"], pool["gear"]
    auth.login("coordinator")
    html = client.get(f"/needs/{need.id}?cq=减速器").get_data(as_text=True)
    assert html.count('pool-hit"') == 1  # the one expert whose expertise says 减速器
    assert "减速器齿轮设计" in html
    resp = client.post(
        f"/matching/needs/{need.id}/propose", data={"kind": "expert", "candidate_id": gear.id}
    )
    assert resp.status_code == 302
    match = db.session.scalar(select(Match).where(Match.expert_id == gear.id))
    assert (match.need_id, match.status, match.reasons) == (need.id, "proposed", "")
    html = client.get(f"/needs/{need.id}?cq=减速器").get_data(as_text=True)
    hit = html.split('pool-hit"', 1)[1].split("</li>", 1)[0]
    assert "已推荐" in hit
    assert "推荐</button>" not in hit
    # Nothing found, and % is a literal character, not a wildcard.
    for q in ("不存在的方向", "%"):
        html = client.get(f"/needs/{need.id}", query_string={"cq": q}).get_data(as_text=True)
        assert "pool-hit" not in html
        assert f"没有包含“{q}”的专家或资源。" in html


def _dismiss(pool, candidate="vision"):
    services.dismiss_candidate(
        pool["need_a"], "expert", pool[candidate].id, pool["users"]["coordinator"], "方向不对"
    )
    db.session.commit()
    return db.session.scalar(select(MatchDismissal))


def test_not_relevant_can_be_taken_back(pool, client, auth):
    """A mistaken "not relevant" click is undone from the need page; the expert returns."""
    need = pool["need_a"]
    dismissal = _dismiss(pool)
    auth.login("coordinator")
    html = client.get(f"/needs/{need.id}").get_data(as_text=True)
    suggestions = html.split("推荐专家与资源", 1)[1].split("已标记为不相关", 1)[0]
    assert "于晓东" not in suggestions
    marked = html.split("已标记为不相关（1）", 1)[1].split("</details>", 1)[0]
    assert "于晓东" in marked
    assert "方向不对" in marked
    resp = client.post(f"/matching/needs/{need.id}/dismissals/{dismissal.id}/undo")
    assert resp.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(MatchDismissal)) == 0
    html = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "“于晓东”将重新出现在此需求的推荐中。" in html
    assert "于晓东" in html.split("推荐专家与资源", 1)[1].split("对接记录", 1)[0]
    assert "已标记为不相关" not in html
    # Undoing it again, or through another need, finds nothing.
    assert (
        client.post(f"/matching/needs/{need.id}/dismissals/{dismissal.id}/undo").status_code == 404
    )


@pytest.mark.parametrize("role", ROLES)
def test_undo_dismissal_by_role(pool, client, auth, role):
    dismissal = _dismiss(pool)
    auth.login(role)
    html = client.get(f"/needs/{pool['need_a'].id}").get_data(as_text=True)
    assert ("已标记为不相关" in html) == (role in ACTORS)
    resp = client.post(f"/matching/needs/{pool['need_a'].id}/dismissals/{dismissal.id}/undo")
    expected = 302 if role in ACTORS else 404 if role.startswith("other") else 403
    assert resp.status_code == expected
    left = db.session.scalar(select(func.count()).select_from(MatchDismissal))
    assert left == (0 if role in ACTORS else 1)


def test_undo_dismissal_of_another_need_is_not_found(pool, client, auth, make_need):
    dismissal = _dismiss(pool)
    other_need = make_need(pool["org_a"], "另一个需求")
    auth.login("coordinator")
    resp = client.post(f"/matching/needs/{other_need.id}/dismissals/{dismissal.id}/undo")
    assert resp.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(MatchDismissal)) == 1


def test_undo_dismissal_needs_a_login(pool, client):
    dismissal = _dismiss(pool)
    resp = client.post(f"/matching/needs/{pool['need_a'].id}/dismissals/{dismissal.id}/undo")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(MatchDismissal)) == 1
