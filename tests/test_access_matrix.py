"""Every route of the foundation x every role, and a user of another centre.

A user of centre A must never read or change centre B's records: other centres' objects are
404, not 403, so ids do not even leak their existence. Leaders and observers read but never
write. "admin" is a system admin (every centre, the centres themselves); "centre_admin"
administers centre A's users only.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from needs_tracker.extensions import db
from needs_tracker.needs.models import Need
from needs_tracker.organisations.models import Organisation
from needs_tracker.visits.models import Visit

ROLES = [
    "member",
    "member2",
    "coordinator",
    "leader",
    "admin",
    "centre_admin",
    "observer",
    "consortium",
    "other",
]
CENTRE_A_READERS = {
    "member",
    "member2",
    "coordinator",
    "leader",
    "admin",
    "centre_admin",
    "observer",
    "consortium",
}
EDITORS = {"member", "member2", "coordinator", "admin", "centre_admin", "other"}  # own centre
POOL = {"coordinator", "admin", "centre_admin"}
USER_ADMINS = {"admin", "centre_admin"}

# (url template, {role: expected status}); {x} placeholders come from the world fixture.
A_ONLY = {r: (200 if r in CENTRE_A_READERS else 404) for r in ROLES}
EVERYONE = dict.fromkeys(ROLES, 200)
SYSADMIN_ONLY = {r: (200 if r == "admin" else 403) for r in ROLES}
USERS_OF_A = {r: (200 if r in USER_ADMINS else 403) for r in ROLES}


def _edit_own(creator_ok: bool) -> dict[str, int]:
    expected = {}
    for r in ROLES:
        if r == "other":
            expected[r] = 404
        elif r in {"coordinator", "admin", "centre_admin"} or (r == "member" and creator_ok):
            expected[r] = 200
        else:
            expected[r] = 403
    return expected


GET_ROUTES = [
    ("/", EVERYONE),
    ("/organisations/", EVERYONE),
    ("/visits/", EVERYONE),
    ("/needs/", EVERYONE),
    ("/experts/", EVERYONE),
    ("/resources/", EVERYONE),
    ("/fields/", EVERYONE),
    ("/account/password", EVERYONE),
    ("/organisations/new", {r: (200 if r in EDITORS else 403) for r in ROLES}),
    ("/visits/new", {r: (200 if r in EDITORS else 403) for r in ROLES}),
    ("/needs/new", {r: (200 if r in EDITORS else 403) for r in ROLES}),
    ("/organisations/{org_a}", A_ONLY),
    ("/visits/{visit_a}", A_ONLY),
    ("/needs/{need_a}", A_ONLY),
    (
        "/organisations/{org_a}/edit",
        {r: 404 if r == "other" else (200 if r in EDITORS else 403) for r in ROLES},
    ),
    ("/visits/{visit_a}/edit", _edit_own(True)),
    ("/needs/{need_a}/edit", _edit_own(True)),
    ("/experts/{expert}", EVERYONE),
    ("/resources/{resource}", EVERYONE),
    ("/experts/new", {r: (200 if r in POOL else 403) for r in ROLES}),
    ("/resources/new", {r: (200 if r in POOL else 403) for r in ROLES}),
    ("/experts/{expert}/edit", {r: (200 if r in POOL else 403) for r in ROLES}),
    ("/experts/{expert}/personal-data", {r: (200 if r in USER_ADMINS else 403) for r in ROLES}),
    ("/resources/{resource}/edit", {r: (200 if r in POOL else 403) for r in ROLES}),
    ("/users/", USERS_OF_A),
    ("/users/new", USERS_OF_A),
    ("/users/{user_member}", USERS_OF_A),
    ("/users/{user_member}/edit", USERS_OF_A),
    # A centre admin does not see users of another centre, nor system admins.
    ("/users/{user_other}", {r: {"admin": 200, "centre_admin": 404}.get(r, 403) for r in ROLES}),
    (
        "/users/{user_other}/edit",
        {r: {"admin": 200, "centre_admin": 404}.get(r, 403) for r in ROLES},
    ),
    ("/users/{user_admin}", {r: {"admin": 200, "centre_admin": 404}.get(r, 403) for r in ROLES}),
    ("/centres/", SYSADMIN_ONLY),
    ("/centres/new", SYSADMIN_ONLY),
    ("/centres/{a}", SYSADMIN_ONLY),
    ("/centres/{a}/edit", SYSADMIN_ONLY),
    ("/fields/new", SYSADMIN_ONLY),
    ("/fields/{field}/edit", SYSADMIN_ONLY),
]

# Endpoints checked elsewhere (state-changing POSTs below, login/logout in test_auth.py).
POST_ONLY = {
    "organisations.delete",
    "visits.delete",
    "visits.cancel",
    "needs.delete",
    "needs.change_status",
    "experts.delete",
    "resources.delete",
    "users.reset",
    "users.unlock_view",
    "experts.erase",
    "auth.logout",
    "main.set_language",
}


def _ids(world) -> dict[str, int]:
    return {
        "org_a": world["org_a"].id,
        "visit_a": world["visit_a"].id,
        "need_a": world["need_a"].id,
        "expert": world["expert"].id,
        "resource": world["resource"].id,
        "user_member": world["users"]["member"].id,
        "user_other": world["users"]["other"].id,
        "user_admin": world["users"]["admin"].id,
        "a": world["a"].id,
        "field": world["field"].id,
    }


@pytest.mark.parametrize("role", ROLES)
def test_get_routes_by_role(client, auth, world, role):
    auth.login(role)
    ids = _ids(world)
    failures = []
    for template, expected in GET_ROUTES:
        url = template.format(**ids)
        status = client.get(url).status_code
        if status != expected[role]:
            failures.append(f"{url}: got {status}, expected {expected[role]}")
    assert not failures, "\n".join(failures)


def test_every_foundation_route_is_in_the_matrix(app):
    foundation = {
        "main",
        "auth",
        "organisations",
        "visits",
        "needs",
        "experts",
        "resources",
        "users",
        "centres",
        "taxonomy",
    }
    covered_paths = {t.split("{")[0].rstrip("/") for t, _ in GET_ROUTES}
    missing = []
    for rule in app.url_map.iter_rules():
        bp = rule.endpoint.split(".")[0]
        if bp not in foundation or rule.endpoint in POST_ONLY or rule.endpoint in {"auth.login"}:
            continue
        prefix = rule.rule.split("<")[0].rstrip("/")
        if prefix not in covered_paths and rule.rule.rstrip("/") not in covered_paths:
            missing.append(rule.rule)
    assert not missing


def test_anonymous_is_sent_to_login(client, world):
    for template, _ in GET_ROUTES:
        url = template.format(**_ids(world))
        resp = client.get(url)
        assert resp.status_code == 302, url
        assert "/login" in resp.headers["Location"], url


def _count(model):
    return db.session.scalar(select(func.count(model.id)).execution_options(include_deleted=True))


@pytest.mark.parametrize(
    "role", ["member", "coordinator", "leader", "admin", "centre_admin", "observer", "consortium"]
)
def test_centre_b_records_cannot_be_changed_from_centre_a(client, auth, world, role):
    """Posting to B's ids (edit, delete, status) from any A role: 404 and nothing changes."""
    auth.login(role)
    need_b, visit_b, org_b = world["need_b"], world["visit_b"], world["org_b"]
    before = (need_b.title, need_b.status, visit_b.purpose, org_b.name)
    posts = [
        (
            f"/needs/{need_b.id}/edit",
            {
                "title": "hacked",
                "organisation_id": org_b.id,
                "collected_on": "2021-01-01",
                "need_type": "rnd",
                "urgency": "low",
                "version": need_b.version,
            },
        ),
        (
            f"/needs/{need_b.id}/status",
            {"to_status": "closed", "note": "x", "version": need_b.version},
        ),
        (f"/needs/{need_b.id}/delete", {}),
        (
            f"/visits/{visit_b.id}/edit",
            {
                "visit_date": "2021-01-01",
                "status": "done",
                "purpose": "hacked",
                "organisation_ids": [org_b.id],
                "version": visit_b.version,
            },
        ),
        (f"/visits/{visit_b.id}/delete", {}),
        (
            f"/organisations/{org_b.id}/edit",
            {"name": "hacked", "kind": "company", "version": org_b.version},
        ),
        (f"/organisations/{org_b.id}/delete", {}),
    ]
    for url, data in posts:
        status = client.post(url, data=data).status_code
        if role == "admin":
            continue  # system admins administer every centre
        expected = 403 if role == "consortium" else 404
        assert status == expected, (url, status)
    if role != "admin":
        db.session.expire_all()
        assert (need_b.title, need_b.status, visit_b.purpose, org_b.name) == before
        assert need_b.deleted_at is None
        assert visit_b.deleted_at is None
        assert org_b.deleted_at is None


def test_consortium_leader_reads_every_centre_and_writes_none(client, auth, world):
    auth.login("consortium")
    assert client.get(f"/needs/{world['need_b'].id}").status_code == 200
    assert client.get(f"/needs/{world['need_a'].id}").status_code == 200
    page = client.get("/needs/").get_data(as_text=True)
    assert "青岛的保密需求" in page
    assert "焊缝缺陷自动检测" in page
    assert client.post(f"/needs/{world['need_b'].id}/delete").status_code == 403
    assert client.get("/visits/new").status_code == 403


def test_lists_show_only_own_centre(client, auth, world):
    auth.login("member")
    for url, foreign in [
        ("/needs/", "青岛的保密需求"),
        ("/organisations/", "青岛海尔集团"),
        ("/needs/?q=青岛", "青岛的保密需求"),
    ]:
        assert foreign not in client.get(url).get_data(as_text=True)


@pytest.mark.parametrize("role", ["leader", "member2"])
def test_status_and_delete_refused_for_non_coordinators(client, auth, world, role):
    auth.login(role)
    need = world["need_a"]
    assert (
        client.post(
            f"/needs/{need.id}/status", data={"to_status": "assessing", "version": need.version}
        ).status_code
        == 403
    )
    if role == "leader":
        assert client.post(f"/needs/{need.id}/delete").status_code == 403
        assert client.post(f"/organisations/{world['org_a'].id}/delete").status_code == 403
        assert client.post(f"/experts/{world['expert'].id}/delete").status_code == 403
    db.session.expire_all()
    assert need.status == "collected"
    assert need.deleted_at is None


def test_soft_deleted_records_disappear_and_return_404(client, auth, world):
    auth.login("coordinator")
    need = world["need_a"]
    assert client.post(f"/needs/{need.id}/delete").status_code == 302
    assert client.get(f"/needs/{need.id}").status_code == 404
    assert "焊缝缺陷自动检测" not in client.get("/needs/").get_data(as_text=True)
    assert _count(Need) == 2
    assert client.post(f"/organisations/{world['org_a2'].id}/delete").status_code == 302
    assert _count(Organisation) == 3
    assert client.post(f"/visits/{world['visit_a'].id}/delete").status_code == 302
    assert _count(Visit) == 2
