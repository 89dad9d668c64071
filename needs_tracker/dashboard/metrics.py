"""Dashboard figures: the monthly facts of reports/facts.py, closed months from the cache.

Each KPI's rule is stated in ``reports/kpis.py``; its SQL form is ``reports/facts.py`` and the
figures of a period come from ``builder.Facts``, the same code the monthly report counts with,
so the dashboard and the report cannot disagree. Only the stale list (as of now) is queried
each time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select

from needs_tracker.centres.models import Centre
from needs_tracker.extensions import db
from needs_tracker.needs.models import Need
from needs_tracker.reports import kpis as K
from needs_tracker.reports.builder import Facts, Period, add_months
from needs_tracker.reports.cache import month_facts
from needs_tracker.reports.facts import ReportScope
from needs_tracker.reports.queries import stale_needs
from needs_tracker.visits.models import Visit

KPIS = tuple(K.KPIS)
SERIES = ("visits", "needs", "matches", "resolved")
TREND_MONTHS = 12


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
    # months whose facts came from the cache
    cached_months: list[str] = field(default_factory=list)

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


def latest_month(centre_ids: list[int] | None) -> str:
    """The month of the latest recorded visit or need (today's month when there is none)."""
    scope = ReportScope.of(centre_ids)
    last_visit = db.session.scalar(
        select(func.max(Visit.visit_date)).where(
            scope.where(Visit.centre_id), Visit.status == K.DONE_VISIT
        )
    )
    last_need = db.session.scalar(
        select(func.max(Need.collected_on)).where(scope.where(Need.centre_id))
    )
    days = [d for d in (last_visit, last_need) if d is not None]
    day = min(max(days), date.today()) if days else date.today()
    return f"{day.year:04d}-{day.month:02d}"


def _kpi_values(facts: Facts, period: Period, as_of: date) -> dict[str, dict[str, int]]:
    """Each KPI of reports/kpis.py for period and the previous one, with the change."""
    now = facts.figures(period, as_of)
    then = facts.figures(period.previous(), as_of)
    out = {}
    for key, kpi in K.KPIS.items():
        value, previous = int(getattr(now, kpi.figure)), int(getattr(then, kpi.figure))
        out[key] = {"value": value, "previous": previous, "change": value - previous}
    return out


def kpis(
    centre_ids: list[int] | None, period: Period, as_of: date | None = None
) -> dict[str, dict[str, int]]:
    """Each KPI of reports/kpis.py for the period and the previous one, with the change."""
    as_of = as_of or date.today()
    facts = month_facts(ReportScope.of(centre_ids), period.previous().start, period.end)
    return _kpi_values(facts.facts, period, as_of)


def _trend(facts: Facts, months: list[Period]) -> dict[str, list[int]]:
    # each series is a KPI that is one count of the facts (builder.COUNTS)
    return {key: [facts.count(K.KPIS[key].figure, m) for m in months] for key in SERIES}


def build_dashboard(
    centre_ids: list[int] | None,
    period: Period,
    compare: list[Centre],
    stale_after: int,
    now: datetime | None = None,
) -> Dashboard:
    """The dashboard of centre_ids (None: every centre, for consortium leaders) for period.

    The trend and the needs by field, status and district cover the twelve months to the
    period's end. The stale list is now's, like the home page's: it does not depend on the
    period shown, so needs collected long before the period are not hidden.
    """
    now = now or datetime.now(UTC)
    as_of = now.date()
    scope = ReportScope.of(centre_ids)
    last = period.end.replace(day=1)
    first = add_months(last, -(TREND_MONTHS - 1))
    months = [
        Period.months(f"{d:%Y-%m}") for d in (add_months(first, i) for i in range(TREND_MONTHS))
    ]
    window = Period(first, period.end)
    loaded = month_facts(scope, min(first, period.previous().start), period.end)
    facts = loaded.facts
    by_status = facts.need_counts(window, "status")
    # the funnel from the status counts: a need past "matching" has been matched
    reached = {
        "matched": ("matched", "in_progress", "resolved"),
        "in_progress": ("in_progress", "resolved"),
        "resolved": ("resolved",),
    }
    funnel = {"collected": sum(by_status.values())}
    funnel.update({k: sum(by_status.get(s, 0) for s in states) for k, states in reached.items()})
    stale_total, stale = stale_needs(centre_ids, now, stale_after)
    return Dashboard(
        period=period,
        kpis=_kpi_values(facts, period, as_of),
        months=[m.month_keys()[0] for m in months],
        trend=_trend(facts, months),
        by_field=list(facts.need_counts(window, "field").items()),
        by_status=by_status,
        funnel=funnel,
        by_district=list(facts.need_counts(window, "district").items()),
        stale=stale,
        centres=compare_centres(compare, period, facts) if len(compare) > 1 else [],
        stale_total=stale_total,
        stale_days=stale_after,
        cached_months=loaded.hits,
    )


def compare_centres(
    centres: list[Centre], period: Period, facts: Facts | None = None
) -> list[dict[str, Any]]:
    """Per-centre counts for the period (consortium view), from the facts of every centre."""
    if facts is None:
        facts = month_facts(ReportScope.of(None), period.start, period.end).facts
    counts = facts.by_centre(period)
    return [
        {"id": c.id, "name": c.name, **{k: int(counts[k].get(c.id, 0)) for k in SERIES}}
        for c in centres
    ]
