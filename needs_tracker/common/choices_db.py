"""Select-field choices loaded from the database, always through the scoping layer."""

from __future__ import annotations

from sqlalchemy import select

from needs_tracker.common.choices import OrganisationKind
from needs_tracker.extensions import db
from needs_tracker.organisations.models import Organisation
from needs_tracker.taxonomy.models import TechField
from needs_tracker.visits.models import Visit


def organisation_choices(companies_only: bool = False) -> list[tuple[int, str]]:
    """Visible organisations as (id, name), companies first."""
    stmt = select(Organisation.id, Organisation.name, Organisation.kind)
    if companies_only:
        stmt = stmt.where(Organisation.kind == OrganisationKind.COMPANY.value)
    rows = db.session.execute(stmt.order_by(Organisation.name)).all()
    rows.sort(key=lambda r: (r.kind != OrganisationKind.COMPANY.value, r.name))
    return [(r.id, r.name) for r in rows]


def field_choices() -> list[tuple[int, str]]:
    """Active technical fields as (id, name)."""
    rows = db.session.execute(
        select(TechField.id, TechField.name)
        .where(TechField.active.is_(True))
        .order_by(TechField.position, TechField.id)
    ).all()
    return [(r.id, r.name) for r in rows]


def visit_choices() -> list[tuple[int | None, str]]:
    """Visible visits, newest first, with a "none" option."""
    rows = db.session.execute(
        select(Visit.id, Visit.visit_date, Visit.purpose)
        .order_by(Visit.visit_date.desc())
        .limit(500)
    ).all()
    return [(None, "—")] + [
        (r.id, f"{r.visit_date.isoformat()} {r.purpose or ''}".strip()) for r in rows
    ]
