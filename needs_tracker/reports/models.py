"""Models of the reports feature: versioned snapshots of a centre's report for a period."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from needs_tracker.common.models import CentreOwnedMixin, TimestampMixin
from needs_tracker.extensions import db


class ReportSnapshot(CentreOwnedMixin, TimestampMixin, db.Model):
    """One saved revision of a report: figures as generated, text as generated or edited.

    Revisions are never updated: generating or editing adds a new revision, so an edited
    text is never overwritten (the latest revision is the one exported).
    """

    __tablename__ = "report_snapshots"
    __table_args__ = (
        UniqueConstraint(
            "centre_id", "period_start", "period_end", "revision", name="uq_report_revision"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, index=True)
    period_end: Mapped[date] = mapped_column(Date)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    figures: Mapped[str] = mapped_column(Text, default="{}")  # JSON of Report.to_dict()
    narrative: Mapped[str] = mapped_column(Text, default="")
    next_month_plan: Mapped[str] = mapped_column(Text, default="")
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def __repr__(self) -> str:
        return f"<ReportSnapshot {self.centre_id} {self.period_start} r{self.revision}>"
