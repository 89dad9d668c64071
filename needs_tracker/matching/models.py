"""Matches between needs and experts/resources, their transitions, and docking events."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from needs_tracker.common.choices import LabelledEnum
from needs_tracker.common.models import CentreOwnedMixin, TimestampMixin, VersionedMixin, utcnow
from needs_tracker.extensions import db

if TYPE_CHECKING:
    from needs_tracker.auth.models import User
    from needs_tracker.experts.models import Expert, Resource
    from needs_tracker.needs.models import Need


class MatchStatus(LabelledEnum):
    PROPOSED = "proposed"
    CONTACTED = "contacted"
    MEETING_HELD = "meeting_held"
    AGREEMENT = "agreement"
    RESOLVED = "resolved"
    DECLINED = "declined"

    @property
    def label(self):
        """Translated label."""
        return MATCH_STATUS_LABELS[self.value]


class DeclineReason(LabelledEnum):
    DIRECTION = "direction"
    CAPABILITY = "capability"
    COST = "cost"
    TIMING = "timing"
    COMPANY_PAUSED = "company_paused"
    OTHER = "other"

    @property
    def label(self):
        """Translated label."""
        return DECLINE_REASON_LABELS[self.value]


MATCH_STATUS_LABELS = {
    "proposed": _l("Proposed"),
    "contacted": _l("Contacted"),
    "meeting_held": _l("Docking meeting held"),
    "agreement": _l("Agreement"),
    "resolved": _l("Resolved"),
    "declined": _l("Declined"),
}

DECLINE_REASON_LABELS = {
    "direction": _l("Direction does not fit"),
    "capability": _l("Insufficient capability"),
    "cost": _l("Cost"),
    "timing": _l("Timing"),
    "company_paused": _l("Company put it on hold"),
    "other": _l("Other"),
}

docking_event_needs = Table(
    "docking_event_needs",
    db.Model.metadata,
    Column("event_id", ForeignKey("docking_events.id", ondelete="CASCADE"), primary_key=True),
    Column("need_id", ForeignKey("needs.id"), primary_key=True, index=True),
)


class DockingEvent(CentreOwnedMixin, VersionedMixin, TimestampMixin, db.Model):
    """A docking meeting (对接会): one or more needs meet an expert or resource."""

    __tablename__ = "docking_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date | None] = mapped_column(Date, index=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    attendees: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[str] = mapped_column(Text, default="")
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id"), index=True)
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    needs: Mapped[list[Need]] = relationship(secondary=docking_event_needs, order_by="Need.id")
    matches: Mapped[list[Match]] = relationship(back_populates="docking_event")
    expert: Mapped[Expert | None] = relationship()
    resource: Mapped[Resource | None] = relationship()

    def __repr__(self) -> str:
        return f"<DockingEvent {self.id} {self.title}>"


class Match(CentreOwnedMixin, VersionedMixin, TimestampMixin, db.Model):
    """A proposed pairing of one need with one expert or one resource, followed to an outcome."""

    __tablename__ = "matches"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"), index=True)
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id"), index=True)
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=MatchStatus.PROPOSED.value, index=True)
    score: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[str] = mapped_column(Text, default="")
    declined_by: Mapped[str] = mapped_column(String(20), default="")  # "company" | "expert"
    decline_reason: Mapped[str] = mapped_column(String(30), default="")
    decline_note: Mapped[str] = mapped_column(String(500), default="")
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # 万元, at agreement
    docking_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("docking_events.id"), index=True
    )
    # Resolving a match resolves its need unless the coordinator keeps the need open.
    keep_need_open: Mapped[bool] = mapped_column(default=False)
    status_changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    need: Mapped[Need] = relationship()
    expert: Mapped[Expert | None] = relationship()
    resource: Mapped[Resource | None] = relationship()
    docking_event: Mapped[DockingEvent | None] = relationship(back_populates="matches")
    transitions: Mapped[list[MatchTransition]] = relationship(
        back_populates="match", order_by="MatchTransition.id", cascade="all, delete-orphan"
    )
    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Match {self.id} need={self.need_id} {self.status}>"


class MatchTransition(db.Model):
    """One step of a match, timestamped, with who made it and the step's record."""

    __tablename__ = "match_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    match: Mapped[Match] = relationship(back_populates="transitions")
    by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<MatchTransition {self.match_id} {self.from_status}->{self.to_status}>"


class MatchDismissal(CentreOwnedMixin, TimestampMixin, db.Model):
    """A candidate that a coordinator marked "not relevant" for a need: never suggested again."""

    __tablename__ = "match_dismissals"
    __table_args__ = (
        UniqueConstraint("need_id", "expert_id", "resource_id", name="uq_match_dismissal"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id"), index=True)
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id"), index=True)
    note: Mapped[str] = mapped_column(String(300), default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def __repr__(self) -> str:
        return f"<MatchDismissal need={self.need_id} e={self.expert_id} r={self.resource_id}>"


def new_stamp() -> str:
    """A fresh, never repeated version stamp."""
    return uuid.uuid4().hex


class MatchIndexState(db.Model):
    """Version stamps of the suggestion index, shared by every worker process.

    pool_version changes when experts, resources or fields change (the text index is rebuilt);
    signal_version changes when a match is resolved or declined (only the per-candidate
    signals are reloaded). One row, id 1.
    """

    __tablename__ = "match_index_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_version: Mapped[str] = mapped_column(String(32), default=new_stamp, nullable=False)
    signal_version: Mapped[str] = mapped_column(String(32), default=new_stamp, nullable=False)

    def __repr__(self) -> str:
        return f"<MatchIndexState pool={self.pool_version} signals={self.signal_version}>"


class TextEmbedding(db.Model):
    """A sentence vector, stored once per (model, text): keyed by embeddings.text_key.

    Candidates and needs look their vector up by the hash of their current text, so an
    edited text simply has no vector until the embedding step computes it, and identical
    texts share one row. Rows of texts no longer in use are harmless and pruned by
    ``flask match embed --prune``.
    """

    __tablename__ = "text_embeddings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(30), index=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<TextEmbedding {self.model} {self.key[:8]}>"


class EmbeddingProgress(db.Model):
    """How far the embedding step is, for the page that shows it (one row, id 1)."""

    __tablename__ = "embedding_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    model: Mapped[str] = mapped_column(String(30), default="")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    def __repr__(self) -> str:
        return f"<EmbeddingProgress {self.done}/{self.total}>"
