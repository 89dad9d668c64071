"""The User model."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from needs_tracker.centres.models import Centre
from needs_tracker.common.choices import Role
from needs_tracker.common.models import TimestampMixin
from needs_tracker.extensions import db


class User(UserMixin, TimestampMixin, db.Model):
    """A person who logs in: service-team member, coordinator, leader or administrator."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(20), default=Role.MEMBER.value)
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"), index=True)
    # A consortium-level leader reads every centre (and writes none).
    is_consortium: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on logout, password change and disabling: invalidates every session cookie.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Failed logins from every address in the current window, and the account-wide lock
    # they set when they pass the global ceiling (per-address locks: LoginFailure).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    centre: Mapped[Centre | None] = relationship()

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"

    def set_password(self, password: str) -> None:
        """Store a scrypt hash of password (cost from PASSWORD_HASH_METHOD)."""
        from flask import current_app, has_app_context

        method = "scrypt"
        if has_app_context():
            method = current_app.config["PASSWORD_HASH_METHOD"]
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        """True when password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """Session token: id plus session version, so bumping the version logs out everywhere."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        return self.active

    @property
    def role_enum(self) -> Role:
        """The role as an enum member."""
        return Role(self.role)

    def has_role(self, *roles: Role) -> bool:
        """True when the user has one of roles."""
        return self.role in {r.value for r in roles}


class LoginFailure(db.Model):
    """Failed logins of one account from one client address, and the lock they set.

    The address "*" holds the account-wide counter (the slower global ceiling), so a stranger
    who guesses wrong from elsewhere locks only their own address out, not the colleague.
    """

    __tablename__ = "login_failures"
    __audit__ = False  # bookkeeping of the login throttle, not a change anyone made
    __table_args__ = (UniqueConstraint("user_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<LoginFailure user={self.user_id} {self.address} {self.failures}>"
