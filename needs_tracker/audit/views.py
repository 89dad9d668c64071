"""Audit pages: a record's history (for whoever sees the record) and the admin search.

Read-only by design: every route here answers GET only; nothing in the app updates or deletes
audit entries.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup

from needs_tracker.audit.events import Action
from needs_tracker.audit.labels import column_label, table_label, value_label
from needs_tracker.audit.names import EntryNames
from needs_tracker.audit.services import (
    USER_COLUMNS,
    AuditFilter,
    audited_tables,
    format_value,
    history_stmt,
    record_is_visible,
    search_stmt,
    user_names,
    visible_to,
)
from needs_tracker.common.choices import Role
from needs_tracker.common.listing import paginate
from needs_tracker.common.permissions import can_see_contacts, roles_required, scope_for
from needs_tracker.extensions import db

bp = Blueprint("audit", __name__, url_prefix="/audit")

ACTION_LABELS = {
    Action.CREATE.value: _l("Created"),
    Action.UPDATE.value: _l("Changed"),
    Action.DELETE.value: _l("Deleted permanently"),
    Action.SOFT_DELETE.value: _l("Moved to trash"),
    Action.RESTORE.value: _l("Restored"),
}


# Experts' contact data: in the trail too, only the roles that contact experts see it.
CONTACT_COLUMNS = {"experts": frozenset({"phone", "email", "contact_source", "consent_purpose"})}


def _visible_value_label(table: str, column: str, value):
    if column in CONTACT_COLUMNS.get(table, ()) and not can_see_contacts(current_user):
        return "***"
    return value_label(table, column, value)


def _hidden_columns() -> dict[str, frozenset[str]]:
    """The columns whose values the current user may not read in the trail."""
    return {} if can_see_contacts(current_user) else CONTACT_COLUMNS


def _template_globals() -> dict:
    return {
        "action_labels": ACTION_LABELS,
        "fmt": format_value,
        "table_label": table_label,
        "column_label": column_label,
        "value_label": _visible_value_label,
        "user_columns": USER_COLUMNS,
    }


@bp.route("/<table>/<int:record_id>")
@login_required
def history(table: str, record_id: int):
    """Every change of one record (and of its child rows), newest first."""
    scope = scope_for(current_user)
    if not record_is_visible(table, record_id, scope, current_user.has_role(Role.SYSADMIN)):
        abort(404)
    stmt = visible_to(history_stmt(table, record_id), scope)
    page = paginate(stmt)
    return render_template(
        "audit/history.html",
        page=page,
        table=table,
        record_id=record_id,
        names=EntryNames(page.items, user_names(page.items), _hidden_columns()),
        **_template_globals(),
    )


def _parse_filter(errors: list[str]) -> AuditFilter:
    f = AuditFilter()
    args = request.args
    raw_user = args.get("user", "").strip()
    if raw_user:
        if raw_user.isdigit():
            f.user_id = int(raw_user)
        else:
            from sqlalchemy import select

            from needs_tracker.auth.models import User

            f.user_id = db.session.scalar(select(User.id).where(User.username == raw_user[:64]))
            if f.user_id is None:
                errors.append(_("No user named %(name)s.", name=raw_user[:64]))
                f.user_id = -1
    f.table = args.get("table", "").strip()[:64]
    action = args.get("action", "")
    f.action = action if action in ACTION_LABELS else ""
    for name in ("from", "to"):
        raw = args.get(name, "").strip()
        if not raw:
            continue
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            errors.append(_("Not a valid date: %(value)s (use YYYY-MM-DD)", value=raw[:20]))
            continue
        if name == "from":
            f.start = value
        else:
            f.end = value
    raw_id = args.get("record", "").strip()
    if raw_id:
        if raw_id.isdigit() and len(raw_id) < 12:
            f.record_id = int(raw_id)
        else:
            errors.append(_("A record number is a whole number."))
    f.text = args.get("q", "").strip()[:100]
    return f


@bp.route("/")
@login_required
@roles_required(Role.SYSADMIN)
def search():
    """Admins search the whole trail by user, table, action, dates and text."""
    errors: list[str] = []
    f = _parse_filter(errors)
    page = paginate(search_stmt(f))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "audit/search.html",
        page=page,
        f=f,
        args=args,
        errors=errors,
        tables=audited_tables(),
        names=EntryNames(page.items, user_names(page.items), _hidden_columns()),
        **_template_globals(),
    )


def history_panel(table: str):
    """A panel function for a detail page: the record's latest changes and a link to all."""

    def panel(obj, user) -> Markup | None:
        if not user.is_authenticated:
            return None
        stmt = visible_to(history_stmt(table, obj.id), scope_for(user)).limit(5)
        entries = list(db.session.scalars(stmt))
        return Markup(
            render_template(
                "audit/_panel.html",
                entries=entries,
                table=table,
                record_id=obj.id,
                names=EntryNames(entries, user_names(entries), _hidden_columns()),
                **_template_globals(),
            )
        )

    return panel
