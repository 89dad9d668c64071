"""API tokens: one per integration or person, scoped to a centre and to read or write."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from needs_tracker.common.models import TimestampMixin, utcnow
from needs_tracker.extensions import db

if TYPE_CHECKING:
    from needs_tracker.centres.models import Centre

SCOPE_READ = "read"
SCOPE_WRITE = "write"
TOKEN_SCOPES = (SCOPE_READ, SCOPE_WRITE)


class ApiToken(TimestampMixin, db.Model):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once.

    Not centre-owned (no CentreOwnedMixin): tokens are looked up before any scope exists,
    and only the CLI (system scope) manages them. Not audited: last_used_at moves on use.
    """

    __tablename__ = "api_tokens"
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    # The first characters of the token, so that an admin can tell tokens apart in a list.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    scope: Mapped[str] = mapped_column(String(10), default=SCOPE_READ)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(120), default="")

    centre: Mapped[Centre] = relationship()

    def __repr__(self) -> str:
        return f"<ApiToken {self.name} {self.scope} centre={self.centre_id}>"

    @property
    def can_write(self) -> bool:
        """Read-write tokens may create and change records."""
        return self.scope == SCOPE_WRITE

    def is_active(self, now: datetime | None = None) -> bool:
        """Not revoked and not past its expiry."""
        now = now or utcnow()
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or _aware(self.expires_at) > now


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.
    from datetime import UTC

    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class IdempotencyRecord(db.Model):
    """The first answer to a POST sent with an Idempotency-Key, replayed on a retry.

    Written in the same transaction as the record it created, so a retry either finds both or
    neither; the unique key makes two concurrent first tries end with one record.
    """

    __tablename__ = "api_idempotency_keys"
    __audit__ = False
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<IdempotencyRecord token={self.token_id} {self.key!r} -> {self.status}>"
