"""Run sqlmap against the list pages' query parameters as a logged-in coordinator.

Environment: SQLMAP_EXTRA (extra sqlmap arguments), SQLMAP_ONLY (comma-separated path
prefixes), SQLMAP_LEVEL (default 3), SQLMAP_DATABASE_URL (an empty database to test against
instead of a fresh SQLite file, e.g. PostgreSQL), SQLMAP_TARGET_TIMEOUT (seconds per page;
a page that runs out of time fails the run), SQLMAP_BIN (the sqlmap executable).
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
TARGETS = [
    "/needs/?q=weld&status=collected&field=1&district=x&from=2021-01-01&to=2021-12-31&sort=title",
    "/organisations/?q=weld&kind=company&district=x&sort=name",
    "/visits/?q=x&status=done&district=x&from=2021-01-01&to=2021-12-31&sort=date",
    "/experts/?q=x&field=1&region=x&sort=name",
]


EXTRA = os.environ.get("SQLMAP_EXTRA", "").split()
ONLY = [p for p in os.environ.get("SQLMAP_ONLY", "").split(",") if p]
LEVEL = os.environ.get("SQLMAP_LEVEL", "3")
DATABASE_URL = os.environ.get("SQLMAP_DATABASE_URL")
TARGET_TIMEOUT = int(os.environ.get("SQLMAP_TARGET_TIMEOUT", "900"))
SQLMAP = os.environ.get("SQLMAP_BIN", str(BIN / "sqlmap"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="nt-sqlmap-"))
    env = dict(
        os.environ,
        NEEDS_TRACKER_INSTANCE=str(tmp),
        DATABASE_URL=DATABASE_URL or f"sqlite:///{tmp}/db.sqlite",
        LOGIN_RATE_LIMIT="1000 per minute",
    )
    env.pop("RATELIMIT_STORAGE_URI", None)
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run(
        [*flask, "demo", "seed", "--password", "sqlmap-pass-123"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(50):
            try:
                urllib.request.urlopen(base + "/login", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(base + "/login").read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode(
            {"username": "demo_coordinator", "password": "sqlmap-pass-123", "csrf_token": token}
        ).encode()
        opener.open(base + "/login", data=data)
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        assert "session=" in cookie, "login failed"
        failures = []
        targets = [t for t in TARGETS if not ONLY or any(t.startswith(p) for p in ONLY)]
        for target in targets:
            resp = opener.open(base + target)
            if resp.status != 200 or "/login" in resp.url:
                raise SystemExit(f"not logged in for {target}")
            cmd = [
                SQLMAP,
                "-u",
                base + target,
                "--cookie",
                cookie,
                "--level",
                LEVEL,
                "--risk",
                "1",
                "--batch",
                "--flush-session",
                "--skip-waf",
                "--disable-coloring",
                "--threads",
                "4",
                "--output-dir",
                str(tmp / "sqlmap"),
                "--skip",
                "Cookie,User-Agent,Referer,Host",
                *EXTRA,
            ]
            started = time.time()
            try:
                out = subprocess.run(
                    cmd, capture_output=True, text=True, timeout=TARGET_TIMEOUT
                ).stdout
            except subprocess.TimeoutExpired:
                print(f"sqlmap {target.split('?')[0]}: TIMED OUT after {TARGET_TIMEOUT} s")
                failures.append(target)
                continue
            verdict = "clean"
            if re.search(
                r"is vulnerable|appears to be injectable|sqlmap identified the following injection",
                out,
            ):
                verdict = "INJECTABLE"
                failures.append(target)
            elif "do not appear to be injectable" not in out:
                verdict = "UNKNOWN (no verdict line)"
                failures.append(target)
            print(f"sqlmap {target.split('?')[0]}: {verdict} ({time.time() - started:.0f} s)")
        return 1 if failures else 0
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
