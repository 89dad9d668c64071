"""Fixtures of the report tests: the demo centre with its matches."""

from __future__ import annotations

from typing import Any

import pytest

from needs_tracker.extensions import db


@pytest.fixture
def demo(app) -> Any:
    """The demo seed plus the feature seeders (demo matches), as `flask demo seed` runs them."""
    from needs_tracker.demo.seed import seed_demo

    result = seed_demo("demo password 1")
    for seeder in app.extensions.get("demo_seeders", []):
        seeder(result)
    db.session.commit()
    return result
