"""CLI commands of the ops feature: `flask --app wsgi backup create|restore`."""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from needs_tracker.extensions import db
from needs_tracker.ops.backup import BackupError, create_backup, restore_backup, verify_backup

backup_cli = AppGroup("backup", help="Back up and restore the database.")


@backup_cli.command("create")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Backup file (default: instance/backups/needs-tracker-<time>.backup).",
)
@click.option(
    "--without-credentials",
    is_flag=True,
    help="Leave out password hashes (e.g. a copy for a test system); after a restore, set "
    "passwords with `flask user set-password`.",
)
def create_command(output: str | None, without_credentials: bool) -> None:
    """Write a consistent backup of the whole database (readable by its owner only)."""
    if output is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        output = f"{current_app.instance_path}/backups/needs-tracker-{stamp}.backup"
    try:
        path = create_backup(
            current_app.config["SQLALCHEMY_DATABASE_URI"],
            output,
            credentials=not without_credentials,
        )
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backup written to {path} ({path.stat().st_size} bytes).")
    if without_credentials:
        click.echo("It holds no password hashes; it is readable by its owner only (mode 0600).")
    else:
        click.echo(
            "It holds every record and the users' password hashes: it is readable by its "
            "owner only (mode 0600); keep it that way (--without-credentials leaves hashes out)."
        )


@backup_cli.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def verify_command(file: str) -> None:
    """Check a backup file completely (header, size, checksum) without restoring it."""
    try:
        info = verify_backup(file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    creds = "with" if info.credentials else "without"
    click.echo(
        f"{file}: a {info.kind} backup of {info.created_at}, {info.size} bytes, {creds} "
        "password hashes; checksum OK."
    )


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
        info = restore_backup(current_app.config["SQLALCHEMY_DATABASE_URI"], file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.engine.dispose()
    click.echo(f"Database restored from {file}.")
    if not info.credentials:
        click.echo(
            "The backup held no password hashes: nobody can log in until you run "
            "`flask user set-password USERNAME`."
        )
