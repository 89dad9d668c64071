"""The shared pool of experts and resources (labs, platforms, achievements, patents)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the expert and resource pages."""
    from needs_tracker.experts.resource_views import resources_bp
    from needs_tracker.experts.views import experts_bp

    app.register_blueprint(experts_bp)
    app.register_blueprint(resources_bp)
