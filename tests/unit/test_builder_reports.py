"""Report builder on a small hand-made fixture; every expected figure is counted by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from needs_tracker.reports.builder import (
    FACT_COLUMNS,
    Period,
    ReportInput,
    build_report,
    chinese_count,
    city_of,
)

PARTNERS = ["中国科协智能制造学会联合体", "潍坊市科协"]


def _ts(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 9, 0, tzinfo=UTC)


def _match(match_id, status, at, need_id, title, collected, first, org, cand, kind, amount=None):
    return {
        "match_id": match_id,
        "to_status": status,
        "at": at,
        "need_id": need_id,
        "need_title": title,
        "collected_on": collected,
        "first_at": first,
        "organisation_id": org,
        "candidate": cand,
        "candidate_org": "山东大学" if kind == "expert" else "同济大学",
        "candidate_title": "教授" if kind == "expert" else "",
        "candidate_kind": kind,
        "amount": amount,
    }


def make_input(period: Period, open_needs: int = 2) -> ReportInput:
    """Four organisations, three done visits (Feb, Mar x2), one planned (Apr), four needs."""
    frames = {
        "organisations": pd.DataFrame(
            [
                (1, "甲公司有限公司", "甲公司", "company", "高新区"),
                (2, "乙公司有限公司", "乙公司", "company", "奎文区"),
                (3, "丙公司有限公司", "丙公司", "company", "高新区"),
                (4, "潍坊学院", "", "university", "奎文区"),
            ],
            columns=["id", "name", "short_name", "kind", "district"],
        ),
        "visits": pd.DataFrame(
            [
                (10, date(2021, 2, 10), "done", ""),
                (11, date(2021, 3, 5), "done", ""),
                (12, date(2021, 3, 20), "done", ""),
                (13, date(2021, 4, 10), "planned", "回访"),
            ],
            columns=["id", "visit_date", "status", "purpose"],
        ),
        # visit 11 spans two districts; company 1 is visited again in March
        "visit_orgs": pd.DataFrame(
            [(10, 1), (11, 1), (11, 2), (12, 3), (12, 4), (13, 2)],
            columns=["visit_id", "organisation_id"],
        ),
        "team": pd.DataFrame(
            [
                (11, 0, "孙甲", "主席", "潍坊市科协"),
                (11, 1, "胡乙", "秘书长助理", "中国科协智能制造学会联合体"),
                (12, 0, "胡乙", "秘书长助理", "中国科协智能制造学会联合体"),
                (12, 1, "陈丙", "教授", "潍坊学院"),
            ],
            columns=["visit_id", "position", "name", "title", "organisation_name"],
        ),
        "needs": pd.DataFrame(
            [
                (100, 1, 10, "旧需求", date(2021, 2, 10), "resolved", "rnd", "low"),
                (101, 1, 11, "焊缝检测", date(2021, 3, 5), "matched", "rnd", "high"),
                (102, 2, 11, "人才培训", date(2021, 3, 5), "collected", "talent", "low"),
                (103, 3, 12, "无领域", date(2021, 3, 20), "collected", "rnd", "low"),
            ],
            columns=[
                "id",
                "organisation_id",
                "visit_id",
                "title",
                "collected_on",
                "status",
                "need_type",
                "urgency",
            ],
        ),
        "need_fields": pd.DataFrame(
            [(101, "智能检测"), (101, "工业软件"), (102, "智能检测")],
            columns=["need_id", "field"],
        ),
        "resolutions": pd.DataFrame(
            [(100, _ts(2021, 3, 25), date(2021, 2, 10))],
            columns=["need_id", "changed_at", "collected_on"],
        ),
        # need 101 is matched twice; match 502 (Feb) reaches an agreement in March
        "transitions": pd.DataFrame(
            [
                _match(
                    502,
                    "proposed",
                    _ts(2021, 2, 12),
                    100,
                    "旧需求",
                    date(2021, 2, 10),
                    _ts(2021, 2, 12),
                    1,
                    "学习工厂",
                    "resource",
                ),
                _match(
                    500,
                    "proposed",
                    _ts(2021, 3, 6),
                    101,
                    "焊缝检测",
                    date(2021, 3, 5),
                    _ts(2021, 3, 6),
                    1,
                    "邢卫东",
                    "expert",
                ),
                _match(
                    501,
                    "proposed",
                    _ts(2021, 3, 8),
                    101,
                    "焊缝检测",
                    date(2021, 3, 5),
                    _ts(2021, 3, 6),
                    1,
                    "李四",
                    "expert",
                ),
                _match(
                    500,
                    "contacted",
                    _ts(2021, 3, 10),
                    101,
                    "焊缝检测",
                    date(2021, 3, 5),
                    _ts(2021, 3, 6),
                    1,
                    "邢卫东",
                    "expert",
                ),
                _match(
                    502,
                    "agreement",
                    _ts(2021, 3, 15),
                    100,
                    "旧需求",
                    date(2021, 2, 10),
                    _ts(2021, 2, 12),
                    1,
                    "学习工厂",
                    "resource",
                    30,
                ),
            ]
        ),
        "events": pd.DataFrame(
            [(1, "对接会", date(2021, 3, 15), True)],
            columns=["id", "title", "held_on", "recorded_held"],
        ),
        "stale": pd.DataFrame(
            [(102, "人才培训", "乙公司", "collected", _ts(2021, 2, 1), 58)],
            columns=["id", "title", "company", "status", "moved_at", "days"],
        ),
    }
    return ReportInput(
        centre="测试服务中心",
        region="山东省潍坊市",
        partners=PARTNERS,
        period=period,
        frames=frames,
        facts=make_facts(),
        open_needs=open_needs,
    )


def _facts(name: str, rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=FACT_COLUMNS[name])


def make_facts() -> dict[str, pd.DataFrame]:
    """The same story as monthly facts (what queries/facts.py counts in SQL), by hand."""
    feb, mar = "2021-02", "2021-03"
    needs = [
        (feb, "centre", "1", 1),
        (feb, "status", "resolved", 1),
        (feb, "type", "rnd", 1),
        (feb, "urgency", "low", 1),
        (feb, "district", "高新区", 1),
        (mar, "centre", "1", 3),
        (mar, "status", "matched", 1),
        (mar, "status", "collected", 2),
        (mar, "type", "rnd", 2),
        (mar, "type", "talent", 1),
        (mar, "urgency", "high", 1),
        (mar, "urgency", "low", 2),
        # 101 (甲) and 103 (丙) in 高新区, 102 (乙) in 奎文区
        (mar, "district", "高新区", 2),
        (mar, "district", "奎文区", 1),
        (mar, "field", "智能检测", 2),
        (mar, "field", "工业软件", 1),
    ]
    return {
        "visits": _facts("visits", [(feb, 1, 1), (mar, 1, 2)]),
        # organisation 1 was first visited in February
        "visited": _facts(
            "visited",
            [
                (feb, 1, "company", feb),
                (mar, 1, "company", feb),
                (mar, 2, "company", mar),
                (mar, 3, "company", mar),
                (mar, 4, "university", mar),
            ],
        ),
        "team": _facts(
            "team",
            [
                (mar, "孙甲", "潍坊市科协"),
                (mar, "胡乙", "中国科协智能制造学会联合体"),
                (mar, "陈丙", "潍坊学院"),
            ],
        ),
        "needs": _facts("needs", needs),
        # need 100: proposed 2-12 (collected 2-10); need 101: two matches proposed in March,
        # its first on 3-06 (collected 3-05)
        "proposals": _facts(
            "proposals",
            [(feb, 1, 100, feb, feb, 2, 1), (mar, 1, 101, mar, mar, 1, 2)],
        ),
        "agreements": _facts("agreements", [(mar, 502, 30.0)]),
        "events": _facts("events", [(mar, "2021-03-15", True, 1)]),
        # need 100: collected 2-10, resolved 3-25
        "resolutions": _facts("resolutions", [(mar, 1, 100, 43)]),
    }


@pytest.fixture
def march():
    return build_report(make_input(Period.months("2021-03")))


def test_period_arithmetic():
    q1 = Period.months("2021-01", "2021-03")
    assert (q1.start, q1.end) == (date(2021, 1, 1), date(2021, 3, 31))
    assert q1.n_months == 3
    assert (q1.previous().start, q1.previous().end) == (date(2020, 10, 1), date(2020, 12, 31))
    assert q1.following_month().end == date(2021, 4, 30)
    assert q1.label() == "2021 年 1-3 月"
    assert Period.months("2021-02").end == date(2021, 2, 28)
    with pytest.raises(ValueError, match="ends before"):
        Period.months("2021-03", "2021-01")


def test_visits_and_companies(march):
    cur = march.current
    assert cur.visits == 2
    assert cur.organisations_visited == 4
    assert cur.companies_visited == 3
    # company 1 was visited in February too
    assert (cur.companies_new, cur.companies_revisited) == (2, 1)
    assert cur.team_members == 3  # 胡乙 went twice, counted once


def test_needs_by_field_type_district(march):
    cur = march.current
    assert cur.needs_collected == 3
    assert cur.needs_by_field == {"智能检测": 2, "工业软件": 1}
    assert cur.needs_by_type == {"rnd": 2, "talent": 1}
    assert cur.needs_by_district == {"高新区": 2, "奎文区": 1}
    assert cur.needs_by_urgency == {"low": 2, "high": 1}


def test_need_matched_twice_counts_two_matches_one_need(march):
    cur = march.current
    assert cur.matches_made == 2
    assert cur.needs_matched == 1
    assert cur.median_days_to_first_match == 1.0  # collected 3-05, first match 3-06


def test_meetings_agreements_resolved(march):
    cur = march.current
    assert cur.docking_meetings == 1
    assert cur.agreements == 1
    assert cur.agreement_amount == 30.0
    assert cur.resolved == 1
    assert cur.median_days_to_resolved == 43.0  # 2-10 -> 3-25


def test_previous_period_and_change(march):
    prev = march.previous
    assert (prev.visits, prev.companies_visited, prev.companies_new) == (1, 1, 1)
    assert prev.needs_collected == 1
    assert (prev.matches_made, prev.needs_matched) == (1, 1)
    assert prev.median_days_to_first_match == 2.0
    assert prev.resolved == 0
    change = march.change()
    assert change["visits"] == 1
    assert change["needs_collected"] == 2
    assert change["matches_made"] == 1


def test_narrative_team_companies_by_district_and_projects(march):
    text = march.narrative
    assert (
        # three organisations sent people, one of them not a partner
        "联合体-测试服务中心三家单位分别派出中国科协智能制造学会联合体秘书长助理胡乙，"
        "潍坊市科协主席孙甲，潍坊学院教授陈丙，联合组成服务团走访了"
        "高新区甲公司、丙公司，奎文区乙公司等部分企业和潍坊学院。"
    ) in text
    assert "共征集企业技术需求3项，涉及智能检测（2项）、工业软件（1项）领域。" in text
    assert "推荐专家和资源2次，涉及企业需求1项（均为本期征集）" in text
    assert "达成合作协议1项，合同金额30万元" in text
    assert "山东大学邢卫东教授团队与甲公司的技术对接" in text
    assert "同济大学学习工厂项目与甲公司的交流合作" in text
    assert "李四" not in text  # only proposed: not a project in progress


def test_plan_from_planned_visits_and_open_needs(march):
    assert march.next_month_plan.startswith(
        "继续走访潍坊市企业，征集企业需求，探讨服务方向与方式。"
    )
    assert "计划于4月10日走访乙公司。" in march.next_month_plan
    assert "持续跟进2项尚未解决的企业需求" in march.next_month_plan
    assert march.planned[0]["organisations"] == ["乙公司"]


def test_tables(march):
    assert [v["short_name"] for v in march.visited] == ["甲公司", "乙公司", "丙公司", "潍坊学院"]
    assert [v["revisited"] for v in march.visited] == [True, False, False, False]
    assert [m["name"] for m in march.team] == ["胡乙", "孙甲", "陈丙"]
    assert march.stale[0]["id"] == 102
    assert march.stale[0]["days"] == 58
    assert march.stale[0]["moved_on"] == "2021-02-01"


def test_empty_month():
    report = build_report(make_input(Period.months("2021-06"), open_needs=0))
    cur = report.current
    assert (cur.visits, cur.needs_collected, cur.matches_made, cur.resolved) == (0, 0, 0, 0)
    assert cur.needs_by_field == {}
    assert cur.median_days_to_first_match is None
    assert report.narrative == "本期联合体-测试服务中心未开展企业走访。"
    assert report.next_month_plan == "继续走访潍坊市企业，征集企业需求，探讨服务方向与方式。"
    data = report.to_dict()
    assert data["period_start"] == "2021-06-01"
    assert data["period_end"] == "2021-06-30"


def test_empty_frames():
    inp = make_input(Period.months("2021-03"))
    inp.frames = {}
    inp.facts = {}
    report = build_report(inp)
    assert report.current.visits == 0
    assert report.team == []
    assert report.visited == []
    assert report.projects == []


def test_quarter_covers_all_three_months():
    report = build_report(make_input(Period.months("2021-01", "2021-03")))
    assert report.current.visits == 3
    assert report.current.companies_visited == 3
    assert report.current.companies_revisited == 0  # Feb visit is inside the quarter
    assert report.current.needs_collected == 4
    assert report.current.matches_made == 3
    assert report.current.needs_matched == 2


def test_chinese_numerals_and_city():
    assert [chinese_count(n) for n in (1, 2, 3, 10, 12, 20, 35)] == [
        "一",
        "两",
        "三",
        "十",
        "十二",
        "二十",
        "三十五",
    ]
    assert city_of("山东省潍坊市", "潍坊服务中心") == "潍坊市"
    assert city_of("", "青岛服务中心") == "青岛市"


# ------------------------------------------------- issue 12: the text states only what happened

LEAD = "为做实“科创中国”服务企业工作，切实解决企业技术瓶颈，开展系列有针对性的企业需求征集，更好地服务地方、服务企业，"
VISITED = "高新区甲公司，奎文区乙公司等部分企业。"


def _with_team(members: list[tuple[str, str, str]]) -> str:
    """The March paragraph's first sentence with visit 11's team replaced by members."""
    inp = make_input(Period.months("2021-03"))
    inp.frames["visits"] = inp.frames["visits"][inp.frames["visits"]["id"] != 12]
    inp.frames["team"] = pd.DataFrame(
        [(11, i, name, title, org) for i, (name, title, org) in enumerate(members)],
        columns=["visit_id", "position", "name", "title", "organisation_name"],
    )
    return build_report(inp).narrative.split("。")[0] + "。"


def test_team_from_one_organisation():
    text = _with_team([("孙甲", "主席", "潍坊市科协"), ("李丁", "科长", "潍坊市科协")])
    assert text == (
        LEAD + "联合体-测试服务中心派出潍坊市科协主席孙甲、科长李丁，组成服务团走访了" + VISITED
    )


def test_team_of_one_person():
    text = _with_team([("孙甲", "主席", "潍坊市科协")])
    assert text == LEAD + "联合体-测试服务中心派出潍坊市科协主席孙甲走访了" + VISITED


def test_team_from_a_partner_and_a_university_counts_both():
    """潍坊市科协 is a partner, 潍坊学院 is not: two organisations sent people, not "一家"."""
    text = _with_team([("孙甲", "主席", "潍坊市科协"), ("陈丙", "教授", "潍坊学院")])
    assert text == (
        LEAD + "联合体-测试服务中心两家单位分别派出潍坊市科协主席孙甲，潍坊学院教授陈丙，"
        "联合组成服务团走访了" + VISITED
    )
    assert "一家" not in text


def test_team_from_two_partners():
    """Partners come first, in the centre's partner order."""
    text = _with_team(
        [("孙甲", "主席", "潍坊市科协"), ("胡乙", "秘书长助理", "中国科协智能制造学会联合体")]
    )
    assert text == (
        LEAD + "联合体-测试服务中心两家共建单位分别派出中国科协智能制造学会联合体秘书长助理胡乙，"
        "潍坊市科协主席孙甲，联合组成服务团走访了" + VISITED
    )


def test_team_from_three_or_more_organisations():
    members = [
        ("孙甲", "主席", "潍坊市科协"),
        ("胡乙", "秘书长助理", "中国科协智能制造学会联合体"),
        ("陈丙", "教授", "潍坊学院"),
        ("王戊", "工程师", "潍柴集团"),
    ]
    assert _with_team(members) == (
        LEAD + "联合体-测试服务中心四家单位分别派出中国科协智能制造学会联合体秘书长助理胡乙，"
        "潍坊市科协主席孙甲，潍坊学院教授陈丙，潍柴集团工程师王戊，联合组成服务团走访了" + VISITED
    )
    three_orgs = _with_team(members[:2] + [("刘军", "副局长", "潍坊市高新区科技局")])
    assert "测试服务中心三家单位分别派出" in three_orgs


def test_recommendations_for_needs_collected_earlier_are_not_this_months_needs():
    """Match 502's need was collected in February; its April step is not an April need."""
    inp = make_input(Period.months("2021-03"))
    extra = _match(
        503,
        "proposed",
        _ts(2021, 3, 28),
        100,
        "旧需求",
        date(2021, 2, 10),
        _ts(2021, 2, 12),
        1,
        "于晓东",
        "expert",
    )
    inp.frames["transitions"] = pd.concat(
        [inp.frames["transitions"], pd.DataFrame([extra])], ignore_index=True
    )
    inp.facts["proposals"] = pd.concat(
        [
            inp.facts["proposals"],
            _facts("proposals", [("2021-03", 1, 100, "2021-02", "2021-02", 2, 1)]),
        ],
        ignore_index=True,
    )
    report = build_report(inp)
    assert report.current.matches_made == 3
    assert report.current.needs_matched == 2
    assert report.current.needs_matched_earlier == 1
    assert "推荐专家和资源3次，涉及企业需求2项（其中本期征集1项、此前征集1项）" in report.narrative
    assert "为2项需求" not in report.narrative


def _meetings_input(as_of: date) -> ReportInput:
    inp = make_input(Period.months("2021-03"))
    inp.as_of = as_of
    inp.frames["events"] = pd.DataFrame(
        [
            (1, "检测技术对接会", date(2021, 3, 15), True),
            # recorded "held" with a date still ahead (data from before the rule)
            (2, "换挡品质对接会", date(2021, 3, 26), True),
            # planned: no match recorded it held
            (3, "学习工厂对接会", date(2021, 3, 29), False),
            (4, "四月对接会", date(2021, 4, 8), False),
        ],
        columns=["id", "title", "held_on", "recorded_held"],
    )
    inp.facts["events"] = _facts(
        "events",
        [
            ("2021-03", "2021-03-15", True, 1),
            ("2021-03", "2021-03-26", True, 1),
            ("2021-03", "2021-03-29", False, 1),
            ("2021-04", "2021-04-08", False, 1),
        ],
    )
    return inp


def test_planned_and_held_meetings_are_counted_apart():
    report = build_report(_meetings_input(date(2021, 3, 20)))
    assert report.current.docking_meetings == 1
    assert report.current.planned_meetings == 2
    assert "举办技术对接会1场" in report.narrative
    assert "计划于3月26日召开换挡品质对接会、3月29日召开学习工厂对接会。" in report.narrative
    assert "计划于4月8日召开四月对接会。" in report.next_month_plan
    assert [m["title"] for m in report.to_dict()["meetings"]] == [
        "换挡品质对接会",
        "学习工厂对接会",
    ]


def test_a_meeting_whose_date_passed_unrecorded_is_not_called_held_or_planned():
    report = build_report(_meetings_input(date(2021, 4, 30)))
    assert report.current.docking_meetings == 2
    assert report.current.planned_meetings == 1
    assert "原定于3月29日召开的学习工厂对接会尚未记录召开情况。" in report.narrative
    assert "计划于3月29日" not in report.narrative
