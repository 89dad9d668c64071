"""Centre administration pages (admins only)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from needs_tracker.centres.forms import CentreForm
from needs_tracker.centres.models import Centre
from needs_tracker.centres.services import CentreError, create_centre, set_partners
from needs_tracker.common.choices import Role
from needs_tracker.common.permissions import roles_required
from needs_tracker.common.queries import get_visible_or_404
from needs_tracker.extensions import db

bp = Blueprint("centres", __name__, url_prefix="/centres")


@bp.route("/")
@login_required
@roles_required(Role.SYSADMIN)
def index():
    """All centres."""
    centres = db.session.scalars(
        select(Centre).options(selectinload(Centre.partners)).order_by(Centre.name)
    ).all()
    return render_template("centres/index.html", centres=centres)


@bp.route("/new", methods=["GET", "POST"])
@login_required
@roles_required(Role.SYSADMIN)
def create():
    """Create a centre."""
    form = CentreForm()
    if form.validate_on_submit():
        try:
            centre = create_centre(
                form.name.data, form.region.data or "", (form.partners.data or "").splitlines()
            )
        except CentreError:
            form.name.errors.append(_("A centre with this name exists."))
        else:
            centre.report_style = form.report_style() or None
            db.session.commit()
            flash(_("Centre %(name)s created.", name=centre.name), "success")
            return redirect(url_for(".detail", id=centre.id))
    return render_template("centres/form.html", form=form, centre=None)


@bp.route("/<int:id>")
@login_required
@roles_required(Role.SYSADMIN)
def detail(id: int):
    """A centre and its co-building organisations."""
    centre = get_visible_or_404(Centre, id, selectinload(Centre.partners))
    from needs_tracker.auth.models import User

    users = db.session.scalar(select(func.count(User.id)).where(User.centre_id == centre.id))
    return render_template("centres/detail.html", centre=centre, user_count=users)


@bp.route("/<int:id>/edit", methods=["GET", "POST"])
@login_required
@roles_required(Role.SYSADMIN)
def edit(id: int):
    """Edit a centre's name, region and co-building organisations."""
    centre = get_visible_or_404(Centre, id, selectinload(Centre.partners))
    form = CentreForm(obj=centre)
    if request.method == "GET":
        form.partners.data = "\n".join(p.name for p in centre.partners)
        form.fill_report_style(centre.report_style)
    if form.validate_on_submit():
        clash = db.session.scalar(
            select(Centre.id).where(Centre.name == form.name.data, Centre.id != centre.id)
        )
        if clash:
            form.name.errors.append(_("A centre with this name exists."))
        else:
            centre.name = form.name.data
            centre.region = form.region.data or ""
            set_partners(centre, (form.partners.data or "").splitlines())
            centre.report_style = form.report_style() or None
            db.session.commit()
            flash(_("Centre %(name)s saved.", name=centre.name), "success")
            return redirect(url_for(".detail", id=centre.id))
    return render_template("centres/form.html", form=form, centre=centre)
