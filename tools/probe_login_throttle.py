"""Probe a running server's login throttle: N failed logins from this address, count answers.

    python tools/probe_login_throttle.py http://127.0.0.1:8000 SOME_USER 40

Each attempt gets a fresh session and CSRF token (as a scripted attacker would), so only the
per-address throttle stands in the way. With several workers and per-worker (memory://)
storage, more than the limit gets through; with shared storage, exactly the limit.
"""

from __future__ import annotations

import collections
import http.cookiejar
import re
import sys
import urllib.error
import urllib.parse
import urllib.request


def probe(base: str, username: str, attempts: int) -> dict[int, int]:
    """Status code -> count for attempts failed logins as username."""
    codes: collections.Counter[int] = collections.Counter()
    for _ in range(attempts):
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(base + "/login").read().decode()
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        token = match.group(1) if match else ""
        data = urllib.parse.urlencode(
            {"csrf_token": token, "username": username, "password": "certainly wrong"}
        ).encode()
        try:
            codes[opener.open(base + "/login", data=data).status] += 1
        except urllib.error.HTTPError as exc:
            codes[exc.code] += 1
    return dict(codes)


if __name__ == "__main__":
    base_url, user, n = sys.argv[1].rstrip("/"), sys.argv[2], int(sys.argv[3])
    result = probe(base_url, user, n)
    print(f"{n} failed logins: " + ", ".join(f"{k}: {v}" for k, v in sorted(result.items())))
