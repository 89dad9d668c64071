"""Sessions: cookie flags, a new session at login, timeouts, and replay after logout."""

import time

from tests.conftest import PASSWORD


def _session_cookie(client):
    return client.get_cookie("session")


def test_cookie_flags(client, world):
    resp = client.post("/login", data={"username": "member", "password": PASSWORD})
    header = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session=")][0]
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header


def test_secure_flag_when_configured(world):
    from needs_tracker import create_app

    app = create_app({"SESSION_COOKIE_SECURE": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_cookie_copied_before_logout_does_not_work_after(app, client, world):
    client.post("/login", data={"username": "member", "password": PASSWORD})
    stolen = _session_cookie(client).value
    assert client.get("/needs/").status_code == 200
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    resp = thief.get("/needs/")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]


def test_password_change_ends_other_sessions(app, world):
    laptop, phone = app.test_client(), app.test_client()
    for c in (laptop, phone):
        c.post("/login", data={"username": "member", "password": PASSWORD})
    laptop.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "new long password",
            "confirm": "new long password",
        },
    )
    assert laptop.get("/needs/").status_code == 200
    assert phone.get("/needs/").status_code == 302


def test_disabling_an_account_ends_its_sessions(app, auth, world):
    victim = app.test_client()
    victim.post("/login", data={"username": "member", "password": PASSWORD})
    admin = app.test_client()
    admin.post("/login", data={"username": "admin", "password": PASSWORD})
    user = world["users"]["member"]
    admin.post(
        f"/users/{user.id}/edit",
        data={
            "username": "member",
            "display_name": "member",
            "role": "member",
            "centre_id": str(world["a"].id),
        },
    )  # active unchecked
    assert victim.get("/needs/").status_code == 302


def test_new_session_at_login(app, client, world):
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by attacker"
    client.post("/login", data={"username": "member", "password": PASSWORD})
    with client.session_transaction() as sess:
        assert "planted" not in sess


def test_idle_timeout(app, client, world, monkeypatch):
    client.post("/login", data={"username": "member", "password": PASSWORD})
    assert client.get("/needs/").status_code == 200
    later = time.time() + app.config["SESSION_IDLE_MINUTES"] * 60 + 5
    monkeypatch.setattr(time, "time", lambda: later)
    resp = client.get("/needs/")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]


def test_absolute_timeout(app, client, world, monkeypatch):
    client.post("/login", data={"username": "member", "password": PASSWORD})
    start = time.time()
    # Active every 30 minutes, but past the absolute lifetime the session still ends.
    step = 30 * 60
    hours = app.config["SESSION_ABSOLUTE_HOURS"]
    now = start
    for _ in range(hours * 2 - 1):
        now += step
        monkeypatch.setattr(time, "time", lambda now=now: now)
        assert client.get("/").status_code == 200
    monkeypatch.setattr(time, "time", lambda: start + hours * 3600 + 60)
    assert client.get("/").status_code == 302


def test_csrf_on_login_logout_and_forms(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = client.get("/login").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    assert (
        client.post("/login", data={"username": "member", "password": PASSWORD}).status_code == 400
    )
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    resp = client.post(
        "/login", data={"username": "member", "password": PASSWORD, "csrf_token": token}
    )
    assert resp.status_code == 302
    # logout without a token is refused and the session survives
    assert client.post("/logout").status_code == 400
    assert client.get("/needs/").status_code == 200
    assert client.post(f"/needs/{world['need_a'].id}/delete").status_code == 400
    page = client.get("/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/needs/").status_code == 302
