"""Expert and resource pages (the shared pool): list, detail, create, edit, delete."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from needs_tracker.common.crud import refuse_stale
from needs_tracker.common.forms import select_choices
from needs_tracker.common.listing import ListSpec, apply_list, paginate
from needs_tracker.common.permissions import can_handle_personal_data, can_manage_pool, require
from needs_tracker.common.queries import get_visible_or_404
from needs_tracker.experts.forms import ExpertForm
from needs_tracker.experts.models import Expert
from needs_tracker.experts.services import (
    EXPERT_FIELDS,
    EXPERT_SEARCH_COLUMNS,
    PoolRecordInUse,
    delete_pool_record,
    erase_personal_data,
    filter_experts,
    personal_data,
    save_expert,
)
from needs_tracker.extensions import db
from needs_tracker.taxonomy.services import field_choices

experts_bp = Blueprint("experts", __name__, url_prefix="/experts")

EXPERT_LIST = ListSpec(
    sortable={
        "name": Expert.name,
        "organisation": Expert.organisation,
        "created": Expert.created_at,
    },
    default_sort="name",
    search_columns=list(EXPERT_SEARCH_COLUMNS),
)


@experts_bp.route("/")
@login_required
def index():
    """Paginated, searchable list of experts."""
    stmt = select(Expert).options(selectinload(Expert.fields))
    stmt = filter_experts(stmt, request.args)
    stmt, state = apply_list(stmt, EXPERT_LIST)
    return render_template(
        "experts/index.html", page=paginate(stmt), state=state, fields=field_choices()
    )


@experts_bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    """Add an expert to the shared pool (coordinators and admins)."""
    require(can_manage_pool(current_user))
    form = ExpertForm()
    form.field_ids.choices = select_choices(field_choices())
    if form.validate_on_submit():
        expert = save_expert(form.data, current_user)
        db.session.commit()
        flash(_("Saved %(name)s.", name=expert.name), "success")
        return redirect(url_for(".detail", id=expert.id))
    return render_template("experts/form.html", form=form, expert=None)


@experts_bp.route("/<int:id>")
@login_required
def detail(id: int):
    """An expert, with the needs matched to them (when matching is installed)."""
    expert = get_visible_or_404(Expert, id, selectinload(Expert.fields))
    panels = [p(expert, current_user) for p in current_app.extensions.get("expert_panels", [])]
    return render_template("experts/detail.html", expert=expert, panels=[p for p in panels if p])


@experts_bp.route("/<int:id>/edit", methods=["GET", "POST"])
@login_required
def edit(id: int):
    """Edit an expert; refuses stale saves."""
    expert = get_visible_or_404(Expert, id, selectinload(Expert.fields))
    require(can_manage_pool(current_user))
    form = ExpertForm(obj=expert)
    form.field_ids.choices = select_choices(field_choices())
    if request.method == "GET":
        form.field_ids.data = [f.id for f in expert.fields]
        form.version.data = expert.version
    if form.validate_on_submit():
        if form.is_stale(expert):
            refuse_stale(form, expert, list(EXPERT_FIELDS))
        else:
            save_expert(form.data, current_user, expert)
            db.session.commit()
            flash(_("Saved %(name)s.", name=expert.name), "success")
            return redirect(url_for(".detail", id=expert.id))
    return render_template("experts/form.html", form=form, expert=expert)


@experts_bp.route("/<int:id>/delete", methods=["POST"])
@login_required
def delete(id: int):
    """Soft-delete an expert, unless other centres' matches use them (system admins may)."""
    expert = get_visible_or_404(Expert, id)
    require(can_manage_pool(current_user))
    if expert.deleted_at is not None:
        abort(404)
    try:
        delete_pool_record(expert, current_user)
    except PoolRecordInUse as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for(".detail", id=id))
    db.session.commit()
    flash(_("Deleted %(name)s.", name=expert.name), "success")
    return redirect(url_for(".index"))


@experts_bp.route("/<int:id>/personal-data")
@login_required
def personal_data_export(id: int):
    """Admins: everything held about the person, as JSON (a request under 个人信息保护法)."""
    require(can_handle_personal_data(current_user))
    expert = get_visible_or_404(Expert, id, selectinload(Expert.fields))
    body = json.dumps(personal_data(expert), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="expert-{expert.id}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@experts_bp.route("/<int:id>/erase", methods=["POST"])
@login_required
def erase(id: int):
    """Admins: erase the person's data on request; matches keep their history."""
    require(can_handle_personal_data(current_user))
    expert = get_visible_or_404(Expert, id)
    erase_personal_data(expert)
    db.session.commit()
    flash(_("The personal data of expert #%(id)d has been erased.", id=expert.id), "success")
    return redirect(url_for(".index"))
