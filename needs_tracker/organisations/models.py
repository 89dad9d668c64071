"""The Organisation model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from needs_tracker.common.choices import OrganisationKind
from needs_tracker.common.models import (
    CentreOwnedMixin,
    SoftDeleteMixin,
    TimestampMixin,
    VersionedMixin,
)
from needs_tracker.extensions import db

if TYPE_CHECKING:
    from needs_tracker.needs.models import Need
    from needs_tracker.visits.models import Visit


class Organisation(CentreOwnedMixin, SoftDeleteMixin, VersionedMixin, TimestampMixin, db.Model):
    """A company (企业) or a university / institute / government body visited by a centre."""

    __tablename__ = "organisations"
    # The company list's default sort (by name) behind the centre scope.
    __table_args__ = (Index("ix_organisations_centre_name", "centre_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    short_name: Mapped[str] = mapped_column(String(60), default="")
    kind: Mapped[str] = mapped_column(String(20), default=OrganisationKind.COMPANY.value)
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    district: Mapped[str] = mapped_column(String(60), default="", index=True)
    industry: Mapped[str] = mapped_column(String(120), default="")
    size: Mapped[str] = mapped_column(String(20), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    contact_name: Mapped[str] = mapped_column(String(60), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    contact_email: Mapped[str] = mapped_column(String(120), default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    needs: Mapped[list[Need]] = relationship(
        back_populates="organisation", order_by="Need.collected_on.desc()"
    )
    visits: Mapped[list[Visit]] = relationship(
        secondary="visit_organisations",
        back_populates="organisations",
        order_by="Visit.visit_date.desc()",
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name}>"

    @property
    def display_name(self) -> str:
        """Short name when set (as the report writes 华特磁电), else the full name."""
        return self.short_name or self.name

    @property
    def is_company(self) -> bool:
        """True for companies (企业)."""
        return self.kind == OrganisationKind.COMPANY.value
