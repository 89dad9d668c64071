"""User administration pages (admins only)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from needs_tracker.auth.models import User
from needs_tracker.auth.services import active_locks, unlock
from needs_tracker.centres.models import Centre
from needs_tracker.common.choices import Role
from needs_tracker.common.forms import select_choices
from needs_tracker.common.listing import ListSpec, apply_list, paginate
from needs_tracker.common.permissions import ADMIN_ROLES, roles_required
from needs_tracker.common.queries import get_visible_or_404
from needs_tracker.extensions import db
from needs_tracker.users.forms import UserForm
from needs_tracker.users.services import (
    UserError,
    assignable_roles,
    create_user,
    manages,
    reset_password,
    update_user,
)

bp = Blueprint("users", __name__, url_prefix="/users")

LIST_SPEC = ListSpec(
    sortable={"username": User.username, "role": User.role, "name": User.display_name},
    default_sort="username",
    search_columns=[User.username, User.display_name],
)


def _centre_choices() -> list[tuple[int | None, str]]:
    """Centres the acting admin may put users in: all for a system admin, else their own."""
    stmt = select(Centre.id, Centre.name).order_by(Centre.name)
    if not current_user.has_role(Role.SYSADMIN):
        return [
            (r.id, r.name)
            for r in db.session.execute(stmt.where(Centre.id == current_user.centre_id))
        ]
    return [(None, "—")] + [(r.id, r.name) for r in db.session.execute(stmt).all()]


def _prepare(form: UserForm) -> None:
    """Limit the form's roles and centres to what the acting admin may give."""
    form.centre_id.choices = select_choices(_centre_choices())
    form.role.choices = [SelectChoice(r.value, r.label) for r in assignable_roles(current_user)]


def _managed_user_or_404(id: int) -> User:
    """A user the acting admin manages; others are 404, as out-of-centre records are."""
    user = get_visible_or_404(User, id)
    if not manages(current_user, user):
        abort(404)
    return user


@bp.route("/")
@login_required
@roles_required(*ADMIN_ROLES)
def index():
    """List users, filterable by role and centre."""
    stmt = select(User).options(selectinload(User.centre))
    if not current_user.has_role(Role.SYSADMIN):
        stmt = stmt.where(
            User.centre_id == current_user.centre_id,
            User.role != Role.SYSADMIN.value,
            User.is_consortium.is_(False),
        )
    role = request.args.get("role", "")
    if role in Role.labels():
        stmt = stmt.where(User.role == role)
    centre = request.args.get("centre", "")
    if centre.isdigit():
        stmt = stmt.where(User.centre_id == int(centre))
    stmt, state = apply_list(stmt, LIST_SPEC)
    centres = [(i, n) for i, n in _centre_choices() if i is not None]
    return render_template("users/index.html", page=paginate(stmt), state=state, centres=centres)


@bp.route("/new", methods=["GET", "POST"])
@login_required
@roles_required(*ADMIN_ROLES)
def create():
    """Create a user in a centre."""
    form = UserForm()
    _prepare(form)
    if form.validate_on_submit():
        try:
            user, generated = create_user(
                form.username.data,
                form.display_name.data,
                form.role.data,
                form.centre_id.data,
                form.password.data or None,
                form.is_consortium.data,
                actor=current_user,
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
@roles_required(*ADMIN_ROLES)
def detail(id: int):
    """A user's profile, with any login locks and when they end."""
    user = _managed_user_or_404(id)
    return render_template("users/detail.html", user=user, locks=active_locks(user))


@bp.route("/<int:id>/edit", methods=["GET", "POST"])
@login_required
@roles_required(*ADMIN_ROLES)
def edit(id: int):
    """Edit a user's role, centre and status."""
    user = _managed_user_or_404(id)
    form = UserForm(obj=user)
    _prepare(form)
    del form.password
    if form.validate_on_submit():
        if form.username.data != user.username:
            form.username.errors.append(_("The username cannot be changed."))
        else:
            try:
                update_user(
                    user,
                    form.display_name.data,
                    form.role.data,
                    form.centre_id.data,
                    form.active.data,
                    form.is_consortium.data,
                    actor=current_user,
                )
            except UserError as exc:
                form.role.errors.append(str(exc))
            else:
                db.session.commit()
                flash(_("User %(name)s saved.", name=user.username), "success")
                return redirect(url_for(".detail", id=user.id))
    return render_template("users/form.html", form=form, user=user)


@bp.route("/<int:id>/reset-password", methods=["POST"])
@login_required
@roles_required(*ADMIN_ROLES)
def reset(id: int):
    """Generate a new password for a user."""
    user = _managed_user_or_404(id)
    password = reset_password(user)
    db.session.commit()
    flash(_("New password for %(name)s: %(pw)s", name=user.username, pw=password), "success")
    return redirect(url_for(".detail", id=user.id))


@bp.route("/<int:id>/unlock", methods=["POST"])
@login_required
@roles_required(*ADMIN_ROLES)
def unlock_view(id: int):
    """Lift a user's login locks (after they asked through another channel)."""
    user = _managed_user_or_404(id)
    unlock(user)
    db.session.commit()
    flash(_("Login locks of %(name)s lifted.", name=user.username), "success")
    return redirect(url_for(".detail", id=user.id))
