"""The audit trail: who changed what, when, with values before and after; read-only pages."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from needs_tracker.audit.models import AuditEntry
from needs_tracker.common.scoping import Scope, scoped
from needs_tracker.extensions import db
from needs_tracker.needs.models import Need


def _entries(table: str, record_id: int) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.table_name == table, AuditEntry.record_id == record_id)
            .order_by(AuditEntry.id)
        )
    )


def _need_form(world, **extra):
    data = {
        "organisation_id": str(world["org_a"].id),
        "visit_id": "",
        "title": "电池包液冷板换热性能提升",
        "description": "降低压降",
        "field_ids": [str(world["field"].id)],
        "need_type": "rnd",
        "urgency": "medium",
        "budget": "100",
        "collected_on": "2021-03-20",
    }
    data.update(extra)
    return data


def test_web_create_is_recorded_with_the_acting_user_and_centre(client, auth, world):
    auth.login("member")
    assert client.post("/needs/new", data=_need_form(world)).status_code == 302
    need = db.session.scalar(select(Need).where(Need.title == "电池包液冷板换热性能提升"))
    [entry] = _entries("needs", need.id)
    assert entry.action == "create"
    assert entry.user_id == world["users"]["member"].id
    assert entry.centre_id == world["a"].id
    assert entry.before is None
    assert entry.after["title"] == "电池包液冷板换热性能提升"
    assert float(entry.after["budget"]) == 100.0
    assert entry.after["fields"] == [world["field"].id]
    # the initial status row is a child of the need, shown in its history
    [status_entry] = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.table_name == "need_status_changes", AuditEntry.parent_id == need.id
        )
    ).all()
    assert (status_entry.parent_table, status_entry.parent_id) == ("needs", need.id)
    assert status_entry.centre_id == world["a"].id


def test_update_records_only_changed_columns_before_and_after(client, auth, world):
    need = world["need_a"]
    auth.login("coordinator")
    form = _need_form(
        world,
        title="焊缝缺陷在线检测",
        description=need.description,
        budget="",
        urgency=need.urgency,
        need_type=need.need_type,
        collected_on=need.collected_on.isoformat(),
        visit_id=str(need.visit_id),
        version=str(need.version),
    )
    assert client.post(f"/needs/{need.id}/edit", data=form).status_code == 302
    entry = _entries("needs", need.id)[-1]
    assert entry.action == "update"
    assert entry.user_id == world["users"]["coordinator"].id
    assert entry.before == {"title": "焊缝缺陷自动检测"}
    assert entry.after == {"title": "焊缝缺陷在线检测"}


def test_expired_attribute_change_reads_the_stored_value(world):
    need = world["need_a"]  # expired by the factory's commit
    with scoped(db.session, Scope(None, None, user_id=world["users"]["admin"].id)):
        need.description = "新的描述"
        db.session.commit()
    entry = _entries("needs", need.id)[-1]
    assert entry.before == {"description": "需要自动识别焊缝缺陷"}
    assert entry.after == {"description": "新的描述"}
    assert entry.user_id == world["users"]["admin"].id


def test_many_to_many_change_is_recorded(world, make_field):
    other = make_field("激光加工", position=1)
    need = db.session.get(Need, world["need_a"].id)
    need.fields = [other]
    db.session.commit()
    entry = _entries("needs", need.id)[-1]
    assert entry.before == {"fields": [world["field"].id]}
    assert entry.after == {"fields": [other.id]}


def test_soft_delete_and_status_change_are_recorded(client, auth, world):
    need = world["need_a"]
    auth.login("coordinator")
    client.post(
        f"/needs/{need.id}/status",
        data={"to_status": "assessing", "note": "评估", "version": str(need.version)},
    )
    client.post(f"/needs/{need.id}/delete")
    actions = [e.action for e in _entries("needs", need.id)]
    assert actions[-2:] == ["update", "soft_delete"]
    status_update = _entries("needs", need.id)[-2]
    assert status_update.before["status"] == "collected"
    assert status_update.after["status"] == "assessing"


def test_rolled_back_change_leaves_no_entry(world):
    before = db.session.scalar(select(func.count(AuditEntry.id)))
    need = db.session.get(Need, world["need_a"].id)
    need.title = "不会保存"
    db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count(AuditEntry.id))) == before


def test_hard_delete_keeps_the_last_values(world):
    from needs_tracker.experts.models import Expert

    expert = db.session.get(Expert, world["expert"].id)
    db.session.delete(expert)
    db.session.commit()
    entry = _entries("experts", world["expert"].id)[-1]
    assert entry.action == "delete"
    assert entry.before["name"] == "邢卫东"
    assert entry.after is None


def test_models_of_other_features_are_audited_without_their_help(world):
    from needs_tracker.matching.models import Match

    match = Match(centre_id=world["a"].id, need_id=world["need_a"].id, expert_id=world["expert"].id)
    db.session.add(match)
    db.session.commit()
    [entry] = _entries("matches", match.id)
    assert entry.action == "create"
    assert entry.centre_id == world["a"].id


def test_passwords_are_never_written_to_the_trail(world):
    from needs_tracker.auth.models import User

    user = db.session.get(User, world["users"]["member"].id)
    user.set_password("another long passphrase")
    db.session.commit()
    entry = _entries("users", user.id)[-1]
    assert entry.after == {"password_hash": "***"}
    created = _entries("users", user.id)[0]
    assert created.after["password_hash"] == "***"


HISTORY_EXPECTED = {
    "member": 200,
    "member2": 200,
    "coordinator": 200,
    "leader": 200,
    "admin": 200,  # a system admin
    "centre_admin": 200,
    "observer": 200,
    "consortium": 200,
    "other": 404,
    "other_coordinator": 404,
}


@pytest.mark.parametrize("role", sorted(HISTORY_EXPECTED))
@pytest.mark.parametrize("kind", ["needs", "visits", "organisations"])
def test_history_page_by_role_and_centre(client, auth, world, role, kind):
    obj = {"needs": world["need_a"], "visits": world["visit_a"], "organisations": world["org_a"]}[
        kind
    ]
    auth.login(role)
    resp = client.get(f"/audit/{kind}/{obj.id}")
    assert resp.status_code == HISTORY_EXPECTED[role]
    if resp.status_code == 200:
        assert "青岛" not in resp.get_data(as_text=True)


@pytest.mark.parametrize("role", sorted(HISTORY_EXPECTED))
def test_shared_pool_history_is_visible_to_everyone(client, auth, world, role):
    auth.login(role)
    assert client.get(f"/audit/experts/{world['expert'].id}").status_code == 200


@pytest.mark.parametrize("role", sorted(HISTORY_EXPECTED))
def test_user_history_is_for_admins_only(client, auth, world, role):
    """Users' and the whole trail's history: system admins only (they span centres)."""
    auth.login(role)
    resp = client.get(f"/audit/users/{world['users']['member'].id}")
    assert resp.status_code == (200 if role == "admin" else 404)


def test_history_of_a_deleted_record_follows_its_centre(client, auth, world):
    need = db.session.get(Need, world["need_b"].id)
    db.session.delete(need)
    db.session.commit()
    auth.login("member")
    assert client.get(f"/audit/needs/{world['need_b'].id}").status_code == 404
    client.post("/logout")
    auth.login("other")
    page = client.get(f"/audit/needs/{world['need_b'].id}").get_data(as_text=True)
    assert "青岛的保密需求" in page


def test_unknown_table_or_record_is_404(client, auth, world):
    auth.login("member")
    assert client.get("/audit/nothing/1").status_code == 404
    assert client.get("/audit/needs/999999").status_code == 404


@pytest.mark.parametrize("role", sorted(HISTORY_EXPECTED))
def test_search_page_is_for_admins_only(client, auth, world, role):
    auth.login(role)
    assert client.get("/audit/").status_code == (200 if role == "admin" else 403)


def test_anonymous_is_sent_to_login(client, world):
    for url in ("/audit/", f"/audit/needs/{world['need_a'].id}"):
        resp = client.get(url)
        assert resp.status_code == 302
        assert "/login" in resp.headers["Location"]


def test_search_filters(client, auth, world):
    auth.login("admin")
    other_id = world["users"]["other"].id
    with scoped(db.session, Scope(None, None, user_id=other_id)):
        need = db.session.get(Need, world["need_b"].id)
        need.description = "特别的保密描述"
        db.session.commit()
    page = client.get("/audit/?q=特别的保密").get_data(as_text=True)
    assert f"需求 #{need.id}" in page
    assert "1 in all" in page or "共 1" in page
    page = client.get("/audit/?user=other&table=needs&action=update").get_data(as_text=True)
    assert f"需求 #{need.id}" in page
    page = client.get("/audit/?action=delete").get_data(as_text=True)
    assert f"需求 #{need.id}" not in page
    today = date.today().isoformat()
    page = client.get(f"/audit/?from={today}&to={today}&record={need.id}").get_data(as_text=True)
    assert f"需求 #{need.id}" in page
    page = client.get("/audit/?from=2021-02-30&user=nobody&record=x").get_data(as_text=True)
    assert "2021-02-30" in page
    assert "nobody" in page


def test_trail_cannot_be_changed_from_the_app(app, client, auth, world):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("audit."):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    auth.login("admin")
    count = db.session.scalar(select(func.count(AuditEntry.id)))
    for method in ("post", "put", "delete", "patch"):
        resp = getattr(client, method)(f"/audit/needs/{world['need_a'].id}")
        assert resp.status_code == 405
        assert getattr(client, method)("/audit/").status_code == 405
    assert db.session.scalar(select(func.count(AuditEntry.id))) == count


def test_history_panel_on_detail_pages(client, auth, world):
    auth.login("member")
    for url in (
        f"/needs/{world['need_a'].id}",
        f"/visits/{world['visit_a'].id}",
        f"/organisations/{world['org_a'].id}",
        f"/experts/{world['expert'].id}",
    ):
        page = client.get(url).get_data(as_text=True)
        assert "/audit/" in page, url
        assert '<details class="audit-panel">' in page, url
    # The panel lists the latest entries by name, the record's creation among them.
    need = world["need_a"]
    client.post(
        f"/needs/{need.id}/edit",
        data={"title": "改过的标题", "description": need.description, "version": str(need.version)},
    )
    page = client.get(f"/needs/{need.id}").get_data(as_text=True)
    panel = page.split('<details class="audit-panel">', 1)[1].split("</details>", 1)[0]
    assert "修改了需求“改过的标题”" in panel
    assert "改过的标题" in panel


def test_history_reads_in_the_users_language_not_in_column_names(client, auth, world):
    """Tables, columns, codes and user ids appear by their names; the raw name stays as a hint."""
    need = world["need_a"]
    coordinator = world["users"]["coordinator"]
    auth.login("coordinator")
    client.post(
        f"/needs/{need.id}/status",
        data={"to_status": "assessing", "note": "评估", "version": str(need.version)},
    )
    page = client.get(f"/audit/needs/{need.id}").get_data(as_text=True)
    assert f"需求 #{need.id}" in page
    assert "需求状态变更 #" in page
    assert '<dt class="col-4 text-truncate" title="status">状态</dt>' in page
    assert "<del>已征集</del> → <ins>评估中</ins>" in page
    assert "<del>collected</del>" not in page
    assert "<ins>assessing</ins>" not in page
    # The status change names who made it, not their user id.
    assert '<dt class="col-4 text-truncate" title="changed_by_id">变更人</dt>' in page
    changed_by = page.split('title="changed_by_id">变更人</dt>', 1)[1].split("</dd>", 1)[0]
    assert coordinator.display_name in changed_by
    client.post("/lang/en", data={"next": "/"})
    page = client.get(f"/audit/needs/{need.id}").get_data(as_text=True)
    assert '<dt class="col-4 text-truncate" title="status">Status</dt>' in page
    assert "Need #" in page


def test_unknown_columns_and_codes_show_as_stored(app):
    from needs_tracker.audit.labels import column_label, table_label, value_label

    with app.test_request_context():
        assert column_label("brand_new_column") == "brand_new_column"
        assert table_label("brand_new_table") == "brand_new_table"
        assert value_label("needs", "status", "not_a_status") == "not_a_status"
        assert value_label("needs", "status", "resolved") == "已解决"
        assert value_label("visits", "status", "done") == "已完成"
        assert value_label("matches", "status", "meeting_held") == "已召开对接会"
        assert value_label("needs", "title", None) == "—"
        assert value_label("needs", "status_changed_at", "2026-11-29T06:25:12.938182+00:00") == (
            "2026-11-29 06:25:12"
        )
        assert (
            value_label("needs", "title", "2026T是标题而不是时间之类的文字")
            == "2026T是标题而不是时间之类的文字"
        )
