"""API writes: POST /needs (Idempotency-Key) and PATCH /needs/{id} (If-Match, 412).

A need is validated by the web's own NeedForm (same choices, same messages) and built by the
needs service, so the API cannot drift from the form. Every change lands in the audit trail
with the token's name (Scope.via, set at authentication).
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Response, g, json, request
from flask_babel import force_locale
from spectree import Response as Resp
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from needs_tracker.api import schemas as s
from needs_tracker.api import serializers as ser
from needs_tracker.api.models import IdempotencyRecord
from needs_tracker.api.problems import ApiProblem, FieldError, request_language
from needs_tracker.api.views import _COMMON, _NEEDS, _get_or_404, bp, etag_of, spec
from needs_tracker.extensions import db
from needs_tracker.needs.models import Need

IDEMPOTENCY_HEADER = "Idempotency-Key"
_WRITE_ERRORS = {
    "HTTP_400": s.Problem,
    "HTTP_403": s.Problem,
    "HTTP_415": s.Problem,
    **_COMMON,
}


def _form_data(values: dict[str, Any]) -> MultiDict:
    data = MultiDict()
    for key, value in values.items():
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            data.add(key, str(item))
    return data


def validate_need(values: dict[str, Any]):
    """Run values through the web's NeedForm; NeedData, or a 400 naming each bad field."""
    from needs_tracker.common.forms import select_choices
    from needs_tracker.needs.forms import NeedForm
    from needs_tracker.needs.services import need_data_from_form
    from needs_tracker.organisations.services import organisation_choices
    from needs_tracker.taxonomy.services import field_choices
    from needs_tracker.visits.services import visit_choices

    with force_locale(request_language()):
        form = NeedForm(formdata=_form_data(values), meta={"csrf": False})
        # The choices the form offers a user of this centre (the scope limits the queries).
        form.organisation_id.choices = select_choices(organisation_choices(companies_only=False))
        form.field_ids.choices = select_choices(field_choices())
        form.visit_id.choices = select_choices(visit_choices())
        if not form.validate():
            raise ApiProblem(
                400,
                [
                    FieldError(name, "message", {"text": str(messages[0])})
                    for name, messages in form.errors.items()
                    if messages
                ],
            )
    return need_data_from_form(form)


def _require_json(body: Any) -> None:
    # Spectree validates JSON bodies only; a form or multipart body arrives unvalidated.
    if body is None or not request.is_json:
        raise ApiProblem(415)


def _need_response(need: Need, status: int) -> Response:
    body = json.dumps(ser.need_json(need), ensure_ascii=False).encode("utf-8")
    response = Response(body, status=status, mimetype="application/json")
    response.headers["ETag"] = etag_of(body)
    response.headers["Location"] = f"/api/v1/needs/{need.id}"
    return response


def _replay(record: IdempotencyRecord, request_hash: str) -> Response:
    if record.request_hash != request_hash:
        raise ApiProblem(422, [FieldError(IDEMPOTENCY_HEADER, "idempotency_reused")])
    response = Response(record.body, status=record.status, mimetype="application/json")
    if record.location:
        response.headers["Location"] = record.location
    response.headers["ETag"] = etag_of(record.body.encode("utf-8"))
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _stored(key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.token_id == g.api_token_id, IdempotencyRecord.key == key
        )
    )


@bp.post("/needs")
@spec.validate(
    json=s.NeedIn,
    headers=s.IdempotencyHeaders,
    resp=Resp(HTTP_201=s.NeedOut, HTTP_422=s.Problem, **_WRITE_ERRORS),
    tags=["needs"],
)
def create_need_view(json: s.NeedIn):
    """Create a need (write token). Send an Idempotency-Key header to make retries safe:
    a retry with the same key and body returns the first answer and creates nothing."""
    from needs_tracker.needs.services import create_need

    _require_json(json)
    key = request.headers.get(IDEMPOTENCY_HEADER)
    request_hash = hashlib.sha256(request.get_data()).hexdigest()
    if key is not None:
        if not 1 <= len(key) <= 200:
            raise ApiProblem(400, [FieldError(IDEMPOTENCY_HEADER, "idempotency_key")])
        earlier = _stored(key)
        if earlier is not None:
            return _replay(earlier, request_hash)
    data = validate_need(json.model_dump(mode="json"))
    need = create_need(data, g.api_token_centre_id, None)
    response = _need_response(need, 201)
    if key is not None:
        db.session.add(
            IdempotencyRecord(
                token_id=g.api_token_id,
                key=key,
                request_hash=request_hash,
                status=201,
                body=response.get_data(as_text=True),
                location=response.headers["Location"],
            )
        )
    try:
        db.session.commit()
    except IntegrityError:
        # A concurrent first try with the same key won: answer with its result.
        db.session.rollback()
        earlier = _stored(key) if key is not None else None
        if earlier is None:
            raise
        return _replay(earlier, request_hash)
    return response


@bp.patch("/needs/<int:need_id>")
@spec.validate(
    json=s.NeedPatch,
    resp=Resp(
        HTTP_200=s.NeedOut,
        HTTP_404=s.Problem,
        HTTP_412=s.Problem,
        HTTP_428=s.Problem,
        **_WRITE_ERRORS,
    ),
    tags=["needs"],
)
def update_need_view(need_id: int, json: s.NeedPatch):
    """Change a need (write token). If-Match must carry the ETag of the version you read;
    412 when someone changed it since, 428 without If-Match."""
    from needs_tracker.needs.services import update_need

    _require_json(json)
    need = _get_or_404(_NEEDS, Need, need_id)
    current = ser.need_json(need)
    if not request.if_match:
        raise ApiProblem(428)
    tag = etag_of(_dumps(current))
    if not request.if_match.contains(tag.strip('"')):
        raise ApiProblem(412)
    values = {
        "organisation_id": need.organisation_id,
        "title": need.title,
        "description": need.description,
        "field_ids": [f.id for f in need.fields],
        "need_type": need.need_type,
        "urgency": need.urgency,
        "budget": current["budget"],
        "collected_on": current["collected_on"],
        "visit_id": need.visit_id,
    }
    values.update(json.model_dump(mode="json", exclude_unset=True))
    update_need(need, validate_need(values), None)
    db.session.commit()
    db.session.refresh(need)
    return _need_response(need, 200)


def _dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")
