"""`flask --app wsgi check-deploy`: refuse an unsafe production configuration, say how to fix it.

Like Django's `check --deploy`. Errors make the command exit 1; warnings alone exit 0.
"""

from __future__ import annotations

import math
import sys
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
# Estimated bits of randomness a SECRET_KEY needs (token_hex(16) estimates at ~105).
MIN_SECRET_BITS = 100


def secret_bits(secret: str) -> int:
    """A cautious estimate of the randomness in secret, in bits.

    The smaller of two estimates: Shannon entropy of its characters times its length (low for
    "aaaa…") and the size of its zlib compression (low for repeated patterns); zero when the
    whole secret is one short piece repeated.
    """
    if not secret:
        return 0
    n = len(secret)
    for period in range(1, n // 2 + 1):
        if n % period == 0 and secret[:period] * (n // period) == secret:
            return 0
    counts = Counter(secret)
    shannon = -sum(c / n * math.log2(c / n) for c in counts.values()) * n
    compressed = (len(zlib.compress(secret.encode(), 9)) - 8) * 8
    return max(0, int(min(shannon, compressed)))


@dataclass(frozen=True)
class Problem:
    """One finding: its id, severity ("error" or "warning"), what is wrong and how to fix it."""

    code: str
    level: str  # "error", "warning" or "info" (a fact the operator must confirm)
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
    fix_secret = (
        "Set SECRET_KEY to the output of `python -c 'import secrets; "
        "print(secrets.token_hex(32))'` (or delete instance/secret_key to generate one)."
    )
    if not secret or secret in KNOWN_TEST_SECRETS or len(secret) < MIN_SECRET_LENGTH:
        problems.append(
            Problem(
                "secret_key",
                "error",
                f"SECRET_KEY is missing, a known default or shorter than {MIN_SECRET_LENGTH} "
                "characters: session cookies could be forged.",
                fix_secret,
            )
        )
    elif secret_bits(secret) < MIN_SECRET_BITS:
        problems.append(
            Problem(
                "secret_key",
                "error",
                f"SECRET_KEY is long but not random (about {secret_bits(secret)} bits, at "
                f"least {MIN_SECRET_BITS} needed): it could be guessed and cookies forged.",
                fix_secret,
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
    workers = int(config.get("WORKERS") or 1)
    if str(config.get("RATELIMIT_STORAGE_URI", "memory://")).startswith("memory"):
        several = workers > 1
        problems.append(
            Problem(
                "ratelimit_storage",
                "error" if several else "warning",
                "Login throttling keeps its counters in each worker's memory"
                + (
                    f": with {workers} workers (WEB_CONCURRENCY) each lets the whole limit "
                    "through, so the throttle does not hold."
                    if several
                    else " (fine for one worker only)."
                ),
                "Unset RATELIMIT_STORAGE_URI (counters then live in instance/ratelimit.sqlite, "
                "shared by the workers of one host) or set it to redis://host:6379/1 for "
                "several hosts.",
            )
        )
    problems += _proxy_problems(config)
    return problems


def _proxy_problems(config: Mapping[str, Any]) -> list[Problem]:
    """Say how many proxies are trusted; refuse a production config that never said."""
    proxies = int(config.get("TRUST_PROXY") or 0)
    if config.get("TRUST_PROXY_SET") is False:
        return [
            Problem(
                "proxies",
                "error",
                "TRUST_PROXY is not set: the number of proxies in front of gunicorn decides "
                "which client address the login throttle counts, and only you know it.",
                "Set TRUST_PROXY=1 behind one reverse proxy (nginx), 2 behind two (a load "
                "balancer and nginx), or 0 when clients reach gunicorn directly.",
            )
        ]
    if proxies == 0:
        said = (
            "TRUST_PROXY=0: X-Forwarded-* headers are ignored; the client address is the "
            "connecting peer. Behind a proxy every user would share the proxy's address."
        )
    else:
        said = (
            f"TRUST_PROXY={proxies}: the client address is the {proxies}"
            f"{'st' if proxies == 1 else 'nd' if proxies == 2 else 'th'} address from the end "
            "of X-Forwarded-For. Make sure gunicorn accepts connections only from that "
            "proxy, or a client could forge its address."
        )
    return [Problem("proxies", "info", said, "Check this is the number of proxies in front.")]


def service_problems(config: Mapping[str, Any]) -> list[Problem]:
    """Configured services (database, Redis, throttle storage) that cannot be reached now."""
    problems: list[Problem] = []
    db_url = str(config.get("SQLALCHEMY_DATABASE_URI") or "")
    if db_url and not db_url.startswith("sqlite"):
        detail = _database_unreachable(db_url)
        if detail:
            problems.append(
                Problem(
                    "database_unreachable",
                    "error",
                    f"The database cannot be reached: {detail}",
                    "Check DATABASE_URL (host, port, user, database) and that the server runs.",
                )
            )
    redis_url = config.get("REDIS_URL")
    if redis_url:
        detail = _redis_unreachable(str(redis_url))
        if detail:
            problems.append(
                Problem(
                    "redis_unreachable",
                    "error",
                    f"REDIS_URL is set but Redis cannot be reached: {detail}",
                    "Start Redis or correct REDIS_URL (redis://host:6379/0); unset it to run "
                    "without Redis.",
                )
            )
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if not storage.startswith("memory") and storage != redis_url:
        detail = _storage_unreachable(storage)
        if detail:
            problems.append(
                Problem(
                    "ratelimit_unreachable",
                    "error",
                    f"The login-throttle storage {_safe(storage)} cannot be used: {detail}",
                    "Correct RATELIMIT_STORAGE_URI or start the service it names.",
                )
            )
    return problems


def _safe(url: str) -> str:
    """url without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL SQLAlchemy understands: show the scheme only
        return url.split("://", 1)[0] + "://…"


def _database_unreachable(url: str) -> str | None:
    from sqlalchemy import create_engine, text

    try:
        args = {"connect_timeout": 3} if url.startswith("postgresql") else {}
        engine = create_engine(url, connect_args=args)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the finding
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def _redis_unreachable(url: str) -> str | None:
    try:
        import redis
    except ImportError:
        return "the redis package is not installed (pip install -r requirements.txt)"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - any failure to ping is the finding
        return str(exc) or type(exc).__name__
    return None


def _storage_unreachable(uri: str) -> str | None:
    from limits.storage import storage_from_string

    import needs_tracker.common.limiter_storage  # noqa: F401 - registers sqlitefile://

    try:
        options = {"socket_connect_timeout": 3} if uri.startswith("redis") else {}
        if not storage_from_string(uri, **options).check():
            return "its health check failed"
    except Exception as exc:  # noqa: BLE001 - any failure to open it is the finding
        return str(exc) or type(exc).__name__
    return None


@click.command("check-deploy")
@with_appcontext
def check_deploy_command() -> None:
    """Check the configuration for a production deployment; exit 1 on any error."""
    problems = deploy_problems(current_app.config, current_app.debug)
    problems += service_problems(current_app.config)
    errors = [p for p in problems if p.level == "error"]
    warnings = [p for p in problems if p.level == "warning"]
    for p in problems:
        click.echo(f"{p.level.upper()} [{p.code}] {p.message}")
        if p.level != "info":
            click.echo(f"    fix: {p.fix}")
    if errors:
        click.echo(f"{len(errors)} error(s): refusing this configuration for production.")
        sys.exit(1)
    click.echo("Deployment checks passed" + (" (with warnings)." if warnings else "."))
