"""Spreadsheet import and export, and company identity (dedupe and merge)."""

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    """Register the import/export blueprints, the CLI commands and the menu entry."""
    from needs_tracker.common.permissions import can_import
    from needs_tracker.imports.cli import export_command, import_command
    from needs_tracker.imports.services import lookalike_organisations
    from needs_tracker.imports.views import bp, duplicate_warning, export_bp

    app.config.setdefault("IMPORT_MAX_BYTES", 10 * 1024 * 1024)
    app.config.setdefault("IMPORT_MAX_ROWS", 50_000)
    app.register_blueprint(bp)
    app.register_blueprint(export_bp)
    app.extensions.setdefault("organisation_create_checks", []).append(duplicate_warning)
    # The same look-alike search for callers without a page (the API): organisations, not HTML.
    app.extensions.setdefault("organisation_lookalikes", []).append(lookalike_organisations)
    app.cli.add_command(import_command)
    app.cli.add_command(export_command)
    app.extensions.setdefault("nav_items", []).append(
        {
            "endpoint": "imports.index",
            "label": _l("Import"),
            "visible": can_import,
        }
    )
