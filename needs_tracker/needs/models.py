"""Need, its fields and its status history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    Table,
    Text,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from needs_tracker.common.choices import NeedStatus, NeedType, Urgency
from needs_tracker.common.models import (
    CentreOwnedMixin,
    SoftDeleteMixin,
    TimestampMixin,
    VersionedMixin,
    utcnow,
)
from needs_tracker.extensions import db
from needs_tracker.needs import search
from needs_tracker.taxonomy.models import TechField

if TYPE_CHECKING:
    from needs_tracker.auth.models import User
    from needs_tracker.organisations.models import Organisation
    from needs_tracker.visits.models import Visit

need_fields = Table(
    "need_fields",
    db.Model.metadata,
    Column("need_id", ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True),
    Column("field_id", ForeignKey("tech_fields.id"), primary_key=True, index=True),
)


class Need(CentreOwnedMixin, SoftDeleteMixin, VersionedMixin, TimestampMixin, db.Model):
    """A company's technical need or bottleneck, followed from collection to outcome."""

    __tablename__ = "needs"
    # Each list filter/sort, behind the centre scope (centre_id IN ...) when there is one:
    # the default sort (newest first) and the status filter, per centre and consortium-wide.
    __table_args__ = (
        Index("ix_needs_centre_collected", "centre_id", "collected_on", "id"),
        Index("ix_needs_collected_id", "collected_on", "id"),
        Index("ix_needs_centre_status_collected", "centre_id", "status", "collected_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    need_type: Mapped[str] = mapped_column(String(20), default=NeedType.RND.value)
    urgency: Mapped[str] = mapped_column(String(10), default=Urgency.LOW.value)
    budget: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    collected_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(20), default=NeedStatus.COLLECTED.value, index=True)
    close_reason: Mapped[str] = mapped_column(String(300), default="")
    status_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Bigrams of title and description for the search index (needs_tracker.needs.search).
    search_terms: Mapped[str] = mapped_column(
        Text, default=search.default_search_terms, server_default=""
    )

    organisation: Mapped[Organisation] = relationship(back_populates="needs")
    visit: Mapped[Visit | None] = relationship(back_populates="needs")
    fields: Mapped[list[TechField]] = relationship(
        secondary=need_fields, order_by=TechField.position
    )
    history: Mapped[list[NeedStatusChange]] = relationship(
        back_populates="need",
        order_by="NeedStatusChange.id",
        cascade="all, delete-orphan",
    )
    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Need {self.id} {self.title}>"

    @property
    def status_enum(self) -> NeedStatus:
        """Status as an enum member."""
        return NeedStatus(self.status)


search.install(Need.__table__)


@event.listens_for(Need, "before_update")
def _refresh_search_terms(_mapper, _connection, need: Need) -> None:
    """Keep the search terms in step with an edited title or description."""
    state = inspect(need)
    if state.attrs.title.history.has_changes() or state.attrs.description.history.has_changes():
        need.search_terms = search.search_terms(need.title, need.description)


class NeedStatusChange(db.Model):
    """One transition in a need's status, with who made it and why."""

    __tablename__ = "need_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(500), default="")

    need: Mapped[Need] = relationship(back_populates="history")
    changed_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<NeedStatusChange {self.need_id} {self.from_status}->{self.to_status}>"
