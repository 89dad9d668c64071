"""Admin-facing basics of issue 14: the login page says where you are, `user create` names
the user, and the README shows how to back up and restore."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
from sqlalchemy import select

from needs_tracker.auth.models import User
from needs_tracker.extensions import db

README = Path(__file__).resolve().parents[1] / "README.md"


def test_login_page_names_the_product_and_the_centres(client, world):
    doc = lxml.html.fromstring(client.get("/login").get_data(as_text=True))
    header = doc.xpath('//header[contains(@class,"login-product")]')[0]
    assert header.xpath(".//h1")[0].text_content() == "需求对接管理"
    centres = header.xpath('.//*[contains(@class,"login-centres")]')[0].text_content()
    assert "潍坊服务中心" in centres
    assert "青岛服务中心" in centres


def test_login_page_names_the_configured_centre(app, client, world):
    app.config["LOGIN_CENTRE_NAME"] = "潍坊服务中心"
    try:
        html = client.get("/login").get_data(as_text=True)
    finally:
        app.config.pop("LOGIN_CENTRE_NAME")
    centres = lxml.html.fromstring(html).xpath('//*[contains(@class,"login-centres")]')[0]
    assert centres.text_content().strip() == "服务中心: 潍坊服务中心"


def test_user_create_sets_the_display_name(runner):
    runner.invoke(args=["centre", "create", "济南服务中心"])
    result = runner.invoke(
        args=[
            "user",
            "create",
            "jn_hu",
            "--role",
            "member",
            "--centre",
            "济南服务中心",
            "--display-name",
            "胡志强",
            "--password",
            "long enough pw",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "jn_hu"))
    assert user.display_name == "胡志强"


def test_readme_shows_backup_create_and_restore_with_an_example():
    text = README.read_text(encoding="utf-8")
    assert re.search(r"backup create -o \S+", text)
    assert re.search(r"backup restore \S+", text)
    assert "--display-name" in text
