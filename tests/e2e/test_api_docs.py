"""The API's interactive docs page renders in a real browser from the app's own files."""

from __future__ import annotations


def test_api_docs_render_every_operation_without_leaving_the_server(browser, live_server):
    context = browser.new_context()
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith(live_server.url) else outside.append(r.url),
    )
    try:
        page.goto(f"{live_server.url}/api/v1/docs")
        page.wait_for_selector(".opblock", timeout=15000)
        shown = page.locator(".opblock").count()
        doc = page.request.get(f"{live_server.url}/api/v1/openapi.json").json()
    finally:
        context.close()
    operations = sum(len(ops) for ops in doc["paths"].values())
    assert shown == operations
    assert outside == []
