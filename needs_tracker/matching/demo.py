"""Demo matches on the demo needs (`flask demo seed` calls seed_demo_matches; idempotent)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from needs_tracker.auth.models import User
from needs_tracker.experts.models import Expert, Resource
from needs_tracker.extensions import db
from needs_tracker.matching.engine import EXPERT, RESOURCE
from needs_tracker.matching.models import Match, MatchStatus
from needs_tracker.matching.services import MeetingData, propose_match, transition_match
from needs_tracker.needs.models import Need

M = MatchStatus

# (need title, kind, candidate name, steps: [(status, day, note, extra)])
DEMO_MATCHES: list[tuple[str, str, str, list[tuple[MatchStatus, date, str, dict[str, Any]]]]] = [
    (
        "智能制造学习工厂建设与实训课程开发",
        RESOURCE,
        "同济大学智能制造学习工厂",
        [
            (
                M.PROPOSED,
                date(2021, 3, 19),
                "走访潍坊学院后推荐：同济大学学习工厂可提供规划与实训方案",
                {},
            ),
            (
                M.CONTACTED,
                date(2021, 3, 24),
                "已与同济大学学习工厂团队电话沟通，对方愿意来潍交流",
                {},
            ),
            (
                M.MEETING_HELD,
                date(2021, 4, 8),
                "双方同意继续推进交流合作",
                {
                    "meeting": MeetingData(
                        held_on=date(2021, 4, 8),
                        title="同济大学智能制造学习工厂与潍坊学院对接会",
                        place="潍坊学院机电工程学院",
                        attendees="胡志强（联合体）、孙晓非（潍坊市科协）、周文韬（同济大学）、"
                        "唐晓丽（潍坊学院）",
                        minutes="介绍学习工厂建设模式与实训课程体系；潍坊学院介绍场地与专业建设规划；"
                        "约定5月前提交学习工厂建设方案初稿，联合申报产教融合项目。",
                    )
                },
            ),
        ],
    ),
    (
        "8AT自动变速器换挡品质标定与控制优化",
        EXPERT,
        "侯振宇",
        [
            (M.PROPOSED, date(2021, 3, 20), "", {}),
            (M.CONTACTED, date(2021, 3, 26), "侯教授团队有同类变速器标定经验", {}),
            (
                M.MEETING_HELD,
                date(2021, 4, 12),
                "",
                {
                    "meeting": MeetingData(
                        held_on=date(2021, 4, 12),
                        title="盛瑞传动换挡品质技术对接会",
                        place="盛瑞传动研究院",
                        attendees="刘军（高新区科技局）、侯振宇（吉林大学）、盛瑞传动研究院标定团队",
                        minutes="现场试驾评估换挡冲击，讨论离合器油压控制策略优化路线。",
                    )
                },
            ),
            (M.AGREEMENT, date(2021, 5, 10), "签订技术开发合同", {"amount": Decimal("60")}),
        ],
    ),
    (
        "焊缝缺陷超声相控阵自动检测",
        EXPERT,
        "邢卫东",
        [
            (M.PROPOSED, date(2021, 3, 22), "", {}),
            (M.CONTACTED, date(2021, 3, 30), "已约邢教授4月下旬到企业交流", {}),
        ],
    ),
    (
        "新能源汽车电池包液冷板换热性能提升",
        RESOURCE,
        "电池液冷板拓扑优化设计方法",
        [(M.PROPOSED, date(2021, 3, 22), "专利可许可使用，待企业评估", {})],
    ),
]


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 30, tzinfo=UTC)


def _backdate_need(need: Need, seen: set[int], day: date) -> None:
    """Date the need's status changes that a demo step just caused on that step's day.

    Without it the demo's needs look as if they moved on the day the demo was seeded, and the
    dashboard's stale list (which reads the need's own history) would hide them.
    """
    db.session.flush()
    for change in need.history:
        if id(change) not in seen:
            change.changed_at = _at(day)
            need.status_changed_at = _at(day)
            seen.add(id(change))


def seed_demo_matches(result: Any) -> list[Match]:
    """Create the demo matches that do not exist yet; returns those created."""
    centre = result.centre
    actor = db.session.scalar(select(User).where(User.username == "demo_coordinator"))
    created: list[Match] = []
    for title, kind, name, steps in DEMO_MATCHES:
        need = db.session.scalar(
            select(Need).where(Need.centre_id == centre.id, Need.title == title)
        )
        model = Expert if kind == EXPERT else Resource
        candidate = db.session.scalar(select(model).where(model.name == name).order_by(model.id))
        if need is None or candidate is None:
            continue
        column = Match.expert_id if kind == EXPERT else Match.resource_id
        if db.session.scalar(
            select(Match.id).where(Match.need_id == need.id, column == candidate.id)
        ):
            continue
        status, day, note, _extra = steps[0]
        seen = {id(c) for c in need.history}
        match = propose_match(need, kind, candidate.id, actor, note)
        match.transitions[-1].at = _at(day)
        _backdate_need(need, seen, day)
        for status, day, note, extra in steps[1:]:
            transition_match(
                match,
                status,
                actor,
                note,
                meeting=extra.get("meeting"),
                amount=extra.get("amount"),
            )
            match.transitions[-1].at = _at(day)
            _backdate_need(need, seen, day)
        match.status_changed_at = _at(steps[-1][1])
        created.append(match)
    db.session.flush()
    return created
