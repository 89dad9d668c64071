"""User administration (admins) and the `user` CLI."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the user administration pages and the `user` commands."""
    from needs_tracker.users.cli import user_cli
    from needs_tracker.users.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(user_cli)
