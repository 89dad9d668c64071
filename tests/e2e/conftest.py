"""Browser tests: the app served by gunicorn on a free loopback port, driven by Debian's Chromium.

One gunicorn server per test session, on a fresh SQLite file database under a temporary
folder (schema from the models, then `flask demo seed`, then a second centre). Each test gets
its own browser context (so its own cookies), and every page it visits goes through
`Browse.check()`: axe-core (the axe.min.js of the pip package axe-playwright-python, never a
CDN), a label on every form field, a screenshot under test-artifacts/e2e/, and the guards (no
console error, no failed request, no request leaving loopback). A navigation that a test did
not check fails the test; accessibility findings fail it at the end, all of them listed.

Without /usr/bin/chromium the whole directory is reported as ONE skip line, or as one failure
when REQUIRE_E2E=1 (CI).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.support import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    Browse,
    LiveServer,
    serve,
)

SKIP_REASON = "e2e skipped: /usr/bin/chromium not found"
HERE = Path(__file__).resolve().parent


class _ChromiumMissing(pytest.Item):
    """Stands in for every e2e test when there is no browser: one skip, one reason line."""

    def runtest(self) -> None:
        if os.environ.get("REQUIRE_E2E") == "1":
            pytest.fail(f"REQUIRE_E2E=1 but {SKIP_REASON.removeprefix('e2e skipped: ')}")
        pytest.skip(SKIP_REASON)

    def reportinfo(self):
        return self.path, None, "e2e"


def pytest_collection_modifyitems(session: pytest.Session, config, items: list[pytest.Item]):
    """Without Chromium, replace the e2e tests by a single skipped item."""
    if CHROMIUM.exists():
        return
    ours = [i for i in items if HERE in Path(i.path).parents]
    if not ours:
        return
    node = ours[0].parent
    while node is not None and Path(getattr(node, "path", "/")) != HERE:
        node = node.parent
    stand_in = _ChromiumMissing.from_parent(node or ours[0].parent, name="chromium")
    stand_in.add_marker(pytest.mark.e2e)
    items[:] = [i for i in items if i not in ours] + [stand_in]


@pytest.fixture(autouse=True)
def _clean_db() -> None:
    """The in-process test database of tests/conftest.py is not used here: the server has its own."""


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """gunicorn serving the app on 127.0.0.1:<free port>, fresh database, demo seeded."""
    with serve(tmp_path_factory.mktemp("e2e-instance")) as server:
        yield server


@pytest.fixture(scope="session")
def browser(live_server: LiveServer) -> Iterator[Any]:
    """Debian's Chromium, headless, launched once per session (no browser download, ever).

    It depends on live_server so that it closes first: a server stopping while the browser
    still holds keep-alive connections waits for them.
    """
    from playwright.sync_api import sync_playwright

    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # only this run's screenshots
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def browse(browser, live_server, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Factory: open a fresh context (own cookies) as a desktop or a phone.

    browse(phone=False, name="...") -> Browse. Every context opened is closed, and its guard
    findings asserted, at the end of the test.
    """
    opened: list[Browse] = []

    def open_(phone: bool = False, name: str | None = None) -> Browse:
        label = name or ("phone" if phone else "desktop")
        b = Browse.open(browser, live_server, request.node.name, label, phone=phone)
        opened.append(b)
        return b

    open_.opened = opened  # read by pytest_runtest_call below
    yield open_
    problems: list[str] = []
    for b in opened:
        problems.extend(b.close())
    if problems:
        pytest.fail("browser guards:\n  " + "\n  ".join(problems))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """A flow that ran to its end still fails (as a failure, not a teardown error) when a
    page it visited had accessibility or guard findings; all of them are listed."""
    result = yield
    opened = getattr(getattr(item, "funcargs", {}).get("browse"), "opened", [])
    problems = [p for b in opened for p in b.findings()]
    for b in opened:
        b.reported = True
    if problems:
        pytest.fail("browser guards and accessibility:\n  " + "\n  ".join(problems))
    return result


def _logged_in(browse, role: str, phone: bool = False) -> Browse:
    b = browse(phone=phone, name=role)
    b.login(f"demo_{role}")
    return b


@pytest.fixture
def member(browse) -> Browse:
    """The demo member, logged in, on a 390x844 phone."""
    return _logged_in(browse, "member", phone=True)


@pytest.fixture
def coordinator(browse) -> Browse:
    """The demo coordinator, logged in, on a desktop."""
    return _logged_in(browse, "coordinator")


@pytest.fixture
def leader(browse) -> Browse:
    """The demo leader, logged in, on a desktop."""
    return _logged_in(browse, "leader")


@pytest.fixture
def admin(browse) -> Browse:
    """The demo admin, logged in, on a desktop."""
    return _logged_in(browse, "admin")
