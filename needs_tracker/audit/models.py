"""The audit trail: one row per create, update or delete of a record, written by session events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from needs_tracker.common.models import utcnow
from needs_tracker.extensions import db


class AuditEntry(db.Model):
    """Who changed which record, when, and its values before and after.

    Rows are only ever inserted (by needs_tracker.audit.events, in the transaction of the change
    itself); no route updates or deletes them. user_id and record ids are plain integers, not
    foreign keys, so that the trail outlives the users and records it mentions.
    """

    __tablename__ = "audit_entries"
    __audit__ = False
    # A record's history (its own entries, then its child rows'): one index lookup each.
    __table_args__ = (
        Index("ix_audit_entries_record", "table_name", "record_id"),
        Index("ix_audit_entries_parent", "parent_table", "parent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(12), index=True)
    table_name: Mapped[str] = mapped_column(String(64), index=True)
    record_id: Mapped[int | None] = mapped_column(Integer, index=True)
    centre_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # A child row (a need's status change, a visit's team member) also names its parent record,
    # so that the parent's history shows it.
    parent_table: Mapped[str | None] = mapped_column(String(64))
    parent_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # Set when the change came through something other than a user session (an API token).
    via: Mapped[str | None] = mapped_column(String(120))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} {self.table_name}#{self.record_id}>"

    @property
    def changed_keys(self) -> list[str]:
        """Names of the values this entry records."""
        return sorted(set(self.before or {}) | set(self.after or {}))
