"""Backup and restore of the whole database.

SQLite: the sqlite3 online backup API (a consistent copy while the app runs).
PostgreSQL: pg_dump -Fc / pg_restore --clean --if-exists, with the URL from the configuration
(the password, if any, is passed through PGPASSWORD, never on the command line).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess  # nosec B404 - fixed argument lists, no shell
from pathlib import Path

from sqlalchemy.engine import URL, make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(RuntimeError):
    """A backup or restore that cannot be done, with a message for the operator."""


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(url.database)


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    """libpq connection arguments and environment for the pg_* tools."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    args = []
    if url.host:
        args += ["-h", url.host]
    if url.port:
        args += ["-p", str(url.port)]
    if url.username:
        args += ["-U", url.username]
    if not url.database:
        raise BackupError("The database URL names no database.")
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (apt-get install postgresql-client).")
    return path


def create_backup(database_url: str, target: str | Path) -> Path:
    """Write a backup of the database at database_url to target; return its path."""
    url = make_url(database_url)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source = _sqlite_path(url)
        if not source.exists():
            raise BackupError(f"No database file at {source}.")
        tmp = target.with_name(target.name + ".part")
        src = sqlite3.connect(str(source))
        dst = sqlite3.connect(str(tmp))
        try:
            with dst:
                src.backup(dst)
        finally:
            dst.close()
            src.close()
        tmp.replace(target)
        return target
    if url.get_backend_name() == "postgresql":
        args, env = _pg_args(url)
        cmd = [_tool("pg_dump"), "-Fc", "--no-owner", "-f", str(target), *args, url.database]
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # nosec B603
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        return target
    raise BackupError(f"Backups of {url.get_backend_name()} databases are not supported.")


def backup_kind(path: str | Path) -> str:
    """'sqlite' or 'postgresql', from the file's first bytes."""
    with Path(path).open("rb") as fh:
        head = fh.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a backup made by `flask backup create`.")


def restore_backup(database_url: str, source: str | Path) -> None:
    """Replace the database at database_url with the backup in source.

    The caller must have closed its connections (engine.dispose()).
    """
    url = make_url(database_url)
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"No backup file at {source}.")
    kind = backup_kind(source)
    if kind != url.get_backend_name():
        raise BackupError(
            f"{source} is a {kind} backup but the configured database is {url.get_backend_name()}."
        )
    if kind == "sqlite":
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(str(target))
        try:
            with dst:
                src.backup(dst)
        finally:
            dst.close()
            src.close()
        return
    args, env = _pg_args(url)
    cmd = [
        _tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "-d",
        url.database,
        *args,
        str(source),
    ]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # nosec B603
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
