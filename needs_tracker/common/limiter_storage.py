"""A rate-limit storage in one SQLite file, shared by every worker process on the host.

`memory://` keeps counters per worker, so with 2-4 gunicorn workers a limit of 10 lets 20-40
attempts through. Redis is the usual fix; this storage gives `make run` and small
single-host deployments the same guarantee without a Redis server. Each increment runs in
one `BEGIN IMMEDIATE` transaction, so concurrent workers never lose a hit.

URI: `sqlitefile:///absolute/path/ratelimit.sqlite` (registered with `limits` on import).
Only the fixed-window strategy (Flask-Limiter's default) is supported.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from limits.storage import Storage

SCHEME = "sqlitefile"


class SQLiteFileStorage(Storage):
    """Fixed-window counters in a SQLite file (WAL mode, one transaction per hit)."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        path = (uri or "").split("://", 1)[-1]
        if not path:
            raise ValueError(f"{SCHEME}:// needs a file path, e.g. {SCHEME}:///srv/ratelimit.db")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS counters "
                "(key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires_at REAL NOT NULL)"
            )
            conn.commit()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: transactions are begun explicitly (BEGIN IMMEDIATE).
        return sqlite3.connect(str(self.path), timeout=10, isolation_level=None)

    @property
    def base_exceptions(self) -> type[Exception]:
        """Errors of the SQLite driver (wrapped by limits when asked)."""
        return sqlite3.Error

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add amount to key's counter, starting a new window of expiry seconds if expired."""
        now = time.time()
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    "SELECT value, expires_at FROM counters WHERE key = ?", (key,)
                ).fetchone()
                if row is None or row[1] <= now:
                    value = amount
                    # New windows are rare (one per address and minute at most): a good
                    # moment to drop the counters that have run out.
                    conn.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
                    conn.execute(
                        "INSERT OR REPLACE INTO counters (key, value, expires_at) VALUES (?, ?, ?)",
                        (key, value, now + expiry),
                    )
                else:
                    value = row[0] + amount
                    conn.execute("UPDATE counters SET value = ? WHERE key = ?", (value, key))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return value

    def get(self, key: str) -> int:
        """The counter of key in its current window (0 when expired or unknown)."""
        with closing(self._connect()) as conn:
            row = conn.execute(
                "SELECT value FROM counters WHERE key = ? AND expires_at > ?", (key, time.time())
            ).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        """When key's window ends (now when there is none)."""
        with closing(self._connect()) as conn:
            row = conn.execute(
                "SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?",
                (key, time.time()),
            ).fetchone()
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        """True when the file can be read and written."""
        try:
            with closing(self._connect()) as conn:
                conn.execute("SELECT count(*) FROM counters").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every counter; return how many there were."""
        with closing(self._connect()) as conn:
            count = conn.execute("DELETE FROM counters").rowcount
        return count

    def clear(self, key: str) -> None:
        """Forget key's counter."""
        with closing(self._connect()) as conn:
            conn.execute("DELETE FROM counters WHERE key = ?", (key,))
