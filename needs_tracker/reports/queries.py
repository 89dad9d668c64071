"""Load a report's input: its monthly facts (cached for closed months) and the rows of its tables.

The figures come from the monthly facts (reports/facts.py, reports/cache.py), counted in SQL;
rows are read only for what the report names: the period's visits, team, organisations, match
steps and meetings, the longest-waiting needs, and (for the spreadsheet) the period's needs.

Every statement goes through db.session with ORM entities, so the centre scoping of the acting
user applies on top of the explicit centre filter.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from flask import current_app
from sqlalchemy import DateTime, case, cast, exists, func, select, tuple_, union

from needs_tracker.experts.models import Expert, Resource
from needs_tracker.extensions import db
from needs_tracker.matching.models import DockingEvent, Match, MatchTransition
from needs_tracker.needs.models import Need, NeedStatusChange, need_fields
from needs_tracker.organisations.models import Organisation
from needs_tracker.reports import kpis as K
from needs_tracker.reports.builder import COLUMNS, Period, ReportInput
from needs_tracker.reports.cache import MonthFacts, month_facts
from needs_tracker.reports.facts import ReportScope, recorded_held
from needs_tracker.taxonomy.models import TechField
from needs_tracker.visits.models import Visit, VisitTeamMember, visit_organisations


def _frame(stmt, name: str, **options) -> pd.DataFrame:
    result = db.session.execute(stmt, execution_options=options or None)
    # tuples, not mappings: pandas builds a frame of 10,000 rows from tuples several times faster
    df = pd.DataFrame([tuple(r) for r in result.all()], columns=list(result.keys()))
    return df[COLUMNS[name]]


_at = K.day_start


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; they are stored in UTC
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------- stale needs

# how many needs are read at a time, oldest collection first, to find the longest-waiting
STALE_BATCH = 200


def _open_by(scope: ReportScope, last_day: date) -> tuple[Any, ...]:
    return (
        scope.where(Need.centre_id),
        Need.status.in_(K.OPEN_NEED_STATUSES),
        Need.collected_on <= last_day,
        Need.deleted_at.is_(None),  # stated: a count of no entity gets no ORM criteria
    )


def _not_moved_since(scope: ReportScope, cutoff: datetime) -> tuple[Any, ...]:
    """Needs with no status change (after creation) and no match step since cutoff."""
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite runs a correlated test as two probes per open need (and a table read each):
        # 390 ms for a centre of 30,000 needs, 1.9 s for 300 centres' 225,000, where reading
        # the recent movers once (an uncorrelated NOT IN over a range of timestamps) took 62 ms
        # and 0.56 s. It costs more only when every centre's recent movers far outnumber one
        # centre's needs (a small centre among 300 with 210,000 recent changes: 149 vs 62 ms).
        moved = select(NeedStatusChange.need_id).where(
            NeedStatusChange.from_status.is_not(None), NeedStatusChange.changed_at >= cutoff
        )
        stepped = (
            select(Match.need_id)
            .join(MatchTransition, MatchTransition.match_id == Match.id)
            .where(MatchTransition.at >= cutoff, scope.where(Match.centre_id))
        )
        return (Need.id.not_in(moved), Need.id.not_in(stepped))
    # PostgreSQL picks a hash anti join or index probes by its statistics: every centre 684 ->
    # 279 ms, a centre 167 -> 14 ms against the NOT IN above (a hashed subplan, rebuilt by each
    # parallel worker), at 300,000 needs.
    moved = exists().where(
        NeedStatusChange.need_id == Need.id,
        NeedStatusChange.from_status.is_not(None),
        NeedStatusChange.changed_at >= cutoff,
    )
    stepped = (
        exists()
        .where(Match.need_id == Need.id, MatchTransition.match_id == Match.id)
        .where(MatchTransition.at >= cutoff)
    )
    return (~moved, ~stepped)


def stale_needs(
    centre_ids: list[int] | None, now: datetime, days: int, limit: int = 10
) -> tuple[int, list[dict[str, Any]]]:
    """Open needs that have not moved for days at now (the rule in reports/kpis.py).

    A need moves when it is collected, when its status changes after creation, and when any
    of its matches takes a step. Returns how many are stale and the longest-waiting few.
    centre_ids None: every centre.
    """
    scope = ReportScope.of(centre_ids)
    cutoff = K.stale_before(now, days)
    # collected on this day or before: the day started before the cutoff
    last_day = (cutoff - timedelta(microseconds=1)).date()
    open_needs, not_moved = _open_by(scope, last_day), _not_moved_since(scope, cutoff)
    total = db.session.scalar(select(func.count()).where(*open_needs, *not_moved))
    moved = _longest_waiting(scope, open_needs, not_moved, cutoff, limit) if total else {}
    oldest = sorted(moved, key=lambda i: (moved[i], i))[:limit]
    return int(total or 0), _stale_rows(oldest, moved, now)


def _last_moves(need_id: Any) -> tuple[Any, Any]:
    """Correlated subqueries: a need's last status change after creation, its last step.

    On the tables, not the entities: the user's centre filter that the ORM adds to matches
    made SQLite walk every match of the centre for each need (60 s for 25,000 needs) instead of
    the need's own; the need itself is in the scope already.
    """
    changes, matches, steps = (
        NeedStatusChange.__table__,
        Match.__table__,
        MatchTransition.__table__,
    )
    last_change = (
        select(func.max(changes.c.changed_at))
        .where(changes.c.need_id == need_id, changes.c.from_status.is_not(None))
        .scalar_subquery()
    )
    last_step = (
        select(func.max(steps.c.at))
        .join(matches, matches.c.id == steps.c.match_id)
        .where(matches.c.need_id == need_id)
        .scalar_subquery()
    )
    return last_change, last_step


def _longest_waiting(
    scope: ReportScope,
    open_needs: tuple[Any, ...],
    not_moved: tuple[Any, ...],
    cutoff: datetime,
    limit: int,
) -> dict[int, datetime]:
    """The last movement of (at least) the limit longest-waiting stale needs.

    A need's last movement is never before its collection. Where needs mostly wait from their
    collection on, reading every centre's open needs in order of collection finds the
    longest-waiting in a batch or two: no need collected after the limit-th oldest movement
    found can have waited longer. Otherwise (where they moved long after, and for one centre,
    whose needs are few) one query orders every stale need by its last movement.
    """
    moved: dict[int, datetime] = {}

    def keep(rows: Any) -> None:
        for need_id, collected, change, step in rows:
            change, step = _utc(change), _utc(step)
            if (change is not None and change >= cutoff) or (step is not None and step >= cutoff):
                continue  # moved recently: not stale
            times = [_at(collected), change, step]
            moved[need_id] = max(t for t in times if t is not None)

    after: tuple[date, int] | None = None
    for batch in (STALE_BATCH, 2 * STALE_BATCH) if scope.centre_ids is None else ():
        page = select(Need.id.label("id"), Need.collected_on.label("day")).where(*open_needs)
        if after is not None:
            # a range on the collection date (an index range), then the rows after the last
            page = page.where(
                Need.collected_on >= after[0],
                tuple_(Need.collected_on, Need.id) > tuple_(*after),
            )
        # the page first, then the last moves of its needs only
        page = page.order_by(Need.collected_on, Need.id).limit(batch).subquery()
        rows = db.session.execute(
            select(page.c.id, page.c.day, *_last_moves(page.c.id)).order_by(page.c.day, page.c.id)
        ).all()
        keep(rows)
        if len(rows) < batch:
            return moved
        after = (rows[-1][1], rows[-1][0])
        kept = sorted(moved.values())
        if len(kept) >= limit and _at(after[0]) > kept[limit - 1]:
            return moved
    # The order of the last movement in SQL, so that only the few shown are fetched: the
    # latest of the collection, the last change and the last step, each subquery run once.
    last_change, last_step = _last_moves(Need.id)
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite's max() of several values; its timestamps and dates compare as text
        order = func.max(
            func.coalesce(last_change, ""), func.coalesce(last_step, ""), Need.collected_on
        )
    else:
        # greatest() skips NULLs
        order = func.greatest(
            last_change, last_step, cast(Need.collected_on, DateTime(timezone=True))
        )
    moved.clear()
    keep(
        db.session.execute(
            select(Need.id, Need.collected_on, last_change, last_step)
            .where(*open_needs, *not_moved)
            .order_by(order, Need.id)
            .limit(limit)
        ).all()
    )
    return moved


def _stale_rows(
    oldest: list[int], moved: dict[int, datetime], now: datetime
) -> list[dict[str, Any]]:
    needs = {
        n.id: n
        for n in db.session.execute(
            select(Need.id, Need.title, Need.status, Organisation.name, Organisation.short_name)
            .join(Organisation, Organisation.id == Need.organisation_id)
            .where(Need.id.in_(oldest or [-1])),
            execution_options={"include_deleted": True},
        )
    }
    out = []
    for i in oldest:
        n = needs.get(i)
        if n is None:
            continue
        out.append(
            {
                "id": i,
                "title": n.title,
                "status": n.status,
                "company": n.short_name or n.name,
                "moved_at": moved[i],
                "days": (now - moved[i]).days,
            }
        )
    return out


def open_needs(scope: ReportScope, end: date) -> int:
    """Needs still open now among those collected by end (the plan's "持续跟进…")."""
    return int(
        db.session.scalar(
            select(func.count(Need.id)).where(
                scope.where(Need.centre_id),
                Need.status.in_(K.OPEN_NEED_STATUSES),
                Need.collected_on <= end,
            )
        )
        or 0
    )


# ---------------------------------------------------------------------------- table rows


def _visit_window(scope: ReportScope, period: Period) -> Any:
    # done visits of the period and planned visits up to the end of the next month's plan
    return (
        scope.where(Visit.centre_id)
        & (Visit.visit_date >= period.start)
        & (Visit.visit_date <= period.following_month().end)
    )


def visit_frames(scope: ReportScope, period: Period) -> dict[str, pd.DataFrame]:
    """The visits from the period's start to the end of the next month, their organisations,
    and the team of the period's done visits."""
    window = _visit_window(scope, period)
    team_of_period = window & (Visit.visit_date <= period.end) & (Visit.status == K.DONE_VISIT)
    return {
        "visits": _frame(
            select(Visit.id, Visit.visit_date, Visit.status, Visit.purpose).where(window),
            "visits",
        ),
        "visit_orgs": _frame(
            select(visit_organisations.c.visit_id, visit_organisations.c.organisation_id)
            .join(Visit, Visit.id == visit_organisations.c.visit_id)
            .where(window),
            "visit_orgs",
        ),
        "team": _frame(
            select(
                VisitTeamMember.visit_id,
                VisitTeamMember.position,
                VisitTeamMember.name,
                VisitTeamMember.title,
                VisitTeamMember.organisation_name,
            )
            .join(Visit, Visit.id == VisitTeamMember.visit_id)
            .where(team_of_period),
            "team",
        ),
    }


def _steps_in(scope: ReportScope, period: Period) -> tuple[Any, ...]:
    return (
        scope.where(Match.centre_id),
        MatchTransition.at >= _at(period.start),
        MatchTransition.at < _at(period.end + timedelta(days=1)),
        # deleted experts and resources keep their names; a deleted need's steps count
        # nowhere (reports/kpis.py)
        Need.deleted_at.is_(None),
    )


def transition_frame(scope: ReportScope, period: Period) -> pd.DataFrame:
    """The period's match steps with their need and candidate (the projects table)."""
    return _frame(
        select(
            MatchTransition.match_id,
            MatchTransition.to_status,
            MatchTransition.at,
            Match.need_id,
            Need.title.label("need_title"),
            Need.collected_on,
            Need.organisation_id,
            func.coalesce(Expert.name, Resource.name).label("candidate"),
            func.coalesce(Expert.organisation, Resource.owner_organisation).label("candidate_org"),
            func.coalesce(Expert.title, "").label("candidate_title"),
            case((Match.expert_id.is_not(None), "expert"), else_="resource").label(
                "candidate_kind"
            ),
            Match.amount,
        )
        .join(Match, Match.id == MatchTransition.match_id)
        .join(Need, Need.id == Match.need_id)
        .outerjoin(Expert, Expert.id == Match.expert_id)
        .outerjoin(Resource, Resource.id == Match.resource_id)
        .where(*_steps_in(scope, period))
        .order_by(MatchTransition.at, MatchTransition.id),
        "transitions",
        include_deleted=True,
    )


def event_frame(scope: ReportScope, period: Period) -> pd.DataFrame:
    """Meetings from the period's start to the end of the next month, each with whether a
    match recorded it held (reports/kpis.py splits held from planned)."""
    return _frame(
        select(
            DockingEvent.id,
            DockingEvent.title,
            DockingEvent.held_on,
            recorded_held().label("recorded_held"),
        ).where(
            scope.where(DockingEvent.centre_id),
            DockingEvent.held_on >= period.start,
            DockingEvent.held_on <= period.following_month().end,
        ),
        "events",
    )


def organisation_frame(scope: ReportScope, period: Period) -> pd.DataFrame:
    """The organisations the tables name: those of the window's visits and of the period's
    match steps (deleted ones too, flagged: their past steps keep their names)."""
    visited = (
        select(visit_organisations.c.organisation_id)
        .join(Visit, Visit.id == visit_organisations.c.visit_id)
        .where(_visit_window(scope, period), Visit.deleted_at.is_(None))
    )
    stepped = (
        select(Need.organisation_id)
        .join(Match, Match.need_id == Need.id)
        .join(MatchTransition, MatchTransition.match_id == Match.id)
        .where(*_steps_in(scope, period))
    )
    # a subquery, not a list of ids: a consortium's year names thousands of organisations
    named = union(visited, stepped).subquery()
    return _frame(
        select(
            Organisation.id,
            Organisation.name,
            Organisation.short_name,
            Organisation.kind,
            Organisation.district,
            Organisation.deleted_at.is_not(None).label("deleted"),
        ).where(scope.where(Organisation.centre_id), Organisation.id.in_(select(named.c[0]))),
        "organisations",
        include_deleted=True,
    )


def need_frames(scope: ReportScope, period: Period) -> dict[str, pd.DataFrame]:
    """The period's needs and their fields: the spreadsheet's raw rows only."""
    in_period = (
        scope.where(Need.centre_id)
        & (Need.collected_on >= period.start)
        & (Need.collected_on <= period.end)
    )
    return {
        "needs": _frame(
            select(
                Need.id,
                Need.organisation_id,
                Need.visit_id,
                Need.title,
                Need.collected_on,
                Need.status,
                Need.need_type,
                Need.urgency,
            ).where(in_period),
            "needs",
        ),
        "need_fields": _frame(
            select(need_fields.c.need_id, TechField.name.label("field"))
            .join(Need, Need.id == need_fields.c.need_id)
            .join(TechField, TechField.id == need_fields.c.field_id)
            .where(in_period)
            .order_by(TechField.position),
            "need_fields",
        ),
    }


# ---------------------------------------------------------------------------- the input


def report_facts(scope: ReportScope, period: Period) -> MonthFacts:
    """The monthly facts of the period and of the previous one (closed months cached)."""
    return month_facts(scope, period.previous().start, period.end)


def load_input(
    scope: ReportScope,
    period: Period,
    header: tuple[str, str, list[str]],
    as_of: date | None = None,
    *,
    raw: bool = False,
) -> ReportInput:
    """Everything the builder needs for period (figures of it and of the previous period).

    header is (name, region, partners) of whoever the report is for; as_of (default today) is
    the day the figures are true on (a meeting dated later is planned, not held); raw: also
    the period's needs, for the spreadsheet's raw rows.
    """
    as_of = as_of or date.today()
    name, region, partners = header
    frames = visit_frames(scope, period)
    frames["transitions"] = transition_frame(scope, period)
    frames["events"] = event_frame(scope, period)
    frames["organisations"] = organisation_frame(scope, period)
    if raw:
        frames.update(need_frames(scope, period))
    # staleness as of the period's last day (as_of for a period not over yet)
    stale_total, stale = stale_needs(
        list(scope.centre_ids) if scope.centre_ids is not None else None,
        _at(min(as_of, period.end) + timedelta(days=1)),
        K.stale_days(current_app.config),
    )
    frames["stale"] = pd.DataFrame(stale, columns=COLUMNS["stale"])
    facts = report_facts(scope, period)
    return ReportInput(
        centre=name,
        region=region,
        partners=partners,
        period=period,
        frames=frames,
        facts=facts.facts,
        open_needs=open_needs(scope, period.end),
        as_of=as_of,
        stale_total=stale_total,
        cached_months=facts.hits,
    )
