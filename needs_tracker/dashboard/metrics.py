"""Dashboard figures, aggregated in SQL (a handful of grouped queries, whatever the data size).

Each KPI's rule (records, date, statuses) is stated in ``reports/kpis.py``; ``_sources``
below is its one SQL form, used by the period figures, the monthly trend and the centre
comparison alike. All statements go through db.session with ORM entities, so the acting
user's centre scope and the soft-delete filter apply on top of the explicit centre filter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, case, distinct, extract, func, select

from needs_tracker.centres.models import Centre
from needs_tracker.extensions import db
from needs_tracker.matching.models import DockingEvent, Match, MatchTransition
from needs_tracker.needs.models import Need, NeedStatusChange, need_fields
from needs_tracker.organisations.models import Organisation
from needs_tracker.reports import kpis as K
from needs_tracker.reports.builder import Period, add_months
from needs_tracker.reports.queries import stale_needs
from needs_tracker.taxonomy.models import TechField
from needs_tracker.visits.models import Visit, visit_organisations

KPIS = tuple(K.KPIS)
SERIES = ("visits", "needs", "matches", "resolved")


@dataclass(frozen=True)
class _Source:
    """One KPI in SQL: the rows (a FROM with its WHERE), the date column, what is counted."""

    base: Select
    column: Any
    key: Any
    centre: Any
    is_datetime: bool = False
    # False when each row is one event (a primary key): a plain count, cheaper than DISTINCT
    distinct: bool = True

    def count(self, when: Any = None) -> Any:
        """The count of this KPI's events, or of those matching when."""
        key = self.key if when is None else case((when, self.key))
        return func.count(distinct(key)) if self.distinct else func.count(key)


def _held(as_of: date) -> ColumnElement[bool]:
    # An uncorrelated IN (the events some match recorded held, computed once): as a correlated
    # EXISTS, SQLite re-ran the join for every event and took ~1 s on 2,000 events.
    recorded = (
        select(Match.docking_event_id)
        .join(MatchTransition, MatchTransition.match_id == Match.id)
        .where(Match.docking_event_id.is_not(None), MatchTransition.to_status == K.MEETING_HELD)
    )
    return (DockingEvent.held_on <= as_of) & DockingEvent.id.in_(recorded)


def _sources(centre_ids: list[int], as_of: date) -> dict[str, _Source]:
    """The SQL form of each KPI of reports/kpis.py."""
    org = visit_organisations.c.organisation_id
    companies = (
        select()
        .select_from(visit_organisations)
        .join(Visit, Visit.id == visit_organisations.c.visit_id)
        .where(
            Visit.centre_id.in_(centre_ids),
            Visit.status == K.DONE_VISIT,
            # A correlated EXISTS (a primary-key probe per visited organisation): joining
            # organisations misleads the PostgreSQL planner into a slow nested loop, and
            # SQLite ran "IN (SELECT ...)" at 90-200 ms against 3 ms for this form.
            select(Organisation.id)
            .where(
                Organisation.id == org,
                Organisation.centre_id.in_(centre_ids),
                Organisation.kind == K.COMPANY,
            )
            .exists(),
        )
    )
    # A deleted need's steps count nowhere. The deleted needs are listed through the table
    # (the ORM filter would hide them): a NOT IN of that short list took 55 ms where joining
    # needs took 105 ms on 20,000 matches.
    needs = Need.__table__
    deleted_needs = select(needs.c.id).where(needs.c.deleted_at.is_not(None))
    step = (
        select()
        .select_from(MatchTransition)
        .join(Match, Match.id == MatchTransition.match_id)
        .where(Match.centre_id.in_(centre_ids), Match.need_id.not_in(deleted_needs))
    )
    events = select().select_from(DockingEvent).where(DockingEvent.centre_id.in_(centre_ids))
    return {
        "visits": _Source(
            select()
            .select_from(Visit)
            .where(Visit.centre_id.in_(centre_ids), Visit.status == K.DONE_VISIT),
            Visit.visit_date,
            Visit.id,
            Visit.centre_id,
            distinct=False,
        ),
        "companies": _Source(companies, Visit.visit_date, org, Visit.centre_id),
        "needs": _Source(
            select().select_from(Need).where(Need.centre_id.in_(centre_ids)),
            Need.collected_on,
            Need.id,
            Need.centre_id,
            distinct=False,
        ),
        "matches": _Source(
            # a match is proposed once (the workflow never returns to "proposed"), so one
            # proposed step is one recommendation
            step.where(MatchTransition.to_status == K.PROPOSED),
            MatchTransition.at,
            MatchTransition.id,
            Match.centre_id,
            True,
            distinct=False,
        ),
        "meetings": _Source(
            events.where(_held(as_of)),
            DockingEvent.held_on,
            DockingEvent.id,
            DockingEvent.centre_id,
            distinct=False,
        ),
        "meetings_planned": _Source(
            events.where(~_held(as_of)),
            DockingEvent.held_on,
            DockingEvent.id,
            DockingEvent.centre_id,
            distinct=False,
        ),
        "resolved": _Source(
            select()
            .select_from(NeedStatusChange)
            .join(Need, Need.id == NeedStatusChange.need_id)
            .where(Need.centre_id.in_(centre_ids), NeedStatusChange.to_status == K.RESOLVED),
            NeedStatusChange.changed_at,
            NeedStatusChange.need_id,
            Need.centre_id,
            True,
        ),
    }


def _bound(day: date, is_datetime: bool):
    return K.day_start(day) if is_datetime else day


@dataclass
class Dashboard:
    """Everything the dashboard page shows."""

    period: Period
    kpis: dict[str, dict[str, int]]
    months: list[str]
    trend: dict[str, list[int]]
    by_field: list[tuple[str, int]]
    by_status: dict[str, int]
    funnel: dict[str, int]
    by_district: list[tuple[str, int]]
    stale: list[dict[str, Any]]
    centres: list[dict[str, Any]] = field(default_factory=list)
    stale_total: int = 0
    stale_days: int = 0

    def payload(self) -> dict[str, Any]:
        """JSON for the charts."""
        return {
            "months": self.months,
            "trend": self.trend,
            "by_field": self.by_field,
            "by_status": self.by_status,
            "funnel": self.funnel,
            "by_district": self.by_district,
            "centres": self.centres,
        }


def latest_month(centre_ids: list[int]) -> str:
    """The month of the latest recorded visit or need (today's month when there is none)."""
    last_visit = db.session.scalar(
        select(func.max(Visit.visit_date)).where(
            Visit.centre_id.in_(centre_ids), Visit.status == K.DONE_VISIT
        )
    )
    last_need = db.session.scalar(
        select(func.max(Need.collected_on)).where(Need.centre_id.in_(centre_ids))
    )
    days = [d for d in (last_visit, last_need) if d is not None]
    day = min(max(days), date.today()) if days else date.today()
    return f"{day.year:04d}-{day.month:02d}"


def kpis(
    centre_ids: list[int],
    period: Period,
    months: list[str] | None = None,
    series: dict[str, list[int]] | None = None,
    as_of: date | None = None,
) -> dict[str, dict[str, int]]:
    """Each KPI of reports/kpis.py for the period and the previous one, with the change.

    For a one-month period the monthly trend's counts are reused (no extra queries); over
    several months a distinct count is not the sum of the months' counts, so it is queried.
    """
    as_of = as_of or date.today()
    prev = period.previous()
    sources = _sources(centre_ids, as_of)
    out: dict[str, tuple[Any, Any]] = {}
    first = f"{prev.start.year:04d}-{prev.start.month:02d}"
    reuse = bool(months and series and first in months and period.n_months == 1)
    for key in KPIS:
        if reuse and key in SERIES:
            i = months.index(first)  # type: ignore[union-attr]
            values = series[key]  # type: ignore[index]
            out[key] = (values[i + 1], values[i])
            continue
        src = sources[key]
        lo, mid = _bound(prev.start, src.is_datetime), _bound(period.start, src.is_datetime)
        hi = _bound(period.end + timedelta(days=1), src.is_datetime)
        col = src.column
        out[key] = db.session.execute(
            src.base.add_columns(
                src.count((col >= mid) & (col < hi)),
                src.count((col >= lo) & (col < mid)),
            ).where(col >= lo, col < hi)
        ).one()
    result = {}
    for key, (now, then) in out.items():
        now, then = int(now or 0), int(then or 0)
        result[key] = {"value": now, "previous": then, "change": now - then}
    return result


def trend(
    centre_ids: list[int], end: date, n: int = 12, as_of: date | None = None
) -> tuple[list[str], dict[str, list[int]]]:
    """Monthly counts of visits, needs, recommendations and resolved needs for n months to end."""
    first = add_months(end.replace(day=1), -(n - 1))
    months = [(d.year, d.month) for d in (add_months(first, i) for i in range(n))]
    stop = end + timedelta(days=1)
    sources = _sources(centre_ids, as_of or date.today())
    series = {}
    for key in SERIES:
        src = sources[key]
        col = src.column
        year, month = extract("year", col), extract("month", col)
        rows = db.session.execute(
            src.base.add_columns(year.label("y"), month.label("m"), src.count().label("n"))
            .where(col >= _bound(first, src.is_datetime), col < _bound(stop, src.is_datetime))
            .group_by(year, month)
        ).all()
        counts = {(int(r.y), int(r.m)): int(r.n) for r in rows}
        series[key] = [counts.get(ym, 0) for ym in months]
    return [f"{y}-{m:02d}" for y, m in months], series


def build_dashboard(
    centre_ids: list[int],
    period: Period,
    compare: list[Centre],
    stale_after: int,
    now: datetime | None = None,
) -> Dashboard:
    """The dashboard of centre_ids (several for consortium leaders) for period.

    The stale list is now's, like the home page's: it does not depend on the period shown,
    so needs collected long before the period are not hidden.
    """
    now = now or datetime.now(UTC)
    as_of = now.date()
    months, series = trend(centre_ids, period.end, as_of=as_of)
    window_start = date.fromisoformat(months[0] + "-01")
    in_window = (
        Need.centre_id.in_(centre_ids),
        Need.collected_on >= window_start,
        Need.collected_on <= period.end,
    )
    by_field = db.session.execute(
        select(TechField.name, func.count(need_fields.c.need_id))
        .select_from(need_fields)
        .join(Need, Need.id == need_fields.c.need_id)
        .join(TechField, TechField.id == need_fields.c.field_id)
        .where(*in_window)
        .group_by(TechField.name)
        .order_by(func.count(need_fields.c.need_id).desc(), TechField.name)
    ).all()
    by_status = dict(
        db.session.execute(
            select(Need.status, func.count(Need.id)).where(*in_window).group_by(Need.status)
        ).all()
    )
    # the funnel from the status counts: a need past "matching" has been matched
    total = sum(int(v) for v in by_status.values())
    reached = {
        "matched": ("matched", "in_progress", "resolved"),
        "in_progress": ("in_progress", "resolved"),
        "resolved": ("resolved",),
    }
    funnel = {"collected": total}
    funnel.update(
        {k: sum(int(by_status.get(s, 0)) for s in states) for k, states in reached.items()}
    )
    by_district = db.session.execute(
        select(Organisation.district, func.count(Need.id))
        .join(Organisation, Organisation.id == Need.organisation_id)
        .where(*in_window)
        .group_by(Organisation.district)
        .order_by(func.count(Need.id).desc(), Organisation.district)
    ).all()
    stale_total, stale = stale_needs(centre_ids, now, stale_after)
    return Dashboard(
        period=period,
        kpis=kpis(centre_ids, period, months, series, as_of),
        months=months,
        trend=series,
        by_field=[(n, int(c)) for n, c in by_field],
        by_status={k: int(v) for k, v in by_status.items()},
        funnel=funnel,
        by_district=[(d or "—", int(c)) for d, c in by_district],
        stale=stale,
        centres=compare_centres(compare, period, as_of) if len(compare) > 1 else [],
        stale_total=stale_total,
        stale_days=stale_after,
    )


def compare_centres(
    centres: list[Centre], period: Period, as_of: date | None = None
) -> list[dict[str, Any]]:
    """Per-centre counts for the period (consortium view), one grouped query per figure."""
    ids = [c.id for c in centres]
    sources = _sources(ids, as_of or date.today())
    counts: dict[str, dict[int, int]] = {}
    for key in SERIES:
        src = sources[key]
        col = src.column
        lo = _bound(period.start, src.is_datetime)
        hi = _bound(period.end + timedelta(days=1), src.is_datetime)
        counts[key] = dict(
            db.session.execute(
                src.base.add_columns(src.centre, src.count())
                .where(col >= lo, col < hi)
                .group_by(src.centre)
            ).all()
        )
    return [
        {"id": c.id, "name": c.name, **{k: int(counts[k].get(c.id, 0)) for k in SERIES}}
        for c in centres
    ]
