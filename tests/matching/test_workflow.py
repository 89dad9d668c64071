"""Workflow services: proposals, every step, refused jumps, the need following its matches."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from needs_tracker.common.models import utcnow
from needs_tracker.extensions import db
from needs_tracker.matching import services
from needs_tracker.matching.models import DockingEvent, Match, MatchDismissal
from needs_tracker.matching.services import MatchError, MeetingData, transition_match


def _propose(pool, kind="expert", key="expert"):
    need = pool["need_a"]
    match = services.propose_match(need, kind, pool[key].id, pool["users"]["coordinator"])
    db.session.commit()
    return match


def _walk(match, user, until: str):
    steps = [
        ("contacted", {}),
        (
            "meeting_held",
            {"meeting": MeetingData(date(2021, 4, 8), "潍坊学院", "胡志强、于晓东", "纪要")},
        ),
        ("agreement", {"amount": Decimal("60")}),
        ("resolved", {}),
    ]
    for status, extra in steps:
        transition_match(match, status, user, **extra)
        db.session.commit()
        if status == until:
            return


def test_suggestions_rank_the_fitting_expert_with_reasons(pool):
    result = services.suggest_for_need(pool["need_a"], top=5)
    names = [s.name for s in result]
    assert names[0] in {"邢卫东", "相控阵检测实验室", "于晓东"}
    assert "吕冬梅" not in names
    xing = next(s for s in result if s.name == "邢卫东")
    assert "领域一致：智能检测" in xing.reasons


def test_first_proposal_moves_need_to_matching_and_records_step(pool):
    match = _propose(pool)
    need = pool["need_a"]
    assert need.status == "matching"
    assert [(t.from_status, t.to_status) for t in match.transitions] == [(None, "proposed")]
    assert match.transitions[0].by_id == pool["users"]["coordinator"].id
    assert match.transitions[0].at is not None
    assert need.history[-1].to_status == "matching"


def test_proposing_the_same_candidate_twice_is_refused(pool):
    _propose(pool)
    with pytest.raises(MatchError, match="已推荐"):
        _propose(pool)


def test_proposed_candidate_leaves_the_suggestions(pool):
    _propose(pool)
    assert "邢卫东" not in [s.name for s in services.suggest_for_need(pool["need_a"], top=10)]


def test_every_step_to_resolved_is_timestamped_and_need_follows(pool):
    user = pool["users"]["coordinator"]
    match = _propose(pool)
    need = pool["need_a"]
    _walk(match, user, "contacted")
    assert need.status == "matched"
    _walk_from = match.status
    assert _walk_from == "contacted"
    transition_match(
        match,
        "meeting_held",
        user,
        meeting=MeetingData(date(2021, 4, 8), "潍坊学院", "胡志强", "纪要"),
    )
    db.session.commit()
    assert need.status == "in_progress"
    event = match.docking_event
    assert (event.held_on, event.place, event.attendees, event.minutes) == (
        date(2021, 4, 8),
        "潍坊学院",
        "胡志强",
        "纪要",
    )
    assert event.needs == [need]
    assert event.expert_id == pool["expert"].id
    transition_match(match, "agreement", user, amount=Decimal("60"))
    transition_match(match, "resolved", user, "合同验收")
    db.session.commit()
    assert match.amount == Decimal("60")
    assert need.status == "resolved"
    steps = [t.to_status for t in match.transitions]
    assert steps == ["proposed", "contacted", "meeting_held", "agreement", "resolved"]
    assert all(t.at is not None and t.by_id == user.id for t in match.transitions)


def test_resolved_match_can_keep_the_need_open(pool):
    user = pool["users"]["coordinator"]
    match = _propose(pool)
    _walk(match, user, "agreement")
    transition_match(match, "resolved", user, keep_need_open=True)
    db.session.commit()
    assert match.keep_need_open is True
    assert pool["need_a"].status == "in_progress"


@pytest.mark.parametrize(
    ("walk_to", "target", "message"),
    [
        (None, "resolved", "需先记录“已联系”"),
        (None, "meeting_held", "需先记录“已联系”"),
        ("contacted", "agreement", "需先记录“已召开对接会”"),
        ("contacted", "proposed", "不能从“已联系”退回"),
        ("resolved", "declined", "已是“已解决”"),
    ],
)
def test_illegal_jumps_are_refused_with_a_clear_message(pool, walk_to, target, message):
    user = pool["users"]["coordinator"]
    match = _propose(pool)
    if walk_to:
        _walk(match, user, walk_to)
    before = [t.to_status for t in match.transitions]
    with pytest.raises(MatchError, match=message):
        transition_match(match, target, user)
    db.session.rollback()
    assert [t.to_status for t in match.transitions] == before


def test_meeting_needs_its_record(pool):
    match = _propose(pool)
    _walk(match, pool["users"]["coordinator"], "contacted")
    with pytest.raises(MatchError, match="对接会"):
        transition_match(match, "meeting_held", pool["users"]["coordinator"])


def test_negative_amount_is_refused(pool):
    match = _propose(pool)
    _walk(match, pool["users"]["coordinator"], "meeting_held")
    with pytest.raises(MatchError, match="负"):
        transition_match(match, "agreement", pool["users"]["coordinator"], amount=Decimal("-1"))


@pytest.mark.parametrize(
    ("by", "reason", "note", "message"),
    [
        ("", "cost", "", "婉拒方"),
        ("company", "", "", "原因"),
        ("company", "nonsense", "", "原因"),
        ("expert", "other", "", "说明"),
    ],
)
def test_decline_needs_who_and_a_structured_reason(pool, by, reason, note, message):
    match = _propose(pool)
    with pytest.raises(MatchError, match=message):
        transition_match(
            match,
            "declined",
            pool["users"]["coordinator"],
            note,
            declined_by=by,
            decline_reason=reason,
        )


def test_declined_for_direction_feeds_the_expert_signal(pool):
    user = pool["users"]["coordinator"]
    before = next(
        s for s in services.suggest_for_need(pool["need_a"], top=10) if s.name == "于晓东"
    )
    need2 = pool["need_a"]
    match = services.propose_match(need2, "expert", pool["vision"].id, user)
    transition_match(match, "declined", user, declined_by="company", decline_reason="direction")
    db.session.commit()
    assert match.decline_reason == "direction"
    assert match.declined_by == "company"
    index = services.get_index()
    cand = index.candidates[index.position[("expert", pool["vision"].id)]]
    assert cand.fit_declines == 1
    # Another need of the centre sees the penalty and its reason.
    from needs_tracker.needs.services import NeedData, create_need

    other = create_need(
        NeedData(
            organisation_id=pool["org_a2"].id,
            title="焊缝缺陷视觉检测",
            description="机器视觉",
            field_ids=[pool["field"].id],
        ),
        pool["a"].id,
        user,
    )
    db.session.commit()
    after = next(s for s in services.suggest_for_need(other, top=10) if s.name == "于晓东")
    assert any("被婉拒 1 次" in r for r in after.reasons)
    assert before.parts["penalty"] == 0
    assert after.parts["penalty"] > 0


def test_dismissed_candidate_never_comes_back_for_that_need(pool):
    user = pool["users"]["coordinator"]
    need = pool["need_a"]
    services.dismiss_candidate(need, "expert", pool["expert"].id, user, "方向偏理论")
    services.dismiss_candidate(need, "expert", pool["expert"].id, user)  # idempotent
    db.session.commit()
    assert db.session.scalar(select(db.func.count()).select_from(MatchDismissal)) == 1
    for top in (1, 5, 50):
        assert "邢卫东" not in [s.name for s in services.suggest_for_need(need, top=top)]
    # The pool changing (index rebuilt) does not bring it back either.
    pool["gear"].expertise += "、齿轮检测"
    db.session.commit()
    assert "邢卫东" not in [s.name for s in services.suggest_for_need(need, top=50)]


def test_index_is_built_once_and_rebuilt_when_the_pool_changes(pool):
    services.reset_index_cache()
    services.suggest_for_need(pool["need_a"])
    builds = services.index_builds()
    services.suggest_for_need(pool["need_a"])
    services.suggest_for_need(pool["need_a"], top=3)
    assert services.index_builds() == builds
    stamp = services.index_versions()[0]
    from needs_tracker.experts.models import Expert

    db.session.add(Expert(name="新专家", organisation="山东大学", expertise="焊缝无损检测新方法"))
    db.session.commit()
    assert services.index_versions()[0] != stamp
    names = [s.name for s in services.suggest_for_need(pool["need_a"], top=10)]
    assert services.index_builds() == builds + 1
    assert "新专家" in names


def test_another_worker_sees_the_stamp_and_rebuilds(pool):
    """A stamp written by another process (simulated by a direct change) forces a rebuild."""
    services.suggest_for_need(pool["need_a"])
    builds = services.index_builds()
    services.bump_pool_version()
    db.session.commit()
    services.suggest_for_need(pool["need_a"])
    assert services.index_builds() == builds + 1


def test_soft_deleted_expert_is_not_suggested(pool):
    pool["expert"].deleted_at = utcnow()
    db.session.commit()
    assert "邢卫东" not in [s.name for s in services.suggest_for_need(pool["need_a"], top=50)]


def test_group_docking_suggests_one_expert_for_needs_of_several_companies(pool, make_need):
    other = make_need(
        pool["org_a2"],
        "齿轮箱焊缝缺陷检测",
        description="焊缝缺陷无损检测",
        field_ids=[pool["field"].id],
    )
    make_need(
        pool["org_b"], "青岛焊缝检测", description="焊缝缺陷无损检测", field_ids=[pool["field"].id]
    )
    groups = services.suggest_groups()
    assert len(groups) == 1
    group = groups[0]
    assert group.field == "智能检测"
    assert {n.id for n in group.needs} == {pool["need_a"].id, other.id}  # not the other centre's
    assert group.expert.name in {"邢卫东", "于晓东"}
    assert group.covered == 2
    event = services.create_group_event(
        group.needs,
        group.expert.id,
        pool["users"]["coordinator"],
        "焊缝检测专题对接会",
        date(2021, 5, 6),
        "高新区",
    )
    db.session.commit()
    assert {n.id for n in event.needs} == {pool["need_a"].id, other.id}
    matches = db.session.scalars(select(Match).where(Match.docking_event_id == event.id)).all()
    assert len(matches) == 2
    assert {m.expert_id for m in matches} == {group.expert.id}
    # The meeting of one match is recorded on the shared event.
    _walk(matches[0], pool["users"]["coordinator"], "meeting_held")
    assert db.session.scalar(select(db.func.count()).select_from(DockingEvent)) == 1


def test_group_event_refuses_single_need_or_mixed_centres(pool):
    user = pool["users"]["admin"]
    with pytest.raises(MatchError):
        services.create_group_event([pool["need_a"]], pool["expert"].id, user, "x")
    with pytest.raises(MatchError):
        services.create_group_event([pool["need_a"], pool["need_b"]], pool["expert"].id, user, "x")


def test_stale_matches(pool):
    match = _propose(pool)
    assert services.stale_matches(14) == []
    match.status_changed_at = utcnow() - timedelta(days=15)
    db.session.commit()
    assert services.stale_matches(14) == [match]
    _walk(match, pool["users"]["coordinator"], "contacted")
    assert services.stale_matches(14) == []
