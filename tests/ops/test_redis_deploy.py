"""A multi-worker deployment with REDIS_URL, as the README describes: workers boot, pages serve."""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gunicorn() -> str:
    candidate = Path(sys.executable).parent / "gunicorn"
    return str(candidate if candidate.exists() else ROOT / ".venv" / "bin" / "gunicorn")


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_two_gunicorn_workers_serve_with_redis_url(redis_url, tmp_path):
    """Both workers boot with REDIS_URL set, a page is served, and throttling counts in Redis."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"TEST_DATABASE_URL", "RATELIMIT_STORAGE_URI", "FLASK_DEBUG"}
    }
    env.update(
        NEEDS_TRACKER_CONFIG="production",
        NEEDS_TRACKER_INSTANCE=str(tmp_path / "instance"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.db'}",
        SECRET_KEY="7c2f0a9e4b1d8c6f3a5e2b0d9c7f4a1e8b6d3c0f5a2e9b7d",
        REDIS_URL=redis_url,
        # Plain HTTP on loopback (HTTPS is the proxy's job), so the cookie may travel over it.
        FORCE_HTTPS="0",
        SESSION_COOKIE_SECURE="0",
        PYTHONUNBUFFERED="1",
    )
    schema = "from wsgi import app; from needs_tracker.extensions import db; "
    schema += "app.app_context().push(); db.create_all()"
    subprocess.run([sys.executable, "-c", schema], cwd=ROOT, env=env, check=True, timeout=120)
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        # No --preload: like the README's command, each worker imports the app itself.
        proc = subprocess.Popen(
            [_gunicorn(), "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/login"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"gunicorn exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no page served:\n{log.read_text()[-3000:]}"
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url, timeout=2) as response:
                    status = response.status
                    page = response.read().decode()
                break
            time.sleep(0.3)
        assert status == 200
        assert 'name="username"' in page
        # Both workers have booted (a worker that cannot boot makes gunicorn halt at once).
        while len(re.findall(r"Booting worker", log.read_text())) < 2:
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.3)
        time.sleep(1)
        assert proc.poll() is None, log.read_text()[-3000:]
        assert "Worker failed to boot" not in log.read_text()

        # A login attempt is counted in Redis (the storage every worker shares).
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(url, timeout=10) as response:
            form = response.read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        data = urllib.parse.urlencode(
            {"csrf_token": token, "username": "nobody", "password": "wrong password"}
        ).encode()
        with opener.open(urllib.request.Request(url, data=data), timeout=10) as response:
            assert response.status == 200
        client = redis.Redis.from_url(redis_url)
        assert any(b"login" in key for key in client.keys("*")), client.keys("*")
    finally:
        _stop(proc)
