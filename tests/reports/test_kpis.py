"""The dashboard (SQL) and the report (pandas) count every KPI of reports/kpis.py alike.

Also: the figures follow each KPI's written rule on a month full of edge cases, and one
staleness rule serves the dashboard and the home page.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask_babel import force_locale
from sqlalchemy import update

from needs_tracker.common.choices import Role
from needs_tracker.common.models import utcnow
from needs_tracker.dashboard.metrics import build_dashboard, kpis
from needs_tracker.experts.models import Expert, Resource
from needs_tracker.extensions import db
from needs_tracker.matching import services as matching
from needs_tracker.matching.models import Match, MatchTransition
from needs_tracker.matching.services import MeetingData, transition_match
from needs_tracker.needs.models import Need, NeedStatusChange
from needs_tracker.reports import kpis as K
from needs_tracker.reports.builder import Period
from needs_tracker.reports.services import build_centre_report
from needs_tracker.visits.services import TeamMemberData

# every row this test writes "now" is moved back to its own date; nothing is dated after this
RECENT = datetime(2024, 1, 1, tzinfo=UTC)


def _backdate(day: date, hour: int = 9) -> None:
    """Give the rows just written (timestamped now) the date they happened on."""
    at = datetime.combine(day, time(hour), tzinfo=UTC)
    db.session.flush()
    for model, column in (
        (MatchTransition, MatchTransition.at),
        (NeedStatusChange, NeedStatusChange.changed_at),
        (Match, Match.status_changed_at),
        (Need, Need.status_changed_at),
    ):
        db.session.execute(
            update(model).where(column > RECENT).values({column.key: at}),
            execution_options={"synchronize_session": False, "include_deleted": True},
        )
    db.session.commit()
    db.session.expire_all()


def assert_agree(centre, period: Period, as_of: date) -> dict[str, int]:
    """Every KPI: dashboard == report, this period and the previous one; returns the values."""
    report = build_centre_report(centre, period, as_of)
    now = datetime.combine(as_of, time(12), tzinfo=UTC)
    if period.n_months == 1:
        board = build_dashboard([centre.id], period, [], 30, now).kpis
    else:
        board = kpis([centre.id], period, as_of=as_of)
    for key, kpi in K.KPIS.items():
        assert board[key]["value"] == getattr(report.current, kpi.figure), (period, key)
        assert board[key]["previous"] == getattr(report.previous, kpi.figure), (period, key)
    return {key: board[key]["value"] for key in K.KPIS}


@pytest.fixture
def month(make_centre, make_user, make_org, make_need, make_visit) -> dict[str, Any]:
    """April 2021 with edge cases; the figures are counted by hand in the tests below.

    - visits: two done in April, one deleted, one planned; one done in March
    - a company visited in April and deleted since; a university visited in April
    - needs: one collected in March and matched in April, one collected in April, one
      collected in April and deleted (with a recommendation), one collected in May
    - recommendations: one declined later; two from a group meeting planned for 4-29
    - meetings: one held on 4-10; one recorded "held" on 4-28 before that date (legacy)
    """
    centre = make_centre("潍坊服务中心", partners=["中国科协智能制造学会联合体", "潍坊市科协"])
    user = make_user("coord", Role.COORDINATOR, centre)
    co1 = make_org(centre, "甲公司有限公司", short_name="甲公司")
    co2 = make_org(centre, "乙公司有限公司", short_name="乙公司", district="奎文区")
    gone = make_org(centre, "丙公司有限公司", short_name="丙公司")
    uni = make_org(centre, "潍坊学院", kind="university")
    team = [
        TeamMemberData("孙晓非", "主席", "潍坊市科协"),
        TeamMemberData("唐晓丽", "教授", "潍坊学院"),
    ]
    make_visit(centre, [co1], user, visit_date=date(2021, 3, 10), status="done", team=team[:1])
    make_visit(centre, [co1, uni], user, visit_date=date(2021, 4, 6), status="done", team=team)
    make_visit(centre, [co2, gone], user, visit_date=date(2021, 4, 20), status="done", team=team)
    deleted_visit = make_visit(
        centre, [co1], user, visit_date=date(2021, 4, 22), status="done", team=team
    )
    make_visit(centre, [co2], user, visit_date=date(2021, 4, 28), status="planned", team=team)
    n_mar = make_need(co1, "三月的需求", user, collected_on=date(2021, 3, 12))
    _backdate(date(2021, 3, 12))
    n_apr = make_need(co2, "四月的需求", user, collected_on=date(2021, 4, 20))
    _backdate(date(2021, 4, 20))
    n_del = make_need(co1, "删除的需求", user, collected_on=date(2021, 4, 6))
    _backdate(date(2021, 4, 6))
    n_may = make_need(co2, "五月的需求", user, collected_on=date(2021, 5, 3))
    _backdate(date(2021, 5, 3))
    e1 = Expert(name="于晓东", organisation="潍坊学院")
    e2 = Expert(name="侯振宇", organisation="吉林大学")
    r1 = Resource(name="学习工厂", kind="lab")
    db.session.add_all([e1, e2, r1])
    db.session.commit()

    m1 = matching.propose_match(n_mar, "expert", e1.id, user)
    _backdate(date(2021, 4, 2))
    m2 = matching.propose_match(n_mar, "resource", r1.id, user)
    _backdate(date(2021, 4, 3))
    transition_match(m1, "contacted", user)
    _backdate(date(2021, 4, 5))
    m4 = matching.propose_match(n_del, "expert", e2.id, user)
    _backdate(date(2021, 4, 7))
    transition_match(m1, "meeting_held", user, meeting=MeetingData(date(2021, 4, 10), title="甲"))
    _backdate(date(2021, 4, 10))
    transition_match(m2, "declined", user, declined_by="company", decline_reason="cost")
    _backdate(date(2021, 4, 15))
    matching.create_group_event(
        [n_mar, n_apr], e2.id, user, "检测技术对接会", held_on=date(2021, 4, 29)
    )
    _backdate(date(2021, 4, 16))
    transition_match(m1, "agreement", user)
    _backdate(date(2021, 4, 17))
    transition_match(m1, "resolved", user)
    _backdate(date(2021, 4, 18))
    m3 = matching.propose_match(n_apr, "expert", e1.id, user)
    _backdate(date(2021, 4, 21))
    transition_match(m3, "contacted", user)
    _backdate(date(2021, 4, 22))
    # recorded as held before the meeting's day: possible before the rule, and still in
    # the data; as of 4-25 it is a planned meeting
    transition_match(
        m3, "meeting_held", user, meeting=MeetingData(date(2021, 4, 28), title="换挡品质对接会")
    )
    _backdate(date(2021, 4, 23))
    m6 = matching.propose_match(n_may, "expert", e1.id, user)
    _backdate(date(2021, 5, 4))
    now = utcnow()
    for row in (gone, deleted_visit, db.session.get(Need, n_del.id)):
        db.session.merge(row).deleted_at = now
    db.session.commit()
    return {"centre": centre, "matches": (m1, m2, m3, m4, m6)}


def test_demo_dashboard_and_report_agree(demo):
    today = date.today()
    for first, last in (
        ("2021-03", None),
        ("2021-04", None),
        ("2021-05", None),
        ("2021-01", "2021-03"),
        ("2021-03", "2021-05"),
    ):
        assert_agree(demo.centre, Period.months(first, last), today)
    april = assert_agree(demo.centre, Period.months("2021-04"), today)
    assert april["meetings"] == 2
    assert april["meetings_planned"] == 0


def test_generated_month_agrees_and_follows_the_written_rules(month):
    centre = month["centre"]
    april = assert_agree(centre, Period.months("2021-04"), date(2021, 4, 25))
    assert april == {
        "visits": 2,  # the deleted visit and the planned one do not count
        "companies": 2,  # 甲, 乙: the deleted 丙 and the university do not count
        "needs": 1,  # the April need; the deleted one does not count
        # m1, m2 (declined later), m3, two group proposals; not the deleted need's m4
        "matches": 5,
        "meetings": 1,  # 4-10
        "meetings_planned": 2,  # 4-28 (recorded early) and the group meeting of 4-29
        "resolved": 1,  # the March need, resolved on 4-18
    }
    march = assert_agree(centre, Period.months("2021-03"), date(2021, 4, 25))
    assert (march["visits"], march["needs"], march["matches"]) == (1, 1, 0)
    may = assert_agree(centre, Period.months("2021-05"), date(2021, 5, 31))
    assert (may["needs"], may["matches"], may["meetings"]) == (1, 1, 0)
    # once the days have passed, the meeting recorded held on 4-28 is held; 4-29 is not
    later = assert_agree(centre, Period.months("2021-04"), date(2021, 5, 31))
    assert (later["meetings"], later["meetings_planned"]) == (2, 1)
    for first, last in (("2021-03", "2021-04"), ("2021-03", "2021-05"), ("2021-04", "2021-05")):
        assert_agree(centre, Period.months(first, last), date(2021, 4, 25))


def test_generated_month_narrative(month):
    report = build_centre_report(month["centre"], Period.months("2021-04"), date(2021, 4, 25))
    text = report.narrative
    # two organisations sent people (a partner and the university): "两家单位", not "一家共建单位"
    assert "潍坊服务中心两家单位分别派出潍坊市科协主席孙晓非，潍坊学院教授唐晓丽，" in text
    assert "丙公司" not in text  # deleted since
    assert "共征集企业技术需求1项" in text
    assert "本期推荐专家和资源5次，涉及企业需求2项（其中本期征集1项、此前征集1项）" in text
    assert "举办技术对接会1场" in text
    assert "计划于4月28日召开换挡品质对接会、4月29日召开检测技术对接会。" in text
    assert "解决企业需求1项" in text


def test_kpi_definitions_are_documented(app):
    """docs/kpis.md carries every definition, in English and Chinese, as the code states it."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "kpis.md").read_text("utf-8")
    with app.test_request_context():
        for locale in ("en", "zh"):
            with force_locale(locale):
                for kpi in K.KPIS.values():
                    assert str(kpi.definition) in doc, (locale, kpi.key)
    for kpi in K.KPIS.values():
        assert f"`{kpi.figure}`" in doc
    assert "STALE_DAYS" in doc


def test_dashboard_shows_each_definition(demo, client, auth, make_user):
    make_user("boss", Role.LEADER, demo.centre)
    auth.login("boss")
    html = client.get("/dashboard/?start=2021-04").get_data(as_text=True)
    assert "各项数字的统计口径" in html
    assert "以推荐日期为准" in html
    assert 'title="日期在本期内、不晚于今天' in html
    assert "计划召开对接会" in html


# ---------------------------------------------------------------------------- staleness


def _open_demo_needs(centre_id: int) -> set[str]:
    """The demo centre's open needs: every one of them last moved in 2021."""
    closed = {"resolved", "closed"}
    return {
        n.title
        for n in db.session.query(Need)
        if n.organisation.centre_id == centre_id and n.status not in closed
    }


def test_demo_needs_not_moved_since_march_2021_are_stale_on_the_dashboard(demo, app):
    # The demo's steps are all dated in 2021, including the need status changes they caused.
    latest = max(c.changed_at for n in db.session.query(Need) for c in n.history if c.from_status)
    assert latest.year == 2021
    untouched = _open_demo_needs(demo.centre.id)
    assert len(untouched) >= 10
    board = build_dashboard(
        [demo.centre.id], Period.months("2021-03"), [], K.stale_days(app.config)
    )
    assert board.stale_total == len(untouched)
    assert {s["title"] for s in board.stale} <= untouched  # the panel lists the oldest ones
    assert all(s["days"] > 365 for s in board.stale)


def test_stale_rule_counts_match_steps_as_movement(month):
    centre = month["centre"]
    now = datetime(2021, 5, 20, 12, tzinfo=UTC)
    board = build_dashboard([centre.id], Period.months("2021-04"), [], 30, now)
    # 四月的需求: last moved 4-23 (a step of m3), 27 days before: not stale at 30 days
    assert board.stale == []
    board = build_dashboard([centre.id], Period.months("2021-04"), [], 25, now)
    assert [s["title"] for s in board.stale] == ["四月的需求"]
    assert board.stale[0]["days"] == 27


def test_one_stale_setting_for_the_dashboard_and_the_home_page(demo, app, client, auth):
    auth.login("demo_coordinator", "demo password 1")
    try:
        home = client.get("/").get_data(as_text=True)
        board = client.get("/dashboard/").get_data(as_text=True)
        assert "超过 30 天无进展的对接" in home
        assert "盛瑞传动" in home.split("超过 30 天无进展的对接")[1].split("</section>")[0]
        stale = len(_open_demo_needs(demo.centre.id))
        assert f'data-stale-total="{stale}"' in board
        # a threshold longer than the demo's age: neither page lists anything
        app.config["STALE_DAYS"] = (date.today() - date(2021, 3, 1)).days + 10
        home = client.get("/").get_data(as_text=True)
        board = client.get("/dashboard/").get_data(as_text=True)
        assert "所有对接近期都有进展" in home
        assert 'data-stale-total="0"' in board
    finally:
        app.config["STALE_DAYS"] = 30


def test_stale_days_must_be_positive():
    assert K.stale_days({"STALE_DAYS": "14"}) == 14
    with pytest.raises(ValueError, match="STALE_DAYS"):
        K.stale_days({"STALE_DAYS": 0})


def test_stale_cutoff_is_one_instant_for_needs_and_matches():
    now = datetime(2021, 5, 20, 12, tzinfo=UTC)
    assert K.stale_before(now, 30) == now - timedelta(days=30)
