"""A save that lost a race to another save is refused with the stale-form message, not a 500.

The edit views compare the form's version with the record's before saving; two requests that
pass that check at the same moment still meet at the database, where the ORM's version column
makes the second UPDATE match no row (StaleDataError). That is the same situation as a stale
form, so it gets the same answer: nothing saved, the message, and the form again.
"""

from __future__ import annotations

from flask import Flask, flash, g, redirect, request
from sqlalchemy.orm.exc import StaleDataError


def init_app(app: Flask) -> None:
    """Answer StaleDataError with the stale-form message and a fresh form."""
    from needs_tracker.common.forms import stale_message
    from needs_tracker.extensions import db

    def on_stale(error: StaleDataError):
        db.session.rollback()
        app.logger.warning("concurrent save refused request_id=%s: %s", g.get("request_id"), error)
        flash(stale_message([]), "danger")
        return redirect(request.full_path if request.query_string else request.path, code=303)

    app.register_error_handler(StaleDataError, on_stale)
