"""check-deploy refuses unsafe production settings and says how to fix each."""

from __future__ import annotations

import contextvars

import pytest

from needs_tracker.ops.deploy_check import check_deploy_command, deploy_problems

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


def _codes(config, debug=False, level=None):
    return {p.code for p in deploy_problems(config, debug) if level is None or p.level == level}


def _invoke_outside_test_context(flask_app):
    # The suite holds the test app's context open; a CLI run gets its own, as in a shell.
    return contextvars.Context().run(flask_app.test_cli_runner().invoke, args=["check-deploy"])


def test_good_configuration_has_no_problem():
    assert deploy_problems(GOOD) == []


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
    problems = deploy_problems({**GOOD, **change})
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


def test_command_accepts_a_good_configuration(app, redis_url):
    from flask import Flask

    good = Flask("good")
    good.config.update({**GOOD, "RATELIMIT_STORAGE_URI": redis_url})
    good.cli.add_command(check_deploy_command)
    result = _invoke_outside_test_context(good)
    assert result.exit_code == 0, result.output
    assert "passed" in result.output


def test_command_warns_but_passes_with_sqlite(app):
    from flask import Flask

    good = Flask("sqlite")
    good.config.update(
        {
            **GOOD,
            "SQLALCHEMY_DATABASE_URI": "sqlite:////srv/needs.db",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    good.cli.add_command(check_deploy_command)
    result = _invoke_outside_test_context(good)
    assert result.exit_code == 0
    assert "WARNING [sqlite]" in result.output


def test_command_refuses_an_unreachable_redis_without_a_traceback(app):
    """REDIS_URL pointing at no server: a clear refusal (exit 1), the password not printed."""
    import socket

    from flask import Flask

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    bad = Flask("no_redis")
    bad.config.update({**GOOD, "RATELIMIT_STORAGE_URI": f"redis://:s3cret@127.0.0.1:{port}/0"})
    bad.cli.add_command(check_deploy_command)
    result = _invoke_outside_test_context(bad)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert (
        f"ERROR [ratelimit_storage_unreachable] Login throttling's storage redis://:***@127.0.0.1:{port}/0 does not answer"
        in result.output
    )
    assert "s3cret" not in result.output
    assert "Traceback" not in result.output
    assert "refusing this configuration" in result.output


def test_production_config_class_passes_with_a_real_secret(monkeypatch):
    from config import ProductionConfig

    config = {k: getattr(ProductionConfig, k) for k in dir(ProductionConfig) if k.isupper()}
    config["SECRET_KEY"] = GOOD["SECRET_KEY"]
    assert not _codes(config, level="error")
