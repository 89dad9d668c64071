"""User administration services."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from needs_tracker.auth.models import User
from needs_tracker.auth.services import end_all_sessions
from needs_tracker.common.choices import Role
from needs_tracker.extensions import db

# Roles that work inside one centre and so must have one (leaders may be consortium-wide).
CENTRE_ROLES = frozenset({Role.MEMBER, Role.COORDINATOR, Role.OBSERVER, Role.ADMIN})


class UserError(ValueError):
    """Invalid user data; the message is for the person who entered it."""


def manages(actor: User, user: User) -> bool:
    """True when actor may see and change user: system admins everyone, centre admins their
    centre's users (never a system admin, never a consortium-wide leader)."""
    if actor.has_role(Role.SYSADMIN):
        return True
    return (
        actor.has_role(Role.ADMIN)
        and actor.centre_id is not None
        and user.centre_id == actor.centre_id
        and not user.has_role(Role.SYSADMIN)
        and not user.is_consortium
    )


def assignable_roles(actor: User | None) -> list[Role]:
    """Roles actor may give: a centre admin every role but system admin."""
    if actor is None or actor.has_role(Role.SYSADMIN):
        return list(Role)
    return [r for r in Role if r != Role.SYSADMIN]


def _check_assignment(
    actor: User | None, role: Role, centre_id: int | None, is_consortium: bool
) -> None:
    """Refuse a role/centre the actor may not give (actor None: the CLI, which may all)."""
    from flask_babel import gettext as _

    if role in CENTRE_ROLES and centre_id is None:
        raise UserError(_("Choose the user's centre."))
    if role == Role.LEADER and centre_id is None and not is_consortium:
        raise UserError(_("Choose the user's centre."))
    if actor is None or actor.has_role(Role.SYSADMIN):
        return
    if role not in assignable_roles(actor):
        raise UserError(_("Only a system administrator can make system administrators."))
    if centre_id != actor.centre_id or (is_consortium and role == Role.LEADER):
        raise UserError(_("A centre administrator manages users of their own centre only."))


def generate_password() -> str:
    """A random password that is easy to read out (no look-alike characters)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def create_user(
    username: str,
    display_name: str,
    role: Role | str,
    centre_id: int | None,
    password: str | None = None,
    is_consortium: bool = False,
    actor: User | None = None,
) -> tuple[User, str | None]:
    """Create a user; returns it and the generated password when none was given.

    A generated password must be changed at first login. actor is the admin doing it (None
    for the CLI); a centre admin can only create users of their own centre.
    """
    from flask_babel import gettext as _

    role = Role(role)
    username = username.strip()
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise UserError(_("The username “%(name)s” is taken.", name=username))
    _check_assignment(actor, role, centre_id, is_consortium)
    generated = None
    if not password:
        password = generated = generate_password()
    if len(password) < 8:
        raise UserError(_("A password needs at least 8 characters."))
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        role=role.value,
        centre_id=centre_id,
        is_consortium=is_consortium and role == Role.LEADER,
        must_change_password=generated is not None,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user, generated


def update_user(
    user: User,
    display_name: str,
    role: Role | str,
    centre_id: int | None,
    active: bool,
    is_consortium: bool = False,
    actor: User | None = None,
) -> None:
    """Change a user's profile; disabling or changing role/centre ends their sessions."""
    role = Role(role)
    _check_assignment(actor, role, centre_id, is_consortium)
    if (not active and user.active) or role.value != user.role or centre_id != user.centre_id:
        end_all_sessions(user)
    user.display_name = display_name.strip() or user.username
    user.role = role.value
    user.centre_id = centre_id
    user.active = active
    user.is_consortium = is_consortium and role == Role.LEADER
    db.session.flush()


def reset_password(user: User) -> str:
    """Give user a new random password that must be changed at next login."""
    password = generate_password()
    user.set_password(password)
    user.must_change_password = True
    end_all_sessions(user)
    db.session.flush()
    return password
