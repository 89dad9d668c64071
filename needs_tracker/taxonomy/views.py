"""Taxonomy administration: technical fields (admins edit; everyone reads)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from needs_tracker.common.choices import Role
from needs_tracker.common.permissions import roles_required
from needs_tracker.common.queries import get_visible_or_404
from needs_tracker.extensions import db
from needs_tracker.taxonomy.forms import TechFieldForm
from needs_tracker.taxonomy.models import TechField

bp = Blueprint("taxonomy", __name__, url_prefix="/fields")


@bp.route("/")
@login_required
def index():
    """The list of technical fields."""
    fields = db.session.scalars(select(TechField).order_by(TechField.position, TechField.id)).all()
    return render_template("taxonomy/index.html", fields=fields)


def _name_taken(name: str, exclude_id: int | None = None) -> bool:
    stmt = select(TechField.id).where(TechField.name == name)
    if exclude_id:
        stmt = stmt.where(TechField.id != exclude_id)
    return db.session.scalar(stmt) is not None


@bp.route("/new", methods=["GET", "POST"])
@login_required
@roles_required(Role.SYSADMIN)
def create():
    """Add a technical field."""
    form = TechFieldForm()
    if form.validate_on_submit():
        if _name_taken(form.name.data):
            form.name.errors.append(_("This field exists already."))
        else:
            field = TechField(
                name=form.name.data,
                description=form.description.data or "",
                position=form.position.data or 0,
                active=form.active.data,
            )
            db.session.add(field)
            db.session.commit()
            flash(_("Saved %(name)s.", name=field.name), "success")
            return redirect(url_for(".index"))
    return render_template("taxonomy/form.html", form=form, field_obj=None)


@bp.route("/<int:id>/edit", methods=["GET", "POST"])
@login_required
@roles_required(Role.SYSADMIN)
def edit(id: int):
    """Rename, reorder or retire a technical field."""
    field = get_visible_or_404(TechField, id)
    form = TechFieldForm(obj=field)
    if form.validate_on_submit():
        if _name_taken(form.name.data, field.id):
            form.name.errors.append(_("This field exists already."))
        else:
            field.name = form.name.data
            field.description = form.description.data or ""
            field.position = form.position.data or 0
            field.active = form.active.data
            db.session.commit()
            flash(_("Saved %(name)s.", name=field.name), "success")
            return redirect(url_for(".index"))
    return render_template("taxonomy/form.html", form=form, field_obj=field)
