"""Authentication services: loading users from session tokens, checking credentials."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from needs_tracker.auth.models import User
from needs_tracker.common.models import utcnow
from needs_tracker.extensions import db

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


def load_user_from_token(token: str) -> User | None:
    """Flask-Login user loader: "id:session_version"; a stale version logs the cookie out."""
    user_id, _, version = token.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


@dataclass
class LoginResult:
    """Outcome of a login attempt; user is set only on success."""

    user: User | None
    locked: bool = False


def authenticate(username: str, password: str) -> LoginResult:
    """Check credentials, counting failures and locking the account after too many.

    The caller commits. The result never tells apart an unknown user and a wrong password.
    """
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    now = utcnow()
    if user is None:
        return LoginResult(user=None)
    locked_until = user.locked_until
    if locked_until is not None and locked_until.tzinfo is None:
        locked_until = locked_until.replace(tzinfo=now.tzinfo)
    if locked_until is not None and locked_until > now:
        return LoginResult(user=None, locked=True)
    if not user.check_password(password) or not user.active:
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            import logging

            logging.getLogger("needs_tracker.auth").warning(
                "account locked after repeated failed logins: user_id=%s", user.id
            )
            return LoginResult(user=None, locked=True)
        return LoginResult(user=None)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return LoginResult(user=user)


def end_all_sessions(user: User) -> None:
    """Invalidate every session cookie of user (logout, password change, disabling)."""
    user.session_version = (user.session_version or 1) + 1


def change_password(user: User, new_password: str) -> None:
    """Set a new password, clear the forced-change flag and end other sessions."""
    user.set_password(new_password)
    user.must_change_password = False
    end_all_sessions(user)
