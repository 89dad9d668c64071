"""Leadership dashboard."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from needs_tracker.common import hooks


def init_app(app: Flask) -> None:
    """Register the dashboard blueprint and its menu entry."""
    from needs_tracker.common.permissions import can_see_reports
    from needs_tracker.dashboard.views import bp

    app.register_blueprint(bp)
    hooks.NAV_ITEMS.add(
        app, {"endpoint": "dashboard.index", "label": _l("Dashboard"), "visible": can_see_reports}
    )
