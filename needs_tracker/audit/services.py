"""Reading the audit trail: per-record history (for whoever may see the record) and search."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, String, cast, or_, select, union_all

from needs_tracker.audit.models import AuditEntry
from needs_tracker.common.models import CentreOwnedMixin
from needs_tracker.common.scoping import Scope
from needs_tracker.extensions import db

# Tables every signed-in user reads (the shared expert and resource pool, the field list).
SHARED_TABLES = frozenset({"experts", "resources", "tech_fields"})


def model_for_table(table: str) -> type | None:
    """The mapped class whose table is `table`, if any."""
    for mapper in db.Model.registry.mappers:
        if mapper.local_table is not None and mapper.local_table.name == table:
            return mapper.class_
    return None


def audited_tables() -> list[str]:
    """Names of the tables that have entries, for the search form."""
    return list(
        db.session.scalars(select(AuditEntry.table_name).distinct().order_by(AuditEntry.table_name))
    )


def record_is_visible(table: str, record_id: int, scope: Scope, is_admin: bool) -> bool:
    """True when the actor may read record (table, record_id) and therefore its history.

    A record that still exists is checked through the scoping layer (a scoped SELECT, soft-deleted
    rows included); a record deleted for good is judged by the centre its entries name.
    """
    if is_admin:
        return True
    model = model_for_table(table)
    if model is None or not hasattr(model, "id"):
        return False
    if table in SHARED_TABLES:
        return True
    if not issubclass(model, CentreOwnedMixin):
        return False  # users, centres, imports: admins only (child rows show on their parent)
    visible = db.session.scalar(
        select(model.id).where(model.id == record_id).execution_options(include_deleted=True)
    )
    if visible is not None:
        return True
    exists = db.session.connection().scalar(
        select(model.__table__.c.id).where(model.__table__.c.id == record_id)
    )
    if exists is not None:
        return False  # outside the actor's centres
    # Deleted for good: judge by the centre its entries name.
    centres = set(
        db.session.scalars(
            select(AuditEntry.centre_id).where(
                AuditEntry.table_name == table, AuditEntry.record_id == record_id
            )
        )
    )
    return bool(centres) and all(c is not None and scope.can_read(c) for c in centres)


def history_stmt(table: str, record_id: int) -> Select:
    """Entries of a record and of its child rows (status changes, team members), newest first."""
    # Two index lookups joined by id: with an OR, the databases walked the whole trail
    # newest-first (a second per detail page with 380,000 entries).
    own = select(AuditEntry.id).where(
        AuditEntry.table_name == table, AuditEntry.record_id == record_id
    )
    children = select(AuditEntry.id).where(
        AuditEntry.parent_table == table, AuditEntry.parent_id == record_id
    )
    return (
        select(AuditEntry)
        .where(AuditEntry.id.in_(union_all(own, children)))
        .order_by(AuditEntry.id.desc())
    )


def visible_to(stmt: Select, scope: Scope) -> Select:
    """Limit entries to the actor's centres (entries of shared rows stay visible)."""
    if scope.read_centres is None:
        return stmt
    ids = tuple(sorted(scope.read_centres)) or (-1,)
    return stmt.where(
        or_(
            AuditEntry.centre_id.in_(ids),
            AuditEntry.centre_id.is_(None) & AuditEntry.table_name.in_(SHARED_TABLES),
        )
    )


@dataclass
class AuditFilter:
    """Criteria of the admin search page."""

    user_id: int | None = None
    table: str = ""
    action: str = ""
    start: date | None = None
    end: date | None = None
    text: str = ""
    record_id: int | None = None


def search_stmt(f: AuditFilter) -> Select:
    """Entries matching f, newest first."""
    stmt = select(AuditEntry)
    if f.user_id is not None:
        stmt = stmt.where(AuditEntry.user_id == f.user_id)
    if f.table:
        stmt = stmt.where(AuditEntry.table_name == f.table)
    if f.action:
        stmt = stmt.where(AuditEntry.action == f.action)
    if f.record_id is not None:
        stmt = stmt.where(AuditEntry.record_id == f.record_id)
    if f.start:
        stmt = stmt.where(AuditEntry.at >= datetime.combine(f.start, time.min, UTC))
    if f.end:
        stmt = stmt.where(
            AuditEntry.at < datetime.combine(f.end + timedelta(days=1), time.min, UTC)
        )
    if f.text:
        # JSON columns may hold non-ASCII text escaped (\\uXXXX): match both spellings.
        spellings = {f.text, json.dumps(f.text)[1:-1]}
        stmt = stmt.where(
            or_(
                *(
                    cast(col, String).icontains(t, autoescape=True)
                    for col in (AuditEntry.before, AuditEntry.after)
                    for t in spellings
                )
            )
        )
    return stmt.order_by(AuditEntry.id.desc())


# Recorded values that are user ids, shown by the user's name.
USER_COLUMNS = frozenset({"user_id", "by_id", "changed_by_id", "created_by_id"})


def user_names(entries: list[AuditEntry]) -> dict[int, str]:
    """Display names of the users who made entries or are named in their values."""
    from needs_tracker.auth.models import User

    ids = {e.user_id for e in entries if e.user_id is not None}
    for e in entries:
        for values in (e.before or {}, e.after or {}):
            ids.update(v for k, v in values.items() if k in USER_COLUMNS and isinstance(v, int))
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {uid: name for uid, name in rows}


def format_value(value: Any) -> str:
    """A short display form of a recorded value."""
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    text = str(value)
    return text if len(text) <= 300 else text[:300] + "…"
