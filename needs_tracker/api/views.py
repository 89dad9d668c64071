"""The /api/v1 blueprint: bearer-token auth, centre scope, cursor pages, ETags, problems."""

from __future__ import annotations

import copy
import functools
import hashlib
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, json, request
from spectree import Response as Resp
from spectree import SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from needs_tracker.api import schemas as s
from needs_tracker.api import serializers as ser
from needs_tracker.api.problems import (
    ApiProblem,
    field_errors_from_pydantic,
    problem_response,
)
from needs_tracker.api.tokens import find_active_token, touch_token
from needs_tracker.common.scoping import Scope, set_scope
from needs_tracker.experts.models import Expert, Resource
from needs_tracker.extensions import db
from needs_tracker.matching.models import Match
from needs_tracker.needs.models import Need
from needs_tracker.organisations.models import Organisation
from needs_tracker.visits.models import Visit

bp = Blueprint("api", __name__, url_prefix="/api/v1")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Ids beyond a 32-bit integer cannot exist; looking them up would overflow on PostgreSQL.
MAX_ID = 2**31 - 1
PUBLIC_ENDPOINTS = frozenset({"api.openapi", "api.docs", "api.docs_asset"})


def _validation_hook(_req, _resp, error, _instance, model_adapter) -> None:
    """Turn spectree's request validation failure into our problem document."""
    if error is not None:
        # pydantic's own list keeps the context (the bound in "at least 1"); spectree's drops it.
        errors = error.errors() if hasattr(error, "errors") else None
        raise ApiProblem(
            400, field_errors_from_pydantic(errors or model_adapter.validation_errors(error))
        )


spec = SpecTree(
    "flask",
    mode="strict",
    # Only names the (unregistered) spectree doc routes; /api/v1/openapi.json is ours.
    path="apidoc",
    title="needs-tracker API",
    version="1.0.0",
    description="Needs, organisations, visits, experts, resources and matches of one centre.",
    page_templates={},
    security_schemes=[
        SecurityScheme(
            name="bearerAuth", data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer")
        ),
    ],
    security={"bearerAuth": []},
    before=_validation_hook,
)

# Responses every authenticated operation may give.
_COMMON = {"HTTP_401": s.Problem, "HTTP_429": s.Problem}


def _list_resp(page: type) -> Resp:
    return Resp(HTTP_200=page, HTTP_400=s.Problem, **_COMMON)


def _detail_resp(model: type) -> Resp:
    return Resp("HTTP_304", HTTP_200=model, HTTP_404=s.Problem, **_COMMON)


# --- authentication -------------------------------------------------------------------------


@bp.before_request
def _authenticate() -> None:
    """Only a bearer token authorises: a session cookie never does, so CSRF cannot apply."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    token = find_active_token(secret.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        raise ApiProblem(401)
    if request.method not in SAFE_METHODS and not token.can_write:
        raise ApiProblem(403)
    g.api_token_id = token.id
    g.api_token_centre_id = token.centre_id
    centres = frozenset({token.centre_id})
    set_scope(
        db.session,
        Scope(
            read_centres=centres,
            write_centres=centres if token.can_write else frozenset(),
            via=f"api:{token.name}",
        ),
    )
    if touch_token(token):
        db.session.commit()


def rate_limit_key() -> str:
    """Rate limits count per token (by its hash), else per client address."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        return "api-token:" + hashlib.sha256(secret.strip().encode()).hexdigest()[:32]
    return "api-addr:" + (request.remote_addr or "")


def rate_limit_value() -> str:
    """The configured per-token limit (API_RATE_LIMIT)."""
    return current_app.config["API_RATE_LIMIT"]


@bp.after_request
def _no_shared_cache(response: Response) -> Response:
    # Centre data: a proxy must not serve one token's answer to another.
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = "Authorization, Accept-Language"
    return response


# --- helpers --------------------------------------------------------------------------------


def _encode_cursor(last_id: int) -> str:
    return format(last_id, "x")


def _decode_cursor(cursor: str | None) -> int:
    # The schema's pattern (hex digits) has already refused anything else, so every cursor
    # the document allows is accepted; one past any real id simply gives an empty page.
    return min(int(cursor, 16), MAX_ID) if cursor else 0


def _page(stmt: Select, model: Any, query: s.ListQuery, to_json: Callable) -> dict[str, Any]:
    """One page ordered by id: a cursor (the last id) stays stable while rows are added."""
    after = _decode_cursor(query.cursor)
    rows = list(
        db.session.scalars(stmt.where(model.id > after).order_by(model.id).limit(query.limit + 1))
    )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return {
        "items": [to_json(r) for r in rows],
        "next_cursor": _encode_cursor(rows[-1].id) if more and rows else None,
    }


def _get_or_404(stmt: Select, model: Any, record_id: int) -> Any:
    """The record in scope with this id; 404 whether it is missing or another centre's."""
    if record_id > MAX_ID:
        raise ApiProblem(404)
    obj = db.session.scalar(stmt.where(model.id == record_id))
    if obj is None:
        raise ApiProblem(404)
    return obj


def etag_of(body: bytes) -> str:
    """A strong ETag: the hash of exactly the bytes served."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _detail(payload: dict[str, Any]) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    tag = etag_of(body)
    if request.if_none_match and request.if_none_match.contains_weak(tag.strip('"')):
        response = Response(status=304)
    else:
        response = Response(body, mimetype="application/json")
    response.headers["ETag"] = tag
    return response


# --- resources ------------------------------------------------------------------------------

_NEEDS = select(Need).options(
    joinedload(Need.organisation), selectinload(Need.fields), selectinload(Need.history)
)
_ORGS = select(Organisation)
_EXPERTS = select(Expert).options(selectinload(Expert.fields))
_RESOURCES = select(Resource).options(selectinload(Resource.fields))
_VISITS = select(Visit).options(
    selectinload(Visit.organisations), selectinload(Visit.team), selectinload(Visit.needs)
)
_MATCHES = select(Match).options(selectinload(Match.transitions))


@bp.get("/needs")
@spec.validate(query=s.ListQuery, resp=_list_resp(s.NeedPage), tags=["needs"])
def list_needs(query: s.ListQuery):
    """List the centre's needs, oldest first, with fields and status history."""
    return _page(_NEEDS, Need, query, ser.need_json)


@bp.get("/needs/<int:need_id>")
@spec.validate(resp=_detail_resp(s.NeedOut), tags=["needs"])
def get_need(need_id: int):
    """One need with its fields and status history; ETag for conditional GETs."""
    return _detail(ser.need_json(_get_or_404(_NEEDS, Need, need_id)))


@bp.get("/needs/<int:need_id>/suggestions")
@spec.validate(
    query=s.SuggestQuery,
    resp=Resp(HTTP_200=s.SuggestionList, HTTP_400=s.Problem, HTTP_404=s.Problem, **_COMMON),
    tags=["needs"],
)
def need_suggestions(need_id: int, query: s.SuggestQuery):
    """Experts and resources ranked for a need: the items of `flask match suggest --json`."""
    from needs_tracker.matching.services import suggest_for_need

    need = _get_or_404(_NEEDS, Need, need_id)
    items = [x.as_dict() for x in suggest_for_need(need, top=query.top)]
    return {"need_id": need.id, "items": items}


@bp.get("/organisations")
@spec.validate(query=s.ListQuery, resp=_list_resp(s.OrganisationPage), tags=["organisations"])
def list_organisations(query: s.ListQuery):
    """List the centre's organisations."""
    return _page(_ORGS, Organisation, query, ser.organisation_json)


@bp.get("/organisations/<int:organisation_id>")
@spec.validate(resp=_detail_resp(s.OrganisationOut), tags=["organisations"])
def get_organisation(organisation_id: int):
    """One organisation."""
    return _detail(ser.organisation_json(_get_or_404(_ORGS, Organisation, organisation_id)))


@bp.get("/experts")
@spec.validate(query=s.ListQuery, resp=_list_resp(s.ExpertPage), tags=["experts"])
def list_experts(query: s.ListQuery):
    """List the shared expert pool (no contact details)."""
    return _page(_EXPERTS, Expert, query, ser.expert_json)


@bp.get("/experts/<int:expert_id>")
@spec.validate(resp=_detail_resp(s.ExpertOut), tags=["experts"])
def get_expert(expert_id: int):
    """One expert (no contact details)."""
    return _detail(ser.expert_json(_get_or_404(_EXPERTS, Expert, expert_id)))


@bp.get("/resources")
@spec.validate(query=s.ListQuery, resp=_list_resp(s.ResourcePage), tags=["resources"])
def list_resources(query: s.ListQuery):
    """List the shared resources (achievements, labs, platforms)."""
    return _page(_RESOURCES, Resource, query, ser.resource_json)


@bp.get("/resources/<int:resource_id>")
@spec.validate(resp=_detail_resp(s.ResourceOut), tags=["resources"])
def get_resource(resource_id: int):
    """One resource."""
    return _detail(ser.resource_json(_get_or_404(_RESOURCES, Resource, resource_id)))


@bp.get("/visits")
@spec.validate(query=s.ListQuery, resp=_list_resp(s.VisitPage), tags=["visits"])
def list_visits(query: s.ListQuery):
    """List the centre's visits with their organisations and team."""
    return _page(_VISITS, Visit, query, ser.visit_json)


@bp.get("/visits/<int:visit_id>")
@spec.validate(resp=_detail_resp(s.VisitOut), tags=["visits"])
def get_visit(visit_id: int):
    """One visit."""
    return _detail(ser.visit_json(_get_or_404(_VISITS, Visit, visit_id)))


@bp.get("/matches")
@spec.validate(query=s.ListQuery, resp=_list_resp(s.MatchPage), tags=["matches"])
def list_matches(query: s.ListQuery):
    """List the centre's matches with their transitions."""
    return _page(_MATCHES, Match, query, ser.match_json)


@bp.get("/matches/<int:match_id>")
@spec.validate(resp=_detail_resp(s.MatchOut), tags=["matches"])
def get_match(match_id: int):
    """One match with its transitions."""
    return _detail(ser.match_json(_get_or_404(_MATCHES, Match, match_id)))


# --- description and docs -------------------------------------------------------------------


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document spectree builds from the decorated views, errors as problems."""
    doc = copy.deepcopy(spec.spec)
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            for code, response in operation.get("responses", {}).items():
                content = response.get("content")
                if code.isdigit() and int(code) >= 400 and content:
                    response["content"] = {"application/problem+json": content.popitem()[1]}
                elif code == "304":
                    response.pop("content", None)
            # Spectree's own 422 (request validation): ours are 400 problems (see the hook).
            unprocessable = operation.get("responses", {}).get("422", {})
            if "ValidationError" in json.dumps(unprocessable):
                del operation["responses"]["422"]
    schemas = doc.get("components", {}).get("schemas", {})
    for name in [n for n in schemas if n.startswith("ValidationError")]:
        del schemas[name]
    return doc


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document (public: it describes the API, it holds no data)."""
    return current_app.json.response(openapi_document())


DOCS_PAGE = """<!DOCTYPE html>
<html lang="zh">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>needs-tracker API</title>
<link rel="stylesheet" href="{css}">
</head>
<body>
<div id="swagger-ui" data-spec-url="{spec_url}"></div>
<script src="{bundle}"></script>
<script src="{preset}"></script>
<script src="{init}"></script>
</body>
</html>
"""

# Swagger UI's files come from the offapi wheel (pinned), served by this app: no CDN.
_DOCS_ASSETS = {
    "swagger.css": ("offapi", "swagger_style.css", "text/css"),
    "swagger-bundle.js": ("offapi", "swagger_bundle.js", "text/javascript"),
    "swagger-preset.js": ("offapi", "swagger_preset.js", "text/javascript"),
    "docs-init.js": ("needs_tracker.api", "static/docs-init.js", "text/javascript"),
}


@bp.get("/docs")
def docs():
    """Interactive documentation (Swagger UI) served entirely by this app."""
    from flask import url_for

    html = DOCS_PAGE.format(
        spec_url=url_for("api.openapi"),
        css=url_for("api.docs_asset", name="swagger.css"),
        bundle=url_for("api.docs_asset", name="swagger-bundle.js"),
        preset=url_for("api.docs_asset", name="swagger-preset.js"),
        init=url_for("api.docs_asset", name="docs-init.js"),
    )
    return Response(html, mimetype="text/html")


@functools.cache
def _docs_asset_bytes(name: str) -> bytes:
    from importlib.resources import files

    package, path, _ = _DOCS_ASSETS[name]
    return files(package).joinpath(path).read_bytes()


@bp.get("/docs/<name>")
def docs_asset(name: str):
    """One of the docs page's own files (read once, kept in memory: about 1.5 MB in all)."""
    if name not in _DOCS_ASSETS:
        raise ApiProblem(404)
    response = Response(_docs_asset_bytes(name), mimetype=_DOCS_ASSETS[name][2])
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.errorhandler(ApiProblem)
def _problem(error: ApiProblem):
    headers = {"WWW-Authenticate": 'Bearer realm="needs-tracker"'} if error.status == 401 else {}
    return problem_response(error.status, error.errors, headers)
