"""Failed logins: throttled per address (429) and locked per account, without revealing users."""

import logging

import pytest

from needs_tracker.auth.models import User
from needs_tracker.extensions import db, limiter
from tests.conftest import PASSWORD


@pytest.fixture
def throttled(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "10 per minute")
    with app.app_context():
        limiter.reset()
    yield
    limiter.reset()


def test_too_many_attempts_from_one_address_get_429(client, world, throttled):
    statuses = [
        client.post("/login", data={"username": f"nobody{i}", "password": "x"}).status_code
        for i in range(12)
    ]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429
    assert "请求过多" in client.post("/login", data={"username": "a", "password": "b"}).get_data(
        as_text=True
    )


def test_account_locks_after_five_failures_and_lockout_is_logged(client, world, caplog):
    caplog.set_level(logging.WARNING, logger="needs_tracker.auth")
    for _ in range(5):
        client.post("/login", data={"username": "member", "password": "wrong"})
    user = db.session.get(User, world["users"]["member"].id)
    db.session.refresh(user)
    assert user.locked_until is not None
    resp = client.post("/login", data={"username": "member", "password": PASSWORD})
    assert "登录失败次数过多" in resp.get_data(as_text=True)
    assert client.get("/needs/").status_code == 302
    assert any("account locked" in r.getMessage() for r in caplog.records)
