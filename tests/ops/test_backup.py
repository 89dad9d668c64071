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
from needs_tracker.auth.models import User
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


def _container(path: Path, kind: str, payload: bytes, **header) -> Path:
    import hashlib
    import json

    from needs_tracker.ops.backup import CONTAINER_MAGIC

    values = {
        "format": 1,
        "kind": kind,
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "created_at": "2026-12-02T00:00:00+00:00",
        "credentials": True,
        **header,
    }
    path.write_bytes(CONTAINER_MAGIC + json.dumps(values).encode() + b"\n" + payload)
    return path


def test_restore_refuses_a_backup_of_the_other_kind(tmp_path):
    sqlite_backup = _container(tmp_path / "a.backup", "sqlite", b"SQLite format 3\x00" + b"\0" * 99)
    assert backup_kind(sqlite_backup) == "sqlite"
    with pytest.raises(BackupError, match="sqlite backup but the configured database"):
        restore_backup("postgresql+psycopg://nobody@127.0.0.1/none", sqlite_backup)
    pg_backup = _container(tmp_path / "b.backup", "postgresql", b"PGDMP" + b"\0" * 100)
    with pytest.raises(BackupError, match="postgresql backup"):
        restore_backup(f"sqlite:///{tmp_path / 'x.db'}", pg_backup)


def test_backup_file_is_private_and_says_so(live, tmp_path):
    live_app, _ = live
    backup = tmp_path / "private.backup"
    old = os.umask(0o022)
    try:
        result = _run_cli(live_app, "backup", "create", "-o", str(backup))
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert backup.stat().st_mode & 0o777 == 0o600
    assert "0600" in result.output
    assert "password hashes" in result.output
    # The default location, too.
    result = _run_cli(live_app, "backup", "create")
    path = Path(result.output.split("Backup written to ")[1].split(" (")[0])
    assert path.stat().st_mode & 0o777 == 0o600
    path.unlink()


def test_backup_without_credentials_holds_no_password_hash(live, tmp_path):
    live_app, run = live
    backup = tmp_path / "nocreds.backup"
    result = _run_cli(live_app, "backup", "create", "--without-credentials", "-o", str(backup))
    assert result.exit_code == 0, result.output
    assert "no password hashes" in result.output
    hashes = run(lambda: list(db.session.scalars(select(User.password_hash))))
    data = backup.read_bytes()
    assert hashes
    for h in hashes:
        assert h.encode() not in data
        assert h.split("$")[-1].encode() not in data
    assert b"scrypt:" not in data
    assert "without password hashes" in _run_cli(live_app, "backup", "verify", str(backup)).output

    result = _run_cli(live_app, "backup", "restore", "--yes", str(backup))
    assert result.exit_code == 0, result.output
    assert "set-password" in result.output
    client = live_app.test_client()

    def login():
        return (
            contextvars.Context()
            .run(
                client.post,
                "/login",
                data={"username": "member", "password": "correct horse battery"},
            )
            .status_code
        )

    assert login() == 200  # the records are back, the old password is not
    result = _run_cli(live_app, "user", "set-password", "member", "--password", "a new passphrase")
    assert result.exit_code == 0, result.output
    status = (
        contextvars.Context()
        .run(client.post, "/login", data={"username": "member", "password": "a new passphrase"})
        .status_code
    )
    assert status == 302


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("not_a_backup", "is not a backup made by"),
        ("bare_database", "is a bare database file"),
        ("truncated", "is truncated"),
        ("truncated_header", "is truncated: its header is incomplete"),
        ("wrong_version", "format version 99"),
        ("checksum", "fails its checksum"),
    ],
)
def test_damaged_backup_is_refused_saying_what_is_wrong(live, tmp_path, damage, message):
    live_app, run = live
    backup = tmp_path / "good.backup"
    assert _run_cli(live_app, "backup", "create", "-o", str(backup)).exit_code == 0
    data = backup.read_bytes()
    header_end = data.index(b"\n", data.index(b"\n") + 1) + 1
    if damage == "not_a_backup":
        data = b"PK\x03\x04 a zip file"
    elif damage == "bare_database":
        data = b"SQLite format 3\x00" + b"\0" * 200
    elif damage == "truncated":
        data = data[: header_end + (len(data) - header_end) // 2]
    elif damage == "truncated_header":
        data = data[: header_end - 10]
    elif damage == "wrong_version":
        data = data.replace(b'"format": 1', b'"format": 99', 1)
    elif damage == "checksum":
        middle = header_end + (len(data) - header_end) // 2
        data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]
    backup.write_bytes(data)
    snapshot = run(_dump)
    result = _run_cli(live_app, "backup", "restore", "--yes", str(backup))
    assert result.exit_code != 0
    assert message in result.output
    assert run(_dump) == snapshot  # nothing was touched
    verify = _run_cli(live_app, "backup", "verify", str(backup))
    assert verify.exit_code != 0
    assert message in verify.output


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
