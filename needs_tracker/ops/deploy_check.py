"""`flask --app wsgi check-deploy`: refuse an unsafe production configuration, say how to fix it.

Like Django's `check --deploy`. Errors make the command exit 1; warnings alone exit 0.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click
from flask import current_app
from flask.cli import with_appcontext

# Secrets that have appeared in this repository (tests, examples): never valid in production.
KNOWN_TEST_SECRETS = frozenset(
    {
        "test-secret-key-not-for-production-0123456789",
        "dev",
        "changeme",
        "secret",
        "change-me",
    }
)
MIN_SECRET_LENGTH = 32
# Seconds check-deploy waits for the throttling storage: a firewalled host must not hang it.
STORAGE_TIMEOUT = 3


@dataclass(frozen=True)
class Problem:
    """One finding: its id, severity ("error" or "warning"), what is wrong and how to fix it."""

    code: str
    level: str
    message: str
    fix: str


def deploy_problems(config: Mapping[str, Any], debug: bool = False) -> list[Problem]:
    """Everything unsafe about running config in production."""
    problems: list[Problem] = []
    if debug or config.get("DEBUG"):
        problems.append(
            Problem(
                "debug",
                "error",
                "Debug mode is on: tracebacks and the interactive debugger would be public.",
                "Unset FLASK_DEBUG (and do not pass --debug); run with NEEDS_TRACKER_CONFIG="
                "production under gunicorn.",
            )
        )
    if config.get("TESTING"):
        problems.append(
            Problem(
                "testing",
                "error",
                "The testing configuration is active (CSRF off, cheap password hashing).",
                "Set NEEDS_TRACKER_CONFIG=production.",
            )
        )
    secret = str(config.get("SECRET_KEY") or "")
    if not secret or secret in KNOWN_TEST_SECRETS or len(secret) < MIN_SECRET_LENGTH:
        problems.append(
            Problem(
                "secret_key",
                "error",
                f"SECRET_KEY is missing, a known default or shorter than {MIN_SECRET_LENGTH} "
                "characters: session cookies could be forged.",
                "Set SECRET_KEY to the output of `python -c 'import secrets; "
                "print(secrets.token_hex(32))'` (or delete instance/secret_key to generate one).",
            )
        )
    if not config.get("SESSION_COOKIE_SECURE"):
        problems.append(
            Problem(
                "cookie_secure",
                "error",
                "SESSION_COOKIE_SECURE is off: the session cookie would also travel over HTTP.",
                "Set SESSION_COOKIE_SECURE=1 (the production config does by default).",
            )
        )
    if not config.get("SESSION_COOKIE_HTTPONLY", True):
        problems.append(
            Problem(
                "cookie_httponly",
                "error",
                "SESSION_COOKIE_HTTPONLY is off: scripts could read the session cookie.",
                "Remove the override of SESSION_COOKIE_HTTPONLY.",
            )
        )
    if config.get("SESSION_COOKIE_SAMESITE") not in {"Lax", "Strict"}:
        problems.append(
            Problem(
                "cookie_samesite",
                "error",
                "SESSION_COOKIE_SAMESITE is not Lax or Strict.",
                "Set SESSION_COOKIE_SAMESITE=Lax.",
            )
        )
    if config.get("PREFERRED_URL_SCHEME") != "https":
        problems.append(
            Problem(
                "https",
                "error",
                "PREFERRED_URL_SCHEME is not https: links and redirects would use plain HTTP.",
                "Serve behind an HTTPS proxy and set PREFERRED_URL_SCHEME=https "
                "(the production config does).",
            )
        )
    if not config.get("FORCE_HTTPS"):
        problems.append(
            Problem(
                "force_https",
                "warning",
                "FORCE_HTTPS is off: no redirect to HTTPS and no Strict-Transport-Security header.",
                "Set FORCE_HTTPS=1 once the site is reachable over HTTPS.",
            )
        )
    if config.get("WTF_CSRF_ENABLED") is False:
        problems.append(
            Problem(
                "csrf",
                "error",
                "CSRF protection is disabled.",
                "Remove WTF_CSRF_ENABLED=False from the configuration.",
            )
        )
    if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        problems.append(
            Problem(
                "sqlite",
                "warning",
                "The database is SQLite: fine for one small centre, but writes are serialised "
                "and backups must use `flask backup create`.",
                "Set DATABASE_URL=postgresql+psycopg://user@host/dbname for shared deployments.",
            )
        )
    if str(config.get("RATELIMIT_STORAGE_URI", "memory://")).startswith("memory"):
        problems.append(
            Problem(
                "ratelimit_storage",
                "warning",
                "Login throttling keeps its counters in each worker's memory.",
                "Set RATELIMIT_STORAGE_URI=redis://host:6379/0 when several workers serve the app.",
            )
        )
    return problems


def _redacted(uri: str) -> str:
    """The URI without its password, fit to print."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


def storage_problems(config: Mapping[str, Any]) -> list[Problem]:
    """Whether login throttling's shared storage (Redis) can be used: its client, then a ping.

    Unlike deploy_problems this talks to the network, so it is kept apart from the pure checks.
    """
    from limits.errors import ConfigurationError
    from limits.storage import storage_from_string

    uri = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if uri.startswith("memory"):
        return []
    where = _redacted(uri)
    options = dict(config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    if uri.startswith(("redis", "rediss", "unix")):
        options.setdefault("socket_connect_timeout", STORAGE_TIMEOUT)
        options.setdefault("socket_timeout", STORAGE_TIMEOUT)
    try:
        reachable = storage_from_string(uri, **options).check()
    except ConfigurationError as exc:
        return [
            Problem(
                "ratelimit_storage_client",
                "error",
                f"Login throttling cannot use {where}: {exc}",
                "Install the requirements into the virtualenv "
                "(.venv/bin/pip install -r requirements.txt; it includes redis).",
            )
        ]
    except Exception:  # noqa: BLE001 -- any failure to connect is the same finding
        reachable = False
    if reachable:
        return []
    return [
        Problem(
            "ratelimit_storage_unreachable",
            "error",
            f"Login throttling's storage {where} does not answer, so login throttling cannot work.",
            "Start Redis or correct REDIS_URL / RATELIMIT_STORAGE_URI (host, port, database, "
            "password), then run check-deploy again.",
        )
    ]


@click.command("check-deploy")
@with_appcontext
def check_deploy_command() -> None:
    """Check the configuration for a production deployment; exit 1 on any error."""
    problems = deploy_problems(current_app.config, current_app.debug)
    problems += storage_problems(current_app.config)
    errors = [p for p in problems if p.level == "error"]
    for p in problems:
        click.echo(f"{p.level.upper()} [{p.code}] {p.message}")
        click.echo(f"    fix: {p.fix}")
    if errors:
        click.echo(f"{len(errors)} error(s): refusing this configuration for production.")
        sys.exit(1)
    click.echo("Deployment checks passed" + (" (with warnings)." if problems else "."))
