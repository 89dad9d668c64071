"""The member on a phone (issue 14): a resend never saves a second visit, the needs' company
list is the visit's, the team's organisations are suggested, overdue plans are marked."""

from __future__ import annotations

from datetime import date, timedelta

import lxml.html
import pytest
from sqlalchemy import func, select

from needs_tracker.extensions import db
from needs_tracker.visits.models import Visit
from tests.test_visits import _visit_form

KEY = "0123456789abcdef0123456789abcdef"


def _visits() -> int:
    return db.session.scalar(select(func.count(Visit.id)).execution_options(include_deleted=True))


def _doc(client, url: str):
    return lxml.html.fromstring(client.get(url).get_data(as_text=True))


def test_new_form_carries_a_fresh_idempotency_key(client, auth, world):
    auth.login("member")
    keys = {
        _doc(client, "/visits/new").xpath('//input[@name="client_key"]')[0].get("value")
        for _ in range(2)
    }
    assert len(keys) == 2
    assert all(len(k) == 32 for k in keys)


def test_a_resent_form_saves_one_visit(client, auth, world):
    auth.login("member")
    before = _visits()
    data = _visit_form([world["org_a"]], client_key=KEY)
    for key in ("needs-1-title", "needs-1-organisation", "needs-1-description"):
        data.pop(key)
    first = client.post("/visits/new", data=data)
    assert first.status_code == 302
    # The answer was lost on the way back; the phone sends the same form again.
    again = client.post("/visits/new", data=data, follow_redirects=True)
    assert _visits() == before + 1
    visit = db.session.scalar(select(Visit).where(Visit.client_key == KEY))
    assert again.request.path == f"/visits/{visit.id}"
    assert "这次走访已经保存过，未重复保存。" in again.get_data(as_text=True)
    assert len(visit.needs) == 1


def test_someone_elses_key_neither_reaches_their_visit_nor_fails(client, auth, world):
    auth.login("member")
    data = _visit_form([world["org_a"]], client_key=KEY)
    client.post("/visits/new", data=data)
    auth.logout()
    auth.login("member2")
    before = _visits()
    resp = client.post("/visits/new", data=data)
    assert resp.status_code == 302
    assert _visits() == before + 1
    mine = db.session.scalars(select(Visit).order_by(Visit.id.desc())).first()
    assert mine.created_by_id == world["users"]["member2"].id
    assert mine.client_key is None


def test_needs_company_list_is_the_visits_companies(client, auth, world, make_org):
    make_org(world["a"], "不相关的企业有限公司")
    auth.login("member")
    data = _visit_form([world["org_a"]], client_key=KEY, visit_date="")  # invalid: re-render
    html = client.post("/visits/new", data=data).get_data(as_text=True)
    options = lxml.html.fromstring(html).xpath('//select[@name="needs-0-organisation"]/option')
    assert [o.text_content() for o in options] == ["—", world["org_a"].name]


def test_team_organisation_is_suggested_from_partners_and_known_names(client, auth, world):
    auth.login("member")
    doc = _doc(client, "/visits/new")
    suggestions = [o.get("value") for o in doc.xpath('//datalist[@id="team-orgs"]/option')]
    assert suggestions[:2] == ["中国科协智能制造学会联合体", "潍坊市科协"]
    field = doc.xpath('//input[@name="team-0-organisation_name"]')[0]
    assert field.get("list") == "team-orgs"
    # The other centre's partners are not offered.
    auth.logout()
    auth.login("other")
    suggestions = [
        o.get("value")
        for o in _doc(client, "/visits/new").xpath('//datalist[@id="team-orgs"]/option')
    ]
    assert "中国科协智能制造学会联合体" not in suggestions


@pytest.fixture
def overdue(world, make_visit):
    return make_visit(
        world["a"],
        [world["org_a"]],
        world["users"]["member"],
        status="planned",
        visit_date=date.today() - timedelta(days=5 * 365),
        purpose="五年前的计划走访",
    )


def test_overdue_planned_visit_is_marked_with_record_and_cancel(client, auth, world, overdue):
    auth.login("member")
    doc = _doc(client, "/")
    item = doc.xpath('//li[contains(@class,"planned-visit")]')[0]
    assert "overdue" in item.get("class")
    assert "已逾期" in item.text_content()
    record = item.xpath('.//a[text()="记录走访"]')[0].get("href")
    assert record == f"/visits/{overdue.id}/edit?record=1"
    status = _doc(client, record).xpath('//select[@name="status"]/option[@selected]')[0]
    assert status.get("value") == "done"
    assert item.xpath(f'.//form[@action="/visits/{overdue.id}/cancel"]')
    listed = _doc(client, "/visits/?status=planned").xpath("//tbody/tr")[0].text_content()
    assert "已逾期" in listed


def test_future_planned_visit_is_not_overdue(client, auth, world, make_visit):
    make_visit(
        world["a"],
        [world["org_a"]],
        world["users"]["member"],
        status="planned",
        visit_date=date.today() + timedelta(days=3),
    )
    auth.login("member")
    assert "已逾期" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "code", "cancelled"),
    [
        ("member", 302, True),
        ("member2", 403, False),
        ("coordinator", 302, True),
        ("leader", 403, False),
        ("other", 404, False),
    ],
)
def test_cancel_overdue_visit_by_role(client, auth, world, overdue, role, code, cancelled):
    auth.login(role)
    resp = client.post(f"/visits/{overdue.id}/cancel", data={"back": "home"})
    assert resp.status_code == code
    db.session.expire_all()
    visit = db.session.execute(
        select(Visit).where(Visit.id == overdue.id).execution_options(include_deleted=True)
    ).scalar_one()
    assert (visit.deleted_at is not None) == cancelled
    if cancelled:
        assert resp.headers["Location"] == "/"


def test_a_done_visit_cannot_be_cancelled(client, auth, world):
    auth.login("member")
    client.post(f"/visits/{world['visit_a'].id}/cancel")
    db.session.expire_all()
    assert db.session.get(Visit, world["visit_a"].id).deleted_at is None


def test_need_form_from_a_visit_offers_the_visits_companies_first(client, auth, world, make_org):
    make_org(world["a"], "一号企业有限公司")  # sorts before the visit's companies by name
    auth.login("member")
    doc = _doc(client, f"/needs/new?visit_id={world['visit_a'].id}")
    names = [o.text_content() for o in doc.xpath('//select[@name="organisation_id"]/option')]
    assert set(names[:2]) == {world["org_a"].name, world["org_a2"].name}
