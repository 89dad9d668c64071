"""needs-tracker: visits, needs, matching and reports for S&T service centres."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, g, redirect, request, session, url_for
from flask_login import current_user

ROOT = Path(__file__).resolve().parent.parent
STATIC_MAX_AGE = 365 * 24 * 3600

# Everything is served by the app itself: no CDN, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def create_app(config: str | dict[str, Any] | None = None) -> Flask:
    """Create and configure the application.

    config is a name from config.CONFIGS ("development", "production", "testing") or a
    mapping of settings applied over the testing config (for the test suite).
    """
    from config import CONFIGS, INSTANCE_DIR
    from needs_tracker.common.hooks import init_hooks

    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(ROOT / "templates"),
    )
    if isinstance(config, dict):
        app.config.from_object(CONFIGS["testing"])
        app.config.update(config)
    else:
        name = config or os.environ.get("NEEDS_TRACKER_CONFIG", "development")
        app.config.from_object(CONFIGS[name])
    _ensure_secret_key(app)
    init_hooks(app)
    register_extensions(app)
    register_errorhandlers(app)
    register_request_hooks(app)
    register_template_helpers(app)
    register_features(app)
    return app


# Every feature package, in the order it is registered. Each has init_app(app), the one way a
# feature plugs in: its blueprints, CLI groups, and what it adds to the hooks declared in
# common/hooks.py (page panels, menu entries, checks, demo seeders). Core features come first;
# the plug-ins after them may add to their pages (api last: it wraps the error handlers).
# Models are imported by needs_tracker.models, not from here.
FEATURES = (
    "needs_tracker.main",
    "needs_tracker.auth",
    "needs_tracker.organisations",
    "needs_tracker.visits",
    "needs_tracker.needs",
    "needs_tracker.experts",
    "needs_tracker.users",
    "needs_tracker.centres",
    "needs_tracker.taxonomy",
    "needs_tracker.demo",
    "needs_tracker.audit",
    "needs_tracker.matching",
    "needs_tracker.reports",
    "needs_tracker.dashboard",
    "needs_tracker.imports",
    "needs_tracker.ops",
    "needs_tracker.api",
)


def register_features(app: Flask) -> None:
    """Let each feature package register itself (FEATURES order)."""
    import importlib

    for name in FEATURES:
        importlib.import_module(name).init_app(app)


def _ensure_secret_key(app: Flask) -> None:
    """Use SECRET_KEY from the environment, else one generated once under instance/."""
    if app.config.get("SECRET_KEY"):
        return
    path = Path(app.instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Write to a private temp file and link it in: concurrent workers agree on one key.
        tmp = path.with_name(f".secret_key.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    app.config["SECRET_KEY"] = path.read_text().strip()


def register_extensions(app: Flask) -> None:
    """Bind extension objects to app."""
    from flask_talisman import Talisman

    from needs_tracker import models  # noqa: F401 - registers every table on the metadata
    from needs_tracker.extensions import (
        babel,
        compress,
        csrf,
        db,
        limiter,
        login_manager,
        migrate,
    )

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=_select_locale,
        default_translation_directories=";".join(_translation_dirs()),
    )
    import needs_tracker.common.limiter_storage  # noqa: F401 - registers sqlitefile://

    limiter.init_app(app)
    compress.init_app(app)
    # Talisman keeps its settings on the instance, so each app gets its own.
    app.extensions["talisman"] = Talisman(
        app,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        frame_options="DENY",
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy="same-origin",
    )
    apply_proxy_fix(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "warning"
    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please log in to see this page.")

    from needs_tracker.auth.services import dummy_hash, load_user_from_token

    login_manager.user_loader(load_user_from_token)
    # Hash the dummy password now, so that the first unknown username is not the slow one.
    dummy_hash(app.config["PASSWORD_HASH_METHOD"])


def apply_proxy_fix(app: Flask) -> None:
    """Trust X-Forwarded-* for exactly TRUST_PROXY hops (none when 0).

    With one proxy only the address it appended counts, whatever the client put in front of
    it; with none, a client talking straight to gunicorn cannot pick its own address.
    """
    proxies = int(app.config.get("TRUST_PROXY") or 0)
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)


def _translation_dirs() -> list[str]:
    """Every translations/ folder in the package: one per feature that has strings."""
    from needs_tracker.i18n import translation_dirs

    return translation_dirs()


def _select_locale() -> str:
    from flask import current_app, has_request_context

    lang = session.get("lang") if has_request_context() else None
    if lang in current_app.config["LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def register_errorhandlers(app: Flask) -> None:
    """Render HTML pages for HTTP errors and a request id for unexpected ones."""
    from flask import render_template
    from werkzeug.exceptions import HTTPException

    from needs_tracker.common.scoping import ScopeViolation
    from needs_tracker.extensions import db

    def render_http(error: HTTPException):
        code = error.code or 500
        template = (
            f"errors/{code}.html"
            if code in {400, 403, 404, 405, 413, 429}
            else "errors/generic.html"
        )
        return render_template(template, error=error), code

    app.register_error_handler(HTTPException, render_http)

    def render_scope(error: ScopeViolation):
        app.logger.warning("scope violation request_id=%s: %s", g.get("request_id"), error)
        return render_template("errors/404.html", error=error), 404

    app.register_error_handler(ScopeViolation, render_scope)

    def render_500(error: Exception):
        app.logger.exception("unhandled error request_id=%s", g.get("request_id"))
        # A failed flush leaves the session unusable; the error page's own queries
        # (current user, menu) need it back.
        db.session.rollback()
        return render_template("errors/500.html", request_id=g.get("request_id")), 500

    app.register_error_handler(Exception, render_500)


def register_request_hooks(app: Flask) -> None:
    """Per request: a request id for logs, and the acting user's data scope."""
    from needs_tracker.common.permissions import scope_for
    from needs_tracker.common.scoping import SCOPE_KEY, get_scope, set_scope
    from needs_tracker.extensions import db

    @app.before_request
    def _start_request():
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or secrets.token_hex(8)
        if request.endpoint == "static":
            # Public CSS/JS/fonts: no user, no database.
            return None
        expired = _session_expired(app)
        if expired is not None:
            return expired
        g.previous_scope = get_scope(db.session)
        set_scope(db.session, scope_for(current_user if current_user.is_authenticated else None))
        if (
            current_user.is_authenticated
            and current_user.must_change_password
            and request.endpoint not in PASSWORD_CHANGE_ALLOWED
        ):
            return redirect(url_for("auth.change_password_view"))
        return None

    @app.teardown_request
    def _restore_scope(_exc: BaseException | None) -> None:
        # A request normally owns its session; when it runs inside an outer app context
        # (tests, scripts), hand the outer code its own scope back.
        if "previous_scope" in g:
            if g.previous_scope is None:
                db.session.info.pop(SCOPE_KEY, None)
            else:
                set_scope(db.session, g.previous_scope)

    @app.after_request
    def _tag_response(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        if request.endpoint == "static":
            if response.status_code == 200 and response.direct_passthrough:
                # Read the file into the response (werkzeug closes it) so Flask-Compress
                # compresses it whole instead of streaming, which leaks the open file.
                response.direct_passthrough = False
                response.make_sequence()
            if request.args.get("v") and response.status_code == 200:
                # The URL carries the file's content hash, so it can be cached for good.
                response.cache_control.public = True
                response.cache_control.max_age = STATIC_MAX_AGE
                response.cache_control.immutable = True
            return response
        if current_user.is_authenticated:
            # Private pages must not come back from the browser cache after logout.
            response.headers["Cache-Control"] = "no-store"
        return response

    handler = logging.StreamHandler()
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
    )
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(logging.INFO)
    logging.getLogger("needs_tracker").addHandler(handler)
    logging.getLogger("needs_tracker").setLevel(logging.INFO)


PASSWORD_CHANGE_ALLOWED = {
    "auth.change_password_view",
    "auth.logout",
    "static",
    "main.set_language",
}


class _RequestIdFilter(logging.Filter):
    """Adds the request id (or "-") to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        from flask import has_request_context

        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def _session_expired(app: Flask):
    """Log out a session past its idle or absolute timeout; return the redirect, if any."""
    import time

    from flask import flash
    from flask_babel import gettext
    from flask_login import logout_user

    if not current_user.is_authenticated:
        return None
    now = time.time()
    started = session.get("login_at")
    seen = session.get("seen_at", started)
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    absolute = app.config["SESSION_ABSOLUTE_HOURS"] * 3600
    if started is None or now - seen > idle or now - started > absolute:
        logout_user()
        session.clear()
        flash(gettext("Your session has expired. Please log in again."), "warning")
        return redirect(
            url_for("auth.login", next=request.full_path if request.method == "GET" else None)
        )
    session["seen_at"] = now
    return None


def register_template_helpers(app: Flask) -> None:
    """Globals available in every template."""
    from flask_babel import get_locale

    from needs_tracker.common import choices
    from needs_tracker.common import permissions as perms
    from needs_tracker.common.hooks import NAV_ITEMS

    # Globals (not a context processor) so that imported macros see them too.
    app.jinja_env.globals.update(
        get_locale=get_locale,
        choices=choices,
        perms=perms,
        Role=choices.Role,
        # Features add menu entries (common.hooks.NavItem) through NAV_ITEMS.add.
        nav_items=NAV_ITEMS.items(app),
        # Lets core templates link to optional features only when they are installed.
        has_endpoint=lambda name: name in app.view_functions,
    )

    static_hashes: dict[str, str] = {}

    @app.url_defaults
    def _static_version(endpoint: str, values: dict) -> None:
        """Add ?v=<content hash> to static URLs so browsers may cache them for a year."""
        if endpoint != "static" or "filename" not in values or "v" in values:
            return
        filename = values["filename"]
        if filename not in static_hashes or app.debug:
            path = Path(app.static_folder or "", filename)
            try:
                static_hashes[filename] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            except OSError:
                static_hashes[filename] = ""
        if static_hashes[filename]:
            values["v"] = static_hashes[filename]

    @app.template_filter("label")
    def _label(value: str | None, enum_name: str) -> str:
        enum = getattr(choices, enum_name)
        try:
            return str(enum(value).label)
        except ValueError:
            return value or ""
