"""`flask demo seed`: create (idempotently) the demo centre and its data."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from needs_tracker.common.hooks import DEMO_SEEDERS
from needs_tracker.common.scoping import Scope, set_scope
from needs_tracker.demo.seed import seed_demo
from needs_tracker.extensions import db

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
@click.option("--password", default=None, help="Password for every demo user (random when absent).")
def seed_command(password: str | None) -> None:
    """Create the 潍坊服务中心 demo; running it again changes nothing that exists."""
    set_scope(db.session, Scope.system())
    result = seed_demo(password)
    for seeder in DEMO_SEEDERS.items():
        seeder(result)
    db.session.commit()
    logins = Path(current_app.instance_path) / "demo_logins.txt"
    if result.created_users:
        lines = [f"{u}\t{pw}" for u, pw in result.created_users.items()]
        # With DATABASE_URL and SECRET_KEY from the environment nothing else creates instance/.
        logins.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(logins, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(lines) + "\n")
    click.echo(f"Demo centre: {result.centre.name}")
    for user, pw in result.created_users.items():
        click.echo(f"  created {user:<18} password: {pw}")
    for user in result.existing_users:
        click.echo(
            f"  exists  {user:<18} (password unchanged; see {logins.name} if it was seeded here)"
        )
