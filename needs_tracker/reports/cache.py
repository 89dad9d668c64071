"""The monthly facts of a scope, closed months read from the cache table, the rest computed.

A month that is over does not change unless a record dated in it changes, and such a write
invalidates it (reports/invalidation.py, in the writer's transaction). So a closed month's facts
are stored once in `report_month_facts` (the database: app servers keep nothing between
requests) and read back as computed; the current month, and months not over, are always
counted afresh. The figures come out the same either way: a computed month goes through the
same JSON form as a stored one before the builder sees it.

Services flush and never commit: the view or command that asked commits, so the stored
months survive the request.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from needs_tracker.common.models import utcnow
from needs_tracker.common.scoping import get_scope
from needs_tracker.extensions import db
from needs_tracker.reports import kpis as K
from needs_tracker.reports.builder import FACT_COLUMNS, Facts
from needs_tracker.reports.facts import (
    ALL,
    ReportScope,
    centre_key,
    compute_facts,
    month_end,
    month_range,
)
from needs_tracker.reports.models import ReportMonthFacts

log = logging.getLogger(__name__)
TABLE = ReportMonthFacts.__table__


def today() -> date:
    """Today's date in UTC, the calendar the facts' months follow."""
    return datetime.now(UTC).date()


def is_closed(month: str, on: date | None = None) -> bool:
    """True when month ("YYYY-MM") is over on the given day (default today)."""
    return month_end(month) < (on or today())


@dataclass
class MonthFacts:
    """Facts of some months, and which of them came from the cache."""

    facts: Facts
    months: list[str]
    hits: list[str] = field(default_factory=list)
    computed: list[str] = field(default_factory=list)


def _per_month(frames: dict[str, pd.DataFrame], months: list[str]) -> dict[str, dict[str, Any]]:
    """Split computed frames into one JSON-ready payload per month (column lists, no month)."""
    out: dict[str, dict[str, Any]] = {m: {} for m in months}
    for name, df in frames.items():
        if df.empty:
            continue
        columns = [c for c in FACT_COLUMNS[name] if c != "month"]
        for month, rows in df.groupby("month", sort=False):
            payload = {c: [_plain(v) for v in rows[c].tolist()] for c in columns}
            out.setdefault(str(month), {})[name] = payload
    return out


def _plain(value: Any) -> Any:
    # numpy scalars and NaN out: what json.dumps writes and json.loads gives back
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _combine(payloads: dict[str, dict[str, Any]]) -> Facts:
    """One Facts from the months' payloads (stored or freshly computed alike)."""
    columns: dict[str, dict[str, list[Any]]] = {}
    for name, names in FACT_COLUMNS.items():
        data: dict[str, list[Any]] = {c: [] for c in names}
        for month, payload in payloads.items():
            part = payload.get(name)
            if not part:
                continue
            data["month"].extend([month] * len(part[names[1]]))
            for c in names[1:]:
                data[c].extend(part[c])
        columns[name] = data
    return Facts.from_columns(columns)


def _runs(months: list[str]) -> list[list[str]]:
    """Consecutive months grouped, so that each run is one set of grouped queries."""
    runs: list[list[str]] = []
    for m in months:
        if runs and _next(runs[-1][-1]) == m:
            runs[-1].append(m)
        else:
            runs.append([m])
    return runs


def _next(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


def cacheable(scope: ReportScope) -> str | None:
    """The cache key of scope, when the session may read all of it (None otherwise).

    Facts are counted through the session's centre scope: a user who reads less than the
    scope would count less, so nothing they compute is stored under it.
    """
    key = scope.key
    if key is None:
        return None
    session_scope = get_scope(db.session)
    if session_scope is None or session_scope.read_centres is None:
        return key
    if key == ALL:
        return None
    return key if scope.centre_ids and scope.centre_ids[0] in session_scope.read_centres else None


def month_facts(
    scope: ReportScope, first: date, last: date, on: date | None = None, use_cache: bool = True
) -> MonthFacts:
    """The facts of scope for the months from first's to last's; closed months from the cache.

    Missing closed months are computed and stored (flushed; the caller commits).
    """
    months = month_range(first, last)
    key = cacheable(scope) if use_cache else None
    closed = [m for m in months if is_closed(m, on)]
    payloads: dict[str, dict[str, Any]] = {}
    generations: dict[str, int] = {}
    if key and closed:
        rows = db.session.execute(
            select(
                ReportMonthFacts.month, ReportMonthFacts.generation, ReportMonthFacts.facts
            ).where(
                ReportMonthFacts.scope == key,
                ReportMonthFacts.version == K.FACTS_VERSION,
                ReportMonthFacts.month >= closed[0],
                ReportMonthFacts.month <= closed[-1],
            )
        ).all()
        for month, generation, text in rows:
            generations[month] = generation
            if text is not None:
                payloads[month] = json.loads(text)
    hits = [m for m in months if m in payloads]
    missing = [m for m in months if m not in payloads]
    computed: dict[str, dict[str, Any]] = {}
    for run in _runs(missing):
        frames = compute_facts(scope, date.fromisoformat(run[0] + "-01"), month_end(run[-1]))
        computed.update(_per_month(frames, run))
    if key:
        _store(key, {m: p for m, p in computed.items() if m in closed}, generations)
    payloads.update(computed)
    ordered = {m: payloads[m] for m in months}
    return MonthFacts(_combine(ordered), months, hits, sorted(computed))


def _store(key: str, payloads: dict[str, dict[str, Any]], generations: dict[str, int]) -> None:
    """Store computed closed months, each only if no write invalidated it since it was read."""
    if not payloads:
        return
    now = utcnow()
    try:
        with db.session.begin_nested():
            conn = db.session.connection()
            for month, payload in payloads.items():
                text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
                if month in generations:
                    conn.execute(
                        update(TABLE)
                        .where(
                            TABLE.c.scope == key,
                            TABLE.c.month == month,
                            TABLE.c.version == K.FACTS_VERSION,
                            TABLE.c.generation == generations[month],
                            TABLE.c.facts.is_(None),
                        )
                        .values(facts=text, computed_at=now)
                    )
                else:
                    values = {
                        "scope": key,
                        "month": month,
                        "version": K.FACTS_VERSION,
                        "generation": 0,
                        "facts": text,
                        "computed_at": now,
                    }
                    conn.execute(_insert(conn).values(values).on_conflict_do_nothing())
    except DBAPIError as exc:  # a locked database: the figures are right, only not stored
        log.warning("report facts of %s not cached: %s", key, exc)


def _insert(conn: Connection) -> Any:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(TABLE)
    if dialect == "sqlite":
        return sqlite.insert(TABLE)
    raise NotImplementedError(f"report cache on {dialect}")


def scope_keys(centre_id: int) -> tuple[str, str]:
    """The cached scopes a record of centre_id counts in: every centre's, and its own."""
    return (ALL, centre_key(centre_id))


def invalidate(conn: Connection, pairs: set[tuple[int, str]], on: date | None = None) -> int:
    """Mark the closed months of (centre id, "YYYY-MM") pairs stale, in conn's transaction.

    A month not cached yet gets an empty row all the same, so that a request computing it at
    this moment cannot store what it counted before this write. A month on its last day is
    marked too: a request that finds it closed after midnight must not store what it counted
    before this write commits. Returns the rows written.
    """
    day = on or today()
    rows = {
        (scope, month)
        for centre_id, month in pairs
        if centre_id is not None and month_end(month) <= day
        for scope in scope_keys(centre_id)
    }
    if not rows:
        return 0
    values = [
        {"scope": s, "month": m, "version": K.FACTS_VERSION, "generation": 1, "facts": None}
        for s, m in sorted(rows)
    ]
    stmt = _insert(conn).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["scope", "month", "version"],
        set_={"facts": None, "computed_at": None, "generation": TABLE.c.generation + 1},
    )
    conn.execute(stmt)
    return len(values)


def invalidate_all(conn: Connection) -> None:
    """Mark every cached month stale (a write whose months cannot be told)."""
    conn.execute(
        update(TABLE).values(facts=None, computed_at=None, generation=TABLE.c.generation + 1)
    )
