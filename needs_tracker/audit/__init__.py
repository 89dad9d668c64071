"""Audit trail of every change to centre data."""

from flask import Flask
from flask_babel import lazy_gettext as _l

# Detail pages that show a history panel: hook name -> table of the record shown.
HISTORY_PANELS = {
    "need_panels": "needs",
    "visit_panels": "visits",
    "organisation_panels": "organisations",
    "expert_panels": "experts",
    "resource_panels": "resources",
}


def init_app(app: Flask) -> None:
    """Register the audit trail's session events and pages."""
    from needs_tracker.audit import events
    from needs_tracker.audit.views import bp, history_panel
    from needs_tracker.common.permissions import can_see_audit

    events.register()
    app.register_blueprint(bp)
    for hook, table in HISTORY_PANELS.items():
        app.extensions.setdefault(hook, []).append(history_panel(table))
    app.extensions.setdefault("nav_items", []).append(
        {
            "endpoint": "audit.search",
            "label": _l("Audit trail"),
            "visible": can_see_audit,
        }
    )
