"""Load a period's data into DataFrames with a few scoped ORM queries (no per-row queries).

Every statement goes through db.session with ORM entities, so the centre scoping of the acting
user applies on top of the explicit centre filter.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from flask import current_app
from sqlalchemy import case, func, or_, select

from needs_tracker.centres.models import Centre
from needs_tracker.experts.models import Expert, Resource
from needs_tracker.extensions import db
from needs_tracker.matching.models import DockingEvent, Match, MatchTransition
from needs_tracker.needs.models import Need, NeedStatusChange, need_fields
from needs_tracker.organisations.models import Organisation
from needs_tracker.reports import kpis as K
from needs_tracker.reports.builder import COLUMNS, Period, ReportInput
from needs_tracker.taxonomy.models import TechField
from needs_tracker.visits.models import Visit, VisitTeamMember, visit_organisations


def _frame(stmt, name: str, **options) -> pd.DataFrame:
    rows = db.session.execute(stmt, execution_options=options or None).mappings().all()
    return pd.DataFrame(rows, columns=COLUMNS[name])


_at = K.day_start


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; they are stored in UTC
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def stale_needs(
    centre_ids: list[int], now: datetime, days: int, limit: int = 10
) -> tuple[int, list[dict[str, Any]]]:
    """Open needs that have not moved for days at now (the rule in reports/kpis.py).

    A need moves when it is collected, when its status changes after creation, and when any
    of its matches takes a step. Returns how many are stale and the longest-waiting few.
    """
    cutoff = K.stale_before(now, days)
    # collected on this day or before: the day started before the cutoff
    last_day = (cutoff - timedelta(microseconds=1)).date()
    changes = (
        select(NeedStatusChange.need_id, func.max(NeedStatusChange.changed_at).label("last"))
        .where(NeedStatusChange.from_status.is_not(None))
        .group_by(NeedStatusChange.need_id)
        .subquery()
    )
    steps = (
        select(Match.need_id, func.max(MatchTransition.at).label("last"))
        .join(MatchTransition, MatchTransition.match_id == Match.id)
        .where(Match.centre_id.in_(centre_ids))
        .group_by(Match.need_id)
        .subquery()
    )
    last_change, last_step = changes.c.last, steps.c.last
    # the order of the need's last movement, in SQL so that only the few shown are fetched
    # (parsing 20,000 rows' timestamps in Python took longer than the query). A change or a
    # step comes after the collection it follows; the date and the timestamps compare as text
    # on SQLite and as timestamps on PostgreSQL.
    moved_order = case(
        (last_change.is_(None) & last_step.is_(None), Need.collected_on),
        (last_change.is_(None), last_step),
        (last_step.is_(None), last_change),
        (last_change > last_step, last_change),
        else_=last_step,
    )
    rows = db.session.execute(
        select(
            Need.id,
            Need.collected_on,
            last_change,
            last_step.label("step"),
            func.count().over().label("total"),
        )
        .outerjoin(changes, changes.c.need_id == Need.id)
        .outerjoin(steps, steps.c.need_id == Need.id)
        .where(
            Need.centre_id.in_(centre_ids),
            Need.status.in_(K.OPEN_NEED_STATUSES),
            Need.collected_on <= last_day,
            or_(last_change.is_(None), last_change < cutoff),
            or_(last_step.is_(None), last_step < cutoff),
        )
        .order_by(moved_order, Need.id)
        .limit(limit)
    ).all()
    total = rows[0].total if rows else 0
    moved: dict[int, datetime] = {}
    for r in rows:
        times = [_at(r.collected_on), _utc(r.last), _utc(r.step)]
        moved[r.id] = max(t for t in times if t is not None)
    oldest = sorted(moved, key=lambda i: (moved[i], i))
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
    return int(total), out


def _with_first_match(transitions: pd.DataFrame, cid: int) -> pd.DataFrame:
    """Add each need's first match time (one grouped query per 500 needs)."""
    need_ids = sorted(set(transitions["need_id"].astype(int)))
    firsts: dict[int, object] = {}
    for i in range(0, len(need_ids), 500):
        chunk = need_ids[i : i + 500]
        firsts.update(
            db.session.execute(
                select(Match.need_id, func.min(MatchTransition.at))
                .join(MatchTransition, MatchTransition.match_id == Match.id)
                .where(Match.centre_id == cid, Match.need_id.in_(chunk))
                .group_by(Match.need_id)
            ).all()
        )
    transitions["first_at"] = transitions["need_id"].map(firsts)
    return transitions[COLUMNS["transitions"]]


def load_input(centre: Centre, period: Period, as_of: date | None = None) -> ReportInput:
    """Everything the builder needs for period and the previous period, for one centre.

    as_of (default today) is the day the figures are true on (a meeting dated later is
    planned, not held).
    """
    as_of = as_of or date.today()
    prev = period.previous()
    start, end = prev.start, period.end
    horizon = period.following_month().end
    t0, t1 = _at(start), _at(end + timedelta(days=1))
    cid = centre.id

    in_window = (
        (Visit.centre_id == cid) & (Visit.visit_date >= start) & (Visit.visit_date <= horizon)
    )
    frames: dict[str, pd.DataFrame] = {}
    frames["visits"] = _frame(
        select(Visit.id, Visit.visit_date, Visit.status, Visit.purpose).where(in_window), "visits"
    )
    frames["visit_orgs"] = _frame(
        select(visit_organisations.c.visit_id, visit_organisations.c.organisation_id)
        .join(Visit, Visit.id == visit_organisations.c.visit_id)
        .where(in_window),
        "visit_orgs",
    )
    frames["team"] = _frame(
        select(
            VisitTeamMember.visit_id,
            VisitTeamMember.position,
            VisitTeamMember.name,
            VisitTeamMember.title,
            VisitTeamMember.organisation_name,
        )
        .join(Visit, Visit.id == VisitTeamMember.visit_id)
        .where(in_window, Visit.visit_date <= end, Visit.status == "done"),
        "team",
    )
    need_window = (
        (Need.centre_id == cid) & (Need.collected_on >= start) & (Need.collected_on <= end)
    )
    frames["needs"] = _frame(
        select(
            Need.id,
            Need.organisation_id,
            Need.visit_id,
            Need.title,
            Need.collected_on,
            Need.status,
            Need.need_type,
            Need.urgency,
        ).where(need_window),
        "needs",
    )
    frames["need_fields"] = _frame(
        select(need_fields.c.need_id, TechField.name.label("field"))
        .join(Need, Need.id == need_fields.c.need_id)
        .join(TechField, TechField.id == need_fields.c.field_id)
        .where(need_window)
        .order_by(TechField.position),
        "need_fields",
    )
    frames["resolutions"] = _frame(
        select(NeedStatusChange.need_id, NeedStatusChange.changed_at, Need.collected_on)
        .join(Need, Need.id == NeedStatusChange.need_id)
        .where(
            Need.centre_id == cid,
            NeedStatusChange.to_status == K.RESOLVED,
            NeedStatusChange.changed_at >= t0,
            NeedStatusChange.changed_at < t1,
        ),
        "resolutions",
    )
    frames["transitions"] = _frame(
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
        .where(
            Match.centre_id == cid,
            MatchTransition.at >= t0,
            MatchTransition.at < t1,
            # deleted experts and resources keep their names; a deleted need's steps count
            # nowhere (reports/kpis.py)
            Need.deleted_at.is_(None),
        )
        .order_by(MatchTransition.at, MatchTransition.id),
        "transitions",
        include_deleted=True,
    )
    frames["transitions"] = _with_first_match(frames["transitions"], cid)
    # meetings from the previous period's start to the end of the plan's month, each with
    # whether a match recorded it held (reports/kpis.py splits held from planned)
    recorded_held = DockingEvent.id.in_(
        select(Match.docking_event_id)
        .join(MatchTransition, MatchTransition.match_id == Match.id)
        .where(Match.docking_event_id.is_not(None), MatchTransition.to_status == K.MEETING_HELD)
    )
    frames["events"] = _frame(
        select(
            DockingEvent.id,
            DockingEvent.title,
            DockingEvent.held_on,
            recorded_held.label("recorded_held"),
        ).where(
            DockingEvent.centre_id == cid,
            DockingEvent.held_on >= start,
            DockingEvent.held_on <= horizon,
        ),
        "events",
    )
    # staleness as of the period's last day (as_of for a period not over yet)
    stale_count, stale_rows = stale_needs(
        [cid],
        _at(min(as_of, end) + timedelta(days=1)),
        K.stale_days(current_app.config),
    )
    frames["stale"] = pd.DataFrame(stale_rows, columns=COLUMNS["stale"])
    open_need = (Need.centre_id == cid) & Need.status.in_(K.OPEN_NEED_STATUSES)
    org_ids = set(frames["visit_orgs"]["organisation_id"].astype(int))
    org_ids |= set(frames["needs"]["organisation_id"].astype(int))
    org_ids |= set(frames["transitions"]["organisation_id"].astype(int))
    frames["organisations"] = _frame(
        select(
            Organisation.id,
            Organisation.name,
            Organisation.short_name,
            Organisation.kind,
            Organisation.district,
            Organisation.deleted_at.is_not(None).label("deleted"),
        ).where(Organisation.centre_id == cid, Organisation.id.in_(sorted(org_ids) or [-1])),
        "organisations",
        include_deleted=True,
    )
    # every organisation visited before the window (a few thousand ids at most), intersected
    # here: an IN list of the window's organisations makes SQLite probe it for every visit
    window_orgs = set(frames["visit_orgs"]["organisation_id"].astype(int))
    visited_before = window_orgs & set(
        db.session.scalars(
            select(visit_organisations.c.organisation_id)
            .join(Visit, Visit.id == visit_organisations.c.visit_id)
            .where(Visit.centre_id == cid, Visit.status == "done", Visit.visit_date < start)
            .distinct()
        )
    )
    open_needs = db.session.scalar(
        select(func.count(Need.id)).where(open_need, Need.collected_on <= end)
    )
    return ReportInput(
        centre=centre.name,
        region=centre.region or "",
        partners=[p.name for p in centre.partners],
        period=period,
        frames=frames,
        visited_before=visited_before,
        open_needs=int(open_needs or 0),
        as_of=as_of,
        stale_total=stale_count,
    )
