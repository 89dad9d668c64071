"""Expert and resource services (flush; the caller commits)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select

from needs_tracker.auth.models import User
from needs_tracker.centres.models import Centre
from needs_tracker.common.choices import ResourceKind, Role
from needs_tracker.common.listing import filter_field
from needs_tracker.common.models import utcnow
from needs_tracker.common.permissions import scope_for
from needs_tracker.common.scoping import Scope, scoped
from needs_tracker.experts.models import Expert, Resource, expert_fields, resource_fields
from needs_tracker.extensions import db
from needs_tracker.taxonomy.models import TechField

# What the list searches and the need page's pool search look in: one list each.
EXPERT_SEARCH_COLUMNS = (Expert.name, Expert.organisation, Expert.expertise, Expert.title)
RESOURCE_SEARCH_COLUMNS = (Resource.name, Resource.owner_organisation, Resource.description)

EXPERT_FIELDS = (
    "name",
    "title",
    "organisation",
    "department",
    "expertise",
    "phone",
    "email",
    "region",
    "contact_source",
    "consent_purpose",
)
# Personal data of an expert: what an export on request lists and an erasure blanks.
EXPERT_PERSONAL_FIELDS = (
    "name",
    "title",
    "department",
    "phone",
    "email",
    "contact_source",
    "consent_purpose",
)
RESOURCE_FIELDS = (
    "name",
    "kind",
    "owner_organisation",
    "description",
    "maturity",
    "region",
    "contact",
)


def _apply(obj: Any, names: tuple[str, ...], data: dict[str, Any]) -> None:
    for key in names:
        if key in data:
            setattr(obj, key, data[key] or "")
    if "field_ids" in data:
        ids = list(data["field_ids"] or [])
        obj.fields = (
            list(db.session.scalars(select(TechField).where(TechField.id.in_(ids)))) if ids else []
        )


def save_expert(data: dict[str, Any], actor: User | None, expert: Expert | None = None) -> Expert:
    """Create an expert, or update expert, from data."""
    if expert is None:
        expert = Expert()
        db.session.add(expert)
    _apply(expert, EXPERT_FIELDS, data)
    if "contact_consent" in data:
        expert.contact_consent = bool(data["contact_consent"])
        expert.consent_on = data.get("consent_on") or (
            date.today() if expert.contact_consent and expert.consent_on is None else None
        )
        if not expert.contact_consent:
            expert.consent_on = None
    db.session.flush()
    return expert


def save_resource(
    data: dict[str, Any], actor: User | None, resource: Resource | None = None
) -> Resource:
    """Create a resource, or update resource, from data."""
    if resource is None:
        resource = Resource()
        db.session.add(resource)
    _apply(resource, RESOURCE_FIELDS, data)
    db.session.flush()
    return resource


def filter_experts(stmt: Select, args: Mapping[str, str]) -> Select:
    """The expert list's filters (field, region), shared by the list page and its export."""
    stmt = filter_field(stmt, args, expert_fields, Expert)
    region = args.get("region", "").strip()
    if region:
        stmt = stmt.where(Expert.region == region)
    return stmt


def filter_resources(stmt: Select, args: Mapping[str, str]) -> Select:
    """The resource list's filters (field, kind), shared by the list page and its export."""
    stmt = filter_field(stmt, args, resource_fields, Resource)
    kind = args.get("kind", "")
    if kind in ResourceKind.labels():
        stmt = stmt.where(Resource.kind == kind)
    return stmt


class PoolRecordInUse(Exception):
    """A shared expert or resource that other centres' matches use; the message names them."""


def foreign_uses(obj: Expert | Resource, actor: User) -> dict[str, int]:
    """{centre name: number of matches and docking events} of centres actor cannot write.

    Counted across every centre (the actor's own scope would hide exactly these rows); only
    centre names and counts come back, never the other centre's records.
    """
    from needs_tracker.matching.models import DockingEvent, Match

    column = "expert_id" if isinstance(obj, Expert) else "resource_id"
    scope = scope_for(actor)
    uses: dict[str, int] = {}
    with scoped(db.session, Scope.system()):
        for model in (Match, DockingEvent):
            rows = db.session.execute(
                select(Centre.id, Centre.name, func.count(model.id))
                .join(Centre, Centre.id == model.centre_id)
                .where(getattr(model, column) == obj.id)
                .group_by(Centre.id, Centre.name)
                .execution_options(include_deleted=True)
            ).all()
            for centre_id, name, count in rows:
                if not scope.can_write(centre_id):
                    uses[name] = uses.get(name, 0) + count
    return uses


def delete_pool_record(obj: Expert | Resource, actor: User) -> None:
    """Soft-delete a shared expert or resource.

    Refused (PoolRecordInUse) when other centres' matches or meetings use it, unless the actor
    is a system admin. Matches keep pointing at the record either way: their history stays.
    """
    from flask_babel import gettext as _

    uses = foreign_uses(obj, actor)
    if uses and not actor.has_role(Role.SYSADMIN):
        raise PoolRecordInUse(
            _(
                "%(name)s is used by other centres and cannot be deleted: %(uses)s. "
                "Ask a system administrator.",
                name=obj.name,
                uses="、".join(
                    _("%(centre)s (%(n)d matches or meetings)", centre=c, n=n)
                    for c, n in sorted(uses.items())
                ),
            )
        )
    obj.deleted_at = utcnow()
    db.session.flush()


def personal_data(expert: Expert) -> dict[str, Any]:
    """Everything held about the person behind expert (for a request under 个人信息保护法)."""
    return {
        "id": expert.id,
        "name": expert.name,
        "title": expert.title,
        "organisation": expert.organisation,
        "department": expert.department,
        "expertise": expert.expertise,
        "region": expert.region,
        "phone": expert.phone,
        "email": expert.email,
        "contact_source": expert.contact_source,
        "contact_consent": expert.contact_consent,
        "consent_on": expert.consent_on.isoformat() if expert.consent_on else None,
        "consent_purpose": expert.consent_purpose,
        "fields": [f.name for f in expert.fields],
        "created_at": expert.created_at.isoformat() if expert.created_at else None,
        "updated_at": expert.updated_at.isoformat() if expert.updated_at else None,
    }


def erase_personal_data(expert: Expert) -> None:
    """Blank the person's data and take the expert out of the pool, keeping the row.

    Matches that named the expert keep their history (status, dates, outcome) but no longer
    the person; the audit trail's copies of the personal fields are blanked too.
    """
    from needs_tracker.audit.models import AuditEntry

    for key in EXPERT_PERSONAL_FIELDS:
        setattr(expert, key, "")
    expert.name = f"#{expert.id}"
    expert.contact_consent = False
    expert.consent_on = None
    if expert.deleted_at is None:
        expert.deleted_at = utcnow()
    db.session.flush()
    erased = set(EXPERT_PERSONAL_FIELDS)
    entries = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.table_name == "experts", AuditEntry.record_id == expert.id
        )
    )
    for entry in entries:
        for side in ("before", "after"):
            values = getattr(entry, side)
            if values and erased & values.keys():
                setattr(entry, side, {k: ("" if k in erased else v) for k, v in values.items()})
    db.session.flush()
