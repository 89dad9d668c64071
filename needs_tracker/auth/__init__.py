"""Users, login and roles."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the login pages."""
    from needs_tracker.auth.views import bp

    app.register_blueprint(bp)
