"""Static assets: served by the app (no CDN), versioned, cached and compressed."""

import re

from tests.conftest import PASSWORD


def _asset_urls(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', page)


def test_pages_link_only_local_assets_with_a_content_version(client, world):
    page = client.get("/login").get_data(as_text=True)
    urls = _asset_urls(page)
    assert any("bootstrap.min.css" in u for u in urls)
    assert all(re.search(r"[?&]v=[0-9a-f]{12}", u) for u in urls), urls
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page)


def test_versioned_assets_are_cached_even_for_logged_in_users(client, world):
    client.post("/login", data={"username": "member", "password": PASSWORD})
    page = client.get("/visits/").get_data(as_text=True)
    assert client.get("/visits/").headers["Cache-Control"] == "no-store"
    for url in _asset_urls(page):
        with client.get(url.replace("&amp;", "&")) as resp:
            assert resp.status_code == 200, url
            cache = resp.headers["Cache-Control"]
            assert "no-store" not in cache
            assert "max-age=31536000" in cache
            assert "immutable" in cache


def test_large_scripts_are_sent_compressed(client, world):
    with client.get("/static/vendor/echarts.custom.min.js") as plain:
        size = len(plain.get_data())
    for encoding in ("br", "gzip"):
        with client.get(
            "/static/vendor/echarts.custom.min.js", headers={"Accept-Encoding": encoding}
        ) as resp:
            assert resp.status_code == 200
            compressed = resp.headers.get("Content-Encoding") == encoding
            body = resp.get_data()
        if compressed:
            assert len(body) < size / 2
            break
    else:
        raise AssertionError("echarts.custom.min.js was not compressed with br or gzip")
    page = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert page.headers.get("Content-Encoding") == "gzip"
