"""Spreadsheet import and export, and company identity (dedupe and merge)."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from needs_tracker.common import hooks


def init_app(app: Flask) -> None:
    """Register the import/export blueprints, the CLI commands and the menu entry."""
    from needs_tracker.common.permissions import can_import
    from needs_tracker.imports.cli import export_command, import_command
    from needs_tracker.imports.merge import lookalike_organisations
    from needs_tracker.imports.views import bp, duplicate_warning, export_bp

    app.register_blueprint(bp)
    app.register_blueprint(export_bp)
    hooks.ORGANISATION_CREATE_CHECKS.add(app, duplicate_warning)
    # The same look-alike search for callers without a page (the API): organisations, not HTML.
    hooks.ORGANISATION_LOOKALIKES.add(app, lookalike_organisations)
    app.cli.add_command(import_command)
    app.cli.add_command(export_command)
    hooks.NAV_ITEMS.add(
        app,
        {
            "endpoint": "imports.index",
            "label": _l("Import"),
            "visible": can_import,
        },
    )
