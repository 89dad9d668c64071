"""Centre admins vs system admins, the read-only observer, deny by default, and shared records
that other centres use."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from needs_tracker.auth.models import User
from needs_tracker.common.permissions import scope_for
from needs_tracker.experts.models import Expert, Resource
from needs_tracker.extensions import db
from tests.conftest import PASSWORD


def _login(client, username, password=PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


# ------------------------------------------------------------------ centre admin vs sysadmin


def test_cli_centre_admin_reads_and_edits_only_their_centre(runner, client, world):
    """The probe's case: `user create b_admin --role admin --centre 乙中心` stays in 乙中心."""
    result = runner.invoke(
        args=[
            "user",
            "create",
            "b_admin",
            "--role",
            "admin",
            "--centre",
            "青岛服务中心",
            "--password",
            "qingdao admin pw",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "青岛服务中心" in result.output
    _login(client, "b_admin", "qingdao admin pw")
    org_a = world["org_a"]
    assert client.get(f"/organisations/{org_a.id}").status_code == 404
    resp = client.post(
        f"/organisations/{org_a.id}/edit",
        data={"name": "hacked", "kind": "company", "version": org_a.version},
    )
    assert resp.status_code == 404
    assert "潍坊天恒检测" not in client.get("/organisations/").get_data(as_text=True)
    assert "青岛海尔集团" in client.get("/organisations/").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(org_a), org_a.id).name == "潍坊天恒检测科技有限公司"


def test_cli_centre_admin_needs_a_centre_and_sysadmin_needs_none(runner, client, world):
    bad = runner.invoke(
        args=["user", "create", "x", "--role", "admin", "--password", "long pw 123"]
    )
    assert bad.exit_code != 0
    assert "centre" in bad.output.lower() or "中心" in bad.output
    ok = runner.invoke(
        args=["user", "create", "root2", "--role", "sysadmin", "--password", "system pw 123"]
    )
    assert ok.exit_code == 0, ok.output
    assert "every centre" in ok.output
    _login(client, "root2", "system pw 123")
    assert client.get(f"/organisations/{world['org_b'].id}").status_code == 200
    assert client.get("/centres/").status_code == 200


def test_cli_observer_role(runner, world):
    result = runner.invoke(
        args=[
            "user",
            "create",
            "watcher",
            "--role",
            "observer",
            "--centre",
            "潍坊服务中心",
            "--password",
            "observer pw 123",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "watcher"))
    assert (user.role, user.centre_id) == ("observer", world["a"].id)


def test_centre_admin_lists_and_creates_users_of_their_centre_only(client, auth, world):
    auth.login("centre_admin")
    page = client.get("/users/").get_data(as_text=True)
    assert ">member<" in page
    assert ">other<" not in page  # centre B
    assert ">admin<" not in page  # a system admin
    # The form offers no system-admin role and no other centre.
    form = client.get("/users/new").get_data(as_text=True)
    assert 'value="sysadmin"' not in form
    assert "青岛服务中心" not in form
    assert "系统管理员" in form  # the role help says what each admin does
    base = {
        "username": "new_one",
        "display_name": "新人",
        "role": "member",
        "password": "long enough pw",
        "active": "y",
    }
    resp = client.post("/users/new", data={**base, "centre_id": str(world["b"].id)})
    assert resp.status_code == 200
    resp = client.post(
        "/users/new", data={**base, "role": "sysadmin", "centre_id": str(world["a"].id)}
    )
    assert resp.status_code == 200
    assert db.session.scalar(select(User).where(User.username == "new_one")) is None
    resp = client.post("/users/new", data={**base, "centre_id": str(world["a"].id)})
    assert resp.status_code == 302
    created = db.session.scalar(select(User).where(User.username == "new_one"))
    assert created.centre_id == world["a"].id


def test_centre_admin_cannot_promote_or_move_users(client, auth, world):
    auth.login("centre_admin")
    member = world["users"]["member"]
    for role, centre in [("sysadmin", world["a"].id), ("member", world["b"].id)]:
        client.post(
            f"/users/{member.id}/edit",
            data={
                "username": "member",
                "display_name": "member",
                "role": role,
                "centre_id": str(centre),
                "active": "y",
            },
        )
    db.session.expire_all()
    user = db.session.get(User, member.id)
    assert (user.role, user.centre_id) == ("member", world["a"].id)
    assert client.post(f"/users/{world['users']['other'].id}/reset-password").status_code == 404


def test_user_pages_say_which_admin(client, auth, world):
    auth.login("admin")
    page = client.get(f"/users/{world['users']['centre_admin'].id}").get_data(as_text=True)
    assert "中心管理员" in page
    assert "仅管理潍坊服务中心的用户、导入和回收站" in page
    page = client.get(f"/users/{world['users']['admin'].id}").get_data(as_text=True)
    assert "系统管理员" in page
    assert "所有中心" in page


def test_existing_admins_become_system_admins(tmp_path):
    """The data migration: nobody who administered everything loses access."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from needs_tracker import create_app

    url = f"sqlite:///{tmp_path / 'm.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": {}})
    with app.app_context():
        upgrade(revision="43415b5a9fc3")
        with db.engine.begin() as conn:
            for name, role in [("old_admin", "admin"), ("old_member", "member")]:
                conn.execute(
                    text(
                        "INSERT INTO users (username, display_name, password_hash, role, "
                        "is_consortium, active, session_version, must_change_password, "
                        "failed_logins, created_at, updated_at) VALUES (:u, :u, 'x', :r, 0, 1, "
                        "1, 0, 0, '2026-01-01', '2026-01-01')"
                    ),
                    {"u": name, "r": role},
                )
        upgrade(revision="5ec0a7d31b2e")
        with db.engine.connect() as conn:
            roles = dict(conn.execute(text("SELECT username, role FROM users")).all())
        assert roles == {"old_admin": "sysadmin", "old_member": "member"}
        downgrade(revision="43415b5a9fc3")
        with db.engine.connect() as conn:
            roles = dict(conn.execute(text("SELECT username, role FROM users")).all())
        assert roles == {"old_admin": "admin", "old_member": "member"}
        db.engine.dispose()


# ------------------------------------------------------------------ deny by default, observer


def test_unknown_role_gets_no_scope_at_all(client, world):
    user = world["users"]["member2"]
    assert scope_for(user).can_write(world["a"].id)
    user.role = "auditor"  # a role no rule names
    db.session.commit()
    scope = scope_for(user)
    assert not scope.can_read(world["a"].id)
    assert not scope.can_write(world["a"].id)
    _login(client, "member2")
    assert client.get(f"/needs/{world['need_a'].id}").status_code == 404
    assert "焊缝缺陷自动检测" not in client.get("/needs/").get_data(as_text=True)
    assert client.get("/needs/new").status_code == 403


def test_observer_reads_its_centre_and_writes_nothing(client, auth, world):
    auth.login("observer")
    need, org = world["need_a"], world["org_a"]
    assert client.get(f"/needs/{need.id}").status_code == 200
    assert client.get(f"/needs/{world['need_b'].id}").status_code == 404
    posts = [
        ("/needs/new", {"title": "x", "organisation_id": org.id, "collected_on": "2021-01-01"}),
        (f"/needs/{need.id}/edit", {"title": "x", "version": need.version}),
        (f"/needs/{need.id}/status", {"to_status": "closed", "version": need.version}),
        (f"/needs/{need.id}/delete", {}),
        ("/organisations/new", {"name": "x", "kind": "company"}),
        (f"/organisations/{org.id}/edit", {"name": "x", "kind": "company"}),
        (f"/organisations/{org.id}/delete", {}),
        (f"/visits/{world['visit_a'].id}/delete", {}),
        ("/experts/new", {"name": "x"}),
        (f"/experts/{world['expert'].id}/delete", {}),
    ]
    for url, data in posts:
        assert client.post(url, data=data).status_code == 403, url
    db.session.expire_all()
    assert need.title == "焊缝缺陷自动检测"
    assert need.deleted_at is None
    assert org.deleted_at is None


@pytest.mark.parametrize("what", ["needs", "organisations", "visits", "experts", "resources"])
def test_observer_exports_nothing(client, auth, world, what):
    auth.login("observer")
    assert client.get(f"/export/{what}.csv").status_code == 403


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_observer_downloads_no_report(client, auth, world, fmt):
    """The monthly report names the visit team: observers read it on screen only."""
    auth.login("observer")
    assert client.get(f"/reports/download.{fmt}?period=2021-03").status_code == 403


# ------------------------------------------------------------------ expert contact data


CONTACT_ROLES = {"coordinator", "admin", "centre_admin"}


@pytest.fixture
def reachable_expert(world):
    expert = world["expert"]
    expert.phone, expert.email = "13800000001", "xing@example.edu.cn"
    expert.contact_source = "本人名片"
    expert.contact_consent, expert.consent_purpose = True, "企业对接"
    db.session.commit()
    return expert


@pytest.mark.parametrize(
    "role", ["member", "coordinator", "leader", "admin", "centre_admin", "observer", "consortium"]
)
def test_contact_fields_only_for_roles_that_contact_experts(
    client, auth, world, role, reachable_expert
):
    auth.login(role)
    page = client.get(f"/experts/{reachable_expert.id}").get_data(as_text=True)
    shown = role in CONTACT_ROLES
    assert ("13800000001" in page) == shown
    assert ("xing@example.edu.cn" in page) == shown
    assert ("本人名片" in page) == shown
    if role != "observer":
        export = client.get("/export/experts.csv").get_data(as_text=True)
        assert "邢卫东" in export
        assert ("13800000001" in export) == shown


def test_expert_form_records_source_and_consent(client, auth, world):
    auth.login("coordinator")
    resp = client.post(
        "/experts/new",
        data={
            "name": "王教授",
            "organisation": "潍坊学院",
            "expertise": "机器视觉",
            "phone": "13900000000",
            "contact_source": "学院官网公开信息",
            "contact_consent": "y",
            "consent_on": "2026-11-30",
            "consent_purpose": "技术需求对接",
        },
    )
    assert resp.status_code == 302
    expert = db.session.scalar(select(Expert).where(Expert.name == "王教授"))
    assert expert.contact_source == "学院官网公开信息"
    assert expert.contact_consent is True
    assert expert.consent_on.isoformat() == "2026-11-30"
    assert expert.consent_purpose == "技术需求对接"


@pytest.mark.parametrize("role", ["member", "coordinator", "leader", "observer", "centre_admin"])
def test_personal_data_export_and_erase_are_for_admins(client, auth, world, role, reachable_expert):
    auth.login(role)
    url = f"/experts/{reachable_expert.id}"
    expected = 200 if role == "centre_admin" else 403
    assert client.get(f"{url}/personal-data").status_code == expected
    if role != "centre_admin":
        assert client.post(f"{url}/erase").status_code == 403
        db.session.expire_all()
        assert reachable_expert.phone == "13800000001"


def test_admin_exports_then_erases_one_persons_data(
    client, auth, world, make_need, reachable_expert
):
    from needs_tracker.audit.models import AuditEntry
    from needs_tracker.matching import services as matching

    match = matching.propose_match(
        world["need_a"], "expert", reachable_expert.id, world["users"]["coordinator"]
    )
    db.session.commit()
    # An edit leaves the old phone number in the audit trail.
    auth.login("coordinator")
    client.post(
        f"/experts/{reachable_expert.id}/edit",
        data={
            "name": "邢卫东",
            "organisation": "山东大学",
            "expertise": "超声相控阵无损检测",
            "phone": "13800000002",
            "version": reachable_expert.version,
        },
    )
    auth.logout()
    auth.login("admin")
    resp = client.get(f"/experts/{reachable_expert.id}/personal-data")
    data = json.loads(resp.get_data(as_text=True))
    assert data["name"] == "邢卫东"
    assert data["phone"] == "13800000002"
    assert data["contact_source"] == "本人名片"
    assert "attachment" in resp.headers["Content-Disposition"]
    assert client.post(f"/experts/{reachable_expert.id}/erase").status_code == 302
    db.session.expire_all()
    expert = db.session.execute(
        select(Expert)
        .where(Expert.id == reachable_expert.id)
        .execution_options(include_deleted=True)
    ).scalar_one()
    assert (expert.name, expert.phone, expert.email, expert.contact_source) == (
        f"#{expert.id}",
        "",
        "",
        "",
    )
    # The match and its history stay; no copy of the phone number survives in the trail.
    db.session.refresh(match)
    assert match.expert_id == expert.id
    trail = json.dumps(
        [
            (e.before, e.after)
            for e in db.session.scalars(
                select(AuditEntry).where(AuditEntry.table_name == "experts")
            )
        ],
        ensure_ascii=False,
    )
    assert "1380000000" not in trail
    assert "邢卫东" not in trail


# ------------------------------------------------------------------ shared records in use


@pytest.fixture
def used_by_b(world):
    """Centre B's need matched to the shared expert and resource."""
    from needs_tracker.matching import services as matching

    coordinator_b = world["users"]["other_coordinator"]
    for kind, obj in [("expert", world["expert"]), ("resource", world["resource"])]:
        matching.propose_match(world["need_b"], kind, obj.id, coordinator_b)
    db.session.commit()
    return world


@pytest.mark.parametrize("what", ["experts", "resources"])
def test_coordinator_cannot_delete_a_record_other_centres_use(client, auth, used_by_b, what):
    obj = used_by_b["expert" if what == "experts" else "resource"]
    auth.login("coordinator")
    resp = client.post(f"/{what}/{obj.id}/delete", follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "青岛服务中心" in page  # names the centre that uses it ...
    assert "1" in page
    assert "青岛的保密需求" not in page  # ... but none of its records
    db.session.expire_all()
    assert obj.deleted_at is None


@pytest.mark.parametrize("what", ["experts", "resources"])
def test_system_admin_deletes_it_and_the_match_history_stays(client, auth, used_by_b, what):
    from needs_tracker.matching.models import Match

    obj = used_by_b["expert" if what == "experts" else "resource"]
    auth.login("admin")
    assert client.post(f"/{what}/{obj.id}/delete").status_code == 302
    db.session.expire_all()
    model = Expert if what == "experts" else Resource
    stored = db.session.execute(
        select(model).where(model.id == obj.id).execution_options(include_deleted=True)
    ).scalar_one()
    assert stored.deleted_at is not None
    column = Match.expert_id if what == "experts" else Match.resource_id
    assert db.session.scalar(select(Match).where(column == obj.id)) is not None


def test_record_used_only_by_own_centre_can_be_deleted(client, auth, world):
    from needs_tracker.matching import services as matching

    matching.propose_match(
        world["need_a"], "expert", world["expert"].id, world["users"]["coordinator"]
    )
    db.session.commit()
    auth.login("coordinator")
    assert client.post(f"/experts/{world['expert'].id}/delete").status_code == 302
    db.session.expire_all()
    assert world["expert"].deleted_at is not None


def test_purging_a_used_expert_from_the_trash_is_refused(client, auth, world):
    """A delete never removes a match's history: the hard delete is blocked while matches exist."""
    from needs_tracker.matching import services as matching
    from needs_tracker.matching.models import Match

    matching.propose_match(
        world["need_a"], "expert", world["expert"].id, world["users"]["coordinator"]
    )
    db.session.commit()
    auth.login("admin")
    client.post(f"/experts/{world['expert'].id}/delete")
    client.post(f"/trash/experts/{world['expert'].id}/purge")
    db.session.expire_all()
    assert db.session.scalar(select(Match).where(Match.expert_id == world["expert"].id))
    assert db.session.execute(
        select(Expert.id)
        .where(Expert.id == world["expert"].id)
        .execution_options(include_deleted=True)
    ).scalar_one()
