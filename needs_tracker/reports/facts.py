"""The monthly facts of a scope, counted in SQL: a few grouped queries per range of months.

Each KPI's rule (records, date, statuses) is stated in ``reports/kpis.py``; this module is its
one SQL form, and ``builder.Facts`` turns months of facts into the figures of a period, for the
dashboard and the report alike. Only counts, and the ids of what a period counts once over
several months (a company, a need), leave the database: no rows of needs or visits.

Every statement goes through db.session with ORM entities, so the acting user's centre scope
and the soft-delete filter apply on top of the scope's explicit centre filter. Timestamps are
placed in a month by their UTC date (kpis.day_start), in SQL as in pandas.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, DateTime, String, func, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from needs_tracker.extensions import db
from needs_tracker.matching.models import DockingEvent, Match, MatchTransition
from needs_tracker.needs.models import Need, NeedStatusChange, need_fields
from needs_tracker.organisations.models import Organisation
from needs_tracker.reports import kpis as K
from needs_tracker.reports.builder import FACT_COLUMNS, add_months, month_key
from needs_tracker.taxonomy.models import TechField
from needs_tracker.visits.models import Visit, VisitTeamMember, visit_organisations

ALL = "all"


@dataclass(frozen=True)
class ReportScope:
    """Whose figures: every centre (centre_ids None) or the listed centres."""

    centre_ids: tuple[int, ...] | None = None

    @classmethod
    def of(cls, centre_ids: Iterable[int] | None) -> ReportScope:
        """The scope of centre_ids (None: every centre)."""
        return cls(None if centre_ids is None else tuple(sorted(set(centre_ids))))

    @property
    def key(self) -> str | None:
        """The cache's name for the scope ("all", "c:12"); None for other sets of centres."""
        if self.centre_ids is None:
            return ALL
        if len(self.centre_ids) == 1:
            return centre_key(self.centre_ids[0])
        return None

    def where(self, column: Any) -> ColumnElement[bool]:
        """The scope's filter on a centre_id column."""
        if self.centre_ids is None:
            return true()
        return column.in_(self.centre_ids or (-1,))


def centre_key(centre_id: int) -> str:
    """The cache's name for one centre's scope."""
    return f"c:{centre_id}"


class month_of(FunctionElement):  # noqa: N801 - used like a SQL function
    """ "YYYY-MM" of a date, or of a timestamp's UTC date."""

    type = String()
    inherit_cache = True


def _is_timestamp(element: month_of) -> bool:
    column = next(iter(element.clauses))
    return isinstance(column.type, DateTime)


@compiles(month_of, "sqlite")
def _month_sqlite(element: month_of, compiler: Any, **kw: Any) -> str:
    # timestamps are stored as UTC text, so their text's month is the UTC month
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(month_of, "postgresql")
def _month_postgresql(element: month_of, compiler: Any, **kw: Any) -> str:
    value = compiler.process(element.clauses, **kw)
    if _is_timestamp(element):
        value = f"timezone('UTC', {value})"
    return f"to_char({value}, 'YYYY-MM')"


def month_end(key: str) -> date:
    """The last day of a "YYYY-MM" month."""
    first = date(int(key[:4]), int(key[5:7]), 1)
    return add_months(first, 1) - timedelta(days=1)


def month_range(first: date, last: date) -> list[str]:
    """The months from first's to last's, as "YYYY-MM"."""
    out, day = [], first.replace(day=1)
    while day <= last:
        out.append(month_key(day))
        day = add_months(day, 1)
    return out


def utc_day(value: datetime | date) -> date:
    """The UTC date of a timestamp (SQLite hands back naive UTC), or the date itself."""
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).date()
    return value


def _frame(rows: list[dict[str, Any]], name: str) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=FACT_COLUMNS[name])


# ---------------------------------------------------------------------------- the facts


def _visits(scope: ReportScope, lo: date, hi: date) -> pd.DataFrame:
    month = month_of(Visit.visit_date)
    rows = db.session.execute(
        select(month, Visit.centre_id, func.count(Visit.id))
        .where(
            Visit.status == K.DONE_VISIT,
            Visit.visit_date >= lo,
            Visit.visit_date <= hi,
            scope.where(Visit.centre_id),
        )
        .group_by(month, Visit.centre_id)
    ).all()
    return _frame(
        [{"month": m, "centre_id": int(c), "visits": int(n)} for m, c, n in rows], "visits"
    )


def _done_visits_in(scope: ReportScope, lo: date, hi: date) -> tuple[ColumnElement[bool], ...]:
    # the soft-delete filter stated too: the ORM's criteria need not reach into subqueries
    return (
        Visit.status == K.DONE_VISIT,
        Visit.visit_date >= lo,
        Visit.visit_date <= hi,
        Visit.deleted_at.is_(None),
        scope.where(Visit.centre_id),
    )


def _visited(scope: ReportScope, lo: date, hi: date) -> pd.DataFrame:
    """Live organisations on done visits, once a month, with the month of their first visit."""
    vo = visit_organisations
    month = month_of(Visit.visit_date)
    rows = db.session.execute(
        select(month, vo.c.organisation_id, Organisation.kind)
        .select_from(vo)
        .join(Visit, Visit.id == vo.c.visit_id)
        .join(Organisation, Organisation.id == vo.c.organisation_id)
        .where(*_done_visits_in(scope, lo, hi), scope.where(Organisation.centre_id))
        .distinct()
    ).all()
    if not rows:
        return _frame([], "visited")
    in_window = (
        select(vo.c.organisation_id)
        .join(Visit, Visit.id == vo.c.visit_id)
        .where(*_done_visits_in(scope, lo, hi))
    )
    firsts = dict(
        db.session.execute(
            select(vo.c.organisation_id, func.min(Visit.visit_date))
            .select_from(vo)
            .join(Visit, Visit.id == vo.c.visit_id)
            .where(
                Visit.status == K.DONE_VISIT,
                Visit.deleted_at.is_(None),
                scope.where(Visit.centre_id),
                vo.c.organisation_id.in_(in_window),
            )
            .group_by(vo.c.organisation_id)
        ).all()
    )
    return _frame(
        [
            {
                "month": m,
                "organisation_id": int(org),
                "kind": kind,
                "first_month": month_key(firsts[org]),
            }
            for m, org, kind in rows
        ],
        "visited",
    )


def _team(scope: ReportScope, lo: date, hi: date) -> pd.DataFrame:
    month = month_of(Visit.visit_date)
    rows = db.session.execute(
        select(month, VisitTeamMember.name, VisitTeamMember.organisation_name)
        .join(Visit, Visit.id == VisitTeamMember.visit_id)
        .where(*_done_visits_in(scope, lo, hi))
        .distinct()
    ).all()
    return _frame(
        [{"month": m, "name": n, "organisation_name": o or ""} for m, n, o in rows], "team"
    )


def _needs(scope: ReportScope, lo: date, hi: date) -> pd.DataFrame:
    """Live needs collected in each month, counted by each of builder.NEED_DIMENSIONS."""
    month = month_of(Need.collected_on)
    window = (
        Need.collected_on >= lo,
        Need.collected_on <= hi,
        Need.deleted_at.is_(None),
        scope.where(Need.centre_id),
    )
    out: list[dict[str, Any]] = []

    def add(dimension: str, rows: Iterable[Any]) -> None:
        out.extend(
            {"month": m, "dimension": dimension, "value": v, "n": int(n)} for m, v, n in rows
        )

    kinds = db.session.execute(
        select(month, Need.status, Need.need_type, Need.urgency, func.count(Need.id))
        .where(*window)
        .group_by(month, Need.status, Need.need_type, Need.urgency)
    ).all()
    for dimension, i in (("status", 1), ("type", 2), ("urgency", 3)):
        sums: dict[tuple[str, Any], int] = {}
        for row in kinds:
            key = (row[0], row[i])
            sums[key] = sums.get(key, 0) + int(row[4])
        add(dimension, ((m, v, n) for (m, v), n in sums.items()))
    add(
        "centre",
        (
            (m, str(c), n)
            for m, c, n in db.session.execute(
                select(month, Need.centre_id, func.count(Need.id))
                .where(*window)
                .group_by(month, Need.centre_id)
            )
        ),
    )
    # The district of the need's organisation, deleted since or not (the need counts, so its
    # district does): the table, not the entity, so the soft-delete filter stays off it. A plain
    # join: grouping by organisation first took twice as long on both databases.
    orgs = Organisation.__table__
    add(
        "district",
        db.session.execute(
            select(month, orgs.c.district, func.count(Need.id))
            .join(orgs, orgs.c.id == Need.organisation_id)
            .where(*window)
            .group_by(month, orgs.c.district)
        ),
    )
    add(
        "field",
        db.session.execute(
            select(month, TechField.name, func.count(need_fields.c.need_id))
            .select_from(Need)
            .join(need_fields, need_fields.c.need_id == Need.id)
            .join(TechField, TechField.id == need_fields.c.field_id)
            .where(*window)
            .group_by(month, TechField.name)
        ),
    )
    return _frame(out, "needs")


def _steps(
    scope: ReportScope, to_status: str, t0: datetime, t1: datetime
) -> tuple[ColumnElement[bool], ...]:
    return (
        MatchTransition.to_status == to_status,
        MatchTransition.at >= t0,
        MatchTransition.at < t1,
        scope.where(Match.centre_id),
    )


def _proposals(scope: ReportScope, t0: datetime, t1: datetime) -> pd.DataFrame:
    """Needs recommended in each month (a deleted need's steps count nowhere), with their first
    step ever (the figure "days from collection to first recommendation")."""
    month = month_of(MatchTransition.at)
    # on the tables: the ORM's centre filter on an aliased match can make SQLite walk the
    # centre's matches for each need instead of the need's own
    first_match, first_step = Match.__table__.alias(), MatchTransition.__table__.alias()
    first_at = (
        select(func.min(first_step.c.at))
        .join(first_match, first_match.c.id == first_step.c.match_id)
        .where(first_match.c.need_id == Match.need_id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(
            month,
            Match.centre_id,
            Match.need_id,
            Need.collected_on,
            first_at,
            # a match is proposed once (the workflow never returns to "proposed"), so one
            # proposed step is one recommendation
            func.count(MatchTransition.id),
        )
        .select_from(MatchTransition)
        .join(Match, Match.id == MatchTransition.match_id)
        .join(Need, Need.id == Match.need_id)
        .where(*_steps(scope, K.PROPOSED, t0, t1))
        .group_by(month, Match.centre_id, Match.need_id, Need.collected_on)
    ).all()
    out = []
    for m, centre, need, collected, first, n in rows:
        first_day = utc_day(first)
        out.append(
            {
                "month": m,
                "centre_id": int(centre),
                "need_id": int(need),
                "collected_month": month_key(collected),
                "first_month": month_key(first_day),
                "first_days": (first_day - collected).days,
                "n": int(n),
            }
        )
    return _frame(out, "proposals")


def _agreements(scope: ReportScope, t0: datetime, t1: datetime) -> pd.DataFrame:
    month = month_of(MatchTransition.at)
    rows = db.session.execute(
        select(month, Match.id, Match.amount)
        .select_from(MatchTransition)
        .join(Match, Match.id == MatchTransition.match_id)
        .join(Need, Need.id == Match.need_id)
        .where(*_steps(scope, K.AGREEMENT, t0, t1))
        .distinct()
    ).all()
    return _frame(
        [
            {"month": m, "match_id": int(i), "amount": None if a is None else float(a)}
            for m, i, a in rows
        ],
        "agreements",
    )


def recorded_held() -> ColumnElement[bool]:
    """True for a docking meeting that some match recorded held (kpis.meeting_is_held)."""
    # An uncorrelated IN (computed once): as a correlated EXISTS, SQLite re-ran the join for
    # every event and took ~1 s on 2,000 events.
    return DockingEvent.id.in_(
        select(Match.docking_event_id)
        .join(MatchTransition, MatchTransition.match_id == Match.id)
        .where(Match.docking_event_id.is_not(None), MatchTransition.to_status == K.MEETING_HELD)
    )


def _events(scope: ReportScope, lo: date, hi: date) -> pd.DataFrame:
    events = (
        select(DockingEvent.held_on.label("held_on"), recorded_held().label("recorded"))
        .where(
            DockingEvent.held_on >= lo,
            DockingEvent.held_on <= hi,
            scope.where(DockingEvent.centre_id),
        )
        .subquery()
    )
    rows = db.session.execute(
        select(events.c.held_on, events.c.recorded, func.count()).group_by(
            events.c.held_on, events.c.recorded
        )
    ).all()
    return _frame(
        [
            {
                "month": month_key(d),
                "held_on": d.isoformat(),
                "recorded_held": bool(r),
                "n": int(n),
            }
            for d, r, n in rows
        ],
        "events",
    )


def _resolutions(scope: ReportScope, t0: datetime, t1: datetime) -> pd.DataFrame:
    """Needs resolved in each month (each need once a month, at its first resolution)."""
    month = month_of(NeedStatusChange.changed_at)
    rows = db.session.execute(
        select(
            month,
            Need.centre_id,
            NeedStatusChange.need_id,
            Need.collected_on,
            func.min(NeedStatusChange.changed_at),
        )
        .join(Need, Need.id == NeedStatusChange.need_id)
        .where(
            NeedStatusChange.to_status == K.RESOLVED,
            NeedStatusChange.changed_at >= t0,
            NeedStatusChange.changed_at < t1,
            scope.where(Need.centre_id),
        )
        .group_by(month, Need.centre_id, NeedStatusChange.need_id, Need.collected_on)
    ).all()
    return _frame(
        [
            {
                "month": m,
                "centre_id": int(c),
                "need_id": int(n),
                "days": (utc_day(at) - collected).days,
            }
            for m, c, n, collected, at in rows
        ],
        "resolutions",
    )


def compute_facts(scope: ReportScope, first: date, last: date) -> dict[str, pd.DataFrame]:
    """The monthly facts of scope from first's month to last's (inclusive), from the database."""
    lo = first.replace(day=1)
    hi = month_end(month_key(last))
    t0, t1 = K.day_start(lo), K.day_start(hi + timedelta(days=1))
    return {
        "visits": _visits(scope, lo, hi),
        "visited": _visited(scope, lo, hi),
        "team": _team(scope, lo, hi),
        "needs": _needs(scope, lo, hi),
        "proposals": _proposals(scope, t0, t1),
        "agreements": _agreements(scope, t0, t1),
        "events": _events(scope, lo, hi),
        "resolutions": _resolutions(scope, t0, t1),
    }
