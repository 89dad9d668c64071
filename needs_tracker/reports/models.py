"""Models of the reports feature: versioned snapshots of a centre's report for a period, and the
cache of closed months' facts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from needs_tracker.common.models import CentreOwnedMixin, TimestampMixin
from needs_tracker.extensions import db
from needs_tracker.needs.models import Need, NeedStatusChange


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


class ReportMonthFacts(db.Model):
    """The monthly facts (builder.FACT_COLUMNS) of a closed month for one scope, as JSON.

    Keyed by scope ("all", or "c:<centre id>"), month ("YYYY-MM") and the version of the KPI
    definitions (kpis.FACTS_VERSION), so that a changed rule never reads old figures. facts is
    NULL while the month is to be recomputed; every invalidation adds one to generation, and a
    request stores the facts it computed only if generation has not moved since it looked (a
    write that committed meanwhile wins). A cache, not centre data: not centre-owned, not
    audited.
    """

    __tablename__ = "report_month_facts"
    __audit__ = False

    scope: Mapped[str] = mapped_column(String(20), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    facts: Mapped[str | None] = mapped_column(Text, nullable=True)
    computed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    def __repr__(self) -> str:
        return f"<ReportMonthFacts {self.scope} {self.month} v{self.version}>"


# Indexes of other features' tables that only the facts' grouped queries need (reports/facts.py),
# declared here beside their one user (the needs feature's own indexes serve its lists).
# A month's needs counted by every dimension from the index alone: reading the rows instead
# (each carries its text and search terms) took 0.8 s for 100,000 needs on SQLite, 0.1 s so.
Index(
    "ix_needs_report_facts",
    Need.collected_on,
    Need.centre_id,
    Need.status,
    Need.need_type,
    Need.urgency,
    Need.organisation_id,
    Need.deleted_at,
    Need.id,
)
# Resolutions of a range of months, and the needs that moved since a day (staleness), as a
# range of timestamps instead of a scan of every status change.
Index(
    "ix_need_status_changes_changed",
    NeedStatusChange.changed_at,
    NeedStatusChange.to_status,
    NeedStatusChange.from_status,
    NeedStatusChange.need_id,
)
