"""Expert and resource services: create, update and delete each (flush; the caller commits)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from needs_tracker.auth.models import User
from needs_tracker.centres.models import Centre
from needs_tracker.common.choices import ResourceKind, Role
from needs_tracker.common.listing import filter_field
from needs_tracker.common.models import soft_delete
from needs_tracker.common.permissions import scope_for
from needs_tracker.common.scoping import Scope, scoped
from needs_tracker.experts.models import Expert, Resource, expert_fields, resource_fields
from needs_tracker.extensions import db
from needs_tracker.taxonomy.models import TechField

# What the list searches and the need page's pool search look in: one list each.
EXPERT_SEARCH_COLUMNS = (Expert.name, Expert.organisation, Expert.expertise, Expert.title)
RESOURCE_SEARCH_COLUMNS = (Resource.name, Resource.owner_organisation, Resource.description)


@dataclass
class ExpertData:
    """Validated values of an expert, as the form (or a script) provides them."""

    name: str
    title: str = ""
    organisation: str = ""
    department: str = ""
    expertise: str = ""
    phone: str = ""
    email: str = ""
    region: str = ""
    contact_source: str = ""
    consent_purpose: str = ""
    contact_consent: bool = False
    consent_on: date | None = None
    field_ids: list[int] = field(default_factory=list)


@dataclass
class ResourceData:
    """Validated values of a resource, as the form (or a script) provides them."""

    name: str
    kind: str = ResourceKind.PLATFORM.value
    owner_organisation: str = ""
    description: str = ""
    maturity: str = ""
    region: str = ""
    contact: str = ""
    field_ids: list[int] = field(default_factory=list)


def _text_fields(cls: type) -> tuple[str, ...]:
    # The text columns a user edits (annotations are strings under `from __future__`).
    return tuple(f.name for f in fields(cls) if f.type == "str")


EXPERT_FIELDS = _text_fields(ExpertData)
RESOURCE_FIELDS = _text_fields(ResourceData)
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


def _apply(obj: Expert | Resource, names: tuple[str, ...], data: ExpertData | ResourceData) -> None:
    for key in names:
        setattr(obj, key, getattr(data, key) or "")
    ids = list(data.field_ids or [])
    obj.fields = (
        list(db.session.scalars(select(TechField).where(TechField.id.in_(ids)))) if ids else []
    )


def _apply_expert(expert: Expert, data: ExpertData) -> None:
    _apply(expert, EXPERT_FIELDS, data)
    expert.contact_consent = bool(data.contact_consent)
    # Consent given without a date is dated today; consent withdrawn loses its date.
    expert.consent_on = data.consent_on or (
        date.today() if expert.contact_consent and expert.consent_on is None else None
    )
    if not expert.contact_consent:
        expert.consent_on = None


def create_expert(data: ExpertData, actor: User | None) -> Expert:
    """Add an expert to the shared pool."""
    expert = Expert()
    db.session.add(expert)
    _apply_expert(expert, data)
    db.session.flush()
    return expert


def update_expert(expert: Expert, data: ExpertData, actor: User | None) -> None:
    """Overwrite an expert's values and fields."""
    _apply_expert(expert, data)
    db.session.flush()


def create_resource(data: ResourceData, actor: User | None) -> Resource:
    """Add a resource to the shared pool."""
    resource = Resource()
    db.session.add(resource)
    _apply(resource, RESOURCE_FIELDS, data)
    db.session.flush()
    return resource


def update_resource(resource: Resource, data: ResourceData, actor: User | None) -> None:
    """Overwrite a resource's values and fields."""
    _apply(resource, RESOURCE_FIELDS, data)
    db.session.flush()


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


def _delete_pool_record(obj: Expert | Resource, actor: User) -> None:
    """Soft-delete a shared expert or resource.

    Refused (PoolRecordInUse) when other centres' matches or meetings use it, unless the actor
    is a system admin. Matches keep pointing at the record either way: their history stays.
    The matching index notices the change on flush (its stamp moves with any pool change).
    """
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
    soft_delete(obj)
    db.session.flush()


def delete_expert(expert: Expert, actor: User) -> None:
    """Move an expert to the trash, unless other centres' matches use them (see above)."""
    _delete_pool_record(expert, actor)


def delete_resource(resource: Resource, actor: User) -> None:
    """Move a resource to the trash, unless other centres' matches use it (see above)."""
    _delete_pool_record(resource, actor)


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
        soft_delete(expert)
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
