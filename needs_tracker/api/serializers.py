"""Records as the JSON the API serves (the shapes described in schemas.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from needs_tracker.experts.models import Expert, Resource
from needs_tracker.matching.models import Match
from needs_tracker.needs.models import Need
from needs_tracker.organisations.models import Organisation
from needs_tracker.organisations.services import FIELDS as ORGANISATION_FIELDS
from needs_tracker.visits.models import Visit


def _ts(value: datetime) -> str:
    """RFC 3339 with an offset: SQLite returns naive values for UTC-stored columns."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _stamps(obj: Any) -> dict[str, Any]:
    return {
        "version": obj.version,
        "created_at": _ts(obj.created_at),
        "updated_at": _ts(obj.updated_at),
    }


def _fields(obj: Any) -> list[dict[str, Any]]:
    return [{"id": f.id, "name": f.name} for f in obj.fields]


def need_json(need: Need) -> dict[str, Any]:
    """A need with its organisation, fields and status history."""
    return {
        "id": need.id,
        "centre_id": need.centre_id,
        "organisation": {"id": need.organisation.id, "name": need.organisation.name},
        "visit_id": need.visit_id,
        "title": need.title,
        "description": need.description,
        "need_type": need.need_type,
        "urgency": need.urgency,
        "budget": _money(need.budget),
        "collected_on": need.collected_on.isoformat(),
        "status": need.status,
        "close_reason": need.close_reason,
        "status_changed_at": _ts(need.status_changed_at),
        "fields": _fields(need),
        "history": [
            {
                "from_status": h.from_status,
                "to_status": h.to_status,
                "at": _ts(h.changed_at),
                "note": h.note,
            }
            for h in need.history
        ],
        **_stamps(need),
    }


def organisation_json(org: Organisation) -> dict[str, Any]:
    """An organisation with its contact details (the centre's own data)."""
    keys = ("id", "centre_id", *ORGANISATION_FIELDS)
    return {**{k: getattr(org, k) for k in keys}, **_stamps(org)}


def expert_json(expert: Expert) -> dict[str, Any]:
    """An expert without phone or e-mail: the API never serves expert contact details."""
    keys = ["id", "name", "title", "organisation", "department", "expertise", "region"]
    return {**{k: getattr(expert, k) for k in keys}, "fields": _fields(expert), **_stamps(expert)}


def resource_json(resource: Resource) -> dict[str, Any]:
    """A resource of the shared pool, without its contact."""
    keys = ["id", "name", "kind", "owner_organisation", "description", "maturity", "region"]
    return {
        **{k: getattr(resource, k) for k in keys},
        "fields": _fields(resource),
        **_stamps(resource),
    }


def visit_json(visit: Visit) -> dict[str, Any]:
    """A visit with its organisations, team and the ids of the needs it collected."""
    return {
        "id": visit.id,
        "centre_id": visit.centre_id,
        "visit_date": visit.visit_date.isoformat(),
        "status": visit.status,
        "purpose": visit.purpose,
        "summary": visit.summary,
        "organisations": [{"id": o.id, "name": o.name} for o in visit.organisations],
        "team": [
            {"name": m.name, "title": m.title, "organisation_name": m.organisation_name}
            for m in visit.team
        ],
        "need_ids": [n.id for n in visit.needs if n.deleted_at is None],
        **_stamps(visit),
    }


def match_json(match: Match) -> dict[str, Any]:
    """A match with its transitions."""
    keys = [
        "id",
        "centre_id",
        "need_id",
        "expert_id",
        "resource_id",
        "status",
        "score",
        "reasons",
        "declined_by",
        "decline_reason",
        "decline_note",
        "docking_event_id",
        "keep_need_open",
    ]
    return {
        **{k: getattr(match, k) for k in keys},
        "amount": _money(match.amount),
        "status_changed_at": _ts(match.status_changed_at),
        "transitions": [
            {
                "from_status": t.from_status,
                "to_status": t.to_status,
                "at": _ts(t.at),
                "note": t.note,
            }
            for t in match.transitions
        ],
        **_stamps(match),
    }
