"""`flask centre create NAME [--region ...] [--partner ...]`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from needs_tracker.centres.services import CentreError, create_centre
from needs_tracker.extensions import db

centre_cli = AppGroup("centre", help="Manage service centres.")


@centre_cli.command("create")
@click.argument("name")
@click.option("--region", default="", help="Region, e.g. 山东省潍坊市.")
@click.option("--partner", "partners", multiple=True, help="A co-building organisation (repeat).")
def create_command(name: str, region: str, partners: tuple[str, ...]) -> None:
    """Create a service centre."""
    try:
        centre = create_centre(name, region, list(partners))
    except CentreError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Created centre {centre.name} (id {centre.id}).")
