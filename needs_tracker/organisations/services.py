"""Organisation services: create, update and delete (they flush; the caller commits)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

from sqlalchemy import Select, select

from needs_tracker.auth.models import User
from needs_tracker.common.choices import OrganisationKind
from needs_tracker.common.models import soft_delete
from needs_tracker.extensions import db
from needs_tracker.organisations.models import Organisation


@dataclass
class OrganisationData:
    """Validated values of an organisation, as the form (or a script) provides them."""

    name: str
    short_name: str = ""
    kind: str = OrganisationKind.COMPANY.value
    credit_code: str | None = None
    district: str = ""
    industry: str = ""
    size: str = ""
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    notes: str = ""


# The values a user edits, in the form's order (the API's serializer and the import's merge
# use the same list).
FIELDS = tuple(f.name for f in fields(OrganisationData))


def create_organisation(data: OrganisationData, centre_id: int, actor: User | None) -> Organisation:
    """Create an organisation in centre_id."""
    org = Organisation(centre_id=centre_id, **asdict(data))
    db.session.add(org)
    db.session.flush()
    return org


def update_organisation(org: Organisation, data: OrganisationData, actor: User | None) -> list[str]:
    """Apply data to org; return the names of the fields that changed."""
    changed = []
    for key, value in asdict(data).items():
        if getattr(org, key) != value:
            setattr(org, key, value)
            changed.append(key)
    db.session.flush()
    return changed


def delete_organisation(org: Organisation, actor: User | None) -> None:
    """Move org to the trash (its needs and visits keep pointing at it)."""
    soft_delete(org)
    db.session.flush()


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
