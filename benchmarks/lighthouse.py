"""Lighthouse scores of the login, visit form and dashboard pages, desktop and mobile.

Usage (from the repository root, after `npm ci --prefix tools/lighthouse`):

    CHROME_PATH=/usr/bin/chromium .venv/bin/python benchmarks/lighthouse.py [--json out.json]

Starts the app with gunicorn on a free loopback port and a fresh SQLite database (the same
set-up as tests/e2e), logs in as the demo member (visit form) and leader (dashboard), and runs
the npm package lighthouse (tools/lighthouse/node_modules) against each page with the session
cookie. Prints one line per page and form factor with the performance, accessibility and
best-practices scores, then every audit under 0.9 that counts towards a score below 90.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.support import CHROMIUM_ARGS, PASSWORD, serve  # noqa: E402

LIGHTHOUSE = ROOT / "tools" / "lighthouse" / "node_modules" / "lighthouse" / "cli" / "index.js"
CATEGORIES = ("performance", "accessibility", "best-practices")
PAGES = (
    ("login", "/login", None),
    ("visit form", "/visits/new", "demo_member"),
    ("dashboard", "/dashboard/", "demo_leader"),
)
TARGET = 90


def session_cookie(base: str, username: str) -> str:
    """Log in through the form (with its CSRF token); return the Cookie header value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    data = {"username": username, "password": PASSWORD}
    if token:
        data["csrf_token"] = token.group(1)
    opener.open(f"{base}/login", urllib.parse.urlencode(data).encode())
    cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
    if "session=" not in cookies:
        raise RuntimeError(f"login as {username} failed")
    return cookies


def status_of(url: str, cookie: str | None) -> int:
    """HTTP status of url (no redirects followed)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    req = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.build_opener(NoRedirect).open(req) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def run_lighthouse(url: str, cookie: str | None, desktop: bool, out: Path) -> dict:
    """One Lighthouse run; returns the parsed report."""
    args = [
        "node",
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        f"--only-categories={','.join(CATEGORIES)}",
        "--chrome-flags=" + " ".join(["--headless=new", *CHROMIUM_ARGS[1:]]),
    ]
    if desktop:
        args.append("--preset=desktop")
    if cookie:
        args.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    env = dict(os.environ, CHROME_PATH=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
    subprocess.run(args, check=True, env=env, cwd=ROOT, timeout=300)
    return json.loads(out.read_text())


def weak_audits(report: dict) -> list[str]:
    """Failing scored audits of every category, and performance opportunities (saved ms)."""
    lines = []
    for cat in CATEGORIES:
        category = report["categories"][cat]
        for ref in category["auditRefs"]:
            audit = report["audits"][ref["id"]]
            score = audit["score"]
            if score is None or audit.get("scoreDisplayMode") in {"notApplicable", "manual"}:
                continue
            value = audit.get("displayValue", "")
            saving = (audit.get("details") or {}).get("overallSavingsMs") or 0
            if ref["weight"] > 0 and score < 0.9:
                lines.append(f"{cat}: {ref['id']} ({score:.2f}) {audit['title']} {value}")
            elif cat == "performance" and saving >= 100:
                lines.append(f"{cat}: {ref['id']} saves ~{saving:.0f} ms: {audit['title']} {value}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the scores as JSON here")
    parser.add_argument("--reports", type=Path, help="keep Lighthouse's full JSON reports here")
    parser.add_argument("--only", help="measure only the page with this name (login, ...)")
    opts = parser.parse_args()
    if not LIGHTHOUSE.exists():
        print(f"{LIGHTHOUSE} missing: run `npm ci --prefix tools/lighthouse` first")
        return 2
    results = []
    with tempfile.TemporaryDirectory(prefix="nt-lighthouse-") as tmp, serve(Path(tmp)) as server:
        cookies = {u: session_cookie(server.url, u) for _, _, u in PAGES if u}
        print(f"{'page':<12} {'form':<8} " + " ".join(f"{c:>14}" for c in CATEGORIES))
        for name, path, user in PAGES:
            if opts.only and name.replace(" ", "-") != opts.only:
                continue
            cookie = cookies.get(user) if user else None
            url = server.url + path
            status = status_of(url, cookie)
            if status != 200:
                print(f"{name:<12} {'-':<8} not measured: {path} answers HTTP {status}")
                results.append({"page": name, "path": path, "status": status})
                continue
            for desktop in (True, False):
                form = "desktop" if desktop else "mobile"
                report = run_lighthouse(url, cookie, desktop, Path(tmp) / f"{name}-{form}.json")
                if opts.reports:
                    opts.reports.mkdir(parents=True, exist_ok=True)
                    (opts.reports / f"{name.replace(' ', '-')}-{form}.json").write_text(
                        json.dumps(report)
                    )
                scores = {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}
                print(f"{name:<12} {form:<8} " + " ".join(f"{scores[c]:>14}" for c in CATEGORIES))
                weak = weak_audits(report)
                for line in weak:
                    print(f"{'':<21}{line}")
                results.append(
                    {"page": name, "path": path, "form": form, "scores": scores, "weak": weak}
                )
    if opts.json:
        opts.json.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
