"""Errors as application/problem+json (RFC 9457), in the caller's Accept-Language."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Response, current_app, g, json, request
from flask_babel import force_locale, gettext, lazy_gettext
from werkzeug.exceptions import HTTPException

PROBLEM_MIMETYPE = "application/problem+json"

# Titles and details per status: one place, translated when the problem is rendered.
_TITLES = {
    400: lazy_gettext("Invalid request"),
    401: lazy_gettext("Authentication required"),
    403: lazy_gettext("Forbidden"),
    404: lazy_gettext("Not found"),
    405: lazy_gettext("Method not allowed"),
    406: lazy_gettext("Not acceptable"),
    409: lazy_gettext("Conflict"),
    412: lazy_gettext("Precondition failed"),
    422: lazy_gettext("Unprocessable request"),
    428: lazy_gettext("Precondition required"),
    413: lazy_gettext("Request too large"),
    415: lazy_gettext("Unsupported media type"),
    429: lazy_gettext("Too many requests"),
    500: lazy_gettext("Internal server error"),
}
_DETAILS = {
    400: lazy_gettext("Some values in the request are not valid; see errors."),
    401: lazy_gettext("Send a valid, unexpired API token as 'Authorization: Bearer <token>'."),
    403: lazy_gettext("This token may only read; ask an administrator for a write token."),
    404: lazy_gettext("There is no such record, or this token may not see it."),
    405: lazy_gettext("This method is not allowed on this resource."),
    412: lazy_gettext(
        "The record changed since you read it (ETag no longer matches); read it again."
    ),
    409: lazy_gettext("This would duplicate a record on file; see errors."),
    415: lazy_gettext("Send the body as JSON (Content-Type: application/json)."),
    422: lazy_gettext("The request is well-formed, but the app's rules refuse it; see errors."),
    428: lazy_gettext("Send If-Match with the ETag of the version you read."),
    429: lazy_gettext("This token has made too many requests; wait and try again."),
    500: lazy_gettext("An unexpected error occurred; quote the request id when reporting it."),
}
# Field messages by pydantic error type; anything else gets the generic one.
_FIELD_MESSAGES = {
    "missing": lazy_gettext("This field is required."),
    "int_parsing": lazy_gettext("Must be a whole number."),
    "int_type": lazy_gettext("Must be a whole number."),
    "greater_than_equal": lazy_gettext("Must be at least %(ge)s."),
    "less_than_equal": lazy_gettext("Must be at most %(le)s."),
    "string_too_long": lazy_gettext("Must be at most %(max_length)s characters."),
    "extra_forbidden": lazy_gettext("Unknown parameter."),
    "cursor": lazy_gettext("Not a cursor returned by this API; start again without it."),
    "idempotency_key": lazy_gettext("Must be 1 to 200 characters."),
    "reference": lazy_gettext("No such record, or this token may not use it."),
    "json_object": lazy_gettext("Send a JSON object."),
    "idempotency_reused": lazy_gettext(
        "This key was already used with a different request; use a new key."
    ),
}


@dataclass
class FieldError:
    """One invalid value: where it is (a dotted path) and what is wrong, as a message key."""

    field: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)


class ApiProblem(Exception):
    """Raised by API code to answer with a problem document."""

    def __init__(self, status: int, errors: list[FieldError] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.errors = errors or []


def request_language() -> str:
    """The best of the app's languages for Accept-Language; Chinese when none matches."""
    languages = list(current_app.config["LANGUAGES"])
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    best = request.accept_languages.best_match(languages, default=default)
    return best or default


def field_errors_from_pydantic(errors: list[dict[str, Any]]) -> list[FieldError]:
    """Pydantic's error list as FieldErrors, naming each field by its dotted location."""
    out = []
    for err in errors:
        loc = ".".join(str(part) for part in err.get("loc", ()) if part != "__root__")
        ctx = {k: v for k, v in (err.get("ctx") or {}).items() if isinstance(v, int | str)}
        kind = "cursor" if loc == "cursor" else str(err.get("type", ""))
        out.append(FieldError(field=loc, kind=kind, params=ctx))
    return out


def _message(error: FieldError) -> str:
    if error.kind == "message":
        # Already in the caller's language (e.g. the web form's own message).
        return str(error.params.get("text", ""))
    template = _FIELD_MESSAGES.get(error.kind)
    if template is None:
        return gettext("Invalid value.")
    try:
        return str(template) % error.params if "%(" in str(template) else str(template)
    except (KeyError, TypeError, ValueError):
        return gettext("Invalid value.")


def problem_response(
    status: int, errors: list[FieldError] | None = None, headers: dict[str, str] | None = None
) -> Response:
    """A problem+json response for status, with titles and messages in the caller's language."""
    with force_locale(request_language()):
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": str(_TITLES.get(status, _TITLES[500 if status >= 500 else 400])),
            "status": status,
            "detail": str(_DETAILS.get(status, "")),
            "instance": request.path,
        }
        if errors:
            body["errors"] = [{"field": e.field, "message": _message(e)} for e in errors]
    if status >= 500:
        body["request_id"] = g.get("request_id", "")
    response = Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_MIMETYPE
    )
    response.headers["Content-Language"] = request_language()
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def http_problem(error: HTTPException) -> Response:
    """A werkzeug HTTP error (404, 405, 429...) as a problem document, keeping its headers."""
    status = error.code or 500
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="needs-tracker"'
    original = error.get_response()
    for key in ("Allow", "Retry-After"):
        if key in original.headers:
            headers[key] = original.headers[key]
    response = problem_response(status, headers=headers)
    # Flask-Limiter's rate-limit headers ride on the exception's own response.
    for key, value in original.headers.items():
        if key.lower().startswith("x-ratelimit") or key.lower().startswith("ratelimit"):
            response.headers[key] = value
    return response
