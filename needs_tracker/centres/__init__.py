"""Service centres (tenants) and their co-building organisations."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the centre pages and the `centre` commands."""
    from needs_tracker.centres.cli import centre_cli
    from needs_tracker.centres.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(centre_cli)
