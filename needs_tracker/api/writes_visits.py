"""API writes of visits: POST /visits (organisations, new companies, team and needs at once)
and PATCH /visits/{id}, checked by the web's VisitForm and saved by the visits service."""

from __future__ import annotations

from typing import Any

from flask import Response, g
from spectree import Response as Resp

from needs_tracker.api import schemas as s
from needs_tracker.api import serializers as ser
from needs_tracker.api.views import _VISITS, _get_or_404, bp, spec
from needs_tracker.api.writes import (
    CHANGE_ERRORS,
    WRITE_ERRORS,
    committed,
    form_data,
    idempotent,
    in_caller_language,
    require_if_match,
    require_json,
    validate_form,
    written,
)
from needs_tracker.common.choices import NeedType, Urgency
from needs_tracker.visits.forms import NEW_PREFIX, VisitForm
from needs_tracker.visits.models import Visit


def visit_form(values: dict[str, Any]) -> VisitForm:
    """The web's VisitForm filled with values as the visit page would post them, its choices
    those this token's centre may choose, validated (422 naming each refused field)."""
    flat: dict[str, Any] = {
        "visit_date": values["visit_date"],
        "status": values["status"],
        "purpose": values.get("purpose"),
        "summary": values.get("summary"),
        "organisation_ids": values.get("organisation_ids") or [],
        "new_organisations": "\n".join(values.get("new_organisations") or []),
    }
    for i, member in enumerate(values.get("team") or []):
        for key in ("name", "title", "organisation_name"):
            flat[f"team-{i}-{key}"] = member.get(key)
    needs = values.get("needs") or []
    for i, need in enumerate(needs):
        org = need["organisation"]
        # The page's select says "12" for a company on record and "new:<name>" for a new one.
        flat[f"needs-{i}-organisation"] = org if isinstance(org, int) else NEW_PREFIX + org
        for key in ("title", "description", "field_ids", "need_type", "urgency"):
            flat[f"needs-{i}-{key}"] = need.get(key)
    # The page always shows some need rows; a browser posts their selects' first options even
    # when the row is left blank (a blank row is no need).
    for i in range(len(needs), VisitForm.needs.kwargs.get("min_entries", 0)):
        flat[f"needs-{i}-need_type"] = NeedType.choices()[0].value
        flat[f"needs-{i}-urgency"] = Urgency.choices()[0].value
    form = VisitForm(formdata=form_data(flat), meta={"csrf": False})
    form.set_choices()
    validate_form(form, form.validate() and form.check_has_organisation())
    return form


def _visit_written(visit_id: int, status: int) -> Response:
    return written(_VISITS, Visit, visit_id, ser.visit_json, status, f"/api/v1/visits/{visit_id}")


@bp.post("/visits")
@spec.validate(
    json=s.VisitIn,
    headers=s.IdempotencyHeaders,
    resp=Resp(HTTP_201=s.VisitOut, **WRITE_ERRORS),
    tags=["visits"],
)
def create_visit_view(json: s.VisitIn):
    """Record a visit with the organisations visited (new companies are created with it), its
    team and the needs collected on it: all saved, or nothing (write token). Idempotency-Key
    makes retries safe."""
    from needs_tracker.visits.services import record_visit

    require_json(json)

    def write() -> Response:
        with in_caller_language():
            form = visit_form(json.model_dump(mode="json"))
            needs = form.inline_needs()
            validate_form(form, needs is not None)
            visit = record_visit(form.visit_data(), g.api_token_centre_id, None, needs)
        return _visit_written(visit.id, 201)

    return idempotent(write)


@bp.patch("/visits/<int:visit_id>")
@spec.validate(
    json=s.VisitPatch,
    headers=s.IfMatchHeaders,
    resp=Resp(HTTP_200=s.VisitOut, **CHANGE_ERRORS),
    tags=["visits"],
)
def update_visit_view(visit_id: int, json: s.VisitPatch):
    """Change a visit (write token; If-Match required): only the keys sent change, and
    organisation_ids or team, when sent, replace the whole list."""
    from needs_tracker.visits.services import update_visit

    require_json(json)
    visit = _get_or_404(_VISITS, Visit, visit_id)
    require_if_match(ser.visit_json(visit))
    values = {
        "visit_date": visit.visit_date.isoformat(),
        "status": visit.status,
        "purpose": visit.purpose,
        "summary": visit.summary,
        "organisation_ids": [o.id for o in visit.organisations],
        "team": [
            {"name": m.name, "title": m.title, "organisation_name": m.organisation_name}
            for m in visit.team
        ],
    }
    values.update(json.model_dump(mode="json", exclude_unset=True))

    def write() -> Response:
        with in_caller_language():
            update_visit(visit, visit_form(values).visit_data(), None)
        return _visit_written(visit.id, 200)

    return committed(write)
