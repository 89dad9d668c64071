"""Token services: create (returning the secret once), verify, list and revoke."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from needs_tracker.api.models import TOKEN_SCOPES, ApiToken, _aware
from needs_tracker.common.models import utcnow
from needs_tracker.extensions import db

TOKEN_PREFIX = "ntk_"
# Writing last_used_at on every request would turn each read into a write; a minute is
# precise enough for "is this integration still in use?".
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token cannot be created or revoked as asked."""


def hash_token(token: str) -> str:
    """SHA-256 of the token: tokens are 256-bit random, so a slow hash adds nothing."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    name: str, centre_id: int, scope: str, days: int | None, created_by: str = ""
) -> tuple[ApiToken, str]:
    """Create a token; return the row and the secret, which is never stored nor shown again."""
    name = name.strip()
    if not name or len(name) > 80:
        raise TokenError("NAME must be 1 to 80 characters.")
    if scope not in TOKEN_SCOPES:
        raise TokenError(f"scope must be one of {', '.join(TOKEN_SCOPES)}.")
    if days is not None and days < 1:
        raise TokenError("--days must be at least 1.")
    if db.session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise TokenError(f"A token named {name!r} already exists.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        token_hash=hash_token(secret),
        centre_id=centre_id,
        scope=scope,
        expires_at=utcnow() + timedelta(days=days) if days else None,
        created_by=created_by[:120],
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def find_active_token(secret: str, now: datetime | None = None) -> ApiToken | None:
    """The active token whose secret this is, or None (unknown, revoked or expired)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None or not token.is_active(now):
        return None
    return token


def touch_token(token: ApiToken, now: datetime | None = None) -> bool:
    """Record that token was used now (at most once per LAST_USED_RESOLUTION); True if so."""
    now = now or utcnow()
    if token.last_used_at is not None and now - _aware(token.last_used_at) < LAST_USED_RESOLUTION:
        return False
    token.last_used_at = now
    db.session.flush()
    return True


def list_tokens() -> list[ApiToken]:
    """Every token, newest first."""
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))


def revoke_token(name: str) -> ApiToken:
    """Revoke the token called name; it stops working at once."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == name))
    if token is None:
        raise TokenError(f"No token named {name!r}.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
    return token
