"""Centre and co-building partner models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from needs_tracker.common.models import TimestampMixin
from needs_tracker.extensions import db


class Centre(TimestampMixin, db.Model):
    """A service centre (服务中心): the tenant that owns companies, visits and needs."""

    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    region: Mapped[str] = mapped_column(String(120), default="")
    # How the monthly Word report is headed and numbered (reports.export.ReportStyle keys),
    # so the generated section drops into the consortium's own report as it is.
    report_style: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    partners: Mapped[list[CoBuildingPartner]] = relationship(
        back_populates="centre",
        order_by="CoBuildingPartner.position",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Centre {self.id} {self.name}>"


class CoBuildingPartner(TimestampMixin, db.Model):
    """A co-building organisation (共建单位) of a centre."""

    __tablename__ = "centre_partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    centre: Mapped[Centre] = relationship(back_populates="partners")

    def __repr__(self) -> str:
        return f"<CoBuildingPartner {self.name}>"
