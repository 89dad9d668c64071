"""A docking meeting is recorded as held only once its date has come (issue 12)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from needs_tracker.extensions import db
from needs_tracker.matching import services
from needs_tracker.matching.models import DockingEvent, Match, MatchTransition
from needs_tracker.matching.services import MatchError, MeetingData, transition_match
from needs_tracker.needs.services import NeedData, create_need


def _contacted(pool) -> Match:
    user = pool["users"]["coordinator"]
    match = services.propose_match(pool["need_a"], "expert", pool["expert"].id, user)
    transition_match(match, "contacted", user)
    db.session.commit()
    return match


def _counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(DockingEvent.id))),
        db.session.scalar(select(func.count(MatchTransition.id))),
    )


def test_service_refuses_a_future_meeting_and_writes_nothing(pool):
    match = _contacted(pool)
    before = _counts()
    tomorrow = date.today() + timedelta(days=1)
    with pytest.raises(MatchError) as exc:
        transition_match(
            match, "meeting_held", pool["users"]["coordinator"], meeting=MeetingData(tomorrow)
        )
    message = str(exc.value)
    assert tomorrow.isoformat() in message
    assert "晚于今天" in message
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Match, match.id).status == "contacted"
    assert _counts() == before


def test_record_meeting_itself_refuses_a_future_date(pool):
    """Any caller of record_meeting (the CLI, a seeder) gets the same rule."""
    match = _contacted(pool)
    with pytest.raises(MatchError):
        services.record_meeting(
            match, MeetingData(date.today() + timedelta(days=30)), pool["users"]["coordinator"]
        )


def test_a_meeting_today_or_earlier_is_held(pool):
    match = _contacted(pool)
    transition_match(
        match, "meeting_held", pool["users"]["coordinator"], meeting=MeetingData(date.today())
    )
    db.session.commit()
    assert match.status == "meeting_held"
    assert match.docking_event.held_on == date.today()


def test_form_refuses_a_future_meeting_with_a_chinese_message(pool, client, auth):
    match = _contacted(pool)
    auth.login("coordinator")
    p = f"m{match.id}-"
    future = date.today() + timedelta(days=7)
    resp = client.post(
        f"/matching/{match.id}/step",
        data={
            p + "to_status": "meeting_held",
            p + "version": match.version,
            p + "held_on": future.isoformat(),
            p + "place": "潍坊学院",
        },
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert f"对接会日期 {future.isoformat()} 晚于今天" in html
    db.session.expire_all()
    assert db.session.get(Match, match.id).status == "contacted"
    assert db.session.scalar(select(func.count(DockingEvent.id))) == 0


def test_a_group_event_may_be_planned_ahead(pool):
    """Planning is not holding: a group event takes a future date; its matches stay proposed."""
    other = create_need(
        NeedData(organisation_id=pool["org_a2"].id, title="换挡品质标定", description="标定"),
        pool["a"].id,
        pool["users"]["coordinator"],
    )
    event_ = services.create_group_event(
        [pool["need_a"], other],
        pool["expert"].id,
        pool["users"]["coordinator"],
        "检测技术对接会",
        held_on=date.today() + timedelta(days=10),
    )
    db.session.commit()
    assert event_.held_on > date.today()
    assert {m.status for m in event_.matches} == {"proposed"}
