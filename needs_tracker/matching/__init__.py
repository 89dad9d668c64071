"""Matching needs to experts and resources, and the docking workflow."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from needs_tracker.common import hooks


def init_app(app: Flask) -> None:
    """Register the matching feature's blueprints, commands and page panels."""
    from needs_tracker.matching import views
    from needs_tracker.matching.cli import match_cli
    from needs_tracker.matching.demo import seed_demo_matches
    from needs_tracker.matching.models import DeclineReason, MatchStatus

    app.register_blueprint(views.bp)
    app.cli.add_command(match_cli)

    def _label(enum):
        def fmt(value: str | None) -> str:
            try:
                return str(enum(value).label)
            except ValueError:
                return value or ""

        return fmt

    app.jinja_env.filters["match_status"] = _label(MatchStatus)
    app.jinja_env.filters["decline_reason"] = _label(DeclineReason)
    hooks.NEED_PANELS.add(app, views.need_panel)
    hooks.EXPERT_PANELS.add(app, views.expert_panel)
    hooks.RESOURCE_PANELS.add(app, views.resource_panel)
    hooks.HOME_PANELS.add(app, views.stale_panel)
    hooks.NAV_ITEMS.add(
        app,
        {
            "endpoint": "matching.groups",
            "label": _l("Group docking"),
            "visible": lambda u: u.is_authenticated,
        },
    )
    hooks.DEMO_SEEDERS.add(app, seed_demo_matches)
