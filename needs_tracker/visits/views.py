"""Visit pages: list, detail, create (with team and needs in one form), edit, delete."""

from __future__ import annotations

import secrets
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from needs_tracker.common.choices import VisitStatus
from needs_tracker.common.crud import refuse_stale
from needs_tracker.common.hooks import VISIT_PANELS
from needs_tracker.common.listing import (
    ListSpec,
    apply_list,
    known_districts,
    paginate,
)
from needs_tracker.common.permissions import can_create_centre_data, can_edit_owned, require
from needs_tracker.common.queries import get_visible_or_404
from needs_tracker.extensions import db
from needs_tracker.needs.models import Need
from needs_tracker.visits.forms import VisitForm
from needs_tracker.visits.models import Visit
from needs_tracker.visits.services import (
    VisitNotPlanned,
    cancel_visit,
    delete_visit,
    filter_visits,
    find_sent_visit,
    record_visit,
    team_organisation_suggestions,
    update_visit,
)

bp = Blueprint("visits", __name__, url_prefix="/visits")

LIST_SPEC = ListSpec(
    sortable={"date": Visit.visit_date, "status": Visit.status, "purpose": Visit.purpose},
    default_sort="-date",
    search_columns=[Visit.purpose, Visit.summary],
)


@bp.route("/")
@login_required
def index():
    """Paginated list of visits, filterable by status, district and date range."""
    stmt = select(Visit).options(selectinload(Visit.organisations), selectinload(Visit.team))
    errors: list[str] = []
    stmt = filter_visits(stmt, request.args, errors)
    stmt, state = apply_list(stmt, LIST_SPEC)
    state.errors = errors
    page = paginate(stmt)
    districts = known_districts()
    return render_template("visits/index.html", page=page, state=state, districts=districts)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    """Record a visit with its organisations, team and needs in one form."""
    require(can_create_centre_data(current_user))
    form = VisitForm()
    form.set_choices()
    if request.method == "GET":
        form.visit_date.data = date.today()
        form.client_key.data = secrets.token_hex(16)
        first = form.team[0].form
        first.name.data = current_user.display_name
    else:
        sent = find_sent_visit(request.form.get("client_key", "")[:64], current_user)
        if sent is not None:
            return _already_saved(sent)
    if form.validate_on_submit() and form.check_has_organisation():
        needs = form.inline_needs()
        if needs is not None:
            visit = record_visit(
                form.visit_data(),
                current_user.centre_id,
                current_user,
                needs,
                client_key=_usable_key(form.client_key.data),
            )
            try:
                db.session.commit()
            except IntegrityError:
                # The same form sent twice at once: the other request saved it first.
                db.session.rollback()
                sent = find_sent_visit(form.client_key.data or "", current_user)
                if sent is None:
                    raise
                return _already_saved(sent)
            flash(
                _("Visit saved with %(n)d need(s).", n=len(needs)),
                "success",
            )
            return redirect(url_for(".detail", id=visit.id))
    return render_template(
        "visits/form.html",
        form=form,
        visit=None,
        team_orgs=team_organisation_suggestions(current_user.centre_id),
    )


def _usable_key(key: str | None) -> str | None:
    """The form's key, unless a visit (of any user or centre) holds it already: a forged or
    copied key must neither reach someone else's visit nor break the save."""
    if not key:
        return None
    table = Visit.__table__
    taken = db.session.connection().scalar(select(table.c.id).where(table.c.client_key == key))
    return None if taken is not None else key


def _already_saved(visit: Visit):
    flash(_("This visit was already saved; it was not saved a second time."), "info")
    return redirect(url_for(".detail", id=visit.id))


@bp.route("/<int:id>")
@login_required
def detail(id: int):
    """A visit with its organisations, team and the needs collected on it."""
    visit = get_visible_or_404(
        Visit, id, selectinload(Visit.organisations), selectinload(Visit.team)
    )
    needs = db.session.scalars(
        select(Need)
        .where(Need.visit_id == visit.id)
        .options(selectinload(Need.organisation), selectinload(Need.fields))
        .order_by(Need.id)
    ).all()
    return render_template(
        "visits/detail.html",
        visit=visit,
        needs=needs,
        panels=VISIT_PANELS.collect(visit, current_user),
    )


@bp.route("/<int:id>/edit", methods=["GET", "POST"])
@login_required
def edit(id: int):
    """Edit a visit's details, organisations and team; refuses stale saves."""
    visit = get_visible_or_404(
        Visit, id, selectinload(Visit.organisations), selectinload(Visit.team)
    )
    require(can_edit_owned(current_user, visit))
    if request.method == "GET":
        form = VisitForm(obj=visit)
        if request.args.get("record") and visit.status == VisitStatus.PLANNED.value:
            # "Record" on an overdue planned visit: it happened, now fill in what was done.
            form.status.data = VisitStatus.DONE.value
        form.organisation_ids.data = [o.id for o in visit.organisations]
        form.version.data = visit.version
        while len(form.team) < len(visit.team) + 1:
            form.team.append_entry()
        for entry, member in zip(form.team, visit.team, strict=False):
            entry.form.name.data = member.name
            entry.form.title.data = member.title
            entry.form.organisation_name.data = member.organisation_name
    else:
        form = VisitForm()
    form.set_choices()
    if form.validate_on_submit() and form.check_has_organisation():
        if form.is_stale(visit):
            refuse_stale(form, visit, ["visit_date", "status", "purpose", "summary"])
        else:
            update_visit(visit, form.visit_data(), current_user)
            db.session.commit()
            flash(_("Visit saved."), "success")
            return redirect(url_for(".detail", id=visit.id))
    return render_template(
        "visits/form.html",
        form=form,
        visit=visit,
        team_orgs=team_organisation_suggestions(visit.centre_id),
    )


@bp.route("/<int:id>/cancel", methods=["POST"])
@login_required
def cancel(id: int):
    """Cancel a planned visit that did not happen: it goes to the trash (and can come back)."""
    visit = get_visible_or_404(Visit, id)
    require(can_edit_owned(current_user, visit))
    try:
        cancel_visit(visit, current_user)
    except VisitNotPlanned as exc:
        flash(str(exc), "danger")
        return redirect(url_for(".detail", id=visit.id))
    db.session.commit()
    flash(_("Planned visit of %(date)s cancelled.", date=visit.visit_date), "success")
    back = url_for("main.index") if request.form.get("back") == "home" else url_for(".index")
    return redirect(back)


@bp.route("/<int:id>/delete", methods=["POST"])
@login_required
def delete(id: int):
    """Soft-delete a visit."""
    visit = get_visible_or_404(Visit, id)
    require(can_edit_owned(current_user, visit))
    delete_visit(visit, current_user)
    db.session.commit()
    flash(_("Visit deleted."), "success")
    return redirect(url_for(".index"))
