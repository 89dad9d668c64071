"""The guards themselves catch what they should; the main pages fit a phone screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Error as PlaywrightError

pytestmark = pytest.mark.e2e


def test_guards_catch_console_errors_and_http_errors(browse):
    """A console error and a 404 are reported; a navigation nobody checked is reported."""
    b = browse(name="guards")
    b.goto("/login", "login")
    b.page.evaluate(
        """async () => {
            console.error("e2e guard probe");
            const r = await fetch("/static/e2e-missing.js");
            await r.text();
        }"""
    )
    problems = "\n".join(b.problems())
    assert "console error: e2e guard probe" in problems
    assert "HTTP error: 404 GET" in problems
    b.console_errors.clear()
    b.http_errors.clear()

    b.page.goto("/login?again=1")
    assert b.unchecked == [b.server.url + "/login?again=1"]
    b.check("login again")
    assert b.unchecked == []
    assert len(b.axe_pages) == 2


def test_guard_stops_requests_leaving_loopback(browse):
    """A navigation to a non-loopback host is stopped in the browser and reported.

    (The app's CSP already refuses scripts, images and fetches to other hosts; navigations are
    not covered by connect-src, so this is where the route guard matters.)
    """
    b = browse(name="outside")
    b.goto("/login", "login")
    with pytest.raises(PlaywrightError, match="ERR_BLOCKED_BY_CLIENT"):
        b.page.goto("http://example.invalid/probe")
    b.page.wait_for_url(re.compile(r"^chrome-error:"))
    problems = "\n".join(b.problems())
    assert "request leaving loopback: http://example.invalid/probe" in problems
    assert "failed request: GET http://example.invalid/probe" in problems
    b.outside_requests.clear()
    b.failed_requests.clear()
    b.goto("/login", "login after the blocked request")


PHONE_PAGES = [
    ("/", "home"),
    ("/visits/", "visits"),
    ("/visits/new", "visit form"),
    ("/needs/", "needs"),
    ("/needs/1", "need"),
    ("/organisations/", "organisations"),
    ("/organisations/1", "organisation"),
    ("/experts/", "experts"),
    ("/resources/", "resources"),
]


def test_member_pages_fit_a_phone(member):
    """Every page a member uses in the field is usable at 390px: nothing wider than the screen."""
    for path, name in PHONE_PAGES:
        member.goto(path, name)
        width = member.page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width}px wide on a 390px screen"
        # The main call to action is reachable without zooming: the menu toggler is visible.
        assert member.page.get_by_role("button", name="菜单").is_visible()


def test_list_filters_wait_behind_more_filters_on_a_phone(member, coordinator):
    """On a phone the search box leads; the other filters open on demand, and stay open once used."""
    b, page = member, member.page
    b.goto("/needs/", "needs list on a phone")
    status = page.get_by_label("状态", exact=True)
    more = page.get_by_role("button", name="更多筛选")
    assert page.get_by_label("搜索").is_visible()
    assert more.get_attribute("aria-expanded") == "false"
    assert not status.is_visible()
    more.click()
    assert more.get_attribute("aria-expanded") == "true"
    assert status.is_visible()
    status.select_option("matching")
    b.submit(page.get_by_role("button", name="筛选", exact=True), "needs matching on a phone")
    assert "status=matching" in page.url
    # A filter in use is shown, not hidden behind the button.
    assert page.get_by_label("状态", exact=True).is_visible()
    assert page.get_by_role("button", name="更多筛选").count() == 0
    for badge in page.locator("tbody .badge").all_inner_texts():
        assert badge.strip() == "匹配中"
    # On a desktop every filter is in view from the start.
    coordinator.goto("/needs/", "needs list on a desktop")
    assert coordinator.page.get_by_label("状态", exact=True).is_visible()
    assert coordinator.page.get_by_role("button", name="更多筛选").count() == 0
