"""Refuse requests carrying NUL characters (400) before they reach a form or the database.

PostgreSQL text cannot hold U+0000 (psycopg raises DataError, which would be a 500), and no
legitimate field of this application contains it. Found by tests/test_properties_forms.py.
"""

from __future__ import annotations

from flask import Flask, abort, g, request

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _has_nul(values) -> bool:
    return any("\x00" in v for v in values)


def init_app(app: Flask) -> None:
    """Answer 400 (the bad-request page) to query strings, forms or file names with NUL."""

    @app.before_request
    def _refuse_nul():
        if "\x00" in request.path or _has_nul(request.args.values()):
            abort(400)
        if request.method not in {"POST", "PUT", "PATCH"} or request.mimetype not in FORM_TYPES:
            return None
        if _has_nul(request.form.values()) or _has_nul(
            f.filename or "" for f in request.files.values()
        ):
            app.logger.warning("NUL in request refused request_id=%s", g.get("request_id"))
            abort(400)
        return None
