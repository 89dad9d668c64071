"""The Redis on 127.0.0.1:6379 for the deployment tests: skipped without it, unless required.

REDIS_TEST_URL picks another server or database (default: database 9, so a developer's
database 0 is left alone). With REQUIRE_REDIS=1 (CI) a missing Redis fails the test instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/9")


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A reachable, emptied Redis database's URL; emptied again afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"Redis is not reachable at {REDIS_TEST_URL}: {exc}"
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but {message}")
        pytest.skip(message)
    client.flushdb()
    try:
        yield REDIS_TEST_URL
    finally:
        client.flushdb()
        client.close()
