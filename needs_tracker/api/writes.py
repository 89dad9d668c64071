"""API writes: their shared rules, and the needs' (POST, PATCH, POST /needs/{id}/status).

Every write is checked by the web's own WTForms form (same choices, same messages) and made by
the feature's service, so the API cannot drift from the web. The statuses say who is at fault:
400 the body does not match the OpenAPI document; 422 it does, but the form's or the
workflow's rules refuse it (a reference this token may not use, a check digit, a step out of
order), naming the field, in the caller's language. A POST honours Idempotency-Key; a change
of an existing record needs If-Match (428 without, 412 when stale). Every change lands in the
audit trail with the token's name (Scope.via, set at authentication). The other kinds' writes
are in writes_*.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Response, g, json, request
from flask_babel import force_locale
from spectree import Response as Resp
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.fields import FieldList, FormField

from needs_tracker.api import schemas as s
from needs_tracker.api import serializers as ser
from needs_tracker.api.models import IdempotencyRecord
from needs_tracker.api.problems import ApiProblem, FieldError, request_language
from needs_tracker.api.views import _COMMON, _NEEDS, _get_or_404, bp, etag_of, spec
from needs_tracker.extensions import db
from needs_tracker.needs.models import Need

IDEMPOTENCY_HEADER = "Idempotency-Key"
# What any write may answer besides its success.
WRITE_ERRORS = {
    "HTTP_400": s.Problem,
    "HTTP_403": s.Problem,
    "HTTP_415": s.Problem,
    "HTTP_422": s.Problem,
    **_COMMON,
}
# ... and a write to an existing record (If-Match).
CHANGE_ERRORS = {
    "HTTP_404": s.Problem,
    "HTTP_412": s.Problem,
    "HTTP_428": s.Problem,
    **WRITE_ERRORS,
}


# --- shared rules ---------------------------------------------------------------------------


def form_data(values: dict[str, Any]) -> MultiDict:
    """JSON values as the form data a browser would post (lists as repeated keys)."""
    data = MultiDict()
    for key, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            # None is a blank field; WTForms reads a checked box as "y" and "False" as checked.
            if item is None or item is False:
                continue
            data.add(key, "y" if item is True else str(item))
    return data


def form_errors(form: Form, prefix: str = "") -> list[FieldError]:
    """Every field error of form, rows of lists included, named as the JSON body names them
    (team.0.name for the form's team-0-name), in the form's order."""
    errors = []
    for name, field in form._fields.items():
        path = f"{prefix}{name}"
        if isinstance(field, FieldList):
            for i, entry in enumerate(field.entries):
                if isinstance(entry, FormField):
                    errors += form_errors(entry.form, f"{path}.{i}.")
                elif entry.errors:
                    errors.append(_message_error(f"{path}.{i}", entry.errors[0]))
        elif isinstance(field, FormField):
            errors += form_errors(field.form, f"{path}.")
        elif field.errors:
            errors.append(_message_error(path, field.errors[0]))
    return errors


def _message_error(field: str, message: Any) -> FieldError:
    # The form's own message, already in the caller's language (see in_caller_language).
    return FieldError(field, "message", {"text": str(message)})


def refuse(field: str, message: Any, status: int = 422) -> ApiProblem:
    """A problem naming field with a message of the form's or the service's."""
    return ApiProblem(status, [_message_error(field, message)])


def validate_form(form: Form, ok: bool | None = None) -> None:
    """422 naming each field the form refuses (ok: the result of a validate already run)."""
    if ok is None:
        ok = form.validate()
    if not ok:
        raise ApiProblem(422, form_errors(form))


@contextmanager
def in_caller_language() -> Iterator[None]:
    """Run forms and services in the Accept-Language's locale: their messages are the
    caller's, and so is any text a service stores (as the web stores the user's)."""
    with force_locale(request_language()):
        yield


def require_json(body: Any) -> None:
    """415 unless the body was JSON (spectree validates JSON bodies only); 400 unless it was
    an object (spectree reads a JSON null as no body, which an all-optional PATCH accepts)."""
    if body is None or not request.is_json:
        raise ApiProblem(415)
    if not isinstance(request.get_json(silent=True), dict):
        raise ApiProblem(400, [FieldError("body", "json_object")])


def _dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def require_if_match(current: dict[str, Any]) -> None:
    """428 without If-Match; 412 unless it names the ETag of the record as it is now."""
    if not request.if_match:
        raise ApiProblem(428)
    if not request.if_match.contains(etag_of(_dumps(current)).strip('"')):
        raise ApiProblem(412)


def written(
    stmt: Select,
    model: Any,
    record_id: int,
    to_json: Callable[[Any], dict[str, Any]],
    status: int,
    location: str | None = None,
) -> Response:
    """The record as GET serves it after the write (read back, so its ETag is the one the next
    GET gives and the next If-Match must send)."""
    db.session.flush()
    db.session.expire_all()
    body = _dumps(to_json(_get_or_404(stmt, model, record_id)))
    response = Response(body, status=status, mimetype="application/json")
    response.headers["ETag"] = etag_of(body)
    if location:
        response.headers["Location"] = location
    return response


def _request_hash() -> str:
    # The same key sent to another operation is another request, however alike the bodies.
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(request.get_data())
    return digest.hexdigest()


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


def idempotent(write: Callable[[], Response]) -> Response:
    """Run a POST's write and commit it, once per Idempotency-Key.

    A retry with the same key and request returns the first answer (Idempotent-Replayed) and
    writes nothing; the same key with another request is 422. The answer is kept with the
    record, in the same transaction, so a retry finds both or neither; of two concurrent first
    tries the unique key lets one commit, and the other answers with its result.
    """
    key = request.headers.get(IDEMPOTENCY_HEADER)
    request_hash = _request_hash()
    if key is not None:
        if not 1 <= len(key) <= 200:
            raise ApiProblem(400, [FieldError(IDEMPOTENCY_HEADER, "idempotency_key")])
        earlier = _stored(key)
        if earlier is not None:
            return _replay(earlier, request_hash)
    response = _run(write)
    if key is not None:
        db.session.add(
            IdempotencyRecord(
                token_id=g.api_token_id,
                key=key,
                request_hash=request_hash,
                status=response.status_code,
                body=response.get_data(as_text=True),
                location=response.headers.get("Location", ""),
            )
        )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        earlier = _stored(key) if key is not None else None
        if earlier is None:
            raise
        return _replay(earlier, request_hash)
    return response


def committed(write: Callable[[], Response]) -> Response:
    """Run a PATCH's write and commit it (one commit per request, as the web's views do)."""
    response = _run(write)
    db.session.commit()
    return response


def _run(write: Callable[[], Response]) -> Response:
    try:
        return write()
    except ApiProblem:
        # A refused write leaves nothing behind, whatever the service had flushed.
        db.session.rollback()
        raise


# --- needs ----------------------------------------------------------------------------------


def validate_need(values: dict[str, Any]):
    """Run values through the web's NeedForm; NeedData, or a 422 naming each refused field."""
    from needs_tracker.common.forms import select_choices
    from needs_tracker.needs.forms import NeedForm
    from needs_tracker.needs.services import need_data_from_form
    from needs_tracker.organisations.services import organisation_choices
    from needs_tracker.taxonomy.services import field_choices
    from needs_tracker.visits.services import visit_choices

    form = NeedForm(formdata=form_data(values), meta={"csrf": False})
    # The choices the form offers a user of this centre (the scope limits the queries).
    form.organisation_id.choices = select_choices(organisation_choices(companies_only=False))
    form.field_ids.choices = select_choices(field_choices())
    form.visit_id.choices = select_choices(visit_choices())
    validate_form(form)
    return need_data_from_form(form)


def _need_written(need_id: int, status: int) -> Response:
    return written(_NEEDS, Need, need_id, ser.need_json, status, f"/api/v1/needs/{need_id}")


@bp.post("/needs")
@spec.validate(
    json=s.NeedIn,
    headers=s.IdempotencyHeaders,
    resp=Resp(HTTP_201=s.NeedOut, **WRITE_ERRORS),
    tags=["needs"],
)
def create_need_view(json: s.NeedIn):
    """Create a need (write token). Send an Idempotency-Key header to make retries safe:
    a retry with the same key and body returns the first answer and creates nothing."""
    from needs_tracker.needs.services import create_need

    require_json(json)

    def write() -> Response:
        with in_caller_language():
            data = validate_need(json.model_dump(mode="json"))
            need = create_need(data, g.api_token_centre_id, None)
        return _need_written(need.id, 201)

    return idempotent(write)


@bp.patch("/needs/<int:need_id>")
@spec.validate(
    json=s.NeedPatch,
    headers=s.IfMatchHeaders,
    resp=Resp(HTTP_200=s.NeedOut, **CHANGE_ERRORS),
    tags=["needs"],
)
def update_need_view(need_id: int, json: s.NeedPatch):
    """Change a need (write token). If-Match must carry the ETag of the version you read;
    412 when someone changed it since, 428 without If-Match."""
    from needs_tracker.needs.services import update_need

    require_json(json)
    need = _get_or_404(_NEEDS, Need, need_id)
    current = ser.need_json(need)
    require_if_match(current)
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

    def write() -> Response:
        with in_caller_language():
            update_need(need, validate_need(values), None)
        return _need_written(need.id, 200)

    return committed(write)


@bp.post("/needs/<int:need_id>/status")
@spec.validate(
    json=s.NeedStatusIn,
    headers=s.ChangeHeaders,
    resp=Resp(HTTP_200=s.NeedOut, **CHANGE_ERRORS),
    tags=["needs"],
)
def change_need_status_view(need_id: int, json: s.NeedStatusIn):
    """Move a need along its workflow, as the need page does (write token; If-Match required):
    only the moves the workflow allows, a note to close it, confirm_back to move it back.
    The move is added to the need's history."""
    from needs_tracker.needs.forms import NeedStatusForm
    from needs_tracker.needs.services import TransitionError, change_need_status

    require_json(json)

    def write() -> Response:
        need = _get_or_404(_NEEDS, Need, need_id)
        require_if_match(ser.need_json(need))
        with in_caller_language():
            form = NeedStatusForm(formdata=form_data(json.model_dump()), meta={"csrf": False})
            validate_form(form)
            try:
                change_need_status(
                    need,
                    form.to_status.data,
                    None,
                    form.note.data or "",
                    confirm_back=bool(form.confirm_back.data),
                )
            except TransitionError as exc:
                raise refuse(exc.field, exc) from None
        return _need_written(need.id, 200)

    return idempotent(write)
