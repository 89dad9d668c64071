"""Need pages: list with filters, detail with history, create, edit, status changes."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from needs_tracker.common.choices import NeedStatus
from needs_tracker.common.crud import refuse_stale
from needs_tracker.common.forms import select_choices
from needs_tracker.common.hooks import NEED_PANELS
from needs_tracker.common.listing import (
    ListSpec,
    apply_list,
    known_districts,
    paginate,
)
from needs_tracker.common.permissions import (
    can_change_need_status,
    can_create_centre_data,
    can_delete_records,
    can_edit_owned,
    require,
)
from needs_tracker.common.queries import get_visible, get_visible_or_404
from needs_tracker.extensions import db
from needs_tracker.needs.forms import NeedForm, NeedStatusForm
from needs_tracker.needs.models import Need, NeedStatusChange
from needs_tracker.needs.services import (
    TransitionError,
    allowed_targets,
    change_need_status,
    create_need,
    delete_need,
    filter_needs,
    is_backward_move,
    need_data_from_form,
    search_needs,
    update_need,
)
from needs_tracker.organisations.models import Organisation
from needs_tracker.organisations.services import organisation_choices
from needs_tracker.taxonomy.services import field_choices
from needs_tracker.visits.models import Visit
from needs_tracker.visits.services import visit_choices

bp = Blueprint("needs", __name__, url_prefix="/needs")

LIST_SPEC = ListSpec(
    sortable={
        "collected": Need.collected_on,
        "title": Need.title,
        "status": Need.status,
        "urgency": Need.urgency,
        "company": Organisation.name,
    },
    default_sort="-collected",
    search_columns=[Need.title, Need.description, Organisation.name],
    searcher=search_needs,
)

EDIT_FIELDS = [
    "organisation_id",
    "visit_id",
    "title",
    "description",
    "need_type",
    "urgency",
    "budget",
    "collected_on",
]


def _prepare(form: NeedForm, visit: Visit | None = None) -> None:
    orgs = organisation_choices(companies_only=False)
    if visit is not None:
        # A need from a visit belongs to one of its companies: they come first.
        visited = {o.id for o in visit.organisations}
        orgs = [o for o in orgs if o[0] in visited] + [o for o in orgs if o[0] not in visited]
    form.organisation_id.choices = select_choices(orgs)
    form.field_ids.choices = select_choices(field_choices())
    form.visit_id.choices = select_choices(visit_choices())


@bp.route("/")
@login_required
def index():
    """Paginated list of needs, filterable by status, field, district and date range."""
    stmt = (
        select(Need)
        .join(Need.organisation)
        .options(selectinload(Need.organisation), selectinload(Need.fields))
    )
    errors: list[str] = []
    stmt = filter_needs(stmt, request.args, errors)
    stmt, state = apply_list(stmt, LIST_SPEC)
    state.errors = errors
    page = paginate(stmt)
    districts = known_districts()
    return render_template(
        "needs/index.html", page=page, state=state, fields=field_choices(), districts=districts
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    """Record a need, alone or for a visit (?visit_id=) or a company (?organisation_id=)."""
    require(can_create_centre_data(current_user))
    form = NeedForm()
    visit = get_visible(Visit, request.args.get("visit_id"))
    _prepare(form, visit)
    if request.method == "GET":
        form.collected_on.data = date.today()
        if visit is not None:
            form.visit_id.data = visit.id
            form.collected_on.data = visit.visit_date
            if visit.organisations:
                form.organisation_id.data = visit.organisations[0].id
        org = get_visible(Organisation, request.args.get("organisation_id"))
        if org is not None:
            form.organisation_id.data = org.id
    if form.validate_on_submit():
        need = create_need(need_data_from_form(form), current_user.centre_id, current_user)
        db.session.commit()
        flash(_("Need “%(title)s” recorded.", title=need.title), "success")
        return redirect(url_for(".detail", id=need.id))
    return render_template("needs/form.html", form=form, need=None)


@bp.route("/<int:id>")
@login_required
def detail(id: int):
    """A need with its fields, status history and (when matching is installed) its matches."""
    need = get_visible_or_404(
        Need,
        id,
        selectinload(Need.fields),
        selectinload(Need.history).selectinload(NeedStatusChange.changed_by),
    )
    status_form = NeedStatusForm()
    status_form.set_targets(need.status)
    status_form.version.data = need.version
    status_form.to_status.data = ""
    backward = [s.value for s in allowed_targets(need.status) if is_backward_move(need.status, s)]
    return render_template(
        "needs/detail.html",
        need=need,
        status_form=status_form,
        backward=backward,
        panels=NEED_PANELS.collect(need, current_user),
    )


@bp.route("/<int:id>/edit", methods=["GET", "POST"])
@login_required
def edit(id: int):
    """Edit a need; refuses to overwrite a newer version."""
    need = get_visible_or_404(Need, id, selectinload(Need.fields))
    require(can_edit_owned(current_user, need))
    form = NeedForm(obj=need)
    _prepare(form)
    if request.method == "GET":
        form.field_ids.data = [f.id for f in need.fields]
        form.version.data = need.version
    if form.validate_on_submit():
        if form.is_stale(need):
            refuse_stale(form, need, EDIT_FIELDS)
        else:
            update_need(need, need_data_from_form(form), current_user)
            db.session.commit()
            flash(_("Need “%(title)s” saved.", title=need.title), "success")
            return redirect(url_for(".detail", id=need.id))
    return render_template("needs/form.html", form=form, need=need)


@bp.route("/<int:id>/status", methods=["POST"])
@login_required
def change_status(id: int):
    """Move a need through its workflow (coordinators and admins)."""
    need = get_visible_or_404(Need, id)
    require(can_change_need_status(current_user))
    # All statuses stay valid choices here so an illegal jump gets the workflow's own message.
    form = NeedStatusForm()
    if not form.validate_on_submit():
        if not form.to_status.data:
            flash(_("Choose the new status."), "danger")
        else:
            flash(_("The status change was not valid."), "danger")
    elif form.is_stale(need):
        flash(
            _("This need changed while you were looking at it. Please check and try again."),
            "danger",
        )
    else:
        try:
            change_need_status(
                need,
                form.to_status.data,
                current_user,
                form.note.data or "",
                confirm_back=bool(form.confirm_back.data),
            )
        except TransitionError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(
                _("Status changed to “%(status)s”.", status=NeedStatus(need.status).label),
                "success",
            )
    return redirect(url_for(".detail", id=need.id))


@bp.route("/<int:id>/delete", methods=["POST"])
@login_required
def delete(id: int):
    """Soft-delete a need."""
    need = get_visible_or_404(Need, id)
    require(can_delete_records(current_user) or can_edit_owned(current_user, need))
    delete_need(need, current_user)
    db.session.commit()
    flash(_("Need deleted."), "success")
    return redirect(url_for(".index"))
