"""The trash: soft-deleted records of the user's centre, restore, and admin-only hard delete.

Hard delete is refused while other rows still refer to the record (an organisation with needs
or visits, a need with matches...): the references are found from the schema's foreign keys,
so tables added by later features are covered too. Rows that the schema deletes with their
parent (ON DELETE CASCADE: status history, team members, field links) go with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import delete, func, select

from needs_tracker.common.models import restore as restore_record
from needs_tracker.common.permissions import can_delete_records, can_purge, require
from needs_tracker.experts.models import Expert, Resource
from needs_tracker.extensions import db
from needs_tracker.needs.models import Need
from needs_tracker.organisations.models import Organisation
from needs_tracker.visits.models import Visit

bp = Blueprint("trash", __name__, url_prefix="/trash")


@dataclass(frozen=True)
class Kind:
    """A kind of record that can be in the trash."""

    model: Any
    label: Any
    detail_endpoint: str


KINDS: dict[str, Kind] = {
    "organisations": Kind(Organisation, _l("Organisations"), "organisations.detail"),
    "visits": Kind(Visit, _l("Visits"), "visits.detail"),
    "needs": Kind(Need, _l("Needs"), "needs.detail"),
    "experts": Kind(Expert, _l("Experts"), "experts.detail"),
    "resources": Kind(Resource, _l("Resources"), "resources.detail"),
}

DEPENDENT_LABELS = {
    "needs": _l("needs"),
    "visits": _l("visits"),
    "visit_organisations": _l("visits"),
    "matches": _l("matches"),
    "docking_events": _l("docking meetings"),
    "docking_event_needs": _l("docking meetings"),
    "organisation_merges": _l("merge records"),
}


def describe(obj: Any) -> str:
    """A record's name in the trash list."""
    if isinstance(obj, Visit):
        return f"{obj.visit_date} {obj.purpose}".strip()
    return getattr(obj, "title", None) or getattr(obj, "name", "") or f"#{obj.id}"


def deleted_records(kind: Kind) -> list[Any]:
    """Soft-deleted records of kind that the current scope sees (newest first)."""
    model = kind.model
    stmt = (
        select(model)
        .where(model.deleted_at.is_not(None))
        .order_by(model.deleted_at.desc())
        .limit(200)
        .execution_options(include_deleted=True)
    )
    return list(db.session.scalars(stmt))


def get_deleted_or_404(kind_name: str, record_id: int) -> Any:
    """A soft-deleted record visible to the current scope, else 404."""
    kind = KINDS.get(kind_name)
    if kind is None:
        abort(404)
    model = kind.model
    obj = db.session.scalar(
        select(model)
        .where(model.id == record_id, model.deleted_at.is_not(None))
        .execution_options(include_deleted=True)
    )
    if obj is None:
        abort(404)
    return obj


def _references(model: Any) -> list[tuple[Any, Any]]:
    """(table, fk column) of every foreign key that refers to model's table."""
    target = model.__table__
    refs = []
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is target:
                refs.append((table, fk))
    return refs


def dependents(obj: Any) -> dict[str, int]:
    """Rows that refer to obj and would block its hard delete: {label: count}."""
    counts: dict[str, int] = {}
    for table, fk in _references(type(obj)):
        if (fk.ondelete or "").upper() == "CASCADE":
            continue
        n = db.session.execute(
            select(func.count()).select_from(table).where(fk.parent == obj.id)
        ).scalar_one()
        if n:
            label = str(DEPENDENT_LABELS.get(table.name, table.name))
            counts[label] = counts.get(label, 0) + n
    return counts


def purge(obj: Any) -> None:
    """Delete obj for good with the rows that cascade from it (caller checked dependents)."""
    from needs_tracker.ops.storage import purge_attachments

    purge_attachments(obj)
    db.session.delete(obj)
    db.session.flush()
    # Databases that do not enforce ON DELETE CASCADE (SQLite by default) keep orphans otherwise.
    for table, fk in _references(type(obj)):
        if (fk.ondelete or "").upper() == "CASCADE":
            db.session.execute(delete(table).where(fk.parent == obj.id))


@bp.route("/")
@login_required
def index():
    """Soft-deleted records of the user's centre (coordinators) or of every centre (admins)."""
    require(can_delete_records(current_user))
    sections = [(name, kind, deleted_records(kind)) for name, kind in KINDS.items()]
    return render_template("ops/trash.html", sections=sections, describe=describe)


@bp.route("/<kind>/<int:record_id>/restore", methods=["POST"])
@login_required
def restore(kind: str, record_id: int):
    """Take a record out of the trash."""
    require(can_delete_records(current_user))
    obj = get_deleted_or_404(kind, record_id)
    restore_record(obj)
    db.session.commit()
    flash(_("Restored %(name)s.", name=describe(obj)), "success")
    return redirect(url_for(KINDS[kind].detail_endpoint, id=obj.id))


@bp.route("/<kind>/<int:record_id>/purge", methods=["POST"])
@login_required
def purge_view(kind: str, record_id: int):
    """Delete a record in the trash for good (admins), unless other records depend on it."""
    require(can_delete_records(current_user))
    obj = get_deleted_or_404(kind, record_id)
    require(can_purge(current_user))
    blocking = dependents(obj)
    name = describe(obj)
    if blocking:
        flash(
            _(
                "%(name)s cannot be deleted permanently: %(deps)s still refer to it. "
                "Delete or move those first, or keep it in the trash.",
                name=name,
                deps="、".join(f"{n} {label}" for label, n in blocking.items()),
            ),
            "danger",
        )
        return redirect(url_for(".index"))
    purge(obj)
    db.session.commit()
    flash(_("%(name)s was deleted permanently.", name=name), "success")
    return redirect(url_for(".index"))
