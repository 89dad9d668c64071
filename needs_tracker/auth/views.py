"""Login, logout, password change."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from needs_tracker.auth.forms import ChangePasswordForm, LoginForm
from needs_tracker.auth.services import authenticate, change_password, end_all_sessions
from needs_tracker.centres.models import Centre
from needs_tracker.common.urls import is_safe_next
from needs_tracker.extensions import db, limiter

bp = Blueprint("auth", __name__)


def _login_failed(_response) -> bool:
    # Only failed attempts count against the address: an office behind one NAT logs in freely.
    return bool(g.get("login_failed"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], deduct_when=_login_failed
)
def login():
    """Show the login form and log the user in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        result = authenticate(form.username.data, form.password.data, request.remote_addr or "")
        db.session.commit()
        if result.user is None:
            g.login_failed = True
            # One answer for an unknown name, a wrong password and a locked account: the
            # page must not reveal which accounts exist (the admin's user page shows locks).
            flash(_("Wrong username or password."), "danger")
            return _login_page(form), 200
        lang = session.get("lang")
        session.clear()  # a fresh session at login: no fixation
        if lang:
            session["lang"] = lang
        login_user(result.user)
        session["login_at"] = session["seen_at"] = time.time()
        if result.user.must_change_password:
            flash(_("Please choose a new password before you go on."), "info")
            return redirect(url_for("auth.change_password_view"))
        target = request.args.get("next")
        return redirect(target if is_safe_next(target) else url_for("main.index"))
    return _login_page(form)


def _login_page(form: LoginForm) -> str:
    names, count = login_centres()
    return render_template("auth/login.html", form=form, centres=names, centre_count=count)


def login_centres(limit: int = 3) -> tuple[list[str], int]:
    """The centres this deployment serves, for the login page: up to limit names and the count.

    A deployment may set LOGIN_CENTRE_NAME to name itself (e.g. one centre's own server).
    """
    named = current_app.config.get("LOGIN_CENTRE_NAME")
    if named:
        return [named], 1
    names = list(db.session.scalars(select(Centre.name).order_by(Centre.id)))
    return names[:limit], len(names)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """End this and every other session of the user."""
    end_all_sessions(current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password_view():
    """Change one's own password."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(_("The current password is wrong."))
        else:
            user = current_user._get_current_object()
            change_password(user, form.new_password.data)
            db.session.commit()
            login_user(user)  # keep this session, with the new session version
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/change_password.html", form=form)
