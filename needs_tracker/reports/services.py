"""Report services: build a centre's (or the consortium's) report, keep versioned snapshots."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from needs_tracker.centres.models import Centre
from needs_tracker.extensions import db
from needs_tracker.i18n import in_locale
from needs_tracker.reports import kpis as K
from needs_tracker.reports.builder import Period, Report, ReportInput, build_report, raw_rows
from needs_tracker.reports.cache import is_closed, month_facts, today
from needs_tracker.reports.facts import ReportScope, month_end, month_range
from needs_tracker.reports.models import ReportMonthFacts, ReportSnapshot
from needs_tracker.reports.queries import (
    load_input,
    need_frames,
    organisation_frame,
    transition_frame,
    visit_frames,
)

if TYPE_CHECKING:
    from needs_tracker.auth.models import User

CONSORTIUM = _l("All centres")
# the consortium's plan reads "继续走访各地企业" (a centre's names its city)
CONSORTIUM_REGION = "各地"


class EditedSnapshotExists(Exception):
    """Regenerating would hide a hand-edited text; the caller must confirm."""


def report_scope(centre: Centre | None) -> ReportScope:
    """The scope of a centre's report; None: every centre (the consortium's report)."""
    return ReportScope.of(None if centre is None else [centre.id])


def _header(centre: Centre | None) -> tuple[str, str, list[str]]:
    if centre is None:
        return in_locale(CONSORTIUM, "zh"), CONSORTIUM_REGION, []
    return centre.name, centre.region or "", [p.name for p in centre.partners]


def report_input(
    centre: Centre | None, period: Period, as_of: date | None = None, raw: bool = False
) -> ReportInput:
    """The builder's input for centre's report (None: every centre's) for period."""
    return load_input(report_scope(centre), period, _header(centre), as_of, raw=raw)


def build_centre_report(centre: Centre | None, period: Period, as_of: date | None = None) -> Report:
    """Build the report of centre (None: every centre) for period from the database."""
    return build_report(report_input(centre, period, as_of))


def _raw_input(centre: Centre | None, period: Period) -> ReportInput:
    """Only the rows the spreadsheet's raw sheets list (no figures, no text)."""
    scope = report_scope(centre)
    frames = visit_frames(scope, period)
    frames["transitions"] = transition_frame(scope, period)
    frames["organisations"] = organisation_frame(scope, period)
    frames.update(need_frames(scope, period))
    name, region, partners = _header(centre)
    return ReportInput(name, region, partners, period, frames)


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
    centre: Centre | None,
    period: Period,
    snapshot: ReportSnapshot | None = None,
    raw: bool = False,
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """The report as a dict plus, when raw, the period's raw rows (for the spreadsheet).

    With a snapshot, its saved figures and (possibly edited) text are used, and nothing is
    counted again (an empty snapshot, from before figures were saved, is built afresh).
    """
    saved = json.loads(snapshot.figures) if snapshot is not None else None
    inp = None
    if saved:
        data = saved
    else:
        inp = report_input(centre, period, raw=raw)
        data = build_report(inp).to_dict()
    if snapshot is not None:
        data["narrative"] = snapshot.narrative
        data["next_month_plan"] = snapshot.next_month_plan
        data["revision"] = snapshot.revision
        data["edited"] = snapshot.edited
    if not raw:
        return data, {}
    return data, raw_rows(inp if inp is not None else _raw_input(centre, period))


def warm_facts(first: date, last: date | None = None, each_centre: bool = False) -> int:
    """Count and store the closed months from first's to last's (default: the last closed
    month) that are not cached, for every centre's scope and, with each_centre, each centre's.
    Facts counted by an older version of the rules are removed. Flushes; the caller commits.
    Returns how many months were counted."""
    db.session.execute(delete(ReportMonthFacts).where(ReportMonthFacts.version != K.FACTS_VERSION))
    last = last or (today().replace(day=1) - timedelta(days=1))
    months = [m for m in month_range(first, last) if is_closed(m)]
    if not months:
        return 0
    start, end = date.fromisoformat(months[0] + "-01"), month_end(months[-1])
    scopes = [ReportScope.of(None)]
    if each_centre:
        ids = db.session.scalars(select(Centre.id).order_by(Centre.id))
        scopes += [ReportScope.of([centre_id]) for centre_id in ids]
    return sum(len(month_facts(scope, start, end).computed) for scope in scopes)
