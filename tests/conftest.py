"""Fixtures: one app per session, a clean database per test, factories and a login helper.

Set TEST_DATABASE_URL (e.g. postgresql+psycopg://localhost/test) to run the suite on PostgreSQL.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.pool import StaticPool

from needs_tracker import create_app
from needs_tracker.common.choices import Role
from needs_tracker.common.scoping import Scope, set_scope
from needs_tracker.extensions import db

PASSWORD = "correct horse battery"


def _test_config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    url = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    config: dict[str, Any] = {"SQLALCHEMY_DATABASE_URI": url}
    if url.startswith("sqlite"):
        # One shared in-memory database for the whole session; tables are emptied per test.
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "poolclass": StaticPool,
            "connect_args": {"check_same_thread": False},
        }
    config["UPLOAD_FOLDER"] = str(tmp_path_factory.mktemp("uploads"))
    return config


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The application, with the schema created once."""
    os.environ.setdefault("NEEDS_TRACKER_INSTANCE", str(tmp_path_factory.mktemp("instance")))
    application = create_app(_test_config(tmp_path_factory))
    application.test_client_class = IsolatedClient
    with application.app_context():
        db.drop_all()
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _empty_tables() -> None:
    # DELETE in dependency order: on PostgreSQL it is much faster than TRUNCATE for the
    # handful of rows a test leaves behind.
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture(autouse=True)
def _clean_db(app: Flask) -> Iterator[None]:
    """Each test starts with empty tables and a system-scoped session."""
    with app.app_context():
        db.session.remove()
        _empty_tables()
        set_scope(db.session, Scope.system())
        yield
        db.session.rollback()
        db.session.remove()


class IsolatedClient(FlaskClient):
    """Runs each request in an empty context, as a server does.

    The tests hold an app context open (for factories and assertions); without this, requests
    would reuse it and share its `g` and database session, hiding per-request state bugs.
    """

    def open(self, *args: Any, **kwargs: Any):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client (cookies kept between requests)."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    """A CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def make_centre() -> Callable[..., Any]:
    """Factory: make_centre(name, partners=[...])."""
    from needs_tracker.centres.services import create_centre

    def factory(
        name: str = "潍坊服务中心", region: str = "山东省潍坊市", partners: list[str] | None = None
    ):
        centre = create_centre(name, region, partners or ["潍坊市科协"])
        db.session.commit()
        return centre

    return factory


@pytest.fixture
def make_user() -> Callable[..., Any]:
    """Factory: make_user(username, role, centre, consortium=False) with PASSWORD."""
    from needs_tracker.users.services import create_user

    def factory(username: str, role: Role | str, centre: Any = None, consortium: bool = False):
        user, _ = create_user(
            username, username, role, centre.id if centre else None, PASSWORD, consortium
        )
        db.session.commit()
        return user

    return factory


@pytest.fixture
def make_org() -> Callable[..., Any]:
    """Factory: make_org(centre, name, **values)."""
    from needs_tracker.organisations.models import Organisation

    def factory(centre: Any, name: str = "潍坊天恒检测科技有限公司", **values: Any):
        values.setdefault("district", "高新区")
        org = Organisation(centre_id=centre.id, name=name, **values)
        db.session.add(org)
        db.session.commit()
        return org

    return factory


@pytest.fixture
def make_field() -> Callable[..., Any]:
    """Factory: make_field(name)."""
    from needs_tracker.taxonomy.models import TechField

    def factory(name: str = "智能检测", position: int = 0):
        field = TechField(name=name, position=position)
        db.session.add(field)
        db.session.commit()
        return field

    return factory


@pytest.fixture
def make_need() -> Callable[..., Any]:
    """Factory: make_need(org, title, creator=None, **values)."""
    from needs_tracker.needs.services import NeedData, create_need

    def factory(org: Any, title: str = "焊缝缺陷自动检测", creator: Any = None, **values: Any):
        data = NeedData(
            organisation_id=org.id,
            title=title,
            description=values.pop("description", "需要自动识别焊缝缺陷"),
            collected_on=values.pop("collected_on", date(2021, 3, 18)),
            **values,
        )
        need = create_need(data, org.centre_id, creator)
        db.session.commit()
        return need

    return factory


@pytest.fixture
def make_visit() -> Callable[..., Any]:
    """Factory: make_visit(centre, orgs, creator=None, **values)."""
    from needs_tracker.visits.services import TeamMemberData, VisitData, record_visit

    def factory(centre: Any, orgs: list[Any], creator: Any = None, **values: Any):
        data = VisitData(
            visit_date=values.pop("visit_date", date(2021, 3, 18)),
            purpose=values.pop("purpose", "需求征集"),
            organisation_ids=[o.id for o in orgs],
            team=values.pop("team", [TeamMemberData("胡志强", "秘书长助理", "联合体")]),
            **values,
        )
        visit = record_visit(data, centre.id, creator)
        db.session.commit()
        return visit

    return factory


class AuthActions:
    """Log a test client in and out."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, username: str, password: str = PASSWORD):
        """Post the login form."""
        return self._client.post("/login", data={"username": username, "password": password})

    def logout(self):
        """Post the logout form."""
        return self._client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    """Login helper bound to the test client."""
    return AuthActions(client)


@pytest.fixture
def world(make_centre, make_user, make_org, make_field, make_need, make_visit) -> dict[str, Any]:
    """Two centres, a user of every role in centre A, a member in centre B, some data in each.

    "admin" is a system admin (every centre), as every admin was before centre admins;
    "centre_admin" administers centre A only; "observer" reads centre A and writes nothing.
    """
    a = make_centre("潍坊服务中心", partners=["中国科协智能制造学会联合体", "潍坊市科协"])
    b = make_centre("青岛服务中心", region="山东省青岛市")
    users = {
        "member": make_user("member", Role.MEMBER, a),
        "member2": make_user("member2", Role.MEMBER, a),
        "coordinator": make_user("coordinator", Role.COORDINATOR, a),
        "leader": make_user("leader", Role.LEADER, a),
        "admin": make_user("admin", Role.SYSADMIN, a),
        "centre_admin": make_user("centre_admin", Role.ADMIN, a),
        "observer": make_user("observer", Role.OBSERVER, a),
        "consortium": make_user("consortium", Role.LEADER, None, consortium=True),
        "other": make_user("other", Role.MEMBER, b),
        "other_coordinator": make_user("other_coordinator", Role.COORDINATOR, b),
    }
    field = make_field("智能检测")
    org_a = make_org(a, "潍坊天恒检测科技有限公司", short_name="天恒检测")
    org_a2 = make_org(a, "盛瑞传动股份有限公司", short_name="盛瑞传动")
    org_b = make_org(b, "青岛海尔集团", district="崂山区")
    visit_a = make_visit(a, [org_a, org_a2], users["member"])
    visit_b = make_visit(b, [org_b], users["other"])
    need_a = make_need(
        org_a, "焊缝缺陷自动检测", users["member"], field_ids=[field.id], visit_id=visit_a.id
    )
    need_b = make_need(org_b, "青岛的保密需求", users["other"])
    from needs_tracker.experts.models import Expert, Resource

    expert = Expert(
        name="邢卫东", organisation="山东大学", expertise="超声相控阵无损检测", fields=[field]
    )
    resource = Resource(
        name="相控阵检测实验室", kind="lab", description="无损检测设备", fields=[field]
    )
    db.session.add_all([expert, resource])
    db.session.commit()
    return {
        "a": a,
        "b": b,
        "users": users,
        "field": field,
        "org_a": org_a,
        "org_a2": org_a2,
        "org_b": org_b,
        "visit_a": visit_a,
        "visit_b": visit_b,
        "need_a": need_a,
        "need_b": need_b,
        "expert": expert,
        "resource": resource,
    }


def pytest_sessionstart(session: pytest.Session) -> None:
    """With REQUIRE_DB=postgresql (CI), refuse to run on anything else."""
    required = os.environ.get("REQUIRE_DB")
    url = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    if required and not url.startswith(required):
        pytest.exit(f"REQUIRE_DB={required} but TEST_DATABASE_URL is {url!r}", returncode=3)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With FAIL_ON_SKIP=1 (CI), a skipped test fails the run: nothing required may be skipped."""
    if os.environ.get("FAIL_ON_SKIP") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and session.exitstatus == 0:
        reporter.write_line(
            f"FAIL_ON_SKIP: {skipped} test(s) were skipped; CI requires all to run.", red=True
        )
        session.exitstatus = 1
