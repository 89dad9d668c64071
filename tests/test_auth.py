"""Login, logout, safe redirects, forced password change."""

from needs_tracker.auth.models import User
from needs_tracker.extensions import db
from tests.conftest import PASSWORD


def test_login_form_uses_username_and_password_fields(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'name="username"' in page
    assert 'name="password"' in page
    assert "登录" in page


def test_login_and_logout(client, auth, world):
    resp = auth.login("member")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_and_unknown_user_get_the_same_message(client, world):
    a = client.post("/login", data={"username": "member", "password": "wrong password"})
    b = client.post("/login", data={"username": "nobody", "password": "wrong password"})
    for resp in (a, b):
        assert resp.status_code == 200
        assert "用户名或密码错误" in resp.get_data(as_text=True)


def test_next_redirect_is_local_only(client, world):
    resp = client.post("/login?next=/needs/", data={"username": "member", "password": PASSWORD})
    assert resp.headers["Location"] == "/needs/"
    client.post("/logout")
    resp = client.post(
        "/login?next=//evil.example/", data={"username": "member", "password": PASSWORD}
    )
    assert resp.headers["Location"] == "/"


def test_disabled_user_cannot_log_in(client, world):
    user = world["users"]["member"]
    user.active = False
    db.session.commit()
    resp = client.post("/login", data={"username": "member", "password": PASSWORD})
    assert "用户名或密码错误" in resp.get_data(as_text=True)


def test_generated_password_must_be_changed_first(client, world):
    from needs_tracker.users.services import create_user

    _, generated = create_user("newbie", "新人", "member", world["a"].id)
    db.session.commit()
    client.post("/login", data={"username": "newbie", "password": generated})
    resp = client.get("/needs/")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/account/password"
    resp = client.post(
        "/account/password",
        data={
            "current_password": generated,
            "new_password": "a long passphrase of words",
            "confirm": "a long passphrase of words",
        },
    )
    assert resp.status_code == 302
    assert client.get("/needs/").status_code == 200


def test_password_rules_accept_long_passphrases_and_refuse_short(client, auth, world):
    auth.login("member")
    short = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "short", "confirm": "short"},
    )
    assert 'id="new_password-error"' in short.get_data(as_text=True)
    phrase = "我 的 口令 是 一段 很长 的 句子 without any digits or symbols at all " * 3
    ok = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": phrase[:250], "confirm": phrase[:250]},
    )
    assert ok.status_code == 302
    user = db.session.get(User, world["users"]["member"].id)
    db.session.refresh(user)
    assert user.check_password(phrase[:250])
    assert user.password_hash.startswith("scrypt:")


def test_admin_creates_user_who_sees_only_their_centre(client, auth, world):
    auth.login("admin")
    resp = client.post(
        "/users/new",
        data={
            "username": "qd_member",
            "display_name": "青岛成员",
            "role": "member",
            "centre_id": str(world["b"].id),
            "password": "qingdao passphrase",
            "active": "y",
        },
    )
    assert resp.status_code == 302
    auth.logout()
    client.post("/login", data={"username": "qd_member", "password": "qingdao passphrase"})
    page = client.get("/needs/").get_data(as_text=True)
    assert "青岛的保密需求" in page
    assert "焊缝缺陷自动检测" not in page


def test_admin_user_form_errors(client, auth, world):
    auth.login("admin")
    for data, marker in [
        ({"username": "member"}, "username-error"),
        ({"username": "bad name!"}, "username-error"),
        ({"role": "emperor"}, "role-error"),
        ({"centre_id": "99999"}, "centre_id-error"),
    ]:
        form = {
            "username": "x_user",
            "display_name": "X",
            "role": "member",
            "centre_id": str(world["a"].id),
            "password": "long enough pw",
        }
        form.update(data)
        page = client.post("/users/new", data=form).get_data(as_text=True)
        assert f'id="{marker}"' in page, data
