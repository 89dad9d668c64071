"""`flask token create NAME --centre CENTRE --scope read|write [--days N]`, `list`, `revoke`."""

from __future__ import annotations

import getpass

import click
from flask.cli import AppGroup
from sqlalchemy import select

from needs_tracker.api.models import TOKEN_SCOPES
from needs_tracker.api.tokens import TokenError, create_token, list_tokens, revoke_token
from needs_tracker.centres.models import Centre
from needs_tracker.common.scoping import Scope, set_scope
from needs_tracker.extensions import db

token_cli = AppGroup("token", help="Manage API tokens.")


def _fmt(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


@token_cli.command("create")
@click.argument("name")
@click.option("--centre", "centre_name", required=True, help="Centre name the token sees.")
@click.option("--scope", type=click.Choice(TOKEN_SCOPES), required=True)
@click.option("--days", type=click.IntRange(min=1), default=90, show_default=True)
@click.option("--by", "created_by", default=None, help="Who asked for it (default: OS user).")
def create_command(
    name: str, centre_name: str, scope: str, days: int, created_by: str | None
) -> None:
    """Create a token and print it once, on the last line."""
    set_scope(db.session, Scope.system())
    centre = db.session.scalar(select(Centre).where(Centre.name == centre_name))
    if centre is None:
        raise click.ClickException(f"No centre named {centre_name!r}.")
    try:
        token, secret = create_token(name, centre.id, scope, days, created_by or _os_user())
    except TokenError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(
        f"Token {token.name!r} ({token.scope}, {centre.name}) expires {_fmt(token.expires_at)}."
    )
    click.echo("Copy it now: it is stored hashed and cannot be shown again.")
    click.echo(secret)


@token_cli.command("list")
def list_command() -> None:
    """List tokens (never their secrets) with expiry, revocation and last use."""
    set_scope(db.session, Scope.system())
    for t in list_tokens():
        state = "revoked" if t.revoked_at else ("active" if t.is_active() else "expired")
        click.echo(
            f"{t.name}\t{t.prefix}…\t{t.centre.name}\t{t.scope}\t{state}"
            f"\texpires {_fmt(t.expires_at)}\tlast used {_fmt(t.last_used_at)}"
            f"\tby {t.created_by or '-'}"
        )


@token_cli.command("revoke")
@click.argument("name")
def revoke_command(name: str) -> None:
    """Revoke a token by name: requests with it fail from now on."""
    set_scope(db.session, Scope.system())
    try:
        revoke_token(name)
    except TokenError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Token {name!r} revoked.")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
