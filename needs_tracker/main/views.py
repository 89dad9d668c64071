"""Home page (the user's own recent work and open needs) and language switch."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from needs_tracker.common.choices import NeedStatus, VisitStatus
from needs_tracker.common.hooks import HOME_PANELS
from needs_tracker.common.urls import is_safe_next
from needs_tracker.extensions import db
from needs_tracker.needs.models import Need
from needs_tracker.visits.models import Visit

bp = Blueprint("main", __name__)

OPEN_STATUSES = [
    NeedStatus.COLLECTED.value,
    NeedStatus.ASSESSING.value,
    NeedStatus.MATCHING.value,
    NeedStatus.MATCHED.value,
    NeedStatus.IN_PROGRESS.value,
]


@bp.route("/")
@login_required
def index():
    """Home: my recent visits, planned visits and the centre's open needs."""
    my_visits = db.session.scalars(
        select(Visit)
        .where(Visit.created_by_id == current_user.id)
        .options(selectinload(Visit.organisations))
        .order_by(Visit.visit_date.desc(), Visit.id.desc())
        .limit(5)
    ).all()
    planned = db.session.scalars(
        select(Visit)
        .where(Visit.status == VisitStatus.PLANNED.value)
        .options(selectinload(Visit.organisations))
        .order_by(Visit.visit_date)
        .limit(5)
    ).all()
    open_needs = db.session.scalars(
        select(Need)
        .where(Need.status.in_(OPEN_STATUSES))
        .options(selectinload(Need.organisation), selectinload(Need.fields))
        .order_by(Need.collected_on.desc(), Need.id.desc())
        .limit(10)
    ).all()
    return render_template(
        "main/index.html",
        my_visits=my_visits,
        planned=planned,
        open_needs=open_needs,
        extra_panels=HOME_PANELS.collect(current_user),
    )


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    """Switch the interface language (stored in the session)."""
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    target = request.form.get("next") or request.referrer
    if target:
        from urllib.parse import urlsplit

        parts = urlsplit(target)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    return redirect(target if is_safe_next(target) else url_for("main.index"))
