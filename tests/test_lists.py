"""List pages: a bounded number of SQL queries whatever the page size; sorting and paging."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from needs_tracker.extensions import db
from needs_tracker.visits.services import TeamMemberData


class QueryCounter:
    """Counts statements sent to the database while active."""

    def __init__(self, engine):
        self.engine = engine
        self.count = 0

    def _on(self, *args, **kwargs):
        self.count += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._on)


def _populate(world, make_org, make_need, make_visit, n: int) -> None:
    for i in range(n):
        org = make_org(world["a"], f"测试企业{i:03d}有限公司", short_name=f"企业{i:03d}")
        make_need(org, f"需求{i:03d}", field_ids=[world["field"].id])
        make_visit(
            world["a"],
            [org, world["org_a"]],
            visit_date=date(2021, 1, 1 + i % 28),
            team=[
                TeamMemberData(f"成员{i}", "工程师", "潍坊市科协"),
                TeamMemberData("刘军", "副局长", "高新区科技局"),
            ],
        )


@pytest.mark.parametrize(
    "url", ["/needs/", "/visits/", "/organisations/", "/experts/", "/resources/"]
)
def test_query_count_does_not_grow_with_page_size(
    app, client, auth, world, make_org, make_need, make_visit, url
):
    auth.login("coordinator")
    _populate(world, make_org, make_need, make_visit, 3)
    with QueryCounter(db.engine) as small:
        assert client.get(url).status_code == 200
    _populate(world, make_org, make_need, make_visit, 12)
    with QueryCounter(db.engine) as large:
        assert client.get(url).status_code == 200
    assert large.count == small.count
    assert large.count <= 12


def test_pagination_and_sorting(app, client, auth, world, make_org):
    for i in range(25):
        make_org(world["a"], f"排序企业{i:02d}")
    auth.login("member")
    page1 = client.get("/organisations/?q=排序企业&sort=name").get_data(as_text=True)
    assert "排序企业00" in page1
    assert "排序企业10" not in page1
    page2 = client.get("/organisations/?q=排序企业&sort=name&page=2").get_data(as_text=True)
    assert "排序企业10" in page2
    assert "排序企业00" not in page2
    desc = client.get("/organisations/?q=排序企业&sort=-name").get_data(as_text=True)
    assert "排序企业24" in desc
    # unknown sort keys fall back to the default instead of failing
    assert client.get("/organisations/?sort=password_hash").status_code == 200
    assert client.get("/organisations/?page=999").status_code == 200
    assert client.get("/organisations/?page=abc").status_code == 200


@pytest.mark.parametrize("kind", ["organisations", "experts", "resources", "needs", "visits"])
def test_list_pages_export_what_they_show(client, auth, world, kind):
    """The export buttons carry the list's filters; only coordinators get the import link."""
    auth.login("coordinator")
    page = client.get(f"/{kind}/?q=潍坊&page=2").get_data(as_text=True)
    assert f"/export/{kind}.xlsx?q=" in page
    assert f"/export/{kind}.csv?q=" in page
    assert "page=2" not in page.split(f"/export/{kind}.xlsx")[1].split('"')[0]
    assert f"/imports/?kind={kind}" in page
    auth.logout()
    auth.login("leader")
    page = client.get(f"/{kind}/").get_data(as_text=True)
    assert f"/export/{kind}.xlsx" in page
    assert "/imports/" not in page


@pytest.mark.parametrize("kind", ["organisations", "resources"])
def test_list_filtered_by_kind_exports_that_kind(client, auth, world, make_org, kind):
    """Organisations and resources filter on ?kind=; the export link must keep it (it once crashed)."""
    make_org(world["a"], "潍坊高校甲", kind="university")
    make_org(world["a"], "潍坊企业乙", kind="company")
    auth.login("coordinator")
    value = "company" if kind == "organisations" else "lab"
    response = client.get(f"/{kind}/?q=潍坊&kind={value}&sort=name")
    assert response.status_code == 200
    href = response.get_data(as_text=True).split(f"/export/{kind}.csv?")[1].split('"')[0]
    assert f"kind={value}" in href.replace("&amp;", "&")
    if kind == "organisations":
        csv = client.get(f"/export/organisations.csv?{href.replace('&amp;', '&')}")
        text = csv.data.decode("utf-8-sig")
        assert "潍坊企业乙" in text
        assert "潍坊高校甲" not in text


def test_search_treats_percent_and_underscore_literally(client, auth, world, make_org):
    """Searching 「100%」 finds that text, not every name containing 100; 「_」 is not a wildcard."""
    make_org(world["a"], "达标率100%检测公司")
    make_org(world["a"], "达标率1000检测公司")
    auth.login("coordinator")
    page = client.get("/organisations/?q=100%25").get_data(as_text=True)
    assert "达标率100%检测公司" in page
    assert "达标率1000检测公司" not in page
    page = client.get("/organisations/?q=率_0").get_data(as_text=True)
    assert "达标率1000检测公司" not in page
    csv = client.get("/export/organisations.csv?q=100%25").data.decode("utf-8-sig")
    assert "达标率100%检测公司" in csv
    assert "达标率1000检测公司" not in csv


def test_list_counts_are_bounded_and_say_more_than(
    app, client, auth, world, make_need, monkeypatch
):
    """A list never counts every row of a big table on each view: it counts up to a bound
    (and a few pages past the current one) and says "more than N"."""
    from sqlalchemy import event

    from needs_tracker.common import listing

    monkeypatch.setattr(listing, "COUNT_BOUND", 3)
    monkeypatch.setitem(app.config, "PER_PAGE", 1)
    for i in range(11):
        make_need(world["org_a"], f"计数需求{i:02d}")
    auth.login("member")  # 12 needs in centre A
    counts: list[str] = []

    def spy(conn, cursor, statement, parameters, context, executemany):
        if "count(" in statement.lower():
            counts.append(statement)

    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        page = client.get("/needs/").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)
    assert "超过 6 条" in page  # page 1 of 1 row each: counted up to 5 pages ahead
    assert 'href="/needs/?page=2"' in page
    assert counts
    assert all("LIMIT" in c.upper() for c in counts)
    last = client.get("/needs/?page=12").get_data(as_text=True)
    assert "共 12 条" in last
    assert "超过" not in last
    assert client.get("/needs/?page=13").status_code == 200
