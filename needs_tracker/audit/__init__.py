"""Audit trail of every change to centre data."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from needs_tracker.common import hooks

# Detail pages that show a history panel: their hook -> table of the record shown.
HISTORY_PANELS = {
    hooks.NEED_PANELS: "needs",
    hooks.VISIT_PANELS: "visits",
    hooks.ORGANISATION_PANELS: "organisations",
    hooks.EXPERT_PANELS: "experts",
    hooks.RESOURCE_PANELS: "resources",
}


def init_app(app: Flask) -> None:
    """Register the audit trail's session events and pages."""
    from needs_tracker.audit import events
    from needs_tracker.audit.views import bp, history_panel
    from needs_tracker.common.permissions import can_see_audit

    events.register()
    app.register_blueprint(bp)
    for hook, table in HISTORY_PANELS.items():
        hook.add(app, history_panel(table))
    hooks.NAV_ITEMS.add(
        app,
        {
            "endpoint": "audit.search",
            "label": _l("Audit trail"),
            "visible": can_see_audit,
        },
    )
