"""Operations: backup and restore, deployment checks, attachments, trash."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from needs_tracker.common import hooks


def init_app(app: Flask) -> None:
    """Register the operations commands, pages and panels."""
    from needs_tracker.common.permissions import can_delete_records
    from needs_tracker.ops import concurrency, input_guard
    from needs_tracker.ops.attachment_views import attachment_panel
    from needs_tracker.ops.attachment_views import bp as attachments_bp
    from needs_tracker.ops.cli import backup_cli
    from needs_tracker.ops.deploy_check import check_deploy_command
    from needs_tracker.ops.trash import bp as trash_bp

    concurrency.init_app(app)
    input_guard.init_app(app)
    app.cli.add_command(backup_cli)
    app.cli.add_command(check_deploy_command)
    app.register_blueprint(trash_bp)
    app.register_blueprint(attachments_bp)
    hooks.VISIT_PANELS.add(app, attachment_panel("visit"))
    hooks.NEED_PANELS.add(app, attachment_panel("need"))
    hooks.NAV_ITEMS.add(
        app,
        {
            "endpoint": "trash.index",
            "label": _l("Trash"),
            "visible": lambda u: u.is_authenticated and can_delete_records(u),
        },
    )
