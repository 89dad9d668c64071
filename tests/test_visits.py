"""Recording visits: several organisations, a mixed team and needs in one form."""

from sqlalchemy import func, select

from needs_tracker.extensions import db
from needs_tracker.needs.models import Need
from needs_tracker.organisations.models import Organisation
from needs_tracker.visits.models import Visit


def _visit_form(orgs, **extra):
    data = {
        "visit_date": "2021-03-18",
        "status": "done",
        "purpose": "企业需求征集",
        "organisation_ids": [str(o.id) for o in orgs],
        "summary": "了解企业技术瓶颈",
        "team-0-name": "胡志强",
        "team-0-title": "秘书长助理",
        "team-0-organisation_name": "中国科协智能制造学会联合体",
        "team-1-name": "孙晓非",
        "team-1-title": "党组书记、主席",
        "team-1-organisation_name": "潍坊市科协",
        "team-2-name": "刘军",
        "team-2-title": "副局长",
        "team-2-organisation_name": "潍坊市科协",
        "needs-0-organisation": str(orgs[0].id),
        "needs-0-title": "焊缝缺陷超声相控阵自动检测",
        "needs-0-description": "压力容器焊缝人工检测效率低",
        "needs-0-need_type": "rnd",
        "needs-0-urgency": "high",
        "needs-1-organisation": str(orgs[-1].id),
        "needs-1-title": "8AT变速器换挡品质标定",
        "needs-1-description": "换挡冲击偏大",
        "needs-1-need_type": "rnd",
        "needs-1-urgency": "medium",
    }
    data.update(extra)
    return data


def _counts():
    return (
        db.session.scalar(select(func.count(Visit.id))),
        db.session.scalar(select(func.count(Need.id))),
        db.session.scalar(select(func.count(Organisation.id))),
    )


def test_member_records_visit_with_two_companies_mixed_team_and_two_needs(client, auth, world):
    auth.login("member")
    before = _counts()
    resp = client.post("/visits/new", data=_visit_form([world["org_a"], world["org_a2"]]))
    assert resp.status_code == 302
    visit = db.session.scalars(select(Visit).order_by(Visit.id.desc())).first()
    assert {o.name for o in visit.organisations} == {
        "潍坊天恒检测科技有限公司",
        "盛瑞传动股份有限公司",
    }
    assert [(m.name, m.organisation_name) for m in visit.team] == [
        ("胡志强", "中国科协智能制造学会联合体"),
        ("孙晓非", "潍坊市科协"),
        ("刘军", "潍坊市科协"),
    ]
    needs = db.session.scalars(
        select(Need).where(Need.visit_id == visit.id).order_by(Need.id)
    ).all()
    assert [(n.title, n.organisation_id, n.status) for n in needs] == [
        ("焊缝缺陷超声相控阵自动检测", world["org_a"].id, "collected"),
        ("8AT变速器换挡品质标定", world["org_a2"].id, "collected"),
    ]
    assert all(n.collected_on.isoformat() == "2021-03-18" for n in needs)
    assert _counts() == (before[0] + 1, before[1] + 2, before[2])
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "焊缝缺陷超声相控阵自动检测" in page
    assert "孙晓非" in page


def test_visit_with_a_new_company_creates_it_and_its_need(client, auth, world):
    auth.login("member")
    data = _visit_form([world["org_a"]], new_organisations="潍坊雅士股份有限公司\n")
    data["needs-1-organisation"] = "new:潍坊雅士股份有限公司"
    resp = client.post("/visits/new", data=data)
    assert resp.status_code == 302
    org = db.session.scalar(select(Organisation).where(Organisation.name == "潍坊雅士股份有限公司"))
    assert org is not None
    assert org.centre_id == world["a"].id
    need = db.session.scalar(select(Need).where(Need.title == "8AT变速器换挡品质标定"))
    assert need.organisation_id == org.id


def test_coordinator_sees_the_needs_and_other_centre_does_not(client, auth, world):
    auth.login("member")
    client.post("/visits/new", data=_visit_form([world["org_a"], world["org_a2"]]))
    auth.logout()
    auth.login("coordinator")
    page = client.get("/needs/").get_data(as_text=True)
    assert "焊缝缺陷超声相控阵自动检测" in page
    assert "8AT变速器换挡品质标定" in page
    auth.logout()
    auth.login("other")
    page = client.get("/needs/").get_data(as_text=True)
    assert "焊缝缺陷超声相控阵自动检测" not in page
    need = db.session.scalar(select(Need).where(Need.title == "8AT变速器换挡品质标定"))
    assert client.get(f"/needs/{need.id}").status_code == 404
    assert client.get(f"/visits/{need.visit_id}").status_code == 404


def test_leader_cannot_record_or_edit(client, auth, world):
    auth.login("leader")
    before = _counts()
    assert client.get("/visits/new").status_code == 403
    assert client.post("/visits/new", data=_visit_form([world["org_a"]])).status_code == 403
    visit_id = world["visit_a"].id
    assert (
        client.post(f"/visits/{visit_id}/edit", data=_visit_form([world["org_a"]])).status_code
        == 403
    )
    assert _counts() == before


def test_visit_without_organisation_is_refused_with_a_message(client, auth, world):
    auth.login("member")
    before = _counts()
    data = _visit_form([world["org_a"]])
    data["organisation_ids"] = []
    resp = client.post("/visits/new", data=data)
    assert resp.status_code == 200
    assert "请至少选择一家走访单位" in resp.get_data(as_text=True)
    assert _counts() == before


def test_need_for_a_company_not_visited_is_refused(client, auth, world):
    auth.login("member")
    before = _counts()
    data = _visit_form([world["org_a"]])
    data["needs-1-organisation"] = str(world["org_a2"].id)
    resp = client.post("/visits/new", data=data)
    assert "请选择本次走访的企业之一" in resp.get_data(as_text=True)
    assert _counts() == before


def test_another_centres_organisation_posted_is_refused(client, auth, world):
    auth.login("member")
    before = _counts()
    data = _visit_form([world["org_a"]])
    data["organisation_ids"] = [str(world["org_a"].id), str(world["org_b"].id)]
    resp = client.post("/visits/new", data=data)
    assert resp.status_code == 200
    assert "is-invalid" in resp.get_data(as_text=True)
    assert _counts() == before
    assert world["org_b"].visits == [world["visit_b"]]


def test_wrong_date_gets_a_field_error(client, auth, world):
    auth.login("member")
    before = _counts()
    resp = client.post("/visits/new", data=_visit_form([world["org_a"]], visit_date="2021-02-30"))
    assert resp.status_code == 200
    assert 'id="visit_date-error"' in resp.get_data(as_text=True)
    assert _counts() == before


def test_too_long_team_name_is_refused(client, auth, world):
    auth.login("member")
    before = _counts()
    resp = client.post(
        "/visits/new", data=_visit_form([world["org_a"]], **{"team-0-name": "胡" * 61})
    )
    assert 'id="team-0-name-error"' in resp.get_data(as_text=True)
    assert _counts() == before


def test_edit_replaces_team_and_organisations(client, auth, world):
    auth.login("member")
    visit = world["visit_a"]
    data = _visit_form([world["org_a2"]], version=str(visit.version))
    data["team-1-name"] = ""
    data["team-1-title"] = ""
    data["team-1-organisation_name"] = ""
    resp = client.post(f"/visits/{visit.id}/edit", data=data)
    assert resp.status_code == 302
    db.session.refresh(visit)
    assert [o.id for o in visit.organisations] == [world["org_a2"].id]
    assert [m.name for m in visit.team] == ["胡志强", "刘军"]


def test_stale_visit_edit_is_refused(client, auth, world):
    auth.login("member")
    visit = world["visit_a"]
    stale = str(visit.version)
    visit.purpose = "别人改过的目的"
    db.session.commit()
    resp = client.post(
        f"/visits/{visit.id}/edit", data=_visit_form([world["org_a"]], version=stale)
    )
    assert resp.status_code == 200
    assert "其他人已保存了这条记录" in resp.get_data(as_text=True)
    db.session.refresh(visit)
    assert visit.purpose == "别人改过的目的"


def test_visit_list_filters_by_status_and_date(client, auth, world, make_visit):
    from datetime import date

    make_visit(
        world["a"],
        [world["org_a"]],
        visit_date=date(2021, 4, 15),
        status="planned",
        purpose="计划走访",
    )
    auth.login("member")
    page = client.get("/visits/?status=planned").get_data(as_text=True)
    assert "计划走访" in page
    assert f'/visits/{world["visit_a"].id}"' not in page
    page = client.get("/visits/?from=2021-04-01&to=2021-04-30").get_data(as_text=True)
    assert "计划走访" in page
    page = client.get("/visits/?from=2021-13-01").get_data(as_text=True)
    assert "日期无效" in page
