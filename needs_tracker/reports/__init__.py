"""Monthly reports: pandas summaries, narrative, Word and Excel export."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from needs_tracker.common import hooks


def init_app(app: Flask) -> None:
    """Register the reports feature's blueprints, commands and cache invalidation."""
    from needs_tracker.reports import invalidation
    from needs_tracker.reports.cli import report_cli

    invalidation.register()
    app.cli.add_command(report_cli)
    from needs_tracker.common.permissions import sees_reports_in_menu
    from needs_tracker.reports import views

    app.register_blueprint(views.bp)
    hooks.NAV_ITEMS.add(
        app,
        {
            "endpoint": "reports.index",
            "label": _l("Reports"),
            "visible": sees_reports_in_menu,
        },
    )
