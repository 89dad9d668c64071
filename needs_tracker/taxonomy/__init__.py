"""The maintained taxonomy of technical fields."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the field list pages."""
    from needs_tracker.taxonomy.views import bp

    app.register_blueprint(bp)
