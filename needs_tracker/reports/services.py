"""Report services: build a centre's report, and keep versioned snapshots of it."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from needs_tracker.centres.models import Centre
from needs_tracker.extensions import db
from needs_tracker.reports.builder import Period, Report, build_report, raw_rows
from needs_tracker.reports.models import ReportSnapshot
from needs_tracker.reports.queries import load_input

if TYPE_CHECKING:
    from needs_tracker.auth.models import User


class EditedSnapshotExists(Exception):
    """Regenerating would hide a hand-edited text; the caller must confirm."""


def build_centre_report(centre: Centre, period: Period, as_of: date | None = None) -> Report:
    """Build the report of centre for period from the database."""
    return build_report(load_input(centre, period, as_of))


def latest_snapshot(centre: Centre, period: Period) -> ReportSnapshot | None:
    """The newest saved revision of this report, if any."""
    return db.session.scalar(
        select(ReportSnapshot)
        .where(
            ReportSnapshot.centre_id == centre.id,
            ReportSnapshot.period_start == period.start,
            ReportSnapshot.period_end == period.end,
        )
        .order_by(ReportSnapshot.revision.desc())
        .limit(1)
    )


def list_snapshots(centre: Centre, period: Period) -> list[ReportSnapshot]:
    """Every revision of this report, newest first."""
    return list(
        db.session.scalars(
            select(ReportSnapshot)
            .where(
                ReportSnapshot.centre_id == centre.id,
                ReportSnapshot.period_start == period.start,
                ReportSnapshot.period_end == period.end,
            )
            .order_by(ReportSnapshot.revision.desc())
        )
    )


def _next_revision(centre: Centre, period: Period) -> int:
    current = db.session.scalar(
        select(func.max(ReportSnapshot.revision)).where(
            ReportSnapshot.centre_id == centre.id,
            ReportSnapshot.period_start == period.start,
            ReportSnapshot.period_end == period.end,
        )
    )
    return (current or 0) + 1


def generate_snapshot(
    centre: Centre, period: Period, actor: User | None, confirm: bool = False
) -> ReportSnapshot:
    """Save the freshly generated report as a new revision.

    When the latest revision was edited by hand, refuse unless confirm: the edited revision is
    kept either way, but the export would move to the new one.
    """
    latest = latest_snapshot(centre, period)
    if latest is not None and latest.edited and not confirm:
        raise EditedSnapshotExists(latest.revision)
    report = build_centre_report(centre, period)
    snap = ReportSnapshot(
        centre_id=centre.id,
        period_start=period.start,
        period_end=period.end,
        revision=_next_revision(centre, period),
        figures=json.dumps(report.to_dict(), ensure_ascii=False, default=str),
        narrative=report.narrative,
        next_month_plan=report.next_month_plan,
        edited=False,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(snap)
    db.session.flush()
    return snap


def edit_snapshot(
    centre: Centre, period: Period, narrative: str, plan: str, actor: User | None
) -> ReportSnapshot:
    """Save edited text as a new revision on top of the latest figures."""
    latest = latest_snapshot(centre, period) or generate_snapshot(centre, period, actor, True)
    snap = ReportSnapshot(
        centre_id=centre.id,
        period_start=period.start,
        period_end=period.end,
        revision=latest.revision + 1,
        figures=latest.figures,
        narrative=narrative.strip(),
        next_month_plan=plan.strip(),
        edited=True,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(snap)
    db.session.flush()
    return snap


def report_bundle(
    centre: Centre, period: Period, snapshot: ReportSnapshot | None = None, raw: bool = False
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """The report as a dict plus, when raw, the period's raw rows (for the spreadsheet).

    With a snapshot, its saved figures and (possibly edited) text are used.
    """
    inp = load_input(centre, period)
    data = build_report(inp).to_dict()
    if snapshot is not None:
        data = json.loads(snapshot.figures) or data
        data["narrative"] = snapshot.narrative
        data["next_month_plan"] = snapshot.next_month_plan
        data["revision"] = snapshot.revision
        data["edited"] = snapshot.edited
    return data, (raw_rows(inp) if raw else {})
