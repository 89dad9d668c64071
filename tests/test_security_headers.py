"""Security headers, a CSP without inline script, no CDN, error pages without tracebacks."""

import re
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent


def test_security_headers_on_pages(client, world):
    client.post("/login", data={"username": "member", "password": PASSWORD})
    resp = client.get("/needs/")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["X-Request-Id"]


def test_templates_have_no_inline_script_no_event_handlers_and_no_cdn():
    problems = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", text, re.S):
            attrs, body = m.group("attrs"), m.group("body").strip()
            if body and "application/json" not in attrs:
                problems.append(f"{path}: inline script")
        if re.search(r"\son[a-z]+\s*=", text):
            problems.append(f"{path}: inline event handler")
        if re.search(r"(src|href)=\"(https?:)?//", text):
            problems.append(f"{path}: external asset")
    assert not problems


def test_unknown_ids_are_404_pages(client, world):
    client.post("/login", data={"username": "member", "password": PASSWORD})
    for url in [
        "/needs/999999",
        "/visits/999999",
        "/organisations/0",
        "/experts/123456",
        "/nowhere",
    ]:
        resp = client.get(url)
        assert resp.status_code == 404
        assert "页面不存在" in resp.get_data(as_text=True)


def test_oversized_body_gets_413_page(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    client.post("/login", data={"username": "member", "password": PASSWORD})
    resp = client.post("/organisations/new", data={"name": "x" * 5000})
    assert resp.status_code == 413
    assert "超过了允许的大小" in resp.get_data(as_text=True)


def test_500_page_shows_request_id_without_traceback(app, client, world, monkeypatch, caplog):
    from needs_tracker.main import views

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    client.post("/login", data={"username": "member", "password": PASSWORD})
    monkeypatch.setattr(views, "render_template", boom)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    resp = client.get("/", headers={"X-Request-Id": "req-12345"})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert "req-12345" in text
    assert "secret internals" not in text
    assert "Traceback" not in text
    assert any(
        "req-12345" in r.getMessage() or getattr(r, "request_id", "") == "req-12345"
        for r in caplog.records
    )


def test_500_after_a_failed_flush_still_renders_the_page(app, client, world, monkeypatch):
    """A database error mid-request leaves a usable session for the error page and the next request."""
    from needs_tracker.extensions import db
    from needs_tracker.main import views
    from needs_tracker.organisations.models import Organisation

    def failing_flush(*args, **kwargs):
        db.session.add(Organisation(name=None, centre_id=world["a"].id, kind="company"))
        db.session.flush()

    client.post("/login", data={"username": "member", "password": PASSWORD})
    monkeypatch.setattr(views, "render_template", failing_flush)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    resp = client.get("/")
    assert resp.status_code == 500
    assert "服务器错误" in resp.get_data(as_text=True)
    monkeypatch.undo()
    assert client.get("/needs/").status_code == 200


def test_debug_is_off_by_default(app):
    from needs_tracker import create_app

    assert create_app("production").debug is False


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_language_switch(client, world, lang):
    client.post("/login", data={"username": "member", "password": PASSWORD})
    resp = client.post(f"/lang/{lang}", data={"next": "/needs/"})
    assert resp.headers["Location"] == "/needs/"
    page = client.get("/needs/").get_data(as_text=True)
    assert ("需求" in page) if lang == "zh" else ("Needs" in page and "Record a need" in page)


def test_language_switch_refuses_foreign_redirects(client, world):
    resp = client.post("/lang/en", data={"next": "https://evil.example/"})
    assert resp.headers["Location"] == "/"
