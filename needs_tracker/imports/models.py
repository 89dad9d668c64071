"""Models of the imports feature: staged uploads, import batches (undoable), merges (reversible)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from needs_tracker.common.models import CentreOwnedMixin, TimestampMixin, utcnow
from needs_tracker.extensions import db


class ImportUpload(TimestampMixin, db.Model):
    """A parsed upload waiting for confirmation (kept in the DB: several workers serve requests)."""

    __tablename__ = "import_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(200), default="")
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class ImportBatch(TimestampMixin, db.Model):
    """One confirmed import; it can be undone as a unit while nothing depends on its records.

    centre_id is the centre the rows were imported into (None for the shared expert and
    resource pool); views filter batches to the user's centres.
    """

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_count: Mapped[int] = mapped_column(Integer, default=0)
    skipped_count: Mapped[int] = mapped_column(Integer, default=0)
    merged_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # rows not imported because they repeat an earlier row: {"header": [...], "rows": [...]}
    skipped_rows: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    records: Mapped[list[ImportRecord]] = relationship(
        back_populates="batch", order_by="ImportRecord.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<ImportBatch {self.id} {self.kind}>"


class ImportRecord(db.Model):
    """One record an import created or updated, with its values before and after."""

    __tablename__ = "import_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE"), index=True
    )
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(10))  # "create" | "update"
    row_number: Mapped[int] = mapped_column(Integer, default=0)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version_after: Mapped[int | None] = mapped_column(Integer)

    batch: Mapped[ImportBatch] = relationship(back_populates="records")


class OrganisationMerge(CentreOwnedMixin, db.Model):
    """A merge of one organisation into another, recorded so that it can be reversed."""

    __tablename__ = "organisation_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    survivor_before: Mapped[dict[str, Any]] = mapped_column(JSON)
    survivor_after: Mapped[dict[str, Any]] = mapped_column(JSON)
    moved_need_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    moved_visit_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    shared_visit_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    merged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def __repr__(self) -> str:
        return f"<OrganisationMerge {self.merged_id}->{self.survivor_id}>"
