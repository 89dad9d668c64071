"""Matching needs to experts and resources, and the docking workflow."""

from flask import Flask
from flask_babel import lazy_gettext as _l


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
    ext = app.extensions
    ext.setdefault("need_panels", []).append(views.need_panel)
    ext.setdefault("expert_panels", []).append(views.expert_panel)
    ext.setdefault("resource_panels", []).append(views.resource_panel)
    ext.setdefault("home_panels", []).append(views.stale_panel)
    ext.setdefault("nav_items", []).append(
        {
            "endpoint": "matching.groups",
            "label": _l("Group docking"),
            "visible": lambda u: u.is_authenticated,
        }
    )
    ext.setdefault("demo_seeders", []).append(seed_demo_matches)
