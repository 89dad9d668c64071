"""Home page and language switch."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the home page and the language switch."""
    from needs_tracker.main.views import bp

    app.register_blueprint(bp)
