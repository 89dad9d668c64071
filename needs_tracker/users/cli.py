"""`flask user create USERNAME --role ROLE --centre NAME [--password ...]`."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from needs_tracker.centres.models import Centre
from needs_tracker.common.choices import Role
from needs_tracker.extensions import db
from needs_tracker.users.services import UserError, create_user

user_cli = AppGroup("user", help="Manage users.")


@user_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option(
    "--centre",
    "centre_name",
    help="Centre name: required for members, coordinators, observers and centre admins "
    "(admin); a sysadmin administers every centre and needs none.",
)
@click.option("--display-name", default="", help="Name shown in the app.")
@click.option("--consortium", is_flag=True, help="Consortium-level leader: reads every centre.")
@click.option("--password", default=None, help="Password (prompted when not given).")
def create_command(
    username: str,
    role: str,
    centre_name: str | None,
    display_name: str,
    consortium: bool,
    password: str | None,
) -> None:
    """Create a user."""
    centre_id = None
    if centre_name:
        centre = db.session.scalar(select(Centre).where(Centre.name == centre_name))
        if centre is None:
            raise click.ClickException(f"No centre named {centre_name!r}.")
        centre_id = centre.id
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user, _ = create_user(
            username, display_name or username, role, centre_id, password, consortium
        )
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    scope = "every centre" if user.role == Role.SYSADMIN else (centre_name or "every centre")
    click.echo(f"Created user {user.username} ({user.role}, {scope}).")


@user_cli.command("set-password")
@click.argument("username")
@click.option("--password", default=None, help="New password (prompted when not given).")
def set_password_command(username: str, password: str | None) -> None:
    """Set a user's password (e.g. after restoring a backup made without credentials)."""
    from needs_tracker.auth.models import User
    from needs_tracker.auth.services import change_password

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"No user named {username!r}.")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise click.ClickException("A password needs at least 8 characters.")
    change_password(user, password)
    db.session.commit()
    click.echo(f"Password of {username} set; their other sessions have ended.")
