"""Backup and restore of the whole database.

SQLite: the sqlite3 online backup API (a consistent copy while the app runs).
PostgreSQL: pg_dump -Fc / pg_restore --clean --if-exists, with the URL from the configuration
(the password, if any, is passed through PGPASSWORD, never on the command line); without
credentials, a plain SQL dump whose users rows lose their password hashes, restored by psql.

A backup file is a container: a magic line, a JSON header (format version, kind, payload size
and SHA-256) and the dump itself. Restore checks all of it before touching the database, so a
damaged file is refused with what is wrong (not a backup, truncated, wrong version, checksum).
The file is created 0600: it holds every record, and password hashes unless made without.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess  # nosec B404 - fixed argument lists, no shell
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
CONTAINER_MAGIC = b"NEEDS-TRACKER-BACKUP\n"
FORMAT_VERSION = 1
MAX_HEADER = 64 * 1024
# What a password hash becomes in a backup made without credentials: no password matches it.
NO_PASSWORD = "!"
FILE_MODE = 0o600


class BackupError(RuntimeError):
    """A backup or restore that cannot be done, with a message for the operator."""


@dataclass(frozen=True)
class BackupInfo:
    """What a backup's header says."""

    kind: str  # "sqlite", "postgresql" (pg_dump -Fc) or "postgresql-sql" (plain, psql)
    size: int
    sha256: str
    created_at: str
    credentials: bool
    format: int = FORMAT_VERSION


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


def _private_file(path: Path) -> None:
    """Create path empty with mode 0600 (whatever the umask), or narrow an existing one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.close(fd)
    os.chmod(path, FILE_MODE)


def _sqlite_dump(url: URL, work: Path, credentials: bool) -> Path:
    source = _sqlite_path(url)
    if not source.exists():
        raise BackupError(f"No database file at {source}.")
    dump = work / "db.sqlite"
    _private_file(dump)
    src = sqlite3.connect(str(source))
    dst = sqlite3.connect(str(dump))
    try:
        with dst:
            src.backup(dst)
        if not credentials:
            with dst:
                dst.execute("UPDATE users SET password_hash = ?", (NO_PASSWORD,))
            # VACUUM rewrites the file, so the old hashes do not linger in free pages.
            dst.execute("VACUUM")
    finally:
        dst.close()
        src.close()
    return dump


_COPY_USERS = re.compile(r"^COPY (?:\S+\.)?users \((?P<columns>[^)]*)\) FROM stdin;$")


def _strip_password_hashes(lines: Iterator[str], out) -> bool:
    """Copy a plain pg_dump, replacing the users' password hashes; True when users were seen."""
    column = None
    seen = False
    for line in lines:
        if column is not None:
            if line.rstrip("\n") == "\\.":
                column = None
            else:
                values = line.rstrip("\n").split("\t")
                values[column] = NO_PASSWORD
                line = "\t".join(values) + "\n"
        else:
            match = _COPY_USERS.match(line.rstrip("\n"))
            if match:
                names = [c.strip().strip('"') for c in match["columns"].split(",")]
                column = names.index("password_hash")
                seen = True
        out.write(line)
    return seen


def _postgres_dump(url: URL, work: Path, credentials: bool) -> tuple[Path, str]:
    args, env = _pg_args(url)
    if credentials:
        dump = work / "db.pgdump"
        _private_file(dump)
        cmd = [_tool("pg_dump"), "-Fc", "--no-owner", "-f", str(dump), *args, url.database]
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # nosec B603
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip() or result.returncode}")
        return dump, "postgresql"
    dump = work / "db.sql"
    _private_file(dump)
    cmd = [
        _tool("pg_dump"),
        "--format=plain",
        "--clean",
        "--if-exists",
        "--no-owner",
        *args,
        url.database,
    ]
    with (
        subprocess.Popen(  # nosec B603
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as proc,
        dump.open("w", encoding="utf-8") as out,
    ):
        assert proc.stdout is not None  # noqa: S101 - stdout=PIPE above
        seen = _strip_password_hashes(iter(proc.stdout.readline, ""), out)
        stderr = proc.stderr.read() if proc.stderr else ""
    if proc.returncode != 0:
        raise BackupError(f"pg_dump failed: {stderr.strip() or proc.returncode}")
    if not seen:
        raise BackupError("pg_dump wrote no users table: refusing a backup that may hold hashes.")
    return dump, "postgresql-sql"


def create_backup(database_url: str, target: str | Path, credentials: bool = True) -> Path:
    """Write a backup of the database at database_url to target (mode 0600); return its path.

    credentials=False replaces every password hash with one no password matches (restoring
    such a backup needs `flask user set-password` for each person who logs in).
    """
    url = make_url(database_url)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    backend = url.get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise BackupError(f"Backups of {backend} databases are not supported.")
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".backup-") as tmp:
        work = Path(tmp)
        if backend == "sqlite":
            dump, kind = _sqlite_dump(url, work, credentials), "sqlite"
        else:
            dump, kind = _postgres_dump(url, work, credentials)
        digest = hashlib.sha256()
        with dump.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        header = {
            "format": FORMAT_VERSION,
            "kind": kind,
            "size": dump.stat().st_size,
            "sha256": digest.hexdigest(),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "credentials": credentials,
        }
        part = work / "backup.part"
        _private_file(part)
        with part.open("wb") as out, dump.open("rb") as fh:
            out.write(CONTAINER_MAGIC)
            out.write(json.dumps(header).encode() + b"\n")
            shutil.copyfileobj(fh, out, 1 << 20)
        part.replace(target)
    os.chmod(target, FILE_MODE)
    return target


def read_header(path: str | Path) -> tuple[BackupInfo, int]:
    """The header of the backup at path and the offset of its payload.

    Raises BackupError saying what is wrong: not a backup, truncated, or a format version
    this code does not read.
    """
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(len(CONTAINER_MAGIC))
        if head != CONTAINER_MAGIC:
            if head.startswith((SQLITE_MAGIC, PGDUMP_MAGIC)):
                raise BackupError(
                    f"{path} is a bare database file, not a backup made by `flask backup "
                    "create` (it has no header, so it cannot be checked before a restore)."
                )
            raise BackupError(f"{path} is not a backup made by `flask backup create`.")
        line = fh.readline(MAX_HEADER)
        if not line.endswith(b"\n"):
            raise BackupError(f"{path} is truncated: its header is incomplete.")
        try:
            header = json.loads(line)
        except ValueError as exc:
            raise BackupError(f"{path} has a damaged header ({exc}).") from exc
        version = header.get("format")
        if version != FORMAT_VERSION:
            raise BackupError(
                f"{path} is a backup of format version {version}; this version of "
                f"needs-tracker reads version {FORMAT_VERSION} only."
            )
        try:
            info = BackupInfo(
                kind=str(header["kind"]),
                size=int(header["size"]),
                sha256=str(header["sha256"]),
                created_at=str(header.get("created_at", "")),
                credentials=bool(header.get("credentials", True)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BackupError(f"{path} has a damaged header (missing {exc}).") from exc
        offset = fh.tell()
    payload = path.stat().st_size - offset
    if payload < info.size:
        raise BackupError(f"{path} is truncated: {payload} of {info.size} bytes of data are there.")
    if payload > info.size:
        raise BackupError(f"{path} has {payload - info.size} bytes too many: it was altered.")
    return info, offset


def verify_backup(path: str | Path) -> BackupInfo:
    """Check path completely (header, size, SHA-256); return its header."""
    info, offset = read_header(path)
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        fh.seek(offset)
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != info.sha256:
        raise BackupError(
            f"{path} fails its checksum (SHA-256 differs): the file was damaged after it was "
            "written. Use another backup."
        )
    return info


@contextmanager
def _payload(path: Path, offset: int) -> Iterator[Path]:
    """The dump inside a backup, as a private temporary file."""
    with tempfile.TemporaryDirectory(prefix="needs-tracker-restore-") as tmp:
        out_path = Path(tmp) / "payload"
        _private_file(out_path)
        with path.open("rb") as fh, out_path.open("wb") as out:
            fh.seek(offset)
            shutil.copyfileobj(fh, out, 1 << 20)
        yield out_path


def backup_kind(path: str | Path) -> str:
    """'sqlite', 'postgresql' or 'postgresql-sql', from the backup's header."""
    return read_header(path)[0].kind


def _backend_of(kind: str) -> str:
    return "postgresql" if kind.startswith("postgresql") else kind


def restore_backup(database_url: str, source: str | Path) -> BackupInfo:
    """Replace the database at database_url with the backup in source; return its header.

    The whole file is checked first; nothing is touched when it is damaged. The caller must
    have closed its connections (engine.dispose()).
    """
    url = make_url(database_url)
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"No backup file at {source}.")
    info = verify_backup(source)
    backend = _backend_of(info.kind)
    if backend != url.get_backend_name():
        raise BackupError(
            f"{source} is a {backend} backup but the configured database is "
            f"{url.get_backend_name()}."
        )
    _, offset = read_header(source)
    with _payload(source, offset) as payload:
        if info.kind == "sqlite":
            _restore_sqlite(url, payload)
        elif info.kind == "postgresql":
            _restore_pg_archive(url, payload)
        elif info.kind == "postgresql-sql":
            _restore_pg_sql(url, payload)
        else:
            raise BackupError(f"{source} holds a {info.kind} dump, which cannot be restored.")
    return info


def _restore_sqlite(url: URL, payload: Path) -> None:
    target = _sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{payload}?mode=ro", uri=True)
    dst = sqlite3.connect(str(target))
    try:
        try:
            src.execute("PRAGMA schema_version").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"The backup's SQLite data cannot be read: {exc}.") from exc
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


def _restore_pg_archive(url: URL, payload: Path) -> None:
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
        str(payload),
    ]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # nosec B603
    if result.returncode != 0:
        raise BackupError(
            f"pg_restore failed: {result.stderr.strip() or f'exit code {result.returncode}'}"
        )


def _restore_pg_sql(url: URL, payload: Path) -> None:
    args, env = _pg_args(url)
    cmd = [
        _tool("psql"),
        "--quiet",
        "--no-psqlrc",
        "--single-transaction",
        "-v",
        "ON_ERROR_STOP=1",
        *args,
        "-d",
        url.database,
        "-f",
        str(payload),
    ]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # nosec B603
    if result.returncode != 0:
        raise BackupError(
            f"psql failed: {result.stderr.strip() or f'exit code {result.returncode}'}"
        )
