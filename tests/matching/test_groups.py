"""Group docking: events already created are shown with their needs, their needs are not
suggested again, a need sits in one group only, and a need can join an existing event."""

from __future__ import annotations

import lxml.html
import pytest
from sqlalchemy import select

from needs_tracker.extensions import db
from needs_tracker.matching import services
from needs_tracker.matching.models import DockingEvent, Match


@pytest.fixture
def grouped(pool, make_org, make_need):
    """Three companies with inspection needs; the third also needs drive control."""
    field, drive = pool["field"], pool["drive"]
    third = make_org(pool["a"], "潍坊新锐智能装备有限公司")
    second = make_need(
        pool["org_a2"], "焊缝缺陷检测", description="焊缝无损检测", field_ids=[field.id]
    )
    both = make_need(
        third,
        "焊缝视觉检测与减速器传动",
        description="焊缝缺陷视觉检测，减速器齿轮传动",
        field_ids=[field.id, drive.id],
    )
    gear = make_need(
        pool["org_a2"], "减速器齿轮可靠性", description="减速器齿轮传动可靠性", field_ids=[drive.id]
    )
    return {**pool, "second": second, "both": both, "gear": gear}


def _groups_html(client) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(client.get("/matching/groups").get_data(as_text=True))


def _group_need_titles(doc) -> list[list[str]]:
    return [
        [a.text_content() for a in s.xpath(".//ul/li/a")]
        for s in doc.xpath('//section[contains(@class,"docking-group")]')
    ]


def test_a_need_sits_in_one_suggested_group_only(grouped, client, auth):
    auth.login("coordinator")
    titles = [t for g in _group_need_titles(_groups_html(client)) for t in g]
    assert titles
    assert len(titles) == len(set(titles))


def test_created_event_is_listed_and_its_needs_not_suggested_again(grouped, client, auth):
    auth.login("coordinator")
    needs = [grouped["need_a"], grouped["second"]]
    resp = client.post(
        "/matching/groups/event",
        data={
            "need_ids": ",".join(str(n.id) for n in needs),
            "expert_id": grouped["vision"].id,
            "title": "焊缝检测专题对接会",
        },
    )
    assert resp.status_code == 302
    doc = _groups_html(client)
    events = doc.xpath('//section[contains(@class,"docking-event")]')
    assert len(events) == 1
    assert events[0].xpath(".//h3")[0].text_content() == "焊缝检测专题对接会"
    listed = [li.text_content() for li in events[0].xpath('.//ul[@class="mb-2 event-needs"]/li')]
    assert [t.split()[0] for t in listed] == ["焊缝缺陷自动检测", "焊缝缺陷检测"]
    assert all("已推荐" in t for t in listed)
    suggested = [t for g in _group_need_titles(doc) for t in g]
    assert "焊缝缺陷自动检测" not in suggested
    assert "焊缝缺陷检测" not in suggested


def test_coordinator_adds_a_need_to_an_existing_event(grouped, client, auth):
    user = grouped["users"]["coordinator"]
    event_ = services.create_group_event(
        [grouped["need_a"], grouped["second"]], grouped["vision"].id, user, "焊缝检测专题对接会"
    )
    db.session.commit()
    auth.login("coordinator")
    resp = client.post(
        f"/matching/groups/event/{event_.id}/needs", data={"need_id": grouped["both"].id}
    )
    assert resp.headers["Location"].endswith(f"#event-{event_.id}")
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已将“焊缝视觉检测与减速器传动”加入“焊缝检测专题对接会”。" in html
    db.session.expire_all()
    event_ = db.session.get(DockingEvent, event_.id)
    assert [n.id for n in event_.needs] == sorted(
        [grouped["need_a"].id, grouped["second"].id, grouped["both"].id]
    )
    match = db.session.scalar(select(Match).where(Match.need_id == grouped["both"].id))
    assert match.expert_id == grouped["vision"].id
    assert match.docking_event_id == event_.id
    # Adding it twice is refused with a message, nothing doubled.
    client.post(f"/matching/groups/event/{event_.id}/needs", data={"need_id": grouped["both"].id})
    html = client.get("/matching/groups").get_data(as_text=True)
    assert "“焊缝视觉检测与减速器传动”已在此对接活动中。" in html
    assert (
        len(db.session.scalars(select(Match).where(Match.need_id == grouped["both"].id)).all()) == 1
    )


@pytest.mark.parametrize(
    ("role", "code"),
    [("member", 403), ("leader", 403), ("other_coordinator", 404), ("admin", 302)],
)
def test_add_need_to_event_by_role(grouped, client, auth, role, code):
    event_ = services.create_group_event(
        [grouped["need_a"], grouped["second"]],
        grouped["vision"].id,
        grouped["users"]["coordinator"],
        "焊缝检测专题对接会",
    )
    db.session.commit()
    auth.login(role)
    resp = client.post(
        f"/matching/groups/event/{event_.id}/needs", data={"need_id": grouped["gear"].id}
    )
    assert resp.status_code == code
    db.session.expire_all()
    count = len(db.session.get(DockingEvent, event_.id).needs)
    assert count == (3 if code == 302 else 2)
