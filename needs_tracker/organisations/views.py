"""Organisation pages: list, detail (visits and needs over time), create, edit, delete."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from needs_tracker.common.crud import refuse_stale
from needs_tracker.common.forms import data_from_form
from needs_tracker.common.hooks import ORGANISATION_CREATE_CHECKS, ORGANISATION_PANELS
from needs_tracker.common.listing import ListSpec, apply_list, known_districts, paginate
from needs_tracker.common.permissions import (
    can_create_centre_data,
    can_delete_records,
    can_edit_organisation,
    require,
)
from needs_tracker.common.queries import get_visible_or_404
from needs_tracker.extensions import db
from needs_tracker.needs.models import Need
from needs_tracker.organisations.forms import OrganisationForm
from needs_tracker.organisations.models import Organisation
from needs_tracker.organisations.services import (
    FIELDS,
    OrganisationData,
    create_organisation,
    delete_organisation,
    filter_organisations,
    update_organisation,
)

bp = Blueprint("organisations", __name__, url_prefix="/organisations")

LIST_SPEC = ListSpec(
    sortable={
        "name": Organisation.name,
        "district": Organisation.district,
        "kind": Organisation.kind,
        "created": Organisation.created_at,
    },
    default_sort="name",
    search_columns=[
        Organisation.name,
        Organisation.short_name,
        Organisation.credit_code,
        Organisation.industry,
    ],
)


@bp.route("/")
@login_required
def index():
    """Paginated, filterable list of the centre's organisations."""
    stmt = filter_organisations(select(Organisation), request.args)
    stmt, state = apply_list(stmt, LIST_SPEC)
    page = paginate(stmt)
    districts = known_districts()
    return render_template("organisations/index.html", page=page, state=state, districts=districts)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    """Create an organisation in the user's centre."""
    require(can_create_centre_data(current_user))
    form = OrganisationForm()
    warning = None
    if form.validate_on_submit():
        data = data_from_form(OrganisationData, form)
        # Features (the import's company identity) may stop the save with a warning
        # that the user confirms by ticking a box in the re-rendered form.
        warnings = ORGANISATION_CREATE_CHECKS.collect(asdict(data), current_user.centre_id)
        warning = warnings[0] if warnings else None
        if warning is None:
            org = create_organisation(data, current_user.centre_id, current_user)
            db.session.commit()
            flash(_("Saved %(name)s.", name=org.name), "success")
            return redirect(url_for(".detail", id=org.id))
    return render_template("organisations/form.html", form=form, org=None, warning=warning)


@bp.route("/<int:id>")
@login_required
def detail(id: int):
    """An organisation with its visits and needs, and each need's status over time."""
    org = get_visible_or_404(Organisation, id)
    needs = db.session.scalars(
        select(Need)
        .where(Need.organisation_id == org.id)
        .options(selectinload(Need.fields), selectinload(Need.history))
        .order_by(Need.collected_on.desc(), Need.id.desc())
    ).all()
    return render_template(
        "organisations/detail.html",
        org=org,
        needs=needs,
        panels=ORGANISATION_PANELS.collect(org, current_user),
    )


@bp.route("/<int:id>/edit", methods=["GET", "POST"])
@login_required
def edit(id: int):
    """Edit an organisation; refuses to overwrite a newer version."""
    org = get_visible_or_404(Organisation, id)
    require(can_edit_organisation(current_user))
    form = OrganisationForm(obj=org)
    if request.method == "GET":
        form.version.data = org.version
    if form.validate_on_submit():
        if form.is_stale(org):
            refuse_stale(form, org, list(FIELDS))
        else:
            update_organisation(org, data_from_form(OrganisationData, form), current_user)
            db.session.commit()
            flash(_("Saved %(name)s.", name=org.name), "success")
            return redirect(url_for(".detail", id=org.id))
    return render_template("organisations/form.html", form=form, org=org)


@bp.route("/<int:id>/delete", methods=["POST"])
@login_required
def delete(id: int):
    """Soft-delete an organisation (coordinators and admins)."""
    org = get_visible_or_404(Organisation, id)
    require(can_delete_records(current_user))
    delete_organisation(org, current_user)
    db.session.commit()
    flash(_("Deleted %(name)s.", name=org.name), "success")
    return redirect(url_for(".index"))
