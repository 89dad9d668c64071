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
