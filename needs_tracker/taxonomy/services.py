"""Technical-field services: the lists other features offer in their forms."""

from __future__ import annotations

from sqlalchemy import select

from needs_tracker.extensions import db
from needs_tracker.taxonomy.models import TechField


def field_choices() -> list[tuple[int, str]]:
    """Active technical fields as (id, name), in their set order (for select fields)."""
    rows = db.session.execute(
        select(TechField.id, TechField.name)
        .where(TechField.active.is_(True))
        .order_by(TechField.position, TechField.id)
    ).all()
    return [(r.id, r.name) for r in rows]
