"""Which centres' reports and dashboards a user may see (shared with the dashboard)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import abort
from sqlalchemy import select

from needs_tracker.centres.models import Centre
from needs_tracker.common.permissions import scope_for
from needs_tracker.extensions import db

if TYPE_CHECKING:
    from needs_tracker.auth.models import User


def visible_centres(user: User) -> list[Centre]:
    """Centres whose figures user may read: their own, or all for consortium leaders/admins."""
    scope = scope_for(user)
    stmt = select(Centre).order_by(Centre.id)
    if scope.read_centres is not None:
        stmt = stmt.where(Centre.id.in_(sorted(scope.read_centres) or [-1]))
    return list(db.session.scalars(stmt))


def is_cross_centre(user: User) -> bool:
    """True for users who read every centre (consortium leaders, admins)."""
    return scope_for(user).read_centres is None


def pick_centre(user: User, centre_id: int | None) -> Centre:
    """The requested centre if visible (404 otherwise); default the user's own or the first."""
    centres = visible_centres(user)
    if not centres:
        abort(404)
    if centre_id is None:
        own = [c for c in centres if c.id == user.centre_id]
        return own[0] if own else centres[0]
    for centre in centres:
        if centre.id == centre_id:
            return centre
    abort(404)
