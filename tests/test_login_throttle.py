"""Failed logins: throttled per address (429), locked per (account, address) with a slower
account-wide ceiling, and never revealing which usernames exist, by message or by work done."""

import difflib
import hashlib
import logging
import multiprocessing
import re
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, request
from limits import parse
from limits.strategies import FixedWindowRateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix

from needs_tracker.auth import services as auth_services
from needs_tracker.auth.models import LoginFailure, User
from needs_tracker.auth.services import authenticate
from needs_tracker.common.limiter_storage import SQLiteFileStorage
from needs_tracker.extensions import db, limiter
from tests.conftest import PASSWORD

WRONG = "Wrong username or password."


@pytest.fixture
def throttled(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "10 per minute")
    with app.app_context():
        limiter.reset()
    yield
    limiter.reset()


def _post(client, username, password, address="10.0.0.1", **headers):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    )


def _answer(resp, username) -> str:
    """The page a login attempt gets, without the echoed username and the CSRF token (which
    carries the time to the second)."""
    page = resp.get_data(as_text=True).replace(username, "USERNAME")
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', page)


def _locks(user_id):
    db.session.expire_all()
    return {
        r.address: r.locked_until
        for r in db.session.query(LoginFailure).filter_by(user_id=user_id)
        if r.locked_until is not None
    }


# ------------------------------------------------------------------ throttle per address


def test_too_many_failures_from_one_address_get_429(client, world, throttled):
    statuses = [_post(client, f"nobody{i}", "x").status_code for i in range(12)]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429
    assert "请求过多" in _post(client, "a", "b").get_data(as_text=True)


def test_successful_logins_do_not_count_against_the_throttle(client, world, throttled):
    """An office behind one NAT logs in all day: only failures use up the limit."""
    for _ in range(15):
        assert _post(client, "member", PASSWORD).status_code == 302
        client.post("/logout")
    statuses = [_post(client, "member", "wrong").status_code for _ in range(11)]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


def test_forged_forwarded_for_is_ignored_without_a_trusted_proxy(client, world, throttled):
    """TRUST_PROXY=0 (the default): X-Forwarded-For cannot give each attempt a new address."""
    statuses = [
        _post(client, "nobody", "x", **{"X-Forwarded-For": f"198.51.100.{i}"}).status_code
        for i in range(11)
    ]
    assert statuses[10] == 429


def test_with_one_trusted_proxy_only_its_own_entry_counts(app, client, world, throttled):
    """TRUST_PROXY=1: the client can prepend anything; the address the proxy appended decides."""
    from needs_tracker import apply_proxy_fix

    original = app.wsgi_app
    app.config["TRUST_PROXY"] = 1
    try:
        apply_proxy_fix(app)
        statuses = [
            _post(
                client, "nobody", "x", "10.9.9.9", **{"X-Forwarded-For": f"1.2.3.{i}, 203.0.113.7"}
            ).status_code
            for i in range(11)
        ]
        # Another real client behind the same proxy is not throttled.
        other = _post(client, "nobody", "x", "10.9.9.9", **{"X-Forwarded-For": "203.0.113.8"})
    finally:
        app.wsgi_app = original
        app.config["TRUST_PROXY"] = 0
    assert statuses[10] == 429
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("proxies", "expected"), [(0, "10.0.0.9"), (1, "10.0.0.5"), (2, "9.9.9.9")]
)
def test_exactly_the_configured_number_of_proxies_is_trusted(proxies, expected):
    from needs_tracker import apply_proxy_fix

    probe = Flask("probe")
    probe.config["TRUST_PROXY"] = proxies
    probe.add_url_rule("/", "ip", lambda: request.remote_addr or "")
    apply_proxy_fix(probe)
    assert isinstance(probe.wsgi_app, ProxyFix) == (proxies > 0)
    resp = probe.test_client().get(
        "/",
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
        headers={"X-Forwarded-For": "6.6.6.6, 9.9.9.9, 10.0.0.5"},
    )
    assert resp.get_data(as_text=True) == expected


# ------------------------------------------------------------------ shared storage


def _hit_many(path: str, n: int, queue) -> None:
    storage = SQLiteFileStorage(f"sqlitefile://{path}")
    limiter_ = FixedWindowRateLimiter(storage)
    limit = parse("10 per minute")
    queue.put(sum(limiter_.hit(limit, "login", "10.0.0.1") for _ in range(n)))


def test_file_storage_holds_the_limit_across_worker_processes(tmp_path):
    """Two processes (as two gunicorn workers) share one limit of 10: 10 get through, not 20."""
    path = str(tmp_path / "ratelimit.sqlite")
    SQLiteFileStorage(f"sqlitefile://{path}")  # create the file before the race
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_hit_many, args=(path, 20, queue)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert sum(queue.get(timeout=5) for _ in workers) == 10


def test_file_storage_windows_expire_and_clear(tmp_path, monkeypatch):
    import time as time_module

    storage = SQLiteFileStorage(f"sqlitefile://{tmp_path / 'rl.sqlite'}")
    assert storage.incr("k", 60) == 1
    assert storage.incr("k", 60) == 2
    assert storage.get("k") == 2
    assert storage.check()
    now = time_module.time()
    monkeypatch.setattr(time_module, "time", lambda: now + 61)
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1
    storage.clear("k")
    assert storage.get("k") == 0


def test_make_run_default_storage_is_shared_by_workers(monkeypatch):
    """Without Redis, the development and production configs use the shared file storage."""
    import importlib

    import config as config_module

    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    fresh = importlib.reload(config_module)
    try:
        for cls in (fresh.DevelopmentConfig, fresh.ProductionConfig):
            assert cls.RATELIMIT_STORAGE_URI.startswith("sqlitefile://")
            assert cls.WORKERS == 2
    finally:
        monkeypatch.undo()
        importlib.reload(config_module)


# ------------------------------------------------------------------ no enumeration


def test_same_answer_for_unknown_wrong_and_locked(client, world):
    unknown = _post(client, "no_such_user", "wrong")
    wrong = _post(client, "member", "wrong")
    for _ in range(4):
        _post(client, "member", "wrong")
    locked_wrong = _post(client, "member", "wrong")
    locked_right = _post(client, "member", PASSWORD)
    assert _locks(world["users"]["member"].id)  # the account is locked from this address
    answers = {
        _answer(r, u)
        for r, u in [
            (unknown, "no_such_user"),
            (wrong, "member"),
            (locked_wrong, "member"),
            (locked_right, "member"),
        ]
    }
    assert len(answers) == 1, "\n".join(
        difflib.unified_diff(*[a.splitlines() for a in list(answers)[:2]], lineterm="", n=0)
    )
    assert {unknown.status_code, wrong.status_code, locked_right.status_code} == {200}
    page = answers.pop()
    assert "用户名或密码错误。" in page
    assert "登录失败次数过多" not in page


def test_globally_locked_account_answers_like_an_unknown_one(client, world, monkeypatch):
    monkeypatch.setattr(auth_services, "GLOBAL_MAX_FAILED_LOGINS", 3)
    for i in range(3):
        _post(client, "member", "wrong", f"10.1.0.{i}")
    locked = _post(client, "member", PASSWORD, "10.1.0.99")
    unknown = _post(client, "nobody", PASSWORD, "10.1.0.99")
    assert _answer(locked, "member") == _answer(unknown, "nobody")
    assert client.get("/needs/").status_code == 302


def _scrypt_calls(monkeypatch) -> list[tuple]:
    calls: list[tuple] = []
    real = hashlib.scrypt

    def counting(password, *, salt, n, r, p, maxmem=0, dklen=64):
        calls.append((n, r, p, dklen))
        return real(password, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    return calls


def test_unknown_and_known_users_cost_the_same_password_hash_work(app, world, monkeypatch):
    """Timing: an unknown username is checked against a dummy hash of the same cost."""
    authenticate("warm_up_the_dummy_hash", "x", "10.0.0.1")
    db.session.rollback()
    calls = _scrypt_calls(monkeypatch)
    work = {}
    for name, username, password in [
        ("unknown", "no_such_user", "wrong"),
        ("wrong password", "member", "wrong"),
        ("right password", "member", PASSWORD),
    ]:
        calls.clear()
        authenticate(username, password, "10.0.0.2")
        db.session.rollback()
        work[name] = list(calls)
    assert work["unknown"], "no hash work at all for an unknown user"
    assert work["unknown"] == work["wrong password"] == work["right password"]
    method = app.config["PASSWORD_HASH_METHOD"]
    n, r, p = (int(x) for x in re.findall(r"\d+", method))
    assert work["unknown"][0][:3] == (n, r, p)


def test_a_locked_account_costs_the_same_hash_work(world, monkeypatch):
    for _ in range(5):
        authenticate("member", "wrong", "10.0.0.3")
    db.session.commit()
    calls = _scrypt_calls(monkeypatch)
    result = authenticate("member", PASSWORD, "10.0.0.3")
    assert result.user is None
    assert result.locked
    assert len(calls) == 1


# ------------------------------------------------------------------ lockout


def test_lockout_is_per_address_so_a_stranger_cannot_lock_a_colleague_out(client, world, caplog):
    caplog.set_level(logging.WARNING, logger="needs_tracker.auth")
    member = world["users"]["member"]
    for _ in range(5):
        _post(client, "member", "wrong", "203.0.113.66")
    assert set(_locks(member.id)) == {"203.0.113.66"}
    # From the stranger's address even the right password is refused ...
    _post(client, "member", PASSWORD, "203.0.113.66")
    assert client.get("/needs/").status_code == 302
    assert any("account locked" in r.getMessage() for r in caplog.records)
    # ... while the colleague at the office logs in as usual.
    assert _post(client, "member", PASSWORD, "10.0.0.1").status_code == 302
    assert client.get("/needs/").status_code == 200


def test_slower_global_ceiling_locks_the_account_everywhere(client, world):
    member = world["users"]["member"]
    ceiling = auth_services.GLOBAL_MAX_FAILED_LOGINS
    per_address = auth_services.MAX_FAILED_LOGINS - 1  # stay under each address's own lock
    addresses = [f"198.51.100.{i}" for i in range(ceiling // per_address + 1)]
    sent = 0
    for address in addresses:
        for _ in range(per_address):
            if sent < ceiling:
                _post(client, "member", "wrong", address)
                sent += 1
    assert sent == ceiling
    user = db.session.get(User, member.id)
    db.session.refresh(user)
    assert user.locked_until is not None
    assert "*" in _locks(member.id)
    resp = _post(client, "member", PASSWORD, "10.0.0.1")
    assert resp.status_code == 200
    assert "用户名或密码错误。" in resp.get_data(as_text=True)


def test_admin_sees_the_lock_and_its_end_and_can_lift_it(app, client, auth, world):
    member = world["users"]["member"]
    stranger = app.test_client()
    for _ in range(5):
        _post(stranger, "member", "wrong", "203.0.113.66")
    auth.login("centre_admin")
    page = client.get(f"/users/{member.id}").get_data(as_text=True)
    assert "203.0.113.66" in page
    until = _locks(member.id)["203.0.113.66"]
    if until.tzinfo is None:  # SQLite hands back naive UTC
        until = until.replace(tzinfo=UTC)
    shown = until.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert f"登录已锁定至 {shown}" in page
    assert client.post(f"/users/{member.id}/unlock").status_code == 302
    assert _locks(member.id) == {}
    assert _post(stranger, "member", PASSWORD, "203.0.113.66").status_code == 302
