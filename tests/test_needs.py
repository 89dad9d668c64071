"""Needs: recording, editing, the status workflow and its history."""

from sqlalchemy import func, select

from needs_tracker.extensions import db
from needs_tracker.needs.models import Need


def _need_form(world, **extra):
    data = {
        "organisation_id": str(world["org_a"].id),
        "visit_id": "",
        "title": "电池包液冷板换热性能提升",
        "description": "降低压降，提高温度均匀性",
        "field_ids": [str(world["field"].id)],
        "need_type": "rnd",
        "urgency": "medium",
        "budget": "100",
        "collected_on": "2021-03-20",
    }
    data.update(extra)
    return data


def _count():
    return db.session.scalar(select(func.count(Need.id)))


def test_member_records_a_need_alone(client, auth, world):
    auth.login("member")
    resp = client.post("/needs/new", data=_need_form(world))
    assert resp.status_code == 302
    need = db.session.scalar(select(Need).where(Need.title == "电池包液冷板换热性能提升"))
    assert need.centre_id == world["a"].id
    assert float(need.budget) == 100.0
    assert [f.name for f in need.fields] == ["智能检测"]
    assert [(h.from_status, h.to_status) for h in need.history] == [(None, "collected")]
    assert need.created_by_id == world["users"]["member"].id


def test_need_form_prefills_from_visit(client, auth, world):
    auth.login("member")
    page = client.get(f"/needs/new?visit_id={world['visit_a'].id}").get_data(as_text=True)
    assert 'value="2021-03-18"' in page
    # another centre's visit id in the query string is ignored, not used
    page = client.get(f"/needs/new?visit_id={world['visit_b'].id}").get_data(as_text=True)
    assert "青岛" not in page


def test_bad_need_input_is_refused_with_messages(client, auth, world):
    auth.login("member")
    before = _count()
    cases = [
        ({"title": ""}, 'id="title-error"'),
        ({"title": "长" * 201}, 'id="title-error"'),
        ({"collected_on": "2021-02-30"}, 'id="collected_on-error"'),
        ({"budget": "-5"}, 'id="budget-error"'),
        ({"budget": "abc"}, 'id="budget-error"'),
        ({"organisation_id": str(world["org_b"].id)}, 'id="organisation_id-error"'),
        ({"visit_id": str(world["visit_b"].id)}, 'id="visit_id-error"'),
        ({"field_ids": ["99999"]}, 'id="field_ids-error"'),
        ({"need_type": "nonsense"}, 'id="need_type-error"'),
    ]
    for extra, marker in cases:
        resp = client.post("/needs/new", data=_need_form(world, **extra))
        assert resp.status_code == 200, extra
        assert marker in resp.get_data(as_text=True), extra
    assert _count() == before


def test_error_messages_are_chinese(client, auth, world):
    auth.login("member")
    page = client.post("/needs/new", data=_need_form(world, title="")).get_data(as_text=True)
    assert "请修改下方标出的字段" in page
    assert "该字段是必填字段" in page or "必填" in page


def test_coordinator_moves_need_through_workflow_with_history(client, auth, world):
    auth.login("coordinator")
    need = world["need_a"]
    for status in ["assessing", "matching", "matched", "in_progress", "resolved"]:
        db.session.refresh(need)
        resp = client.post(
            f"/needs/{need.id}/status",
            data={"to_status": status, "note": "ok", "version": need.version},
        )
        assert resp.status_code == 302
    db.session.refresh(need)
    assert need.status == "resolved"
    assert [h.to_status for h in need.history] == [
        "collected",
        "assessing",
        "matching",
        "matched",
        "in_progress",
        "resolved",
    ]
    assert all(h.changed_by_id == world["users"]["coordinator"].id for h in need.history[1:])


def test_illegal_jump_is_refused_with_a_clear_message(client, auth, world):
    auth.login("coordinator")
    need = world["need_a"]
    resp = client.post(
        f"/needs/{need.id}/status",
        data={"to_status": "resolved", "version": need.version},
        follow_redirects=True,
    )
    assert "需求不能从“已征集”直接变为“已解决”" in resp.get_data(as_text=True)
    db.session.refresh(need)
    assert need.status == "collected"
    assert len(need.history) == 1


def test_closing_needs_a_reason(client, auth, world):
    auth.login("coordinator")
    need = world["need_a"]
    resp = client.post(
        f"/needs/{need.id}/status",
        data={"to_status": "closed", "note": "", "version": need.version},
        follow_redirects=True,
    )
    assert "关闭需求时请填写原因" in resp.get_data(as_text=True)
    client.post(
        f"/needs/{need.id}/status",
        data={"to_status": "closed", "note": "企业已自行解决", "version": need.version},
    )
    db.session.refresh(need)
    assert need.status == "closed"
    assert need.close_reason == "企业已自行解决"


def test_two_sessions_editing_one_need_the_second_is_refused(app, auth, world):
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        c.post("/login", data={"username": "coordinator", "password": "correct horse battery"})
    need = world["need_a"]
    version = str(need.version)
    form = {
        "organisation_id": str(world["org_a"].id),
        "title": need.title,
        "description": "第一人修改",
        "need_type": "rnd",
        "urgency": "low",
        "collected_on": "2021-03-18",
        "version": version,
    }
    assert first.post(f"/needs/{need.id}/edit", data=form).status_code == 302
    stale = dict(form, description="第二人修改", urgency="high")
    resp = second.post(f"/needs/{need.id}/edit", data=stale)
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200, resp.headers.get("Location")
    assert "其他人已保存了这条记录" in text
    assert "描述" in text
    db.session.refresh(need)
    assert need.description == "第一人修改"
    assert need.urgency == "low"


def test_member_cannot_edit_someone_elses_need(client, auth, world):
    auth.login("member2")
    need = world["need_a"]
    resp = client.post(f"/needs/{need.id}/edit", data={"title": "x", "version": need.version})
    assert resp.status_code == 403


def test_need_list_filters(client, auth, world, make_need, make_field):
    other_field = make_field("热管理", 1)
    make_need(
        world["org_a2"],
        "液冷板流道优化",
        description="流道压降",
        field_ids=[other_field.id],
        collected_on=__import__("datetime").date(2021, 5, 1),
    )
    auth.login("member")
    page = client.get(f"/needs/?field={other_field.id}").get_data(as_text=True)
    assert "液冷板流道优化" in page
    assert "焊缝缺陷自动检测" not in page
    page = client.get("/needs/?q=焊缝").get_data(as_text=True)
    assert "焊缝缺陷自动检测" in page
    assert "液冷板流道优化" not in page
    page = client.get("/needs/?from=2021-04-01").get_data(as_text=True)
    assert "液冷板流道优化" in page
    assert "焊缝缺陷自动检测" not in page
    page = client.get("/needs/?status=resolved").get_data(as_text=True)
    assert "液冷板流道优化" not in page
    page = client.get("/needs/?district=高新区&sort=-title").get_data(as_text=True)
    assert page.index("焊缝缺陷自动检测") < page.index("液冷板流道优化")
