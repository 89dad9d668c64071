"""Authentication services: loading users from session tokens, checking credentials."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from needs_tracker.auth.models import LoginFailure, User
from needs_tracker.common.models import utcnow
from needs_tracker.extensions import db

# Per (account, client address): 5 failures within 15 minutes lock that address out of
# that account for 15 minutes. Per account, from every address: a slower ceiling of 30
# failures within an hour locks the account everywhere for 15 minutes.
MAX_FAILED_LOGINS = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
GLOBAL_MAX_FAILED_LOGINS = 30
GLOBAL_FAILURE_WINDOW = timedelta(hours=1)
GLOBAL_LOCKOUT = timedelta(minutes=15)
ANY_ADDRESS = "*"

log = logging.getLogger("needs_tracker.auth")


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
    """Outcome of a login attempt; user is set only on success.

    `locked` is for logs and tests only: the login page answers the same for an unknown user,
    a wrong password and a lock, so that the answer reveals nothing about the account.
    """

    user: User | None
    locked: bool = False


@lru_cache(maxsize=4)
def dummy_hash(method: str) -> str:
    """A hash of a random password with the method and cost of real ones.

    Checking an unknown username against it costs the same scrypt work as a real account.
    """
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def password_hash_method() -> str:
    """The hashing method (and cost) that set_password uses in this app."""
    if has_app_context():
        return current_app.config["PASSWORD_HASH_METHOD"]
    return "scrypt"


def _aware(moment: datetime | None, now: datetime) -> datetime | None:
    # SQLite hands back naive datetimes for timezone-aware columns.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=now.tzinfo)
    return moment


def _failure_row(user: User, address: str, lock: bool = False) -> LoginFailure | None:
    stmt = select(LoginFailure).where(
        LoginFailure.user_id == user.id, LoginFailure.address == address
    )
    # Counting locks the row (PostgreSQL), so concurrent failures do not overwrite each other.
    return db.session.scalar(stmt.with_for_update() if lock else stmt)


def _is_locked(row: LoginFailure | None, now: datetime) -> bool:
    until = _aware(row.locked_until, now) if row is not None else None
    return until is not None and until > now


def _count_failure(
    user: User, address: str, now: datetime, limit: int, window: timedelta, lockout: timedelta
) -> tuple[LoginFailure, bool]:
    """Add one failure to the (user, address) counter; lock when it reaches limit.

    Returns the counter and whether this failure set the lock.
    """
    row = _failure_row(user, address, lock=True)
    if row is None:
        try:
            # Two workers may count the first failure of a pair at once: the loser re-reads.
            with db.session.begin_nested():
                row = LoginFailure(user_id=user.id, address=address, failures=0, window_start=now)
                db.session.add(row)
        except IntegrityError:
            row = _failure_row(user, address, lock=True)
            assert row is not None  # noqa: S101 - the unique row the other worker wrote
    if _aware(row.window_start, now) + window <= now:
        row.failures, row.window_start = 0, now
    row.failures += 1
    if row.failures < limit:
        return row, False
    row.locked_until = now + lockout
    row.failures, row.window_start = 0, now
    return row, True


def authenticate(username: str, password: str, address: str = "") -> LoginResult:
    """Check credentials from client address, counting failures and locking after too many.

    The caller commits. Every path does the same password-hash work (an unknown username is
    checked against a dummy hash), and the result never tells the user which case it was.
    """
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    now = utcnow()
    if user is None:
        check_password_hash(dummy_hash(password_hash_method()), password)
        return LoginResult(user=None)
    address = (address or "unknown")[:64]
    password_ok = user.check_password(password)  # always, so that a lock costs the same time
    if _aware(user.locked_until, now) is not None and _aware(user.locked_until, now) > now:
        return LoginResult(user=None, locked=True)
    if _is_locked(_failure_row(user, address), now):
        return LoginResult(user=None, locked=True)
    if not password_ok or not user.active:
        _, locked_here = _count_failure(
            user, address, now, MAX_FAILED_LOGINS, FAILURE_WINDOW, LOCKOUT
        )
        overall, locked_everywhere = _count_failure(
            user,
            ANY_ADDRESS,
            now,
            GLOBAL_MAX_FAILED_LOGINS,
            GLOBAL_FAILURE_WINDOW,
            GLOBAL_LOCKOUT,
        )
        user.failed_logins = overall.failures
        if locked_everywhere:
            user.locked_until = overall.locked_until
            log.warning(
                "account locked everywhere after repeated failed logins: user_id=%s", user.id
            )
            return LoginResult(user=None, locked=True)
        if locked_here:
            log.warning(
                "account locked for one address after repeated failed logins: "
                "user_id=%s address=%s",
                user.id,
                address,
            )
            return LoginResult(user=None, locked=True)
        return LoginResult(user=None)
    row = _failure_row(user, address)
    if row is not None:
        db.session.delete(row)
    user.locked_until = None
    user.last_login_at = now
    return LoginResult(user=user)


def active_locks(user: User) -> list[LoginFailure]:
    """The locks currently set on user's account (per address, and "*" for everywhere)."""
    now = utcnow()
    rows = db.session.scalars(
        select(LoginFailure)
        .where(LoginFailure.user_id == user.id, LoginFailure.locked_until.is_not(None))
        .order_by(LoginFailure.locked_until.desc())
    ).all()
    return [r for r in rows if _is_locked(r, now)]


def unlock(user: User) -> None:
    """Lift every login lock of user (the admin's button, after checking who asked)."""
    for row in db.session.scalars(select(LoginFailure).where(LoginFailure.user_id == user.id)):
        db.session.delete(row)
    user.locked_until = None
    user.failed_logins = 0
    db.session.flush()


def end_all_sessions(user: User) -> None:
    """Invalidate every session cookie of user (logout, password change, disabling)."""
    user.session_version = (user.session_version or 1) + 1


def change_password(user: User, new_password: str) -> None:
    """Set a new password, clear the forced-change flag and end other sessions."""
    user.set_password(new_password)
    user.must_change_password = False
    end_all_sessions(user)
