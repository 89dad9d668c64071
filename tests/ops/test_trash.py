"""The trash: list and restore (coordinators, admins), hard delete (admins, when nothing depends)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from needs_tracker.common.models import utcnow
from needs_tracker.extensions import db
from needs_tracker.needs.models import Need, NeedStatusChange
from needs_tracker.organisations.models import Organisation

# "admin" is a system admin (every centre); "centre_admin" administers centre A only.
ROLES = [
    "member",
    "coordinator",
    "leader",
    "admin",
    "centre_admin",
    "observer",
    "consortium",
    "other",
    "other_coordinator",
]


def _trash(obj):
    obj.deleted_at = utcnow()
    db.session.commit()


def _exists(model, ident) -> bool:
    stmt = select(func.count(model.id)).where(model.id == ident)
    return db.session.scalar(stmt.execution_options(include_deleted=True)) == 1


@pytest.mark.parametrize("role", ROLES)
def test_trash_page_by_role_and_centre(client, auth, world, role):
    _trash(world["need_a"])
    _trash(world["need_b"])
    _trash(world["expert"])
    auth.login(role)
    resp = client.get("/trash/")
    expected = 200 if role in {"coordinator", "admin", "centre_admin", "other_coordinator"} else 403
    assert resp.status_code == expected
    if expected == 200:
        page = resp.get_data(as_text=True)
        assert "邢卫东" in page  # the shared pool is every coordinator's
        assert ("焊缝缺陷自动检测" in page) == (role in {"coordinator", "admin", "centre_admin"})
        assert ("青岛的保密需求" in page) == (role in {"admin", "other_coordinator"})


@pytest.mark.parametrize("role", ROLES)
def test_restore_by_role_and_centre(client, auth, world, role):
    need = world["need_a"]
    _trash(need)
    auth.login(role)
    resp = client.post(f"/trash/needs/{need.id}/restore")
    if role in {"coordinator", "admin", "centre_admin"}:
        assert resp.status_code == 302
        db.session.expire_all()
        assert db.session.get(Need, need.id).deleted_at is None
    else:
        assert resp.status_code == (404 if role == "other_coordinator" else 403)
        db.session.expire_all()
        assert db.session.get(Need, need.id).deleted_at is not None


def test_restore_of_a_live_record_or_unknown_kind_is_404(client, auth, world):
    auth.login("admin")
    assert client.post(f"/trash/needs/{world['need_a'].id}/restore").status_code == 404
    assert client.post("/trash/users/1/restore").status_code == 404
    assert client.get(f"/trash/needs/{world['need_a'].id}/restore").status_code == 405


def test_restored_need_is_visible_again_with_an_audit_entry(client, auth, world):
    from needs_tracker.audit.models import AuditEntry

    need = world["need_a"]
    auth.login("coordinator")
    client.post(f"/needs/{need.id}/delete")
    assert client.get(f"/needs/{need.id}").status_code == 404
    assert "焊缝缺陷自动检测" in client.get("/trash/").get_data(as_text=True)
    client.post(f"/trash/needs/{need.id}/restore")
    assert client.get(f"/needs/{need.id}").status_code == 200
    actions = db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.table_name == "needs", AuditEntry.record_id == need.id)
        .order_by(AuditEntry.id)
    ).all()
    assert actions[-2:] == ["soft_delete", "restore"]


@pytest.mark.parametrize("role", ROLES)
def test_hard_delete_is_for_admins_only(client, auth, world, make_need, role):
    need = make_need(world["org_a2"], "可以永久删除的需求")
    _trash(need)
    auth.login(role)
    resp = client.post(f"/trash/needs/{need.id}/purge")
    if role in {"admin", "centre_admin"}:
        assert resp.status_code == 302
        assert not _exists(Need, need.id)
    else:
        assert resp.status_code == (404 if role == "other_coordinator" else 403)
        assert _exists(Need, need.id)


def test_centre_admin_cannot_purge_another_centres_record(client, auth, world, make_need):
    need = make_need(world["org_b"], "青岛回收站里的需求")
    _trash(need)
    auth.login("centre_admin")
    assert client.post(f"/trash/needs/{need.id}/purge").status_code == 404
    assert client.post(f"/trash/needs/{need.id}/restore").status_code == 404
    assert _exists(Need, need.id)


def test_hard_delete_takes_the_status_history_along(client, auth, world, make_need):
    need = make_need(world["org_a2"], "可以永久删除的需求")
    _trash(need)
    auth.login("admin")
    client.post(f"/trash/needs/{need.id}/purge")
    left = select(func.count(NeedStatusChange.id)).where(NeedStatusChange.need_id == need.id)
    assert db.session.scalar(left) == 0


def test_hard_delete_is_blocked_while_records_depend_on_it(client, auth, world):
    org = world["org_a"]  # has a need and a visit
    _trash(org)
    auth.login("admin")
    resp = client.post(f"/trash/organisations/{org.id}/purge", follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "1 needs" in page or "1 条需求" in page
    assert "1 visits" in page or "1 次走访" in page
    assert _exists(Organisation, org.id)


def test_visit_with_needs_is_blocked_and_bare_visit_is_deleted(client, auth, world, make_visit):
    from needs_tracker.visits.models import Visit

    visit = world["visit_a"]
    _trash(visit)
    auth.login("admin")
    client.post(f"/trash/visits/{visit.id}/purge")
    assert _exists(Visit, visit.id)
    bare = make_visit(world["a"], [world["org_a2"]], world["users"]["member"])
    _trash(bare)
    client.post(f"/trash/visits/{bare.id}/purge")
    assert not _exists(Visit, bare.id)


def test_anonymous_is_sent_to_login(client, world):
    resp = client.get("/trash/")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]
