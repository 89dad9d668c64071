"""CLI commands of the ops feature: `flask --app wsgi backup create|restore`."""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from needs_tracker.extensions import db
from needs_tracker.ops.backup import BackupError, create_backup, restore_backup

backup_cli = AppGroup("backup", help="Back up and restore the database.")


@backup_cli.command("create")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Backup file (default: instance/backups/needs-tracker-<time>.backup).",
)
def create_command(output: str | None) -> None:
    """Write a consistent backup of the whole database."""
    if output is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        output = f"{current_app.instance_path}/backups/needs-tracker-{stamp}.backup"
    try:
        path = create_backup(current_app.config["SQLALCHEMY_DATABASE_URI"], output)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backup written to {path} ({path.stat().st_size} bytes).")


@backup_cli.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(file: str, yes: bool) -> None:
    """Replace the whole database with a backup (stop the app servers first)."""
    if not yes:
        click.confirm("This replaces every record in the database. Continue?", abort=True)
    db.session.remove()
    db.engine.dispose()
    try:
        restore_backup(current_app.config["SQLALCHEMY_DATABASE_URI"], file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.engine.dispose()
    click.echo(f"Database restored from {file}.")
