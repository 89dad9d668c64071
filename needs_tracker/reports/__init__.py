"""Monthly reports: pandas summaries, narrative, Word and Excel export."""

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    """Register the reports feature's blueprints and commands."""
    from needs_tracker.reports.cli import report_cli

    app.cli.add_command(report_cli)
    try:
        from needs_tracker.reports import views
    except ImportError:  # views not built yet
        return
    app.register_blueprint(views.bp)
    app.extensions.setdefault("nav_items", []).append(
        {
            "endpoint": "reports.index",
            "label": _l("Reports"),
            "visible": lambda u: (
                u.is_authenticated and u.centre_id is not None or u.is_consortium
                if u.is_authenticated
                else False
            ),
        }
    )


def can_see_reports(user) -> bool:
    """Everyone attached to a centre, consortium leaders and admins."""
    return bool(
        user.is_authenticated
        and (user.centre_id is not None or user.is_consortium or user.role == "sysadmin")
    )
