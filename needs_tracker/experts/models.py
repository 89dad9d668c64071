"""Expert and Resource models; shared across centres."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Column, Date, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from needs_tracker.common.choices import ResourceKind
from needs_tracker.common.models import SoftDeleteMixin, TimestampMixin, VersionedMixin
from needs_tracker.extensions import db
from needs_tracker.taxonomy.models import TechField

expert_fields = Table(
    "expert_fields",
    db.Model.metadata,
    Column("expert_id", ForeignKey("experts.id", ondelete="CASCADE"), primary_key=True),
    Column("field_id", ForeignKey("tech_fields.id"), primary_key=True, index=True),
)

resource_fields = Table(
    "resource_fields",
    db.Model.metadata,
    Column("resource_id", ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True),
    Column("field_id", ForeignKey("tech_fields.id"), primary_key=True, index=True),
)


class Expert(SoftDeleteMixin, VersionedMixin, TimestampMixin, db.Model):
    """An expert (专家) from a university, institute or company."""

    __tablename__ = "experts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), index=True)
    title: Mapped[str] = mapped_column(String(60), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="", index=True)
    department: Mapped[str] = mapped_column(String(200), default="")
    expertise: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(120), default="")
    region: Mapped[str] = mapped_column(String(60), default="")
    # 个人信息保护法: where the contact data came from, and whether (when, for what purpose)
    # the expert agreed to be contacted. Only the roles that contact experts see any of it.
    contact_source: Mapped[str] = mapped_column(String(200), default="")
    contact_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_on: Mapped[date | None] = mapped_column(Date)
    consent_purpose: Mapped[str] = mapped_column(String(200), default="")
    fields: Mapped[list[TechField]] = relationship(
        secondary=expert_fields, order_by=TechField.position
    )

    def __repr__(self) -> str:
        return f"<Expert {self.id} {self.name}>"


class Resource(SoftDeleteMixin, VersionedMixin, TimestampMixin, db.Model):
    """A resource: lab, platform, learning factory, test platform, achievement or patent."""

    __tablename__ = "resources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(30), default=ResourceKind.PLATFORM.value)
    owner_organisation: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    maturity: Mapped[str] = mapped_column(String(60), default="")
    region: Mapped[str] = mapped_column(String(60), default="")
    contact: Mapped[str] = mapped_column(String(120), default="")
    fields: Mapped[list[TechField]] = relationship(
        secondary=resource_fields, order_by=TechField.position
    )

    def __repr__(self) -> str:
        return f"<Resource {self.id} {self.name}>"
