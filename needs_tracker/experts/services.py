"""Expert and resource services (flush; the caller commits)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select

from needs_tracker.auth.models import User
from needs_tracker.common.choices import ResourceKind
from needs_tracker.common.listing import filter_field
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
