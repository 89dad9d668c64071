"""The JSON API under /api/v1: bearer tokens per integration, OpenAPI 3.1, problem errors."""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import HTTPException

API_PREFIX = "/api/"


def init_app(app: Flask) -> None:
    """Register the API blueprint, its CLI group, rate limit and error documents."""
    # Each adds its write routes to bp.
    from needs_tracker.api import (  # noqa: F401
        writes,
        writes_matches,
        writes_organisations,
        writes_visits,
    )
    from needs_tracker.api.cli import token_cli
    from needs_tracker.api.problems import http_problem, problem_response
    from needs_tracker.api.views import bp, rate_limit_key, rate_limit_value, spec
    from needs_tracker.common.scoping import ScopeViolation
    from needs_tracker.extensions import csrf, db, limiter

    # Tokens, not cookies, authorise the API: there is no ambient credential to forge.
    csrf.exempt(bp)
    # Counted in the limiter's configured storage, shared by workers as the login throttle is.
    limiter.limit(rate_limit_value, key_func=rate_limit_key)(bp)
    app.register_blueprint(bp)
    spec.app = app
    app.cli.add_command(token_cli)

    # Errors raised outside the blueprint's views (unknown URL, wrong method) and unexpected
    # ones still answer API clients with a problem document, not the HTML error page.
    handlers = app.error_handler_spec.setdefault(None, {}).setdefault(None, {})
    html_http = handlers.get(HTTPException)
    html_scope = handlers.get(ScopeViolation)
    html_500 = handlers.get(Exception)
    from sqlalchemy.orm.exc import StaleDataError

    html_stale = handlers.get(StaleDataError)

    def on_http(error: HTTPException):
        if request.path.startswith(API_PREFIX):
            return http_problem(error)
        return html_http(error) if html_http else error

    def on_scope(error: ScopeViolation):
        if request.path.startswith(API_PREFIX):
            db.session.rollback()
            return problem_response(404)
        return html_scope(error)

    def on_error(error: Exception):
        if request.path.startswith(API_PREFIX):
            app.logger.exception("unhandled API error")
            db.session.rollback()
            return problem_response(500)
        return html_500(error)

    def on_stale(error: StaleDataError):
        # Two saves passed the If-Match check together; the database let one through.
        if request.path.startswith(API_PREFIX):
            db.session.rollback()
            return problem_response(412)
        return html_stale(error)

    app.register_error_handler(HTTPException, on_http)
    if html_stale is not None:
        app.register_error_handler(StaleDataError, on_stale)
    if html_scope is not None:
        app.register_error_handler(ScopeViolation, on_scope)
    if html_500 is not None:
        app.register_error_handler(Exception, on_error)
