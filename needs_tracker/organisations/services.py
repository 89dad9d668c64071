"""Organisation services: create and update (they flush; the caller commits)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select

from needs_tracker.auth.models import User
from needs_tracker.common.choices import OrganisationKind
from needs_tracker.extensions import db
from needs_tracker.organisations.models import Organisation

FIELDS = (
    "name",
    "short_name",
    "kind",
    "credit_code",
    "district",
    "industry",
    "size",
    "address",
    "contact_name",
    "contact_phone",
    "contact_email",
    "notes",
)


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    values = {k: data[k] for k in FIELDS if k in data}
    for key, value in values.items():
        if value is None and key != "credit_code":
            values[key] = ""
    return values


def create_organisation(data: dict[str, Any], centre_id: int, actor: User | None) -> Organisation:
    """Create an organisation in centre_id."""
    org = Organisation(centre_id=centre_id, **_clean(data))
    db.session.add(org)
    db.session.flush()
    return org


def update_organisation(org: Organisation, data: dict[str, Any], actor: User | None) -> list[str]:
    """Apply data to org; return the names of the fields that changed."""
    changed = []
    for key, value in _clean(data).items():
        if getattr(org, key) != value:
            setattr(org, key, value)
            changed.append(key)
    db.session.flush()
    return changed


def filter_organisations(stmt: Select, args: Mapping[str, str]) -> Select:
    """The organisation list's filters (kind, district), shared by the list page and its export."""
    kind = args.get("kind", "")
    if kind in OrganisationKind.labels():
        stmt = stmt.where(Organisation.kind == kind)
    district = args.get("district", "").strip()
    if district:
        stmt = stmt.where(Organisation.district == district)
    return stmt


def organisation_choices(companies_only: bool = False) -> list[tuple[int, str]]:
    """Visible organisations as (id, name), companies first (for select fields)."""
    stmt = select(Organisation.id, Organisation.name, Organisation.kind)
    if companies_only:
        stmt = stmt.where(Organisation.kind == OrganisationKind.COMPANY.value)
    rows = db.session.execute(stmt.order_by(Organisation.name)).all()
    rows.sort(key=lambda r: (r.kind != OrganisationKind.COMPANY.value, r.name))
    return [(r.id, r.name) for r in rows]
