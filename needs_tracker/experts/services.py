"""Expert and resource services (flush; the caller commits)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from needs_tracker.auth.models import User
from needs_tracker.experts.models import Expert, Resource
from needs_tracker.extensions import db
from needs_tracker.taxonomy.models import TechField

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
