"""The export of a filtered list holds exactly the rows the list page shows, for every list.

The export builds its query apart from the list views (needs_tracker.imports.export), so this
guards against the two drifting apart.
"""

from __future__ import annotations

from datetime import date

import pytest

from needs_tracker.extensions import db

W, T, X, S = "焊缝缺陷自动检测", "奎文区的涂层需求", "学院的检测平台需求", "盛瑞的变速器需求"
TH, SR, XY, YS = (
    "潍坊天恒检测科技有限公司",
    "盛瑞传动股份有限公司",
    "潍坊学院",
    "潍坊雅士股份有限公司",
)
CJ, XQ, HF = "春季走访", "校企对接", "回访计划"
XW, LH = "邢卫东", "林海峰"
LAB, PT = "相控阵检测实验室", "数字孪生验证平台"

# (query, what the list must show); the export must hold the same rows
QUERIES = {
    "needs": [
        ("", {W, T, X, S}),
        ("q=检测", {W, X}),
        ("district=奎文区", {T, X}),
        ("from=2021-03-01&to=2021-03-31", {W, X}),
        ("from=2021-04-01", {T}),
        ("field={field}", {W}),
        ("q=需求&district=奎文区&from=2021-04-01", {T}),
        ("from=not-a-date", {W, T, X, S}),
    ],
    "organisations": [
        ("", {TH, SR, XY, YS}),
        ("kind=university", {XY}),
        ("district=奎文区", {XY, YS}),
        ("q=潍坊", {TH, XY, YS}),
        ("q=天恒&kind=company", {TH}),
    ],
    "visits": [
        ("", {CJ, XQ, HF}),
        ("district=奎文区", {XQ}),
        ("from=2021-04-01", {XQ, HF}),
        ("q=对接", {XQ}),
        ("status=planned", {HF}),
    ],
    "experts": [
        ("", {XW, LH}),
        ("field={field}", {XW}),
        ("region=青岛市", {LH}),
        ("q=无损", {XW}),
    ],
    "resources": [
        ("", {LAB, PT}),
        ("kind=platform", {PT}),
        ("kind=no-such-kind", {LAB, PT}),
        ("field={field}", {LAB}),
        ("q=孪生", {PT}),
    ],
}


@pytest.fixture
def rows(world, make_org, make_need, make_visit, make_field):
    """Needs, organisations and visits of centre A that differ in every filtered attribute."""
    a = world["a"]
    member = world["users"]["member"]
    other_field = make_field("新材料", position=1)
    uni = make_org(a, "潍坊学院", kind="university", district="奎文区")
    kw = make_org(a, "潍坊雅士股份有限公司", district="奎文区")
    make_need(kw, "奎文区的涂层需求", member, collected_on=date(2021, 4, 12))
    make_need(
        uni,
        "学院的检测平台需求",
        member,
        collected_on=date(2021, 3, 2),
        field_ids=[other_field.id],
    )
    make_need(world["org_a2"], "盛瑞的变速器需求", member, collected_on=date(2020, 12, 1))
    make_visit(a, [uni, kw], member, visit_date=date(2021, 4, 20), purpose="校企对接")
    make_visit(
        a,
        [world["org_a2"]],
        member,
        visit_date=date(2021, 5, 6),
        purpose="回访计划",
        status="planned",
    )
    make_visit(a, [world["org_a"]], member, visit_date=date(2021, 3, 9), purpose="春季走访")
    from needs_tracker.experts.models import Expert, Resource

    db.session.add(Expert(name=LH, organisation="青岛大学", expertise="工业软件", region="青岛市"))
    db.session.add(Resource(name=PT, kind="platform", description="数字孪生", fields=[other_field]))
    db.session.commit()
    # the fixture's own visit (purpose 需求征集) is left out: the site's title contains that word
    return {
        "needs": [W, T, X, S],
        "organisations": [TH, SR, XY, YS],
        "visits": [CJ, XQ, HF],
        "experts": [XW, LH],
        "resources": [LAB, PT],
        "field": world["field"].id,
    }


@pytest.mark.parametrize(
    ("kind", "query", "expected"), [(k, q, e) for k, qs in QUERIES.items() for q, e in qs]
)
def test_export_has_the_rows_the_list_shows(client, auth, rows, kind, query, expected):
    query = query.format(field=rows["field"])
    auth.login("coordinator")
    page = client.get(f"/{kind}/?{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    export = client.get(f"/export/{kind}.csv?{query}")
    assert export.status_code == 200
    csv = export.data.decode("utf-8-sig")
    shown = {name for name in rows[kind] if name in html}
    exported = {name for name in rows[kind] if name in csv}
    assert shown == expected
    assert exported == expected
