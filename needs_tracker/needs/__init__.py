"""Technical needs (技术需求 / 技术瓶颈) collected from companies."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the need pages."""
    from needs_tracker.needs.views import bp

    app.register_blueprint(bp)
