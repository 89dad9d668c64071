"""Backup and restore: a round trip that compares every table (SQLite, and PostgreSQL in CI)."""

from __future__ import annotations

import contextvars
import os
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from needs_tracker import create_app
from needs_tracker.common.scoping import Scope, set_scope
from needs_tracker.extensions import db
from needs_tracker.ops.backup import BackupError, backup_kind, create_backup, restore_backup


def _scratch_url(tmp_path: Path) -> str:
    """A database of this test's own: a file on SQLite, a scratch database on PostgreSQL."""
    url = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    if not url.startswith("postgresql"):
        return f"sqlite:///{tmp_path / 'live.db'}"
    base = make_url(url)
    name = f"{base.database}_backup"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _seed() -> None:
    from needs_tracker.centres.services import create_centre
    from needs_tracker.experts.models import Expert
    from needs_tracker.needs.services import NeedData, create_need
    from needs_tracker.organisations.models import Organisation
    from needs_tracker.taxonomy.models import TechField
    from needs_tracker.users.services import create_user
    from needs_tracker.visits.services import TeamMemberData, VisitData, record_visit

    centre = create_centre("潍坊服务中心", "山东省潍坊市", ["潍坊市科协"])
    db.session.flush()
    user, _ = create_user("member", "张三", "member", centre.id, "correct horse battery", False)
    field = TechField(name="智能检测", position=0)
    org = Organisation(centre_id=centre.id, name="潍坊天恒检测科技有限公司", district="高新区")
    db.session.add_all([field, org, Expert(name="邢卫东", organisation="山东大学")])
    db.session.flush()
    visit = record_visit(
        VisitData(
            visit_date=date(2021, 3, 18),
            purpose="需求征集",
            organisation_ids=[org.id],
            team=[TeamMemberData("胡志强", "秘书长助理", "联合体")],
        ),
        centre.id,
        user,
    )
    create_need(
        NeedData(
            organisation_id=org.id,
            title="焊缝缺陷自动检测",
            description="需要自动识别焊缝缺陷",
            collected_on=date(2021, 3, 18),
            field_ids=[field.id],
            visit_id=visit.id,
            budget=120,
        ),
        centre.id,
        user,
    )
    db.session.commit()


def _dump() -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    out = {}
    for table in db.metadata.sorted_tables:
        stmt = select(table).order_by(*table.primary_key.columns)
        out[table.name] = [tuple(r) for r in db.session.connection().execute(stmt)]
    return out


def _run_cli(flask_app, *args):
    # The suite holds the test app's context open; a CLI run gets its own, as in a shell.
    return contextvars.Context().run(flask_app.test_cli_runner().invoke, args=list(args))


@pytest.fixture
def live(tmp_path):
    """An app with its own (file or scratch PostgreSQL) database, seeded."""
    url = _scratch_url(tmp_path)
    options = {} if url.startswith("sqlite") else {"pool_pre_ping": True}
    live_app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options})

    def run(fn):
        def inner():
            with live_app.app_context():
                set_scope(db.session, Scope.system())
                try:
                    return fn()
                finally:
                    db.session.remove()

        return contextvars.Context().run(inner)

    run(lambda: (db.drop_all(), db.create_all(), _seed()))
    yield live_app, run
    run(lambda: (db.drop_all(), db.engine.dispose()))


def test_round_trip_restores_every_table(live, tmp_path):
    live_app, run = live
    snapshot = run(_dump)
    assert snapshot["needs"]
    assert snapshot["audit_entries"]
    assert snapshot["visit_team_members"]
    backup = tmp_path / "nt.backup"
    result = _run_cli(live_app, "backup", "create", "-o", str(backup))
    assert result.exit_code == 0, result.output
    assert backup.stat().st_size > 0

    def damage():
        from needs_tracker.needs.models import Need
        from needs_tracker.organisations.models import Organisation

        need = db.session.scalar(select(Need))
        db.session.delete(need)
        db.session.scalar(select(Organisation)).name = "改过的名字"
        db.session.commit()

    run(damage)
    assert run(_dump) != snapshot
    result = _run_cli(live_app, "backup", "restore", "--yes", str(backup))
    assert result.exit_code == 0, result.output
    assert run(_dump) == snapshot


def test_restore_refuses_a_file_that_is_not_a_backup(live, tmp_path):
    live_app, run = live
    bogus = tmp_path / "bogus.backup"
    bogus.write_bytes(b"not a backup at all")
    snapshot = run(_dump)
    result = _run_cli(live_app, "backup", "restore", "--yes", str(bogus))
    assert result.exit_code != 0
    assert "is not a backup" in result.output
    assert run(_dump) == snapshot


def test_restore_refuses_a_backup_of_the_other_kind(tmp_path):
    sqlite_backup = tmp_path / "a.backup"
    sqlite_backup.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    assert backup_kind(sqlite_backup) == "sqlite"
    with pytest.raises(BackupError, match="sqlite backup but the configured database"):
        restore_backup("postgresql+psycopg://nobody@127.0.0.1/none", sqlite_backup)
    pg_backup = tmp_path / "b.backup"
    pg_backup.write_bytes(b"PGDMP" + b"\x00" * 100)
    with pytest.raises(BackupError, match="postgresql backup"):
        restore_backup(f"sqlite:///{tmp_path / 'x.db'}", pg_backup)


def test_in_memory_database_cannot_be_backed_up(tmp_path):
    with pytest.raises(BackupError, match="in-memory"):
        create_backup("sqlite://", tmp_path / "x.backup")


def test_restore_asks_for_confirmation(live, tmp_path):
    live_app, run = live
    backup = tmp_path / "c.backup"
    assert _run_cli(live_app, "backup", "create", "-o", str(backup)).exit_code == 0
    result = contextvars.Context().run(
        live_app.test_cli_runner().invoke, args=["backup", "restore", str(backup)], input="n\n"
    )
    assert result.exit_code != 0
    assert "Aborted" in result.output
