"""Matching services: suggestions from the shared index, and the docking workflow.

Services take the acting user, flush and never commit. The index is built once per pool
and shared by the workers (``matching/index.py``); any flush that touches experts, resources
or fields moves the pool stamp (see ``_bump_on_pool_change``), so every gunicorn worker
switches to the new pool's index on its next suggestion after a change.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import Session, selectinload

from needs_tracker.auth.models import User
from needs_tracker.common.choices import NeedStatus
from needs_tracker.common.listing import text_search
from needs_tracker.common.models import utcnow
from needs_tracker.experts.models import Expert, Resource
from needs_tracker.experts.services import EXPERT_SEARCH_COLUMNS, RESOURCE_SEARCH_COLUMNS
from needs_tracker.extensions import db
from needs_tracker.matching import semantic
from needs_tracker.matching.engine import EXPERT, RESOURCE, NeedQuery, Suggestion
from needs_tracker.matching.index import (  # noqa: F401 - this module's names since issue 3
    IndexStatus,
    get_index,
    index_builds,
    index_loads,
    index_status,
    index_versions,
    load_candidates,
    reset_index_cache,
)
from needs_tracker.matching.models import (
    DockingEvent,
    Match,
    MatchDismissal,
    MatchIndexState,
    MatchStatus,
    MatchTransition,
    new_stamp,
)
from needs_tracker.needs.models import Need
from needs_tracker.needs.services import transition_need
from needs_tracker.taxonomy.models import TechField

M = MatchStatus
ACTIVE = (M.PROPOSED, M.CONTACTED, M.MEETING_HELD, M.AGREEMENT)
ACTIVE_VALUES = tuple(s.value for s in ACTIVE)

# The workflow; anything else is refused with a message naming the step that is missing.
ALLOWED: dict[MatchStatus, tuple[MatchStatus, ...]] = {
    M.PROPOSED: (M.CONTACTED, M.DECLINED),
    M.CONTACTED: (M.MEETING_HELD, M.DECLINED),
    M.MEETING_HELD: (M.AGREEMENT, M.DECLINED),
    M.AGREEMENT: (M.RESOLVED, M.DECLINED),
    M.RESOLVED: (),
    M.DECLINED: (),
}
ORDER = [M.PROPOSED, M.CONTACTED, M.MEETING_HELD, M.AGREEMENT, M.RESOLVED]

# How far a match's step moves its need along (never backwards, never out of closed).
NEED_ORDER = [
    NeedStatus.COLLECTED,
    NeedStatus.ASSESSING,
    NeedStatus.MATCHING,
    NeedStatus.MATCHED,
    NeedStatus.IN_PROGRESS,
    NeedStatus.RESOLVED,
]
NEED_FOLLOWS = {
    M.PROPOSED: NeedStatus.MATCHING,
    M.CONTACTED: NeedStatus.MATCHED,
    M.MEETING_HELD: NeedStatus.IN_PROGRESS,
    M.AGREEMENT: NeedStatus.IN_PROGRESS,
    M.RESOLVED: NeedStatus.RESOLVED,
}


class MatchError(ValueError):
    """A refused matching action; the message is for the user.

    field names the value at fault (the candidate, the target step, the meeting date...) when
    one is, so that the API can name it in its error document.
    """

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# --- the index stamps ----------------------------------------------------------------------
# The index itself (build, stored copy, the process's cache) lives in matching/index.py.


def _state() -> MatchIndexState:
    state = db.session.get(MatchIndexState, 1)
    if state is None:
        state = MatchIndexState(id=1)
        db.session.add(state)
        db.session.flush()
    return state


def bump_signal_version() -> None:
    """Mark the per-candidate signals (resolved and declined matches) as changed."""
    state = _state()
    state.signal_version = new_stamp()


def bump_pool_version() -> None:
    """Mark the expert/resource pool as changed: every worker rebuilds its index."""
    state = _state()
    state.pool_version = new_stamp()


def after_bulk_change(kind: str) -> None:
    """Call at the end of a bulk path (import, undo, merge) that wrote records of kind.

    Bulk paths write with SQL statements that the ORM's flush events never see. For experts
    and resources this moves the index stamp, so every worker rebuilds on its next
    suggestion; for them and for needs it asks for the embedding job, so the new texts get
    their sentence vectors.
    """
    from needs_tracker.matching import jobs

    if kind in ("experts", "resources", "expert", "resource"):
        bump_pool_version()
        db.session.flush()
    if kind in ("experts", "resources", "needs", "expert", "resource", "need"):
        jobs.enqueue_embedding()


@event.listens_for(Session, "before_flush")
def _bump_on_pool_change(session: Session, flush_context, instances) -> None:
    pool_types = (Expert, Resource, TechField)
    changed = any(isinstance(o, pool_types) for o in (*session.new, *session.deleted)) or any(
        isinstance(o, pool_types) and session.is_modified(o) for o in session.dirty
    )
    if not changed:
        return
    state = session.get(MatchIndexState, 1)
    if state is None:
        session.add(MatchIndexState(id=1))
    else:
        state.pool_version = new_stamp()


# --- suggestions --------------------------------------------------------------------------


def need_query(need: Need) -> NeedQuery:
    """The engine's view of a need."""
    org = need.organisation
    from needs_tracker.centres.models import Centre

    centre = db.session.get(Centre, need.centre_id)
    return NeedQuery(
        title=need.title,
        description=need.description or "",
        fields=tuple(f.name for f in need.fields),
        need_type=need.need_type,
        industry=(org.industry if org else "") or "",
        region=(centre.region if centre else "") or "",
        district=(org.district if org else "") or "",
    )


def excluded_for(need: Need) -> set[tuple[str, int]]:
    """Candidates never suggested for need: dismissed ones and those already matched."""
    keys: set[tuple[str, int]] = set()
    for expert_id, resource_id in db.session.execute(
        select(MatchDismissal.expert_id, MatchDismissal.resource_id).where(
            MatchDismissal.need_id == need.id
        )
    ):
        keys.add((EXPERT, expert_id) if expert_id else (RESOURCE, resource_id))
    for expert_id, resource_id in db.session.execute(
        select(Match.expert_id, Match.resource_id).where(Match.need_id == need.id)
    ):
        keys.add((EXPERT, expert_id) if expert_id else (RESOURCE, resource_id))
    return keys


def suggest_for_need(need: Need, top: int = 10, block: bool | None = None) -> list[Suggestion]:
    """The best experts and resources for need, with reasons (an empty list: none good).

    The need's sentence vector is looked up (it was computed when the need was saved);
    without one the ranking uses the lexical signals only. block: see ``get_index``.
    """
    return suggest_with_status(need, top, block)[0]


def suggest_with_status(
    need: Need, top: int = 10, block: bool | None = None
) -> tuple[list[Suggestion], IndexStatus]:
    """(suggestions, which index gave them): a page says when they are not up to date."""
    index = get_index(block)
    status = index_status()
    if index is None:
        return [], status
    query = need_query(need)
    suggestions = index.suggest(
        query, top=top, exclude=excluded_for(need), **semantic.need_vectors(query)
    )
    return suggestions, status


# --- workflow -----------------------------------------------------------------------------


def suggestion_for(need: Need, kind: str, candidate_id: int, top: int = 50) -> Suggestion | None:
    """The candidate's entry among the need's top suggestions (its score and reasons), if any:
    a proposal keeps them whether it is made on the need page or through the API."""
    return next(
        (s for s in suggest_for_need(need, top=top) if s.kind == kind and s.id == candidate_id),
        None,
    )


def _candidate(kind: str, candidate_id: int) -> Expert | Resource:
    model = Expert if kind == EXPERT else Resource if kind == RESOURCE else None
    obj = db.session.get(model, candidate_id) if model else None
    if obj is None or obj.is_deleted:
        raise MatchError(_("This expert or resource does not exist."), field="candidate_id")
    return obj


def _pair(kind: str, candidate_id: int) -> dict[str, int | None]:
    return {
        "expert_id": candidate_id if kind == EXPERT else None,
        "resource_id": candidate_id if kind == RESOURCE else None,
    }


def _same_candidate(model, kind: str, candidate_id: int):
    if kind == EXPERT:
        return model.expert_id == candidate_id
    return model.resource_id == candidate_id


def _follow(need: Need, step: MatchStatus, actor: User | None, keep_open: bool = False) -> None:
    """Move need forward to where step of one of its matches puts it."""
    target = NEED_FOLLOWS.get(step)
    if target is None or need.status == NeedStatus.CLOSED.value:
        return
    if target == NeedStatus.RESOLVED and keep_open:
        target = NeedStatus.IN_PROGRESS
    current = NeedStatus(need.status)
    if NEED_ORDER.index(target) <= NEED_ORDER.index(current):
        return
    transition_need(need, target, actor, _("Following its match"), force=True)


def propose_match(
    need: Need,
    kind: str,
    candidate_id: int,
    actor: User | None,
    note: str = "",
    suggestion: Suggestion | None = None,
) -> Match:
    """Propose candidate for need; refuses a pair already active or dismissed."""
    candidate = _candidate(kind, candidate_id)
    pair = _pair(kind, candidate_id)
    existing = db.session.scalar(
        select(Match).where(
            Match.need_id == need.id,
            _same_candidate(Match, kind, candidate_id),
            Match.status.in_(ACTIVE_VALUES),
        )
    )
    if existing is not None:
        raise MatchError(
            _("“%(name)s” is already proposed for this need.", name=candidate.name),
            field="candidate_id",
        )
    match = Match(
        centre_id=need.centre_id,
        need_id=need.id,
        status=M.PROPOSED.value,
        score=suggestion.score if suggestion else None,
        reasons=suggestion.reason_text if suggestion else "",
        created_by_id=actor.id if actor else None,
        status_changed_at=utcnow(),
        **pair,
    )
    match.need = need
    match.transitions.append(
        MatchTransition(
            from_status=None,
            to_status=M.PROPOSED.value,
            by_id=actor.id if actor else None,
            note=note.strip(),
        )
    )
    db.session.add(match)
    db.session.flush()
    _follow(need, M.PROPOSED, actor)
    return match


def dismiss_candidate(
    need: Need, kind: str, candidate_id: int, actor: User | None, note: str = ""
) -> MatchDismissal:
    """Mark candidate as not relevant for need: it is never suggested for it again."""
    _candidate(kind, candidate_id)
    pair = _pair(kind, candidate_id)
    if (kind, candidate_id) in excluded_for(need):
        existing = db.session.scalar(
            select(MatchDismissal).where(
                MatchDismissal.need_id == need.id,
                _same_candidate(MatchDismissal, kind, candidate_id),
            )
        )
        if existing is not None:
            return existing
    dismissal = MatchDismissal(
        centre_id=need.centre_id,
        need_id=need.id,
        note=note.strip()[:300],
        by_id=actor.id if actor else None,
        **pair,
    )
    db.session.add(dismissal)
    db.session.flush()
    return dismissal


@dataclass
class MeetingData:
    """The record of a docking meeting (对接会)."""

    held_on: date
    place: str = ""
    attendees: str = ""
    minutes: str = ""
    title: str = ""


def _refuse(current: MatchStatus, target: MatchStatus) -> None:
    if target in ALLOWED[current]:
        return
    if current in (M.RESOLVED, M.DECLINED):
        raise MatchError(
            _("This match is already “%(status)s”; it cannot change.", status=current.label),
            field="to_status",
        )
    if target in ORDER and ORDER.index(target) > ORDER.index(current):
        missing = ORDER[ORDER.index(current) + 1]
        raise MatchError(
            _(
                "A match cannot go from “%(from)s” to “%(to)s”: record “%(missing)s” first.",
                **{"from": current.label, "to": target.label, "missing": missing.label},
            ),
            field="to_status",
        )
    raise MatchError(
        _(
            "A match cannot go back from “%(from)s” to “%(to)s”.",
            **{"from": current.label, "to": target.label},
        ),
        field="to_status",
    )


def transition_match(
    match: Match,
    to_status: MatchStatus | str,
    actor: User | None,
    note: str = "",
    *,
    meeting: MeetingData | None = None,
    amount: Decimal | None = None,
    declined_by: str = "",
    decline_reason: str = "",
    keep_need_open: bool = False,
) -> MatchTransition:
    """Move match one step, with the step's record; the need follows."""
    target = MatchStatus(to_status)
    current = MatchStatus(match.status)
    if target == current:
        raise MatchError(_("The match is already in this status."), field="to_status")
    _refuse(current, target)
    if target == M.MEETING_HELD:
        check_meeting_held(meeting.held_on if meeting else None)
        record_meeting(match, meeting, actor)
    if target == M.AGREEMENT:
        if amount is not None and amount < 0:
            raise MatchError(_("The amount cannot be negative."), field="amount")
        match.amount = amount
    if target == M.DECLINED:
        if declined_by not in ("company", "expert"):
            raise MatchError(_("Say who declined: the company or the expert."), field="declined_by")
        from needs_tracker.matching.models import DeclineReason

        if decline_reason not in DeclineReason.labels():
            raise MatchError(_("Choose a reason for the decline."), field="decline_reason")
        if decline_reason == DeclineReason.OTHER.value and not note.strip():
            raise MatchError(_("Describe the reason in the note."), field="note")
        match.declined_by = declined_by
        match.decline_reason = decline_reason
        match.decline_note = note.strip()[:500]
    if target == M.RESOLVED:
        match.keep_need_open = keep_need_open
    step = MatchTransition(
        from_status=current.value,
        to_status=target.value,
        by_id=actor.id if actor else None,
        note=note.strip(),
    )
    match.transitions.append(step)
    match.status = target.value
    match.status_changed_at = utcnow()
    db.session.flush()
    if target in (M.RESOLVED, M.DECLINED):
        bump_signal_version()
    _follow(match.need, target, actor, keep_open=keep_need_open)
    db.session.flush()
    return step


def check_meeting_held(held_on: date | None, today: date | None = None) -> None:
    """Refuse to record a docking meeting as held without a date, or on a day still ahead.

    A meeting dated in the future is planned, not held: the reports count the two apart
    (reports/kpis.py), so recording it held early would report an event that has not happened.
    """
    if held_on is None:
        raise MatchError(_("Record the docking meeting: its date at least."), field="held_on")
    today = today or date.today()
    if held_on > today:
        raise MatchError(
            _(
                "The meeting date %(date)s is after today (%(today)s): a meeting can only be "
                "recorded as held once it has taken place. Keep the match at its current step "
                "and record the meeting on or after that day.",
                date=held_on.isoformat(),
                today=today.isoformat(),
            ),
            field="held_on",
        )


def record_meeting(match: Match, meeting: MeetingData, actor: User | None) -> DockingEvent:
    """Record the held meeting on the match's docking event (the group's one, or a new one)."""
    check_meeting_held(meeting.held_on)
    event_ = match.docking_event
    if event_ is None:
        event_ = DockingEvent(
            centre_id=match.centre_id,
            title=meeting.title or _("Docking meeting: %(title)s", title=match.need.title)[:200],
            expert_id=match.expert_id,
            resource_id=match.resource_id,
            created_by_id=actor.id if actor else None,
        )
        event_.needs.append(match.need)
        db.session.add(event_)
        match.docking_event = event_
    event_.held_on = meeting.held_on
    event_.place = meeting.place.strip()[:200]
    event_.attendees = meeting.attendees.strip()
    event_.minutes = meeting.minutes.strip()
    db.session.flush()
    return event_


# --- group docking ------------------------------------------------------------------------

OPEN_NEED_STATUSES = (
    NeedStatus.COLLECTED.value,
    NeedStatus.ASSESSING.value,
    NeedStatus.MATCHING.value,
)


@dataclass
class GroupSuggestion:
    """Needs of several companies sharing a field, and one expert for all of them."""

    field: str
    needs: list[Need]
    expert: Suggestion | None
    covered: int  # how many of the needs have the expert among their top suggestions


def open_events() -> list[DockingEvent]:
    """Docking events (visible to the actor) with a match still under way, newest first."""
    return list(
        db.session.scalars(
            select(DockingEvent)
            .where(
                DockingEvent.matches.any(Match.status.in_(ACTIVE_VALUES)),
            )
            .options(
                selectinload(DockingEvent.needs).selectinload(Need.organisation),
                selectinload(DockingEvent.matches),
                selectinload(DockingEvent.expert),
            )
            .order_by(DockingEvent.id.desc())
        )
    )


def event_match_for(event_: DockingEvent, need: Need) -> Match | None:
    """The match that ties need to event_ (its state is the need's state in the event)."""
    return next((m for m in event_.matches if m.need_id == need.id), None)


def suggest_groups(min_companies: int = 2, per_need: int = 15) -> list[GroupSuggestion]:
    """Groups of open needs (visible to the actor) in one field, across companies.

    A need already in an open docking event is left out (that event covers it), and a need
    goes into one group only: the best group claims it first.
    """
    covered_ids = {n.id for e in open_events() for n in e.needs}
    needs = db.session.scalars(
        select(Need)
        .where(Need.status.in_(OPEN_NEED_STATUSES))
        .options(selectinload(Need.fields), selectinload(Need.organisation))
        .order_by(Need.id)
    ).all()
    by_field: dict[tuple[int, str], list[Need]] = defaultdict(list)
    for need in needs:
        if need.id in covered_ids:
            continue
        for f in need.fields:
            by_field[(need.centre_id, f.name)].append(need)
    index = get_index()
    if index is None:
        return []  # the index is being built: no groups to offer yet
    cache: dict[int, list[Suggestion]] = {}

    def best_group(field_name: str, members: list[Need]) -> GroupSuggestion | None:
        if len({n.organisation_id for n in members}) < min_companies:
            return None
        totals: dict[int, list[Suggestion]] = defaultdict(list)
        for need in members:
            if need.id not in cache:
                query = need_query(need)
                cache[need.id] = index.suggest(
                    query,
                    top=per_need,
                    exclude=excluded_for(need),
                    kinds=[EXPERT],
                    **semantic.need_vectors(query),
                )
            for s in cache[need.id]:
                totals[s.id].append(s)
        if not totals:
            return None
        best_id = min(
            totals,
            key=lambda i: (-len(totals[i]), -sum(s.score for s in totals[i]), i),
        )
        covered = len(totals[best_id])
        if covered < 2:
            return None
        best = max(totals[best_id], key=lambda s: s.score)
        return GroupSuggestion(field_name, list(members), best, covered)

    def rank(g: GroupSuggestion) -> tuple:
        return (-g.covered, -len(g.needs), g.field)

    pending = {key: members for key, members in by_field.items()}
    groups: list[GroupSuggestion] = []
    claimed: set[int] = set()
    # Greedy: take the best group, drop its needs from the others, rank again.
    while pending:
        candidates = []
        for key, members in sorted(pending.items()):
            g = best_group(key[1], [n for n in members if n.id not in claimed])
            if g is not None:
                candidates.append((rank(g), key, g))
        if not candidates:
            break
        _rank, key, g = min(candidates, key=lambda c: c[0])
        groups.append(g)
        claimed.update(n.id for n in g.needs)
        del pending[key]
    return groups


def add_need_to_event(event_: DockingEvent, need: Need, actor: User | None) -> Match:
    """Add need to an existing docking event: proposes it to the event's expert if needed."""
    if need.centre_id != event_.centre_id:
        raise MatchError(_("All needs of a docking event must belong to one centre."))
    if any(n.id == need.id for n in event_.needs):
        raise MatchError(_("“%(title)s” is already in this docking event.", title=need.title))
    if event_.expert_id is None:
        raise MatchError(_("Only a docking event with an expert can take more needs."))
    if need.status not in OPEN_NEED_STATUSES:
        raise MatchError(_("Only an open need can join a docking event."))
    event_.needs.append(need)
    match = db.session.scalar(
        select(Match).where(
            Match.need_id == need.id,
            Match.expert_id == event_.expert_id,
            Match.status.in_(ACTIVE_VALUES),
        )
    )
    if match is None:
        match = propose_match(need, EXPERT, event_.expert_id, actor, _("Group docking"))
    match.docking_event = event_
    db.session.flush()
    return match


def create_group_event(
    needs: list[Need],
    expert_id: int,
    actor: User | None,
    title: str,
    held_on: date | None = None,
    place: str = "",
) -> DockingEvent:
    """One docking event for several needs with one expert; proposes the missing matches."""
    if len(needs) < 2:
        raise MatchError(_("A group docking event needs at least two needs."))
    centres = {n.centre_id for n in needs}
    if len(centres) != 1:
        raise MatchError(_("All needs of a docking event must belong to one centre."))
    expert = _candidate(EXPERT, expert_id)
    event_ = DockingEvent(
        centre_id=centres.pop(),
        title=title.strip()[:200] or _("Group docking with %(name)s", name=expert.name),
        held_on=held_on,
        place=place.strip()[:200],
        expert_id=expert.id,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(event_)
    for need in needs:
        event_.needs.append(need)
        match = db.session.scalar(
            select(Match).where(
                Match.need_id == need.id,
                Match.expert_id == expert.id,
                Match.status.in_(ACTIVE_VALUES),
            )
        )
        if match is None:
            match = propose_match(need, EXPERT, expert.id, actor, _("Group docking"))
        match.docking_event = event_
    db.session.flush()
    return event_


# --- lists --------------------------------------------------------------------------------


def stale_matches(days: int, limit: int = 20) -> list[Match]:
    """Active matches with no step for days (visible to the actor), oldest first."""
    cutoff = utcnow() - timedelta(days=days)
    return list(
        db.session.scalars(
            select(Match)
            .where(Match.status.in_(ACTIVE_VALUES), Match.status_changed_at < cutoff)
            .options(
                selectinload(Match.need).selectinload(Need.organisation),
                selectinload(Match.expert),
                selectinload(Match.resource),
            )
            .order_by(Match.status_changed_at, Match.id)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class Dismissed:
    """A candidate marked "not relevant" for a need, for the list that can undo it."""

    id: int
    kind: str
    name: str
    organisation: str
    note: str


def dismissals_for(need: Need) -> list[Dismissed]:
    """The need's "not relevant" marks, newest first."""
    rows = db.session.execute(
        select(MatchDismissal, Expert, Resource)
        .outerjoin(Expert, Expert.id == MatchDismissal.expert_id)
        .outerjoin(Resource, Resource.id == MatchDismissal.resource_id)
        .where(MatchDismissal.need_id == need.id)
        .order_by(MatchDismissal.id.desc())
        .execution_options(include_deleted=True)
    ).all()
    out = []
    for d, expert, resource in rows:
        if expert is not None:
            out.append(Dismissed(d.id, EXPERT, expert.name, expert.organisation, d.note))
        elif resource is not None:
            out.append(
                Dismissed(d.id, RESOURCE, resource.name, resource.owner_organisation, d.note)
            )
    return out


def undo_dismissal(need: Need, dismissal_id: int) -> str:
    """Let a candidate marked "not relevant" be suggested for need again; returns its name."""
    dismissal = db.session.scalar(
        select(MatchDismissal).where(
            MatchDismissal.id == dismissal_id, MatchDismissal.need_id == need.id
        )
    )
    if dismissal is None:
        raise MatchError(_("This mark does not exist (any more)."))
    kind = EXPERT if dismissal.expert_id else RESOURCE
    model = Expert if kind == EXPERT else Resource
    obj = db.session.execute(
        select(model)
        .where(model.id == (dismissal.expert_id or dismissal.resource_id))
        .execution_options(include_deleted=True)
    ).scalar_one_or_none()
    db.session.delete(dismissal)
    db.session.flush()
    return obj.name if obj is not None else ""


@dataclass(frozen=True)
class PoolHit:
    """An expert or resource found by name or text, to propose by hand."""

    kind: str
    id: int
    name: str
    organisation: str
    text: str
    proposed: bool  # already in an active match for the need


def find_in_pool(need: Need, q: str, limit: int = 10) -> list[PoolHit]:
    """Experts and resources whose name, organisation or expertise contains q.

    For the coordinator who knows whom to ask when the suggestions miss them: the ranking
    only sees words, a coordinator also knows people. At most limit of each kind.
    """
    q = q.strip()[:100]
    if not q:
        return []
    active = {
        (EXPERT if e else RESOURCE, e or r)
        for e, r in db.session.execute(
            select(Match.expert_id, Match.resource_id).where(
                Match.need_id == need.id, Match.status.in_(ACTIVE_VALUES)
            )
        )
    }
    hits: list[PoolHit] = []
    experts = text_search(select(Expert), list(EXPERT_SEARCH_COLUMNS), q)
    for e in db.session.scalars(experts.order_by(Expert.name, Expert.id).limit(limit)):
        hits.append(
            PoolHit(EXPERT, e.id, e.name, e.organisation, e.expertise, (EXPERT, e.id) in active)
        )
    resources = text_search(select(Resource), list(RESOURCE_SEARCH_COLUMNS), q)
    for r in db.session.scalars(resources.order_by(Resource.name, Resource.id).limit(limit)):
        hits.append(
            PoolHit(
                RESOURCE,
                r.id,
                r.name,
                r.owner_organisation,
                r.description,
                (RESOURCE, r.id) in active,
            )
        )
    return hits


def matches_for_need(need: Need) -> list[Match]:
    """A need's matches with their steps, newest first."""
    return list(
        db.session.scalars(
            select(Match)
            .where(Match.need_id == need.id)
            .options(
                selectinload(Match.transitions).selectinload(MatchTransition.by),
                selectinload(Match.expert),
                selectinload(Match.resource),
                selectinload(Match.docking_event),
            )
            .order_by(Match.id.desc())
        )
    )


def matches_for_candidate(kind: str, candidate_id: int) -> list[Match]:
    """Matches of an expert or resource that the actor may see."""
    column = Match.expert_id if kind == EXPERT else Match.resource_id
    return list(
        db.session.scalars(
            select(Match)
            .where(column == candidate_id)
            .options(selectinload(Match.need).selectinload(Need.organisation))
            .order_by(Match.status_changed_at.desc(), Match.id.desc())
        )
    )
