"""User administration pages (admins only)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from needs_tracker.auth.models import User
from needs_tracker.centres.models import Centre
from needs_tracker.common.choices import Role
from needs_tracker.common.forms import select_choices
from needs_tracker.common.listing import ListSpec, apply_list, paginate
from needs_tracker.common.permissions import roles_required
from needs_tracker.common.queries import get_visible_or_404
from needs_tracker.extensions import db
from needs_tracker.users.forms import UserForm
from needs_tracker.users.services import UserError, create_user, reset_password, update_user

bp = Blueprint("users", __name__, url_prefix="/users")

LIST_SPEC = ListSpec(
    sortable={"username": User.username, "role": User.role, "name": User.display_name},
    default_sort="username",
    search_columns=[User.username, User.display_name],
)


def _centre_choices() -> list[tuple[int | None, str]]:
    rows = db.session.execute(select(Centre.id, Centre.name).order_by(Centre.name)).all()
    return [(None, "—")] + [(r.id, r.name) for r in rows]


@bp.route("/")
@login_required
@roles_required(Role.ADMIN)
def index():
    """List users, filterable by role and centre."""
    stmt = select(User).options(selectinload(User.centre))
    role = request.args.get("role", "")
    if role in Role.labels():
        stmt = stmt.where(User.role == role)
    centre = request.args.get("centre", "")
    if centre.isdigit():
        stmt = stmt.where(User.centre_id == int(centre))
    stmt, state = apply_list(stmt, LIST_SPEC)
    return render_template(
        "users/index.html", page=paginate(stmt), state=state, centres=_centre_choices()[1:]
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
@roles_required(Role.ADMIN)
def create():
    """Create a user in a centre."""
    form = UserForm()
    form.centre_id.choices = select_choices(_centre_choices())
    if form.validate_on_submit():
        try:
            user, generated = create_user(
                form.username.data,
                form.display_name.data,
                form.role.data,
                form.centre_id.data,
                form.password.data or None,
                form.is_consortium.data,
            )
        except UserError as exc:
            form.username.errors.append(str(exc))
        else:
            user.active = form.active.data
            db.session.commit()
            if generated:
                flash(
                    _(
                        "User %(name)s created. Initial password: %(pw)s",
                        name=user.username,
                        pw=generated,
                    ),
                    "success",
                )
            else:
                flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for(".detail", id=user.id))
    return render_template("users/form.html", form=form, user=None)


@bp.route("/<int:id>")
@login_required
@roles_required(Role.ADMIN)
def detail(id: int):
    """A user's profile."""
    user = get_visible_or_404(User, id)
    return render_template("users/detail.html", user=user)


@bp.route("/<int:id>/edit", methods=["GET", "POST"])
@login_required
@roles_required(Role.ADMIN)
def edit(id: int):
    """Edit a user's role, centre and status."""
    user = get_visible_or_404(User, id)
    form = UserForm(obj=user)
    form.centre_id.choices = select_choices(_centre_choices())
    del form.password
    if form.validate_on_submit():
        if form.username.data != user.username:
            form.username.errors.append(_("The username cannot be changed."))
        else:
            update_user(
                user,
                form.display_name.data,
                form.role.data,
                form.centre_id.data,
                form.active.data,
                form.is_consortium.data,
            )
            db.session.commit()
            flash(_("User %(name)s saved.", name=user.username), "success")
            return redirect(url_for(".detail", id=user.id))
    return render_template("users/form.html", form=form, user=user)


@bp.route("/<int:id>/reset-password", methods=["POST"])
@login_required
@roles_required(Role.ADMIN)
def reset(id: int):
    """Generate a new password for a user."""
    user = get_visible_or_404(User, id)
    password = reset_password(user)
    db.session.commit()
    flash(_("New password for %(name)s: %(pw)s", name=user.username, pw=password), "success")
    return redirect(url_for(".detail", id=user.id))
