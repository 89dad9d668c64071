"""Companies, universities, institutes and government bodies of a centre."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the organisation pages."""
    from needs_tracker.organisations.views import bp

    app.register_blueprint(bp)
