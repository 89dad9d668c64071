"""Visit, its visited organisations and its team."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from needs_tracker.common.choices import VisitStatus
from needs_tracker.common.models import (
    CentreOwnedMixin,
    SoftDeleteMixin,
    TimestampMixin,
    VersionedMixin,
)
from needs_tracker.extensions import db

if TYPE_CHECKING:
    from needs_tracker.auth.models import User
    from needs_tracker.needs.models import Need
    from needs_tracker.organisations.models import Organisation

visit_organisations = Table(
    "visit_organisations",
    db.Model.metadata,
    Column("visit_id", ForeignKey("visits.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id"), primary_key=True, index=True),
)


class Visit(CentreOwnedMixin, SoftDeleteMixin, VersionedMixin, TimestampMixin, db.Model):
    """One outing of a service team to one or more organisations."""

    __tablename__ = "visits"
    # The visit list's default sort (newest first) behind the centre scope.
    __table_args__ = (Index("ix_visits_centre_date", "centre_id", "visit_date", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(20), default=VisitStatus.DONE.value, index=True)
    purpose: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The form's idempotency key: a resend after a lost answer finds this visit, not a new one.
    client_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)

    organisations: Mapped[list[Organisation]] = relationship(
        secondary=visit_organisations, back_populates="visits", order_by="Organisation.id"
    )
    team: Mapped[list[VisitTeamMember]] = relationship(
        back_populates="visit",
        order_by="VisitTeamMember.position",
        cascade="all, delete-orphan",
    )
    needs: Mapped[list[Need]] = relationship(back_populates="visit", order_by="Need.id")
    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Visit {self.id} {self.visit_date}>"

    def is_overdue(self, today: date | None = None) -> bool:
        """A planned visit whose date has passed: to be recorded as done, or cancelled."""
        return self.status == VisitStatus.PLANNED.value and self.visit_date < (
            today or date.today()
        )


class VisitTeamMember(TimestampMixin, db.Model):
    """A person on a visit's team: name, title, organisation; optionally a user."""

    __tablename__ = "visit_team_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(120), default="")
    organisation_name: Mapped[str] = mapped_column(String(200), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    visit: Mapped[Visit] = relationship(back_populates="team")

    def __repr__(self) -> str:
        return f"<VisitTeamMember {self.name}>"
