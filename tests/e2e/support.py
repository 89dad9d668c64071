"""Helpers for the browser tests: one Browse per browser context, with its guards."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
# axe-core as shipped inside the PyPI package axe-playwright-python (pinned in requirements.txt):
# installed with the rest of the requirements, injected from disk, never fetched from a CDN.
AXE_PACKAGE = "axe_playwright_python"
PASSWORD = "E2e-demo-pass-2026"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LOOPBACK_HOSTS = {"localhost", "::1", "[::1]"}
BLOCKING_IMPACTS = {"serious", "critical"}

# Every visible form control must have a non-empty accessible label.
UNLABELLED_JS = """
() => {
  const named = (el) => {
    if (el.labels && Array.from(el.labels).some((l) => l.textContent.trim())) return true;
    if ((el.getAttribute("aria-label") || "").trim()) return true;
    const ids = (el.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean);
    return ids.some((id) => {
      const ref = document.getElementById(id);
      return ref && ref.textContent.trim();
    });
  };
  const skip = new Set(["hidden", "submit", "button", "reset", "image"]);
  return Array.from(document.querySelectorAll("input, select, textarea"))
    .filter((el) => !skip.has((el.getAttribute("type") || "").toLowerCase()))
    .filter((el) => !named(el))
    .map((el) => el.outerHTML.slice(0, 160));
}
"""

# Fields marked invalid whose error is not tied to them or not announced (role=alert / live).
UNANNOUNCED_ERRORS_JS = """
() => {
  const announced = (el) => {
    for (let n = el; n; n = n.parentElement) {
      const role = n.getAttribute && n.getAttribute("role");
      const live = n.getAttribute && n.getAttribute("aria-live");
      if (role === "alert" || role === "status" || (live && live !== "off")) return true;
    }
    return false;
  };
  const bad = [];
  const invalid = Array.from(document.querySelectorAll('[aria-invalid="true"]'));
  for (const el of invalid) {
    const ids = (el.getAttribute("aria-describedby") || "").split(/\\s+/).filter(Boolean);
    const errs = ids.map((id) => document.getElementById(id)).filter((e) => e && e.textContent.trim());
    if (!errs.length || !errs.some(announced)) bad.push(el.name || el.id);
  }
  return {invalid: invalid.length, bad};
}
"""


_AXE_RESULTS: dict[str, dict[str, Any]] = {}
CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*?value=")[^"]*')


@functools.cache
def axe_source() -> str:
    """The axe.min.js that the pip package ships."""
    import importlib.resources

    return (importlib.resources.files(AXE_PACKAGE) / "axe.min.js").read_text(encoding="utf-8")


@dataclass
class LiveServer:
    """The running app."""

    url: str
    instance: Path
    env: dict[str, str]
    log: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bin(name: str) -> str:
    """A console script of the interpreter running the tests (the project's .venv)."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    return str(ROOT / ".venv" / "bin" / name)


# One interpreter for the whole set-up (importing the app takes seconds): the schema from the
# models (migrations for the features come at integration), then the real `flask demo seed`
# command through Flask's CLI runner, then a second centre with an organisation of its own (the
# admin flow puts a new user there and checks that the user sees that centre only).
SETUP = """
import sys
from wsgi import app
from needs_tracker.centres.services import create_centre
from needs_tracker.common.scoping import Scope, set_scope
from needs_tracker.extensions import db
from needs_tracker.organisations.services import OrganisationData, create_organisation
with app.app_context():
    db.create_all()
result = app.test_cli_runner().invoke(args=["demo", "seed", "--password", sys.argv[1]])
print(result.output)
if result.exit_code:
    raise SystemExit(f"demo seed failed: {result.exception!r}")
with app.app_context():
    set_scope(db.session, Scope.system())
    centre = create_centre("青岛服务中心", "青岛市", ["青岛市科协"])
    data = OrganisationData(name="青岛海纳光电有限公司", district="崂山区")
    create_organisation(data, centre.id, None)
    db.session.commit()
"""


def _run(args: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("a") as fh:
        fh.write(f"$ {' '.join(args)}\n")
        fh.flush()
        done = subprocess.run(args, env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
    if done.returncode:
        tail = "\n".join(log.read_text().splitlines()[-15:])
        raise RuntimeError(f"e2e set-up step failed ({args[-1][:60]!r}); see {log}:\n{tail}")


@contextmanager
def serve(instance: Path, workers: int = 2) -> Iterator[LiveServer]:
    """gunicorn serving the app on 127.0.0.1:<free port> with a fresh SQLite database in instance.

    The schema comes from the models (db.create_all), then `flask demo seed --password`, then
    a second centre. Stops the server on exit.
    """
    log = instance / "server.log"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"TEST_DATABASE_URL", "DATABASE_URL", "SECRET_KEY", "REDIS_URL"}
    }
    env.update(
        NEEDS_TRACKER_INSTANCE=str(instance),
        NEEDS_TRACKER_CONFIG="development",
        DATABASE_URL=f"sqlite:///{instance / 'e2e.db'}",
        # Several roles log in from 127.0.0.1 within a minute; the throttle has its own tests.
        LOGIN_RATE_LIMIT="1000 per minute",
        RATELIMIT_STORAGE_URI="memory://",
        PYTHONUNBUFFERED="1",
    )
    python = _bin("python")
    _run([python, "-m", "needs_tracker.i18n", "compile"], env, log)
    _run([python, "-c", SETUP, PASSWORD], env, log)
    port = _free_port()
    with log.open("a") as out:
        proc = subprocess.Popen(
            [
                _bin("gunicorn"),
                "--workers",
                str(workers),
                "--threads",
                "4",
                "--preload",  # import the app once, then fork the workers
                "--timeout",
                "120",
                "--bind",
                f"127.0.0.1:{port}",
                "--access-logfile",
                "-",
                "--access-logformat",
                '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
                "wsgi:app",
            ],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # the master imports the app first (--preload)
    while True:
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise RuntimeError(f"gunicorn did not start; see {log}:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    try:
        yield LiveServer(url=url, instance=instance, env=env, log=log)
    finally:
        # Quick shutdown; the workers log "exiting" at once but their processes can take
        # several seconds more to end, so after a short grace the group (only this server's
        # master and workers, started in a session of their own) is killed.
        stop = time.monotonic()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if os.environ.get("E2E_TIMING"):
            print(f"TIMING server stop {time.monotonic() - stop:.2f}s")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:80] or "page"


def is_loopback(url: str) -> bool:
    """True for data:/blob: URLs and for hosts on the loopback range."""
    parts = urlsplit(url)
    if parts.scheme in {"data", "blob", "about"}:
        return True
    host = (parts.hostname or "").lower()
    return host in LOOPBACK_HOSTS or host.startswith("127.")


@dataclass
class Browse:
    """A browser context and its page, with the guards every visited page must pass."""

    context: Any
    page: Any
    server: LiveServer
    shots: Path
    label: str
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)
    allowed_http_errors: set[tuple[int, str]] = field(default_factory=set)
    download_urls: set[str] = field(default_factory=set)
    no_content_urls: set[str] = field(default_factory=set)
    navigations: int = 0
    checked_navigations: int = 0
    unchecked: list[str] = field(default_factory=list)
    shot_count: int = 0
    axe_pages: list[str] = field(default_factory=list)
    a11y: list[str] = field(default_factory=list)
    reported: bool = False

    # --- setup -------------------------------------------------------------------------------
    @classmethod
    def open(cls, browser, server: LiveServer, test_name: str, label: str, phone: bool) -> Browse:
        """A new context (fresh cookies), as a phone (390x844, touch) or a desktop."""
        context = browser.new_context(
            base_url=server.url,
            viewport=PHONE if phone else DESKTOP,
            is_mobile=phone,
            has_touch=phone,
            device_scale_factor=2 if phone else 1,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            accept_downloads=True,
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        shots = ARTIFACTS / _slug(test_name)
        shots.mkdir(parents=True, exist_ok=True)
        b = cls(context=context, page=page, server=server, shots=shots, label=_slug(label))
        context.route("**/*", b._route)
        page.on("console", b._on_console)
        page.on("pageerror", lambda exc: b.console_errors.append(f"page error: {exc}"))
        page.on("requestfailed", b._on_failed)
        page.on("response", b._on_response)
        page.on("framenavigated", b._on_navigated)
        return b

    def _route(self, route) -> None:
        url = route.request.url
        if is_loopback(url):
            route.continue_()
        else:
            self.outside_requests.append(url)
            route.abort("blockedbyclient")

    def _on_console(self, msg) -> None:
        if msg.type == "error":
            loc = msg.location or {}
            if msg.text.startswith("Failed to load resource") and any(
                urlsplit(loc.get("url", "")).path == path for _, path in self.allowed_http_errors
            ):
                return  # Chromium logs the error status that the test asked for
            self.console_errors.append(
                f"{msg.text} ({loc.get('url', '')}:{loc.get('lineNumber', '')})"
            )

    def _on_failed(self, request) -> None:
        if request.url in self.download_urls:
            return  # a download ends its navigation request with ERR_ABORTED
        if request.url in self.no_content_urls:
            return  # so does a "204 No Content" answer, which a test gave on purpose
        self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def _on_response(self, response) -> None:
        if response.status >= 400:
            path = urlsplit(response.url).path
            if (response.status, path) not in self.allowed_http_errors:
                self.http_errors.append(
                    f"{response.status} {response.request.method} {response.url}"
                )

    def _on_navigated(self, frame) -> None:
        if frame == self.page.main_frame:
            self.navigations += 1
            self.unchecked.append(frame.url)

    # --- guards ------------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Everything the guards caught so far, with the context's label."""
        out = []
        out += [f"[{self.label}] console error: {m}" for m in self.console_errors]
        out += [f"[{self.label}] failed request: {m}" for m in self.failed_requests]
        out += [f"[{self.label}] request leaving loopback: {m}" for m in self.outside_requests]
        out += [f"[{self.label}] HTTP error: {m}" for m in self.http_errors]
        return out

    def answer_no_content(self, route) -> None:
        """Answer a routed request with "204 No Content": the browser stays on the page."""
        self.no_content_urls.add(route.request.url)
        route.fulfill(status=204)

    def allow_http_error(self, status: int, path: str) -> None:
        """A test that provokes an error status on purpose says so first."""
        self.allowed_http_errors.add((status, path))

    def check(self, name: str, axe: bool = True) -> dict[str, Any]:
        """Check the page now shown: guards, labels, axe-core, screenshot. Returns axe's result."""
        page = self.page
        t0 = time.monotonic()
        page.wait_for_load_state("load")
        self.shot_count += 1
        page.screenshot(
            path=str(self.shots / f"{self.label}-{self.shot_count:02d}-{_slug(name)}.png"),
            full_page=True,
            scale="css",
        )
        t1 = time.monotonic()
        # Accessibility findings are collected, not raised, so that a flow runs to its end
        # and the test then fails listing every finding of every page.
        unlabelled = page.evaluate(UNLABELLED_JS)
        if unlabelled:
            self.a11y.append(
                f"[{self.label}] form fields without a label on {page.url}: {unlabelled}"
            )
        result: dict[str, Any] = {}
        cached = False
        if axe:
            result, cached = self.axe_cached()
            blocking = [v for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]
            if blocking:
                self.a11y.append(f"[{self.label}] axe-core on {page.url}:\n" + _describe(blocking))
            self.axe_pages.append(page.url)
        t2 = time.monotonic()
        if os.environ.get("E2E_TIMING"):
            print(
                f"TIMING {self.label}/{name}: screenshot {t1 - t0:.2f}s"
                f" axe {t2 - t1:.2f}s{' (same page as before)' if cached else ''}"
            )
        problems = self.problems()
        assert not problems, "\n".join(problems)
        self.checked_navigations = self.navigations
        self.unchecked.clear()
        return result

    def axe_cached(self) -> tuple[dict[str, Any], bool]:
        """axe-core's result; reused when the same page (same DOM, same width) was audited.

        The login page, for instance, is the same for every role: it is audited once per run.
        """
        html = self.page.evaluate("() => document.documentElement.outerHTML")
        html = CSRF_VALUE.sub(r"\1", html)
        width = (self.page.viewport_size or {}).get("width")
        key = hashlib.sha1(f"{width}\n{html}".encode()).hexdigest()
        if key in _AXE_RESULTS:
            return _AXE_RESULTS[key], True
        result = self.axe()
        _AXE_RESULTS[key] = result
        return result, False

    def axe(self) -> dict[str, Any]:
        """Run axe-core (from the axe-playwright-python wheel) on the current page."""
        page = self.page
        if not page.evaluate("() => typeof window.axe === 'object'"):
            # Evaluated through the DevTools protocol, so the app's CSP (script-src 'self')
            # stays strict for the app's own scripts.
            page.evaluate(axe_source())
        return page.evaluate(
            """async () => {
                const r = await axe.run(document, {resultTypes: ["violations"]});
                return {violations: r.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help, tags: v.tags,
                    nodes: v.nodes.map(n => ({target: n.target, html: n.html.slice(0, 200),
                                              summary: n.failureSummary}))}))};
            }"""
        )

    def errors_announced(self) -> dict[str, Any]:
        """How many fields are marked invalid, and which of them have no announced error."""
        return self.page.evaluate(UNANNOUNCED_ERRORS_JS)

    def findings(self) -> list[str]:
        """Guard and accessibility findings, and navigations no one checked."""
        problems = self.problems() + self.a11y
        if self.navigations > self.checked_navigations and self.unchecked:
            problems.append(f"[{self.label}] pages visited but not checked: {self.unchecked}")
        return problems

    def close(self) -> list[str]:
        """Close the context; return the findings not reported yet."""
        problems = [] if self.reported else self.findings()
        self.context.close()
        return problems

    # --- navigation helpers ------------------------------------------------------------------
    def goto(self, path: str, name: str | None = None) -> Any:
        """Open path and check the page."""
        response = self.page.goto(path)
        self.check(name or path)
        return response

    def login(self, username: str, password: str = PASSWORD) -> None:
        """Log in through the form and check both pages."""
        self.goto("/login", "login")
        self.page.get_by_label(re.compile("用户名|Username")).fill(username)
        self.page.get_by_label(re.compile("密码|Password")).fill(password)
        with self.page.expect_navigation():
            self.page.locator("main form button[type=submit]").click()
        self.check("home")

    def submit(self, locator, name: str) -> None:
        """Click a submit button, wait for the next page and check it."""
        with self.page.expect_navigation():
            locator.click()
        self.check(name)

    def download(self, locator, dest: Path) -> Path:
        """Click a download link; save the file under dest and return its path."""
        href = locator.get_attribute("href")
        self.download_urls.add(urljoin(self.page.url, href))
        with self.page.expect_download() as info:
            locator.click()
        download = info.value
        assert download.failure() is None, download.failure()
        path = dest / download.suggested_filename
        download.save_as(path)
        return path

    def tab_to(self, selector: str, max_presses: int = 80) -> None:
        """Press Tab until the focused element matches selector (keyboard-only navigation)."""
        for _ in range(max_presses):
            self.page.keyboard.press("Tab")
            if self.page.evaluate(
                "(s) => !!document.activeElement && document.activeElement.matches(s)", selector
            ):
                return
        raise AssertionError(f"{selector} not reached with Tab in {max_presses} presses")

    def focused(self) -> str:
        """A short description of the focused element."""
        return self.page.evaluate(
            "() => { const e = document.activeElement; return e ? (e.name || e.id || e.tagName) : ''; }"
        )


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        for n in v["nodes"][:5]:
            lines.append(f"    {json.dumps(n['target'], ensure_ascii=False)} {n['html']}")
    return "\n".join(lines)
