"""Chinese by default, English on request, and every UI string translated."""

from needs_tracker.i18n import missing
from tests.conftest import PASSWORD


def test_interface_is_chinese_by_default(client, world):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "用户名" in page
    assert "密码" in page


def test_english_is_selectable_and_form_errors_follow(client, world):
    client.post("/lang/en", data={"next": "/login"})
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Username" in page
    client.post("/login", data={"username": "member", "password": PASSWORD})
    page = client.post("/needs/new", data={"title": ""}).get_data(as_text=True)
    assert "This field is required." in page
    client.post("/lang/zh", data={"next": "/"})
    page = client.post("/needs/new", data={"title": ""}).get_data(as_text=True)
    assert "该字段是必填字段" in page or "必填" in page


def test_every_message_has_a_chinese_translation():
    todo = missing("zh")
    assert not todo, "\n".join(f"{where[0]}: {msgid}" for msgid, where in sorted(todo.items()))
