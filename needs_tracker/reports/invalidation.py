"""Which months a write changes, so that their cached facts are recomputed (reports/cache.py).

Two paths write the records the facts count, and both are watched here:
- the ORM's unit of work (forms, services, the API, undo of an import, merges): session
  `before_flush` notes the months of what is about to change (its stored values), then
  `after_flush` the months of what it became, and invalidates both;
- statements executed through the session (the import's bulk INSERTs of needs, their fields
  and first status changes; bulk UPDATE/DELETE): `do_orm_execute` reads the months of the rows
  a statement will touch (its WHERE), runs it, reads them again, and invalidates both.
  Writes on a bare connection are not seen (only the audit trail writes that way).

A record counts in the facts of more months than its own date: a need in the months of its
resolutions and recommendations (a deleted need's steps count nowhere), a visit in the months
of every visit of its organisations (a revisit is a visit after the first), an organisation
(kind, district, deletion) in the months of its visits and needs, a match in its need's and its
meeting's months. The months are read from the tables directly, deleted rows included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, event, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session, aliased

from needs_tracker.matching.models import DockingEvent, Match, MatchTransition
from needs_tracker.needs.models import Need, NeedStatusChange
from needs_tracker.organisations.models import Organisation
from needs_tracker.reports import kpis as K
from needs_tracker.reports.builder import month_key
from needs_tracker.reports.cache import invalidate, invalidate_all
from needs_tracker.reports.facts import utc_day
from needs_tracker.visits.models import Visit, VisitTeamMember, visit_organisations

BEFORE_KEY = "needs_tracker.reports.invalidation.before"
CHUNK = 500

needs_t = Need.__table__
changes_t = NeedStatusChange.__table__
visits_t = Visit.__table__
vo_t = visit_organisations
matches_t = Match.__table__
steps_t = MatchTransition.__table__
events_t = DockingEvent.__table__

# The attributes whose change moves a figure (other edits, a title or a phone number, do not).
RELEVANT: dict[type, frozenset[str]] = {
    Need: frozenset(
        {
            "centre_id",
            "collected_on",
            "status",
            "need_type",
            "urgency",
            "organisation_id",
            "deleted_at",
            "fields",
        }
    ),
    Visit: frozenset({"centre_id", "visit_date", "status", "deleted_at", "organisations", "team"}),
    Organisation: frozenset({"centre_id", "kind", "district", "deleted_at"}),
    Match: frozenset({"centre_id", "need_id", "amount", "docking_event_id"}),
    DockingEvent: frozenset({"centre_id", "held_on"}),
}


@dataclass
class Touched:
    """The records a write touches, by kind, and (centre, month) pairs known directly."""

    needs: set[int] = field(default_factory=set)
    visits: set[int] = field(default_factory=set)
    orgs: set[int] = field(default_factory=set)
    matches: set[int] = field(default_factory=set)
    events: set[int] = field(default_factory=set)
    pairs: set[tuple[int, str]] = field(default_factory=set)
    everything: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.needs
            or self.visits
            or self.orgs
            or self.matches
            or self.events
            or self.pairs
            or self.everything
        )

    def add_values(self, table: str, values: dict[str, Any]) -> None:
        """A row of table (column values, as inserted or as selected) and what it touches."""
        get = values.get
        if table == "needs":
            if get("id") is not None:
                self.needs.add(get("id"))
            if get("centre_id") is not None and get("collected_on") is not None:
                self.pairs.add((get("centre_id"), _month(get("collected_on"))))
        elif table in ("need_status_changes", "need_fields"):
            self._add(self.needs, get("need_id"))
        elif table == "visits":
            if get("id") is not None:
                self.visits.add(get("id"))
            if get("centre_id") is not None and get("visit_date") is not None:
                self.pairs.add((get("centre_id"), _month(get("visit_date"))))
        elif table in ("visit_organisations", "visit_team_members"):
            self._add(self.visits, get("visit_id"))
            self._add(self.orgs, get("organisation_id"))
        elif table == "organisations":
            self._add(self.orgs, get("id"))
        elif table == "matches":
            self._add(self.matches, get("id"))
            self._add(self.needs, get("need_id"))
            self._add(self.events, get("docking_event_id"))
        elif table == "match_transitions":
            self._add(self.matches, get("match_id"))
        elif table == "docking_events":
            self._add(self.events, get("id"))
            if get("centre_id") is not None and get("held_on") is not None:
                self.pairs.add((get("centre_id"), _month(get("held_on"))))

    @staticmethod
    def _add(target: set[int], value: Any) -> None:
        if value is not None:
            target.add(value)


# What a statement on each table touches: the columns to read from the rows it changes.
SUBJECT_COLUMNS: dict[str, tuple[str, ...]] = {
    "needs": ("id", "centre_id", "collected_on"),
    "need_status_changes": ("need_id",),
    "need_fields": ("need_id",),
    "visits": ("id", "centre_id", "visit_date"),
    "visit_organisations": ("visit_id", "organisation_id"),
    "visit_team_members": ("visit_id",),
    "organisations": ("id",),
    "matches": ("id", "need_id", "docking_event_id"),
    "match_transitions": ("match_id",),
    "docking_events": ("id", "centre_id", "held_on"),
}
TRACKED = frozenset(SUBJECT_COLUMNS)


def _month(value: date | datetime | str) -> str:
    if isinstance(value, str):  # a date or timestamp as text (a raw SQLite value)
        return value[:7]
    return month_key(utc_day(value))


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def months_of(conn: Connection, touched: Touched) -> set[tuple[int, str]]:
    """The (centre id, month) pairs whose facts count the touched records, as stored now."""
    pairs = set(touched.pairs)
    needs = set(touched.needs)
    events = set(touched.events)
    for chunk in _chunks(touched.matches):
        for need_id, event_id in conn.execute(
            select(matches_t.c.need_id, matches_t.c.docking_event_id).where(
                matches_t.c.id.in_(chunk)
            )
        ):
            needs.add(need_id)
            if event_id is not None:
                events.add(event_id)
    queries = []
    for chunk in _chunks(needs):
        queries += [
            select(needs_t.c.centre_id, needs_t.c.collected_on).where(needs_t.c.id.in_(chunk)),
            select(needs_t.c.centre_id, changes_t.c.changed_at)
            .join(needs_t, needs_t.c.id == changes_t.c.need_id)
            .where(changes_t.c.need_id.in_(chunk), changes_t.c.to_status == K.RESOLVED),
            # every step: recommendations, agreements, and the need's first step ever
            select(matches_t.c.centre_id, steps_t.c.at)
            .join(matches_t, matches_t.c.id == steps_t.c.match_id)
            .where(matches_t.c.need_id.in_(chunk)),
        ]
    other = aliased(vo_t)
    for chunk in _chunks(touched.visits):
        queries += [
            select(visits_t.c.centre_id, visits_t.c.visit_date).where(visits_t.c.id.in_(chunk)),
            # the other visits of its organisations: their first visit may have changed
            select(visits_t.c.centre_id, visits_t.c.visit_date)
            .select_from(vo_t)
            .join(other, other.c.organisation_id == vo_t.c.organisation_id)
            .join(visits_t, visits_t.c.id == other.c.visit_id)
            .where(vo_t.c.visit_id.in_(chunk)),
        ]
    for chunk in _chunks(touched.orgs):
        queries += [
            select(visits_t.c.centre_id, visits_t.c.visit_date)
            .join(vo_t, vo_t.c.visit_id == visits_t.c.id)
            .where(vo_t.c.organisation_id.in_(chunk)),
            select(needs_t.c.centre_id, needs_t.c.collected_on).where(
                needs_t.c.organisation_id.in_(chunk)
            ),
        ]
    for chunk in _chunks(events):
        queries.append(
            select(events_t.c.centre_id, events_t.c.held_on).where(events_t.c.id.in_(chunk))
        )
    for query in queries:
        for centre_id, when in conn.execute(query):
            if when is not None:
                pairs.add((centre_id, _month(when)))
    return pairs


# ---------------------------------------------------------------------------- the ORM path


CHILD_ROWS = (NeedStatusChange, MatchTransition, VisitTeamMember)


def _watched(session: Session, obj: Any) -> bool:
    """True for a created or deleted record the facts count, or one changed where they look."""
    if isinstance(obj, CHILD_ROWS):
        return True
    keys = RELEVANT.get(type(obj))
    if keys is None:
        return False
    if obj in session.new or obj in session.deleted:
        return True
    state = inspect(obj)
    return any(state.attrs[k].history.has_changes() for k in keys if k in state.attrs)


def _touch(touched: Touched, obj: Any, load: bool) -> None:
    """Add obj to touched; load: read attributes the session has not loaded (before a flush)."""
    state = inspect(obj)
    table = state.mapper.local_table.name
    values: dict[str, Any] = {}
    for key in SUBJECT_COLUMNS[table]:
        if key == "id" and state.identity:
            values[key] = state.identity[0]
        elif key in state.dict:
            values[key] = state.dict[key]
        elif load and state.key is not None:
            values[key] = getattr(obj, key)
    touched.add_values(table, values)


def _before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    touched = Touched()
    with session.no_autoflush:
        for obj in (*session.dirty, *session.deleted):
            if _watched(session, obj):
                _touch(touched, obj, load=True)
        if touched:
            # the months of what is stored now, before this flush changes it
            before = months_of(session.connection(), touched)
            session.info.setdefault(BEFORE_KEY, set()).update(before)


def _after_flush(session: Session, _ctx: Any) -> None:
    touched = Touched()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if _watched(session, obj):
            _touch(touched, obj, load=False)
    pairs = session.info.pop(BEFORE_KEY, set())
    if not touched and not pairs:
        return
    conn = session.connection()
    pairs |= months_of(conn, touched)
    invalidate(conn, pairs)


def _after_rollback(session: Session) -> None:
    session.info.pop(BEFORE_KEY, None)


# ---------------------------------------------------------------------------- statements


def _statement_rows(state: ORMExecuteState) -> list[dict[str, Any]] | None:
    params = state.parameters
    if isinstance(params, dict) and params:
        return [params]
    if isinstance(params, list | tuple) and params and isinstance(params[0], dict):
        return list(params)
    return None


def _touched_by_rows(conn: Connection, state: ORMExecuteState, table: Any) -> Touched:
    """What an UPDATE or DELETE touches: its rows, read with its own WHERE."""
    touched = Touched()
    stmt = state.statement
    where = getattr(stmt, "whereclause", None)
    if where is None:
        rows = _statement_rows(state) if state.is_update else None
        # an UPDATE by primary key, one parameter set per row
        if rows and all("id" in r for r in rows):
            for r in rows:
                touched.add_values(table.name, {"id": r["id"]})
        else:
            touched.everything = True
        return touched
    columns = [table.c[c] for c in SUBJECT_COLUMNS[table.name]]
    for row in conn.execute(select(*columns).where(where)).mappings():
        touched.add_values(table.name, dict(row))
    return touched


def _on_execute(state: ORMExecuteState) -> Any:
    stmt = state.statement
    if not getattr(stmt, "is_dml", False):
        return None
    table = getattr(stmt, "table", None)
    if table is None or getattr(table, "name", None) not in TRACKED:
        return None
    conn = state.session.connection()
    if state.is_insert:
        rows = _statement_rows(state)
        touched = Touched(everything=rows is None)
        for r in rows or ():
            touched.add_values(table.name, r)
        before: set[tuple[int, str]] = set()
    else:
        touched = _touched_by_rows(conn, state, table)
        before = set() if touched.everything else months_of(conn, touched)
    result = state.invoke_statement()
    if touched.everything:
        invalidate_all(conn)
    else:
        invalidate(conn, before | months_of(conn, touched))
    return result


_LISTENERS = (
    ("before_flush", _before_flush),
    ("after_flush", _after_flush),
    ("after_soft_rollback", lambda session, _tx: _after_rollback(session)),
    ("do_orm_execute", _on_execute),
)


def register() -> None:
    """Listen on every Session (idempotent)."""
    for name, fn in _LISTENERS:
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)
