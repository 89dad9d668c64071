"""Closed months' facts come from the cache, and any write dated in a month makes it count again.

The cache is a table (app servers keep nothing between requests). Each test warms it, proves a
month is read from it (one statement, the cache's own), writes through the ORM or through a
bulk statement, and checks the month is counted afresh with the same figures the uncached
path gives.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import delete, event, select, update

from needs_tracker.common.choices import Role
from needs_tracker.common.scoping import Scope, set_scope
from needs_tracker.extensions import db
from needs_tracker.imports.commit import commit_import
from needs_tracker.imports.merge import merge_organisations
from needs_tracker.imports.plan import plan_import
from needs_tracker.imports.registry import parse_file
from needs_tracker.imports.undo import undo_import
from needs_tracker.matching import services as matching
from needs_tracker.needs.models import Need, need_fields
from needs_tracker.needs.services import NeedData, delete_need, transition_need, update_need
from needs_tracker.organisations.services import FIELDS, OrganisationData, update_organisation
from needs_tracker.reports import cache
from needs_tracker.reports import kpis as K
from needs_tracker.reports.builder import Period, build_report, month_key
from needs_tracker.reports.facts import ReportScope
from needs_tracker.reports.models import ReportMonthFacts
from needs_tracker.reports.queries import stale_needs
from needs_tracker.reports.services import report_input
from tests.imports.conftest import csv_bytes

APRIL = Period.months("2021-04")
SPRING = Period.months("2021-02", "2021-05")
AS_OF = date(2021, 6, 30)


@pytest.fixture
def spring(make_centre, make_user, make_org, make_field, make_need, make_visit) -> dict[str, Any]:
    """Two centres with visits and needs in March and April 2021 (closed months)."""
    a = make_centre("潍坊服务中心")
    b = make_centre("青岛服务中心", region="山东省青岛市")
    user = make_user("coord", Role.COORDINATOR, a)
    field = make_field("智能检测")
    co = make_org(a, "甲公司有限公司", short_name="甲公司")
    co2 = make_org(a, "乙公司有限公司", short_name="乙公司", district="奎文区")
    co_b = make_org(b, "青岛海尔集团", district="崂山区")
    make_visit(a, [co], user, visit_date=date(2021, 3, 10), status="done")
    make_visit(a, [co, co2], user, visit_date=date(2021, 4, 6), status="done")
    make_visit(b, [co_b], None, visit_date=date(2021, 4, 8), status="done")
    april = make_need(co, "四月的需求", user, collected_on=date(2021, 4, 20), field_ids=[field.id])
    march = make_need(co2, "三月的需求", user, collected_on=date(2021, 3, 12))
    make_need(co_b, "青岛四月的需求", None, collected_on=date(2021, 4, 9))
    return {
        "a": a,
        "b": b,
        "user": user,
        "co": co,
        "co2": co2,
        "april": april,
        "march": march,
        "field": field,
    }


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements run inside the block."""
    seen: list[str] = []

    def spy(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)


def facts(centre: Any, period: Period = APRIL, **kw: Any) -> cache.MonthFacts:
    scope = ReportScope.of(None if centre is None else [centre.id])
    return cache.month_facts(scope, period.previous().start, period.end, **kw)


def warm(centre: Any, period: Period = APRIL) -> cache.MonthFacts:
    """Count the months once and keep them (the page's commit)."""
    result = facts(centre, period)
    db.session.commit()
    again = facts(centre, period)
    assert again.hits == again.months, "warming did not store the closed months"
    return result


def stored(key: str, month: str) -> str | None:
    """The stored facts of (scope, month); None when invalidated or never stored."""
    return db.session.scalar(
        select(ReportMonthFacts.facts).where(
            ReportMonthFacts.scope == key, ReportMonthFacts.month == month
        )
    )


def figures(centre: Any, period: Period = APRIL, use_cache: bool = True):
    return facts(centre, period, use_cache=use_cache).facts.figures(period, AS_OF)


def assert_fresh(centre: Any, months: list[str], period: Period = APRIL):
    """The months are counted again, and the figures are those of the uncached path."""
    again = facts(centre, period)
    assert set(months) <= set(again.computed), again.computed
    assert again.facts.figures(period, AS_OF) == figures(centre, period, use_cache=False)
    return again.facts.figures(period, AS_OF)


# ---------------------------------------------------------------------------- served from cache


def test_a_closed_month_is_read_from_the_cache_with_one_statement(spring):
    first = facts(spring["a"])
    assert (first.hits, first.computed) == ([], ["2021-03", "2021-04"])
    db.session.commit()
    assert spring["a"].id  # loaded before counting statements
    with statements() as sql:
        second = facts(spring["a"])
    assert (second.hits, second.computed) == (["2021-03", "2021-04"], [])
    assert len(sql) == 1
    assert "report_month_facts" in sql[0]
    assert second.facts.figures(APRIL, AS_OF) == first.facts.figures(APRIL, AS_OF)
    cur = second.facts.figures(APRIL, AS_OF)
    assert (cur.visits, cur.needs_collected, cur.companies_visited) == (1, 1, 2)
    assert cur.companies_revisited == 1  # 甲公司 was visited in March


@pytest.mark.parametrize("period", [APRIL, Period.months("2021-03"), SPRING])
@pytest.mark.parametrize("every", [False, True])
def test_cached_figures_equal_the_uncached_computation(spring, period, every):
    centre = None if every else spring["a"]
    uncached = facts(centre, period, use_cache=False).facts
    warm(centre, period)
    cached = facts(centre, period)
    assert cached.computed == [m for m in cached.months if not cache.is_closed(m)]
    for shown in (period, period.previous()):
        assert cached.facts.figures(shown, AS_OF) == uncached.figures(shown, AS_OF)


def test_the_whole_report_is_the_same_from_the_cache(spring):
    fresh = build_report(report_input(spring["a"], SPRING, AS_OF)).to_dict()
    db.session.commit()
    inp = report_input(spring["a"], SPRING, AS_OF)
    assert inp.cached_months == Period.months("2020-10", "2021-05").month_keys()
    assert build_report(inp).to_dict() == fresh
    every = build_report(report_input(None, APRIL, AS_OF))
    assert every.current.needs_collected == 2  # both centres' April needs
    assert every.centre == "全部服务中心"


def test_the_current_month_is_never_cached(spring, make_need):
    today = cache.today()
    this_month = month_key(today)
    make_need(spring["co"], "本月的需求", None, collected_on=today)
    period = Period.months(this_month)
    first = facts(spring["a"], period)
    db.session.commit()
    second = facts(spring["a"], period)
    assert this_month in first.computed
    assert this_month in second.computed
    assert this_month not in second.hits
    # (a write marks a month on its last day, so a row may exist: never with facts)
    assert stored(f"c:{spring['a'].id}", this_month) is None
    assert stored("all", this_month) is None
    assert second.facts.figures(period, today).needs_collected == 1


def test_a_user_who_reads_one_centre_stores_nothing_for_every_centre(spring, make_user):
    member = make_user("member", Role.MEMBER, spring["a"])
    set_scope(db.session, Scope(frozenset({spring["a"].id}), frozenset(), member.id))
    facts(None)
    facts(spring["a"])
    db.session.commit()
    assert stored("all", "2021-04") is None
    assert stored(f"c:{spring['a'].id}", "2021-04") is not None


def test_a_write_while_a_month_is_counted_is_not_overwritten(spring, monkeypatch):
    """A request that counted a month before a write cannot store what it counted."""
    counted = cache.compute_facts

    def count_then_write(*args: Any) -> Any:
        frames = counted(*args)
        # another request's write lands between the count and the store
        spring["april"].urgency = "high"
        db.session.flush()
        return frames

    monkeypatch.setattr(cache, "compute_facts", count_then_write)
    facts(spring["a"])
    monkeypatch.undo()
    assert stored(f"c:{spring['a'].id}", "2021-04") is None
    assert stored("all", "2021-04") is None
    after = assert_fresh(spring["a"], ["2021-04"])
    assert after.needs_by_urgency == {"high": 1}


def test_a_write_marks_a_month_from_its_last_day(spring):
    """A request that finds the month closed after midnight cannot store what it counted
    before a write of the last day commits: that write marked the month already."""
    conn = db.session.connection()
    centre = spring["b"].id
    assert cache.invalidate(conn, {(centre, "2021-06")}, on=date(2021, 6, 29)) == 0
    assert cache.invalidate(conn, {(centre, "2021-06")}, on=date(2021, 6, 30)) == 2
    assert cache.is_closed("2021-06", date(2021, 7, 1))
    assert not cache.is_closed("2021-06", date(2021, 6, 30))


# ---------------------------------------------------------------------------- the ORM path


def test_editing_a_need_counts_its_month_again(spring):
    warm(spring["a"])
    warm(spring["b"])
    need = spring["april"]
    data = NeedData(
        organisation_id=need.organisation_id,
        title=need.title,
        description=need.description,
        collected_on=need.collected_on,
        need_type="talent",
        urgency="high",
        field_ids=[],
    )
    update_need(need, data, spring["user"])
    db.session.commit()
    assert stored(f"c:{spring['a'].id}", "2021-04") is None
    assert stored("all", "2021-04") is None
    assert stored(f"c:{spring['b'].id}", "2021-04") is not None  # the other centre's stays
    assert stored(f"c:{spring['a'].id}", "2021-03") is not None  # March did not change
    after = assert_fresh(spring["a"], ["2021-04"])
    assert after.needs_by_type == {"talent": 1}
    assert after.needs_by_field == {}


def test_moving_a_need_to_another_month_counts_both(spring):
    warm(spring["a"])
    spring["april"].collected_on = date(2021, 3, 30)
    db.session.commit()
    assert stored(f"c:{spring['a'].id}", "2021-04") is None
    assert stored(f"c:{spring['a'].id}", "2021-03") is None
    assert assert_fresh(spring["a"], ["2021-03", "2021-04"]).needs_collected == 0


def test_deleting_a_need_counts_its_month_again(spring):
    warm(spring["a"])
    delete_need(db.session.merge(spring["april"]), spring["user"])
    db.session.commit()
    assert stored(f"c:{spring['a'].id}", "2021-04") is None
    assert assert_fresh(spring["a"], ["2021-04"]).needs_collected == 0


def test_a_visit_back_dated_into_a_closed_month(spring, make_visit):
    warm(spring["a"])
    warm(spring["b"])
    warm(None)
    make_visit(spring["a"], [spring["co2"]], spring["user"], visit_date=date(2021, 4, 28))
    assert stored(f"c:{spring['a'].id}", "2021-04") is None
    assert stored("all", "2021-04") is None
    assert stored(f"c:{spring['b'].id}", "2021-04") is not None
    assert assert_fresh(spring["a"], ["2021-04"]).visits == 2
    assert assert_fresh(None, ["2021-04"]).visits == 3


def test_an_organisations_district_counts_its_needs_months_again(spring):
    warm(spring["a"])
    co = spring["co"]
    data = OrganisationData(**{f: getattr(co, f) for f in FIELDS})
    update_organisation(co, replace(data, district="潍城区"), spring["user"])
    db.session.commit()
    assert stored(f"c:{spring['a'].id}", "2021-04") is None
    assert assert_fresh(spring["a"], ["2021-04"]).needs_by_district == {"潍城区": 1}


def test_a_recommendation_counts_its_needs_months_again(spring):
    from needs_tracker.experts.models import Expert

    warm(spring["a"])
    expert = Expert(name="于晓东", organisation="潍坊学院")
    db.session.add(expert)
    db.session.commit()
    matching.propose_match(spring["april"], "expert", expert.id, spring["user"])
    db.session.commit()
    # the need's own month (its first recommendation is part of its facts)
    assert stored(f"c:{spring['a'].id}", "2021-04") is None
    assert_fresh(spring["a"], ["2021-04"])


# ---------------------------------------------------------------------------- bulk statements


def _import_needs(centre: Any, rows: list[list[str]]):
    header = ["企业名称", "需求名称", "需求描述", "征集日期"]
    plan = plan_import(parse_file("needs", "n.csv", csv_bytes([header, *rows])), centre.id)
    assert plan.ok, plan.errors
    batch = commit_import(plan, None, "n.csv")
    db.session.commit()
    return batch


def test_an_import_of_needs_dated_in_a_closed_month(spring):
    warm(spring["a"])
    warm(None)
    batch = _import_needs(
        spring["a"], [["甲公司有限公司", "导入的四月需求", "批量插入", "2021-04-15"]]
    )
    for key in (f"c:{spring['a'].id}", "all"):
        assert stored(key, "2021-04") is None
        assert stored(key, "2021-03") is not None
    assert assert_fresh(spring["a"], ["2021-04"]).needs_collected == 2
    # undoing the import (ORM deletes) counts the month again too
    warm(spring["a"])
    undo_import(batch, None)
    db.session.commit()
    assert stored(f"c:{spring['a'].id}", "2021-04") is None
    assert assert_fresh(spring["a"], ["2021-04"]).needs_collected == 1


def test_merging_organisations_counts_their_months_again(spring):
    warm(spring["a"])
    merge_organisations(spring["co"], spring["co2"], {}, spring["user"])
    db.session.commit()
    # 乙公司's March need and April visit now belong to 甲公司
    assert stored(f"c:{spring['a'].id}", "2021-03") is None
    assert stored(f"c:{spring['a'].id}", "2021-04") is None
    after = assert_fresh(spring["a"], ["2021-03", "2021-04"])
    assert after.companies_visited == 1


def test_a_bulk_update_statement(spring):
    warm(spring["a"])
    db.session.execute(
        update(Need).where(Need.id == spring["april"].id).values(urgency="high"),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    assert stored(f"c:{spring['a'].id}", "2021-04") is None
    assert stored(f"c:{spring['a'].id}", "2021-03") is not None
    assert assert_fresh(spring["a"], ["2021-04"]).needs_by_urgency == {"high": 1}


def test_a_bulk_delete_statement(spring):
    warm(spring["a"])
    db.session.execute(delete(need_fields).where(need_fields.c.need_id == spring["april"].id))
    db.session.commit()
    assert stored(f"c:{spring['a'].id}", "2021-04") is None
    assert assert_fresh(spring["a"], ["2021-04"]).needs_by_field == {}


def test_a_statement_whose_months_cannot_be_told_counts_everything_again(spring):
    warm(spring["a"])
    db.session.execute(update(Need).values(urgency="medium"))
    db.session.commit()
    assert stored(f"c:{spring['a'].id}", "2021-03") is None
    assert stored(f"c:{spring['a'].id}", "2021-04") is None
    assert assert_fresh(spring["a"], ["2021-03", "2021-04"]).needs_by_urgency == {"medium": 1}


# ---------------------------------------------------------------------------- pages


def test_consortium_report_for_every_centre(client, auth, spring, make_user):
    make_user("boss", Role.LEADER, None, consortium=True)
    make_user("member", Role.MEMBER, spring["a"])
    auth.login("boss")
    page = client.get("/reports/?centre=all&start=2021-04")
    assert page.status_code == 200
    assert 'name="narrative"' not in page.get_data(as_text=True)
    data = client.get("/reports/download.json?centre=all&start=2021-04").get_json()
    assert data["centre"] == "全部服务中心"
    assert (data["needs_collected"], data["visits"]) == (2, 2)
    # the page committed the closed months it counted
    assert stored("all", "2021-04") is not None
    assert client.post(
        "/reports/generate", data={"centre": "all", "start": "2021-04"}
    ).status_code in (403, 404)
    auth.logout()
    auth.login("member")
    assert client.get("/reports/?centre=all&start=2021-04").status_code == 404
    assert client.get("/reports/download.json?centre=all&start=2021-04").status_code == 404


def test_the_dashboard_keeps_the_months_it_counted(client, auth, spring, make_user):
    make_user("boss", Role.LEADER, None, consortium=True)
    auth.login("boss")
    assert client.get("/dashboard/?start=2021-04").status_code == 200
    assert stored("all", "2021-04") is not None
    assert stored("all", "2020-05") is not None  # the trend's first month
    assert client.get("/dashboard/?start=2021-04").status_code == 200


def test_warm_counts_the_closed_months_ahead(spring, runner):
    old = ReportMonthFacts(scope="all", month="2021-04", version=0, generation=0, facts="{}")
    db.session.add(old)
    db.session.commit()
    args = ["report", "warm", "--from", "2021-03", "--to", "2021-04", "--each-centre"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "Counted 6 month(s)" in result.output  # all centres, and each of the two
    for key in ("all", f"c:{spring['a'].id}", f"c:{spring['b'].id}"):
        assert stored(key, "2021-03") is not None
        assert stored(key, "2021-04") is not None
    assert "Counted 0 month(s)" in runner.invoke(args=args).output
    # facts counted by an older version of the rules are gone
    versions = db.session.scalars(select(ReportMonthFacts.version).distinct()).all()
    assert versions == [K.FACTS_VERSION]
    assert facts(spring["a"]).hits == ["2021-03", "2021-04"]
    bad = runner.invoke(args=["report", "warm", "--from", "2021-13"])
    assert bad.exit_code != 0
    assert "YYYY-MM" in bad.output


def test_stale_needs_of_every_centre_are_each_centres_together(spring):
    """The consortium's count (another SQL form on SQLite) agrees with the centres' own."""
    now = datetime(2021, 6, 15, 12, tzinfo=UTC)
    every, listed = stale_needs(None, now, 30)
    a, shown_a = stale_needs([spring["a"].id], now, 30)
    b, shown_b = stale_needs([spring["b"].id], now, 30)
    assert (every, a, b) == (3, 2, 1)
    assert {s["id"] for s in listed} == {s["id"] for s in shown_a + shown_b}
    # a status change after the cutoff moves a need out of both counts
    transition_need(spring["march"], "assessing", spring["user"])
    db.session.commit()
    now = datetime.now(UTC)
    assert stale_needs(None, now, 30)[0] == stale_needs([spring["a"].id], now, 30)[0] + 1
