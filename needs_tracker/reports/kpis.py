"""Each KPI's rule, stated once: which records, which date, which statuses.

The dashboard (SQL, ``dashboard/metrics.py``) and the monthly report (pandas,
``reports/builder.py``) both count from these definitions, and ``tests/reports/test_kpis.py``
holds their figures equal. The definition strings are shown in the dashboard (tooltips and
footnotes) and copied in ``docs/kpis.md``.

Every figure is counted by the event's own date: a recommendation made in April for a need
collected in March counts in April, as a recommendation, not as an April need. Soft-deleted
needs, visits and organisations count nowhere (nor do steps of a deleted need's matches).

Pure: no SQLAlchemy, no app; the strings are lazy translations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l

OPEN_NEED_STATUSES = ("collected", "assessing", "matching", "matched", "in_progress")
ACTIVE_MATCH_STATUSES = ("proposed", "contacted", "meeting_held", "agreement")
DONE_VISIT = "done"
COMPANY = "company"
PROPOSED = "proposed"
MEETING_HELD = "meeting_held"
AGREEMENT = "agreement"
RESOLVED = "resolved"

# the config key (default in config.py) of the one staleness rule
STALE_DAYS_KEY = "STALE_DAYS"

# The version of these rules and of the monthly facts counted by them (builder.FACT_COLUMNS,
# reports/facts.py): part of the cache's key, so add one whenever a rule or a fact changes and
# no figure is ever read from facts counted the old way.
FACTS_VERSION = 1


@dataclass(frozen=True)
class Kpi:
    """One figure: the records it counts, the date that places it in a period, its statuses."""

    key: str
    label: Any
    records: str
    date: str
    statuses: tuple[str, ...]
    # the report's Figures attribute holding the same figure
    figure: str
    definition: Any


KPIS: dict[str, Kpi] = {
    k.key: k
    for k in (
        Kpi(
            "visits",
            _l("Visits"),
            "visits",
            "visit_date",
            (DONE_VISIT,),
            "visits",
            _l(
                "Visits marked done whose visit date falls in the period; planned and "
                "deleted visits are not counted."
            ),
        ),
        Kpi(
            "companies",
            _l("Companies visited"),
            "visit_organisations",
            "visit_date",
            (DONE_VISIT,),
            "companies_visited",
            _l(
                "Distinct companies (not universities or other organisations) on done visits "
                "dated in the period; a company visited twice counts once; deleted companies "
                "are not counted."
            ),
        ),
        Kpi(
            "needs",
            _l("Needs collected"),
            "needs",
            "collected_on",
            (),
            "needs_collected",
            _l(
                "Needs whose collection date falls in the period, whatever their status now; "
                "deleted needs are not counted."
            ),
        ),
        Kpi(
            "matches",
            _l("Recommendations made"),
            "match_transitions",
            "at",
            (PROPOSED,),
            "matches_made",
            _l(
                "Experts and resources recommended (matches proposed) in the period, by the "
                "date of the recommendation, for needs collected in any month; a recommendation "
                "declined later still counts; recommendations for deleted needs do not."
            ),
        ),
        Kpi(
            "meetings",
            _l("Docking meetings held"),
            "docking_events",
            "held_on",
            (MEETING_HELD,),
            "docking_meetings",
            _l(
                "Docking meetings dated in the period, on or before today, and recorded as "
                "held (a match of the meeting reached “docking meeting held”)."
            ),
        ),
        Kpi(
            "meetings_planned",
            _l("Docking meetings planned"),
            "docking_events",
            "held_on",
            (),
            "planned_meetings",
            _l(
                "Docking meetings dated in the period that are not counted as held: the date "
                "is still ahead, or no match has recorded the meeting as held."
            ),
        ),
        Kpi(
            "resolved",
            _l("Needs resolved"),
            "need_status_changes",
            "changed_at",
            (RESOLVED,),
            "resolved",
            _l(
                "Needs whose status changed to resolved in the period, by the date of that "
                "change, each need once; a need reopened later still counts in the month it "
                "was resolved; deleted needs are not counted."
            ),
        ),
    )
}


@dataclass(frozen=True)
class Metric:
    """One figure of the report's summary: its Figures attribute and its one label."""

    figure: str
    label: Any
    # shown in the report page's summary too, not only in the documents
    on_page: bool = True


def _kpi_label(figure: str) -> Any:
    return next(k.label for k in KPIS.values() if k.figure == figure)


# The summary's figures in order; a KPI's label is the KPI's own, so the dashboard, the report
# page and the documents name a figure alike.
METRICS: tuple[Metric, ...] = (
    Metric("visits", _kpi_label("visits")),
    Metric("organisations_visited", _l("Organisations visited")),
    Metric("companies_visited", _kpi_label("companies_visited")),
    Metric("companies_new", _l("First visits")),
    Metric("companies_revisited", _l("Revisits")),
    Metric("team_members", _l("Service-team members"), on_page=False),
    Metric("needs_collected", _kpi_label("needs_collected")),
    Metric("needs_matched", _l("Needs with a recommendation")),
    Metric("needs_matched_earlier", _l("Of which collected earlier"), on_page=False),
    Metric("matches_made", _kpi_label("matches_made")),
    Metric("docking_meetings", _kpi_label("docking_meetings")),
    Metric("planned_meetings", _kpi_label("planned_meetings")),
    Metric("agreements", _l("Agreements")),
    Metric("resolved", _kpi_label("resolved")),
)
EXTRA_METRICS: tuple[Metric, ...] = (
    Metric("agreement_amount", _l("Agreement amount (10k CNY)"), on_page=False),
    Metric(
        "median_days_to_first_match",
        _l("Median days from collection to first recommendation"),
        on_page=False,
    ),
    Metric(
        "median_days_to_resolved",
        _l("Median days from collection to resolution"),
        on_page=False,
    ),
)


STALE_DEFINITION = _l(
    "Open needs (collected, assessing, matching, matched, in progress) with no movement for "
    "%(days)s days or more: no status change since collection, no step on any of their "
    "matches, collected %(days)s or more days ago. Counted as of today."
)


def stale_days(config: Mapping[str, Any]) -> int:
    """The staleness threshold in days (config key STALE_DAYS, default in config.py)."""
    value = int(config[STALE_DAYS_KEY])
    if value < 1:
        raise ValueError(f"{STALE_DAYS_KEY} must be a whole number of days, at least 1")
    return value


def stale_before(now: datetime, days: int) -> datetime:
    """The instant before which a need or a match that has not moved since is stale."""
    return now - timedelta(days=days)


def day_start(day: date) -> datetime:
    """The instant a calendar day starts, for comparing timestamps with a period's dates.

    Timestamps are stored in UTC and periods are compared at 00:00 UTC, in SQL and in pandas
    alike, so both paths place an event in the same month.
    """
    return datetime.combine(day, time.min, tzinfo=UTC)


def meeting_is_held(held_on: date | None, recorded_held: bool, as_of: date) -> bool:
    """A docking meeting counts as held when it is dated on or before as_of and recorded held."""
    return held_on is not None and held_on <= as_of and recorded_held
