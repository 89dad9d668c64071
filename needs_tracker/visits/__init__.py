"""Visits (走访): one outing, several organisations, a mixed team."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the visit pages."""
    from needs_tracker.visits.views import bp

    app.register_blueprint(bp)
