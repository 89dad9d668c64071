"""check-deploy refuses unsafe production settings and says how to fix each."""

from __future__ import annotations

import contextvars
import os

import pytest

from needs_tracker.ops.deploy_check import (
    check_deploy_command,
    deploy_problems,
    secret_bits,
    service_problems,
)

GOOD = {
    "DEBUG": False,
    "TESTING": False,
    "SECRET_KEY": "8f1c0e5b7d2a4f6e9c3b1a0d5e7f9b2c4a6d8e0f1b3c5d7e9f0a2b4c6d8e0f1a",
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "PREFERRED_URL_SCHEME": "https",
    "FORCE_HTTPS": True,
    "WTF_CSRF_ENABLED": True,
    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://app@db/needs",
    "RATELIMIT_STORAGE_URI": "redis://localhost:6379/0",
}


def _findings(config, debug=False):
    """Errors and warnings (info lines state facts, they are not problems)."""
    return [p for p in deploy_problems(config, debug) if p.level != "info"]


def _codes(config, debug=False, level=None):
    return {p.code for p in deploy_problems(config, debug) if level is None or p.level == level}


def _invoke_outside_test_context(flask_app):
    # The suite holds the test app's context open; a CLI run gets its own, as in a shell.
    return contextvars.Context().run(flask_app.test_cli_runner().invoke, args=["check-deploy"])


def test_good_configuration_has_no_problem():
    assert _findings(GOOD) == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"DEBUG": True}, "debug"),
        ({"TESTING": True}, "testing"),
        ({"SECRET_KEY": "short"}, "secret_key"),
        ({"SECRET_KEY": ""}, "secret_key"),
        ({"SECRET_KEY": "test-secret-key-not-for-production-0123456789"}, "secret_key"),
        ({"SESSION_COOKIE_SECURE": False}, "cookie_secure"),
        ({"SESSION_COOKIE_HTTPONLY": False}, "cookie_httponly"),
        ({"SESSION_COOKIE_SAMESITE": None}, "cookie_samesite"),
        ({"PREFERRED_URL_SCHEME": "http"}, "https"),
        ({"WTF_CSRF_ENABLED": False}, "csrf"),
    ],
)
def test_each_unsafe_setting_is_an_error_with_a_fix(change, code):
    problems = _findings({**GOOD, **change})
    assert [p.code for p in problems] == [code]
    assert problems[0].level == "error"
    assert problems[0].fix


def test_debug_flag_of_the_app_counts():
    assert "debug" in _codes(GOOD, debug=True, level="error")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"SQLALCHEMY_DATABASE_URI": "sqlite:////srv/needs.db"}, "sqlite"),
        ({"FORCE_HTTPS": False}, "force_https"),
        ({"RATELIMIT_STORAGE_URI": "memory://"}, "ratelimit_storage"),
    ],
)
def test_warnings(change, code):
    assert _codes({**GOOD, **change}, level="warning") == {code}
    assert not _codes({**GOOD, **change}, level="error")


def test_command_refuses_the_test_configuration(app, runner):
    result = runner.invoke(args=["check-deploy"])
    assert result.exit_code == 1
    assert "[secret_key]" in result.output
    assert "[cookie_secure]" in result.output
    assert "[https]" in result.output
    assert "fix:" in result.output


def test_command_accepts_a_good_configuration(app, monkeypatch, tmp_path):
    from flask import Flask

    from needs_tracker.ops import deploy_check

    # GOOD names a database host of its own; here it is taken as reachable.
    monkeypatch.setattr(deploy_check, "_database_unreachable", lambda url: None)
    good = Flask("good")
    good.config.update(GOOD)
    good.config["RATELIMIT_STORAGE_URI"] = f"sqlitefile://{tmp_path / 'rl.sqlite'}"
    good.cli.add_command(check_deploy_command)
    result = _invoke_outside_test_context(good)
    assert result.exit_code == 0, result.output
    assert "passed" in result.output


def test_command_warns_but_passes_with_sqlite(app):
    from flask import Flask

    good = Flask("sqlite")
    good.config.update({**GOOD, "SQLALCHEMY_DATABASE_URI": "sqlite:////srv/needs.db"})
    good.config["RATELIMIT_STORAGE_URI"] = "memory://"
    good.cli.add_command(check_deploy_command)
    result = _invoke_outside_test_context(good)
    assert result.exit_code == 0
    assert "WARNING [sqlite]" in result.output


def test_production_config_class_passes_with_a_real_secret(monkeypatch):
    from config import ProductionConfig

    config = {k: getattr(ProductionConfig, k) for k in dir(ProductionConfig) if k.isupper()}
    config["SECRET_KEY"] = GOOD["SECRET_KEY"]
    assert _codes(config, level="error") == {"proxies"}  # the operator must say how many
    config["TRUST_PROXY_SET"], config["TRUST_PROXY"] = True, 1
    assert not _codes(config, level="error")


@pytest.mark.parametrize(
    "secret",
    ["a" * 64, "abc" * 22, "0123456789abcdef" * 4, "ab" * 40, "password" * 8],
)
def test_long_but_guessable_secret_is_refused(secret):
    problems = _findings({**GOOD, "SECRET_KEY": secret})
    assert [p.code for p in problems] == ["secret_key"]
    assert "not random" in problems[0].message


def test_random_secrets_pass_the_entropy_check():
    import secrets

    for _ in range(20):
        assert secret_bits(secrets.token_hex(32)) >= 100
        assert secret_bits(secrets.token_urlsafe(32)) >= 100


def test_several_workers_with_memory_storage_are_refused():
    config = {**GOOD, "RATELIMIT_STORAGE_URI": "memory://", "WORKERS": 2}
    problems = {p.code: p for p in _findings(config)}
    assert problems["ratelimit_storage"].level == "error"
    assert "2 workers" in problems["ratelimit_storage"].message
    config["RATELIMIT_STORAGE_URI"] = "sqlitefile:///srv/needs/ratelimit.sqlite"
    assert not _findings(config)


def test_check_deploy_says_how_many_proxies_it_trusts():
    said = {p.code: p for p in deploy_problems({**GOOD, "TRUST_PROXY": 2})}
    assert said["proxies"].level == "info"
    assert "TRUST_PROXY=2" in said["proxies"].message
    assert "2nd address from the end" in said["proxies"].message
    said = {p.code: p for p in deploy_problems({**GOOD, "TRUST_PROXY": 0})}
    assert "X-Forwarded-* headers are ignored" in said["proxies"].message


def test_production_without_a_proxy_count_is_refused():
    problems = _findings({**GOOD, "TRUST_PROXY_SET": False})
    assert [(p.code, p.level) for p in problems] == [("proxies", "error")]


def test_unreachable_redis_is_refused():
    problems = service_problems(
        {
            **GOOD,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",
        }
    )
    assert [(p.code, p.level) for p in problems] == [("redis_unreachable", "error")]
    assert "127.0.0.1" in problems[0].message or "refused" in problems[0].message.lower()


def test_unreachable_database_is_refused():
    problems = service_problems(
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://app:pw@127.0.0.1:1/needs",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    assert [(p.code, p.level) for p in problems] == [("database_unreachable", "error")]
    assert "pw" not in problems[0].message.replace("psycopg", "")


def test_unusable_throttle_storage_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    problems = service_problems(
        {
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "RATELIMIT_STORAGE_URI": f"sqlitefile://{blocker}/ratelimit.sqlite",
        }
    )
    assert [(p.code, p.level) for p in problems] == [("ratelimit_unreachable", "error")]


def test_command_refuses_an_unreachable_redis(app):
    from flask import Flask

    bad = Flask("bad")
    bad.config.update(
        {
            **GOOD,
            "SQLALCHEMY_DATABASE_URI": "sqlite:////srv/needs.db",
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",
        }
    )
    bad.cli.add_command(check_deploy_command)
    result = _invoke_outside_test_context(bad)
    assert result.exit_code == 1
    assert "ERROR [redis_unreachable]" in result.output


def test_reachable_services_pass(tmp_path):
    url = os.environ.get("TEST_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    config = {
        "SQLALCHEMY_DATABASE_URI": url,
        "RATELIMIT_STORAGE_URI": f"sqlitefile://{tmp_path / 'rl.sqlite'}",
    }
    assert service_problems(config) == []


def test_command_refuses_an_unreachable_throttle_storage_without_a_traceback(app, monkeypatch):
    """A throttle storage pointing at no server: a clear refusal (exit 1), no password shown."""
    import socket

    from flask import Flask

    from needs_tracker.ops import deploy_check

    monkeypatch.setattr(deploy_check, "_database_unreachable", lambda url: None)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    bad = Flask("no_redis")
    bad.config.update({**GOOD, "RATELIMIT_STORAGE_URI": f"redis://:s3cret@127.0.0.1:{port}/0"})
    bad.cli.add_command(check_deploy_command)
    result = _invoke_outside_test_context(bad)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "ERROR [ratelimit_unreachable]" in result.output
    assert f"127.0.0.1:{port}" in result.output
    assert "s3cret" not in result.output
    assert "Traceback" not in result.output
    assert "refusing this configuration" in result.output
