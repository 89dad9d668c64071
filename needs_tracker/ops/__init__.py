"""Operations: backup and restore, deployment checks, attachments, trash."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the operations commands and pages."""
    from needs_tracker.ops.cli import backup_cli
    from needs_tracker.ops.deploy_check import check_deploy_command

    app.cli.add_command(backup_cli)
    app.cli.add_command(check_deploy_command)
