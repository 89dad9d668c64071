"""Matching pages: the need panel and its actions, match steps, group docking, panels."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from needs_tracker.common.permissions import COORDINATOR_ROLES, require
from needs_tracker.common.queries import get_visible_or_404
from needs_tracker.experts.models import Expert
from needs_tracker.extensions import db
from needs_tracker.matching import semantic, services
from needs_tracker.matching.forms import (
    CandidateForm,
    EventNeedForm,
    GroupEventForm,
    TransitionForm,
)
from needs_tracker.matching.models import DeclineReason, DockingEvent, Match, MatchStatus
from needs_tracker.matching.services import ALLOWED, MatchError
from needs_tracker.needs.models import Need

bp = Blueprint("matching", __name__, url_prefix="/matching")


def can_match(user) -> bool:
    """Coordinators and admins propose, dismiss and move matches."""
    return bool(user.is_authenticated and user.has_role(*COORDINATOR_ROLES))


# --- notices ------------------------------------------------------------------------------

# After a step the page opens at the match (#match-N), far below the flash area at the top:
# the answer is kept here and shown beside the match (or atop the panel) instead.
NOTICE_KEY = "matching_notice"


def notify(anchor: str, text: str, category: str) -> None:
    """Keep a message to show at anchor ("matching" or "match-N") on the next need page."""
    session[NOTICE_KEY] = {"anchor": anchor, "text": str(text), "category": category}


def pop_notice() -> dict | None:
    """The pending matching message, removed from the session."""
    return session.pop(NOTICE_KEY, None)


# --- panels -------------------------------------------------------------------------------


def need_panel(need: Need, user) -> Markup:
    """Suggestions and current matches on the need page."""
    suggestions, index_status = services.suggest_with_status(
        need, top=current_app.config.get("MATCH_TOP", 8)
    )
    matches = services.matches_for_need(need)
    # The pool search is for those who may propose; others never see it or its results.
    pool_q = request.args.get("cq", "").strip()[:100] if can_match(user) else ""
    pool_hits = services.find_in_pool(need, pool_q) if pool_q else []
    dismissed = services.dismissals_for(need) if can_match(user) else []
    forms = {}
    for m in matches:
        form = TransitionForm(prefix=f"m{m.id}")
        form.to_status.choices = [
            c
            for c in form.to_status.choices
            if c.value in {s.value for s in ALLOWED[MatchStatus(m.status)]}
        ]
        form.version.data = m.version
        forms[m.id] = form
    return Markup(
        render_template(
            "matching/_need_panel.html",
            need=need,
            suggestions=suggestions,
            index_status=index_status,
            embedding=semantic.progress(),
            matches=matches,
            forms=forms,
            candidate_form=CandidateForm(),
            can_act=can_match(user),
            pool_q=pool_q,
            pool_hits=pool_hits,
            dismissed=dismissed,
            DeclineReason=DeclineReason,
            notice=pop_notice(),
        )
    )


def expert_panel(expert, user) -> Markup:
    """Needs matched to an expert, with outcomes (only the user's centres)."""
    return _candidate_panel("expert", expert)


def resource_panel(resource, user) -> Markup:
    """Needs matched to a resource, with outcomes (only the user's centres)."""
    return _candidate_panel("resource", resource)


def _candidate_panel(kind: str, obj) -> Markup:
    matches = services.matches_for_candidate(kind, obj.id)
    counts: dict[str, int] = {}
    for m in matches:
        counts[m.status] = counts.get(m.status, 0) + 1
    return Markup(
        render_template(
            "matching/_candidate_panel.html",
            matches=matches,
            counts=counts,
            MatchStatus=MatchStatus,
        )
    )


def stale_panel(user) -> Markup | None:
    """Matches without a step for STALE_DAYS (the dashboard's rule), for coordinators and admins."""
    if not can_match(user):
        return None
    days = int(current_app.config["STALE_DAYS"])
    matches = services.stale_matches(days)
    return Markup(render_template("matching/_stale_panel.html", matches=matches, days=days))


# --- actions ------------------------------------------------------------------------------


@bp.route("/needs/<int:need_id>/propose", methods=["POST"])
@login_required
def propose(need_id: int):
    """Propose a suggested expert or resource for a need."""
    need = get_visible_or_404(Need, need_id)
    require(can_match(current_user))
    anchor = "matching"
    form = CandidateForm()
    if not form.validate_on_submit():
        notify(anchor, _("The proposal was not valid."), "danger")
        return redirect(url_for("needs.detail", id=need.id) + "#matching")
    suggestion = services.suggestion_for(need, form.kind.data, form.candidate_id.data)
    try:
        match = services.propose_match(
            need,
            form.kind.data,
            form.candidate_id.data,
            current_user,
            form.note.data or "",
            suggestion,
        )
    except MatchError as exc:
        db.session.rollback()
        notify(anchor, str(exc), "danger")
    else:
        db.session.commit()
        name = match.expert.name if match.expert else match.resource.name
        notify(anchor, _("“%(name)s” proposed for this need.", name=name), "success")
    return redirect(url_for("needs.detail", id=need.id) + "#matching")


@bp.route("/needs/<int:need_id>/dismiss", methods=["POST"])
@login_required
def dismiss(need_id: int):
    """Mark a suggestion as not relevant for a need."""
    need = get_visible_or_404(Need, need_id)
    require(can_match(current_user))
    anchor = "matching"
    form = CandidateForm()
    if not form.validate_on_submit():
        notify(anchor, _("The request was not valid."), "danger")
        return redirect(url_for("needs.detail", id=need.id) + "#matching")
    try:
        services.dismiss_candidate(
            need, form.kind.data, form.candidate_id.data, current_user, form.note.data or ""
        )
    except MatchError as exc:
        db.session.rollback()
        notify(anchor, str(exc), "danger")
    else:
        db.session.commit()
        notify(
            anchor,
            _("Marked as not relevant; it will not be suggested for this need again."),
            "info",
        )
    return redirect(url_for("needs.detail", id=need.id) + "#matching")


@bp.route("/needs/<int:need_id>/dismissals/<int:dismissal_id>/undo", methods=["POST"])
@login_required
def undo_dismissal(need_id: int, dismissal_id: int):
    """Take back a "not relevant" mark: the candidate may be suggested for the need again."""
    need = get_visible_or_404(Need, need_id)
    require(can_match(current_user))
    anchor = "matching"
    try:
        name = services.undo_dismissal(need, dismissal_id)
    except MatchError:
        db.session.rollback()
        abort(404)
    db.session.commit()
    notify(anchor, _("“%(name)s” may be suggested for this need again.", name=name), "success")
    return redirect(url_for("needs.detail", id=need.id) + "#matching")


@bp.route("/<int:match_id>/step", methods=["POST"])
@login_required
def step(match_id: int):
    """Move a match one step along its workflow."""
    match = get_visible_or_404(Match, match_id, selectinload(Match.need))
    require(can_match(current_user))
    form = TransitionForm(prefix=f"m{match.id}")
    target = request.form.get(f"m{match.id}-to_status", "")
    anchor = f"match-{match.id}"
    back = url_for("needs.detail", id=match.need_id) + "#" + anchor
    if not form.validate_on_submit():
        errors = "; ".join(f"{form[k].label.text}: {' '.join(v)}" for k, v in form.errors.items())
        notify(anchor, _("The step was not valid.") + " " + errors, "danger")
        return redirect(back)
    if form.is_stale(match):
        notify(
            anchor,
            _("This match changed while you were looking at it. Please try again."),
            "danger",
        )
        return redirect(back)
    try:
        services.transition_match(
            match, target, current_user, form.note.data or "", **form.step_record(target)
        )
    except (MatchError, ValueError) as exc:
        db.session.rollback()
        notify(anchor, str(exc), "danger")
    else:
        db.session.commit()
        notify(
            anchor, _("Match moved to “%(status)s”.", status=MatchStatus(target).label), "success"
        )
    return redirect(back)


@bp.route("/groups")
@login_required
def groups():
    """Open docking events with their needs, then groups of needs not yet in one."""
    events = services.open_events()
    in_events = {n.id for e in events for n in e.needs}
    joinable = list(
        db.session.scalars(
            select(Need)
            .where(Need.status.in_(services.OPEN_NEED_STATUSES))
            .options(selectinload(Need.organisation))
            .order_by(Need.title, Need.id)
        )
    )
    joinable = [n for n in joinable if n.id not in in_events]
    return render_template(
        "matching/groups.html",
        groups=services.suggest_groups(),
        events=events,
        joinable=joinable,
        match_for=services.event_match_for,
        can_act=can_match(current_user),
        form=GroupEventForm(),
        add_form=EventNeedForm(),
        notice=pop_notice(),
    )


@bp.route("/groups/event/<int:event_id>/needs", methods=["POST"])
@login_required
def add_event_need(event_id: int):
    """Add one more need to an existing docking event."""
    event_ = get_visible_or_404(DockingEvent, event_id)
    require(can_match(current_user))
    anchor = f"event-{event_.id}"
    form = EventNeedForm()
    if not form.validate_on_submit():
        notify(anchor, _("Choose a need to add to the docking event."), "danger")
        return redirect(url_for(".groups") + f"#event-{event_.id}")
    need = get_visible_or_404(Need, form.need_id.data)
    try:
        services.add_need_to_event(event_, need, current_user)
    except MatchError as exc:
        db.session.rollback()
        notify(anchor, str(exc), "danger")
    else:
        db.session.commit()
        notify(
            anchor,
            _("“%(need)s” added to “%(event)s”.", need=need.title, event=event_.title),
            "success",
        )
    return redirect(url_for(".groups") + f"#event-{event_.id}")


@bp.route("/groups/event", methods=["POST"])
@login_required
def group_event():
    """Create one docking event for a group of needs with one expert."""
    require(can_match(current_user))
    form = GroupEventForm()
    if not form.validate_on_submit():
        flash(_("The docking event was not valid."), "danger")
        return redirect(url_for(".groups"))
    ids = [int(x) for x in form.need_ids.data.split(",") if x.strip().isdigit()]
    needs = list(db.session.scalars(select(Need).where(Need.id.in_(ids)).order_by(Need.id)))
    if len(needs) != len(set(ids)):
        flash(_("Some of these needs do not exist."), "danger")
        return redirect(url_for(".groups"))
    expert = get_visible_or_404(Expert, form.expert_id.data)
    try:
        event_ = services.create_group_event(
            needs,
            expert.id,
            current_user,
            form.title.data or "",
            form.held_on.data,
            form.place.data or "",
        )
    except MatchError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for(".groups"))
    db.session.commit()
    flash(
        _(
            "Docking event “%(title)s” created for %(n)d needs.",
            title=event_.title,
            n=len(needs),
        ),
        "success",
    )
    return redirect(url_for(".groups"))
