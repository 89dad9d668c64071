"""Session events that write the audit trail: one mechanism for every feature's models.

`before_flush` snapshots the stored values of rows about to change (reading them from the
database when the ORM had expired them); `after_flush` (ids are known, attribute history still
shows the flush's changes) inserts one AuditEntry per created, updated or deleted row, in the
same transaction, so a rolled-back change leaves no trace and a committed one always has its
entry. The acting user comes from the Scope attached to the session (never from the request).

Every mapped class is audited unless it sets ``__audit__ = False`` or its table is in
EXCLUDED_TABLES (caches, staging data and change logs of their own). A feature package gets the
audit trail by merely defining models.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.base import NO_VALUE

from needs_tracker.common.models import CentreOwnedMixin, utcnow
from needs_tracker.common.scoping import SCOPE_KEY

BEFORE_KEY = "needs_tracker.audit.before"

# Tables whose rows are not centre data, or are themselves logs of changes.
EXCLUDED_TABLES = frozenset(
    {"audit_entries", "import_uploads", "import_records", "match_index_state"}
)
# Columns whose changes are bookkeeping, not content (a login must not look like an edit).
IGNORED_COLUMNS = frozenset(
    {
        "updated_at",
        "version",
        "last_login_at",
        "failed_logins",
        "session_version",
        "search_terms",  # derived from title and description, which are recorded
    }
)
# Columns recorded only as "changed", never with their value.
REDACTED_COLUMNS = frozenset({"password_hash"})
REDACTED = "***"


class Action(enum.StrEnum):
    """What happened to a record."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    SOFT_DELETE = "soft_delete"
    RESTORE = "restore"


def is_audited(obj: Any) -> bool:
    """True when changes to obj are recorded."""
    cls = type(obj)
    if not getattr(cls, "__audit__", True):
        return False
    mapper = inspect(cls, raiseerr=False)
    return mapper is not None and mapper.local_table.name not in EXCLUDED_TABLES


def jsonable(value: Any) -> Any:
    """A JSON-safe form of a column value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(bytes(value))} bytes>"
    if isinstance(value, dict | list | tuple):
        return value if isinstance(value, dict) else list(value)
    return str(value)


def _value(key: str, value: Any) -> Any:
    if key in REDACTED_COLUMNS and value is not None:
        return REDACTED
    return jsonable(value)


def _column_keys(mapper: Mapper) -> list[str]:
    return [p.key for p in mapper.column_attrs]


def _m2m_relationships(mapper: Mapper) -> list[Any]:
    return [r for r in mapper.relationships if r.secondary is not None and not r.viewonly]


def _ids(objs: Any) -> list[Any]:
    out = []
    for o in objs or ():
        ident = inspect(o).identity
        out.append(ident[0] if ident and len(ident) == 1 else (ident and list(ident)))
    return sorted(out, key=lambda v: (v is None, str(v)))


def _snapshot(obj: Any, *, load: bool) -> dict[str, Any]:
    """Every column value of obj (loading expired ones when load is true)."""
    state = inspect(obj)
    mapper = state.mapper
    out: dict[str, Any] = {}
    for key in _column_keys(mapper):
        if key in IGNORED_COLUMNS:
            continue
        if key in state.dict:
            out[key] = _value(key, state.dict[key])
        elif load:
            out[key] = _value(key, getattr(obj, key))
    for rel in _m2m_relationships(mapper):
        if rel.key in state.dict:
            out[rel.key] = _ids(state.dict[rel.key])
    return out


def _stored_values(session: Session, obj: Any) -> dict[str, Any]:
    """Values that changed columns of obj have in the database (before this flush)."""
    state = inspect(obj)
    mapper = state.mapper
    out: dict[str, Any] = {}
    missing = []
    for key in _column_keys(mapper):
        if key in state.committed_state:
            old = state.committed_state[key]
            if old is NO_VALUE:
                missing.append(key)
            else:
                out[key] = old
    if missing and state.key is not None:
        table = mapper.local_table
        pk_cols = mapper.primary_key
        cols = [mapper.get_property(k).columns[0] for k in missing]
        stmt = select(*cols).where(*(c == v for c, v in zip(pk_cols, state.key[1], strict=True)))
        row = session.connection().execute(stmt).first()
        if row is not None and table is not None:
            out.update(dict(zip(missing, row, strict=True)))
    return out


def _before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    store: dict[int, tuple[Any, dict[str, Any]]] = session.info.setdefault(BEFORE_KEY, {})
    with session.no_autoflush:
        for obj in list(session.dirty):
            if is_audited(obj) and inspect(obj).key is not None:
                store[id(obj)] = (obj, _stored_values(session, obj))
        for obj in list(session.deleted):
            if is_audited(obj):
                store[id(obj)] = (obj, _snapshot(obj, load=True))


def _owner(session: Session, obj: Any, cache: dict) -> tuple[int | None, str | None, Any]:
    """(centre id, parent table, parent id) of obj."""
    mapper = inspect(obj).mapper
    centre_id = None
    if "centre_id" in mapper.column_attrs:
        centre_id = inspect(obj).dict.get("centre_id")
    parent_fn = getattr(obj, "audit_parent", None)
    if callable(parent_fn):
        parent_table, parent_id = parent_fn()
        return centre_id, parent_table, parent_id
    if isinstance(obj, CentreOwnedMixin):
        return centre_id, None, None
    for rel in mapper.relationships:
        target = rel.mapper.class_
        if rel.direction.name != "MANYTOONE" or not issubclass(target, CentreOwnedMixin):
            continue
        local = list(rel.local_columns)
        if len(local) != 1:
            continue
        fk_key = mapper.get_property_by_column(local[0]).key
        parent_id = inspect(obj).dict.get(fk_key)
        if parent_id is None:
            continue
        table = rel.mapper.local_table.name
        if centre_id is None:
            key = (table, parent_id)
            if key not in cache:
                cache[key] = session.connection().scalar(
                    select(rel.mapper.local_table.c.centre_id).where(
                        rel.mapper.local_table.c.id == parent_id
                    )
                )
            centre_id = cache[key]
        return centre_id, table, parent_id
    return centre_id, None, None


def _record_id(obj: Any) -> int | None:
    state = inspect(obj)
    pk = state.mapper.primary_key
    if len(pk) != 1:
        return None
    value = state.dict.get(state.mapper.get_property_by_column(pk[0]).key)
    return value if isinstance(value, int) else None


def _changes(obj: Any, stored: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(before, after) of the columns and many-to-many collections that changed."""
    state = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key in _column_keys(state.mapper):
        if key in IGNORED_COLUMNS:
            continue
        hist = state.attrs[key].history
        if not hist.has_changes():
            continue
        new = hist.added[0] if hist.added else state.dict.get(key)
        if key in stored:
            old = stored[key]
        elif hist.deleted:
            old = hist.deleted[0]
        else:
            old = None
        if jsonable(old) == jsonable(new):
            continue
        before[key] = _value(key, old)
        after[key] = _value(key, new)
    for rel in _m2m_relationships(state.mapper):
        hist = state.attrs[rel.key].history
        if not hist.has_changes():
            continue
        old_ids = _ids([*hist.unchanged, *hist.deleted])
        new_ids = _ids([*hist.unchanged, *hist.added])
        if old_ids != new_ids:
            before[rel.key] = old_ids
            after[rel.key] = new_ids
    return before, after


def _after_flush(session: Session, _ctx: Any) -> None:
    from needs_tracker.audit.models import AuditEntry

    stored = session.info.pop(BEFORE_KEY, {})
    scope = session.info.get(SCOPE_KEY)
    user_id = getattr(scope, "user_id", None)
    via = getattr(scope, "via", None)
    now = utcnow()
    cache: dict = {}
    rows: list[dict[str, Any]] = []

    def add(obj: Any, action: Action, before: Any, after: Any) -> None:
        centre_id, parent_table, parent_id = _owner(session, obj, cache)
        rows.append(
            {
                "at": now,
                "user_id": user_id,
                "via": via,
                "action": action.value,
                "table_name": inspect(obj).mapper.local_table.name,
                "record_id": _record_id(obj),
                "centre_id": centre_id,
                "parent_table": parent_table,
                "parent_id": parent_id,
                "before": before,
                "after": after,
            }
        )

    for obj in session.new:
        if is_audited(obj):
            add(obj, Action.CREATE, None, _snapshot(obj, load=False))
    for obj in session.dirty:
        if not is_audited(obj) or obj in session.deleted:
            continue
        before, after = _changes(obj, stored.get(id(obj), (None, {}))[1])
        if not after and not before:
            continue
        action = Action.UPDATE
        if "deleted_at" in after:
            if before.get("deleted_at") is None and after["deleted_at"] is not None:
                action = Action.SOFT_DELETE
            elif before.get("deleted_at") is not None and after["deleted_at"] is None:
                action = Action.RESTORE
        add(obj, action, before, after)
    for obj in session.deleted:
        if is_audited(obj):
            snap = stored.get(id(obj), (None, None))[1]
            add(obj, Action.DELETE, snap if snap is not None else _snapshot(obj, load=False), None)
    if rows:
        session.connection().execute(insert(AuditEntry.__table__), rows)


def record_bulk_creates(
    session: Session,
    model: type,
    created: list[tuple[int, dict[str, Any]]],
    user_id: int | None,
    *,
    centre_id: int | None = None,
    parent: tuple[str, str] | None = None,
) -> None:
    """Audit rows that were inserted in bulk (Core INSERTs, which session events never see).

    created holds (new id, values) pairs: the column values inserted, plus many-to-many
    relationships by key (e.g. "fields": [ids]), as the entry of an ORM create would show them.
    centre_id is used when the values have none; parent is (parent table, the values' key of
    the parent id), for child rows such as a need's status changes.
    """
    from needs_tracker.audit.models import AuditEntry

    if not created or not getattr(model, "__audit__", True):
        return
    mapper = inspect(model)
    table = mapper.local_table.name
    if table in EXCLUDED_TABLES:
        return
    keys = set(_column_keys(mapper)) | {r.key for r in _m2m_relationships(mapper)}
    now = utcnow()
    rows = [
        {
            "at": now,
            "user_id": user_id,
            "action": Action.CREATE.value,
            "table_name": table,
            "record_id": record_id,
            "centre_id": values.get("centre_id", centre_id),
            "parent_table": parent[0] if parent else None,
            "parent_id": values.get(parent[1]) if parent else None,
            "before": None,
            "after": {
                k: _value(k, v)
                for k, v in {"id": record_id, **values}.items()
                if k in keys and k not in IGNORED_COLUMNS
            },
        }
        for record_id, values in created
    ]
    session.connection().execute(insert(AuditEntry.__table__), rows)


def _after_rollback(session: Session) -> None:
    session.info.pop(BEFORE_KEY, None)


_LISTENERS = (
    ("before_flush", _before_flush),
    ("after_flush", _after_flush),
    ("after_soft_rollback", lambda session, _tx: _after_rollback(session)),
)


def register() -> None:
    """Listen on every Session (idempotent)."""
    for name, fn in _LISTENERS:
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)
