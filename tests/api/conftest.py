"""API fixtures: tokens made through the token service, and headers that carry them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from needs_tracker.extensions import db


@pytest.fixture
def make_token() -> Callable[..., str]:
    """Factory: make_token(centre, scope="read", days=30, name=None) -> the bearer secret."""
    from needs_tracker.api.tokens import create_token

    counter = {"n": 0}

    def factory(centre: Any, scope: str = "read", days: int | None = 30, name: str | None = None):
        counter["n"] += 1
        _, secret = create_token(name or f"token-{counter['n']}", centre.id, scope, days, "test")
        db.session.commit()
        return secret

    return factory


def bearer(secret: str, **extra: str) -> dict[str, str]:
    """Request headers with the token (and any extra headers)."""
    return {"Authorization": f"Bearer {secret}", **extra}


@pytest.fixture
def writer(world, make_token) -> dict[str, Any]:
    """world plus a write token of centre A named "mini-program"."""
    return {**world, "token": make_token(world["a"], scope="write", name="mini-program")}


def etag(client, path: str, secret: str) -> str:
    """The ETag a GET of path gives now."""
    response = client.get(path, headers=bearer(secret))
    assert response.status_code == 200, response.get_json()
    return response.headers["ETag"]


def audit_count() -> int:
    """How many audit entries there are: a refused write adds none."""
    from sqlalchemy import func, select

    from needs_tracker.audit.models import AuditEntry

    return db.session.scalar(select(func.count(AuditEntry.id)))


def is_chinese(text: str) -> bool:
    """True when text has Chinese characters (a zh message)."""
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
