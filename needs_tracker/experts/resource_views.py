"""Resource pages (labs, platforms, learning factories, achievements, patents)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from needs_tracker.common.crud import refuse_stale
from needs_tracker.common.forms import select_choices
from needs_tracker.common.listing import ListSpec, apply_list, paginate
from needs_tracker.common.permissions import can_manage_pool, require
from needs_tracker.common.queries import get_visible_or_404
from needs_tracker.experts.forms import ResourceForm
from needs_tracker.experts.models import Resource
from needs_tracker.experts.services import (
    RESOURCE_FIELDS,
    RESOURCE_SEARCH_COLUMNS,
    PoolRecordInUse,
    delete_pool_record,
    filter_resources,
    save_resource,
)
from needs_tracker.extensions import db
from needs_tracker.taxonomy.services import field_choices

resources_bp = Blueprint("resources", __name__, url_prefix="/resources")

RESOURCE_LIST = ListSpec(
    sortable={"name": Resource.name, "kind": Resource.kind, "owner": Resource.owner_organisation},
    default_sort="name",
    search_columns=list(RESOURCE_SEARCH_COLUMNS),
)


@resources_bp.route("/")
@login_required
def index():
    """Paginated, searchable list of resources."""
    stmt = select(Resource).options(selectinload(Resource.fields))
    stmt = filter_resources(stmt, request.args)
    stmt, state = apply_list(stmt, RESOURCE_LIST)
    return render_template(
        "resources/index.html", page=paginate(stmt), state=state, fields=field_choices()
    )


@resources_bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    """Add a resource to the shared pool (coordinators and admins)."""
    require(can_manage_pool(current_user))
    form = ResourceForm()
    form.field_ids.choices = select_choices(field_choices())
    if form.validate_on_submit():
        resource = save_resource(form.data, current_user)
        db.session.commit()
        flash(_("Saved %(name)s.", name=resource.name), "success")
        return redirect(url_for(".detail", id=resource.id))
    return render_template("resources/form.html", form=form, resource=None)


@resources_bp.route("/<int:id>")
@login_required
def detail(id: int):
    """A resource and what it has been matched to."""
    resource = get_visible_or_404(Resource, id, selectinload(Resource.fields))
    panels = [p(resource, current_user) for p in current_app.extensions.get("resource_panels", [])]
    return render_template(
        "resources/detail.html", resource=resource, panels=[p for p in panels if p]
    )


@resources_bp.route("/<int:id>/edit", methods=["GET", "POST"])
@login_required
def edit(id: int):
    """Edit a resource; refuses stale saves."""
    resource = get_visible_or_404(Resource, id, selectinload(Resource.fields))
    require(can_manage_pool(current_user))
    form = ResourceForm(obj=resource)
    form.field_ids.choices = select_choices(field_choices())
    if request.method == "GET":
        form.field_ids.data = [f.id for f in resource.fields]
        form.version.data = resource.version
    if form.validate_on_submit():
        if form.is_stale(resource):
            refuse_stale(form, resource, list(RESOURCE_FIELDS))
        else:
            save_resource(form.data, current_user, resource)
            db.session.commit()
            flash(_("Saved %(name)s.", name=resource.name), "success")
            return redirect(url_for(".detail", id=resource.id))
    return render_template("resources/form.html", form=form, resource=resource)


@resources_bp.route("/<int:id>/delete", methods=["POST"])
@login_required
def delete(id: int):
    """Soft-delete a resource, unless other centres' matches use it (system admins may)."""
    resource = get_visible_or_404(Resource, id)
    require(can_manage_pool(current_user))
    if resource.deleted_at is not None:
        abort(404)
    try:
        delete_pool_record(resource, current_user)
    except PoolRecordInUse as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for(".detail", id=id))
    db.session.commit()
    flash(_("Deleted %(name)s.", name=resource.name), "success")
    return redirect(url_for(".index"))
