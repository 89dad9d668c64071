"""Concurrency soak: 20 simulated users create and edit visits and needs through the real forms
of a gunicorn server on loopback for 60 s, then every acknowledged write is checked.

Usage: .venv/bin/python benchmarks/concurrency_soak.py [--users 20] [--seconds 60]
       [--workers 4] [--database-url postgresql+psycopg://postgres@127.0.0.1/nt_ops_soak]
(default database: a fresh SQLite file in WAL mode in a temporary directory).

Checks after the run:
- every acknowledged create (302 to the new record) exists exactly once (titles are unique tokens);
- every record ends with the title of its creator's last acknowledged edit;
- the shared "hot" need, edited by everyone at once, has version 1 + acknowledged edits
  (stale forms are refused, never silently merged);
- the audit trail has exactly one create entry per created record and one update entry per
  acknowledged title edit, each naming the user who made it;
- no 5xx responses.
"""

from __future__ import annotations

import argparse
import html
import http.cookiejar
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "soak test passphrase"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION_RE = re.compile(r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup_database(env: dict[str, str], users: int) -> dict:
    """Create the schema and seed two centres, the users and some companies."""
    os.environ.update(env)
    from sqlalchemy import select, text

    from needs_tracker import create_app
    from needs_tracker.auth.models import User
    from needs_tracker.centres.services import create_centre
    from needs_tracker.common.scoping import Scope, set_scope
    from needs_tracker.extensions import db
    from needs_tracker.needs.services import NeedData, create_need
    from needs_tracker.organisations.models import Organisation
    from needs_tracker.users.services import create_user

    app = create_app("development")
    with app.app_context():
        if db.engine.url.get_backend_name() == "sqlite":
            with db.engine.connect() as conn:
                conn.execute(text("PRAGMA journal_mode=WAL"))
        db.drop_all()
        db.create_all()
        set_scope(db.session, Scope.system())
        centres = [create_centre(f"压测中心{i}", "山东省", []) for i in range(2)]
        db.session.flush()
        orgs: dict[int, list[int]] = {}
        for c in centres:
            rows = [
                Organisation(centre_id=c.id, name=f"{c.name}企业{j}", district="高新区")
                for j in range(5)
            ]
            db.session.add_all(rows)
            db.session.flush()
            orgs[c.id] = [o.id for o in rows]
        accounts: list[tuple[str, int, str]] = []
        first_hash = None
        for i in range(users):
            centre = centres[i % 2]
            role = "coordinator" if i < 6 else "member"  # 3 per centre race on the hot need
            if first_hash is None:
                user, _ = create_user(f"soak{i}", f"压测用户{i}", role, centre.id, PASSWORD)
                first_hash = user.password_hash
            else:  # one scrypt hash, copied: seeding stays fast
                user = User(
                    username=f"soak{i}",
                    display_name=f"压测用户{i}",
                    role=role,
                    centre_id=centre.id,
                    password_hash=first_hash,
                )
                db.session.add(user)
            accounts.append((user.username, centre.id, role))
        db.session.flush()
        hot = {}
        for c in centres:
            need = create_need(
                NeedData(
                    organisation_id=orgs[c.id][0],
                    title=f"HOT-{c.id}",
                    description="所有人同时编辑",
                    collected_on=date(2021, 3, 18),
                ),
                c.id,
                None,
            )
            db.session.flush()
            hot[c.id] = need.id
        db.session.commit()
        user_ids = {name: uid for name, uid in db.session.execute(select(User.username, User.id))}
        db.engine.dispose()
    return {"accounts": accounts, "orgs": orgs, "hot": hot, "user_ids": user_ids}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: D102
        return None


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[status] += 1


@dataclass
class Ledger:
    """What the server acknowledged (302 after a POST)."""

    created: list[tuple[str, int, str, str]] = field(default_factory=list)  # kind,id,title,user
    edits: list[tuple[str, int, str, str]] = field(default_factory=list)  # kind,id,title,user
    hot_edits: Counter = field(default_factory=Counter)  # need id -> acknowledged edits
    stale_refusals: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client:
    def __init__(self, base: str, stats: Stats) -> None:
        self.base = base
        self.stats = stats
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )

    def request(self, path: str, data: list[tuple[str, str]] | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body)
        start = time.perf_counter()
        try:
            with self.opener.open(req, timeout=30) as resp:
                status, text, location = resp.status, resp.read().decode(), ""
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode(errors="replace")
            location = exc.headers.get("Location", "")
        self.stats.add(time.perf_counter() - start, status)
        return status, text, location

    def form(self, path: str) -> tuple[str, str | None]:
        status, text, _ = self.request(path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status}")
        token = CSRF_RE.search(text)
        version = VERSION_RE.search(text)
        v = (version.group(1) or version.group(2)) if version else None
        return html.unescape(token.group(1)) if token else "", v

    def login(self, username: str) -> None:
        token, _ = self.form("/login")
        status, _, _ = self.request(
            "/login", [("csrf_token", token), ("username", username), ("password", PASSWORD)]
        )
        if status != 302:
            raise RuntimeError(f"login {username}: {status}")


def need_fields(org_id: int, title: str) -> list[tuple[str, str]]:
    return [
        ("organisation_id", str(org_id)),
        ("visit_id", ""),
        ("title", title),
        ("description", "压测需求"),
        ("need_type", "rnd"),
        ("urgency", "medium"),
        ("budget", ""),
        ("collected_on", "2021-03-20"),
    ]


def visit_fields(org_id: int, purpose: str, need_title: str) -> list[tuple[str, str]]:
    return [
        ("visit_date", "2021-03-18"),
        ("status", "done"),
        ("purpose", purpose),
        ("organisation_ids", str(org_id)),
        ("new_organisations", ""),
        ("summary", "压测走访"),
        ("team-0-name", "胡志强"),
        ("team-0-title", "秘书长助理"),
        ("team-0-organisation_name", "联合体"),
        ("needs-0-organisation", str(org_id)),
        ("needs-0-title", need_title),
        ("needs-0-description", "走访时收集"),
        ("needs-0-need_type", "rnd"),
        ("needs-0-urgency", "low"),
    ]


def simulate(
    username: str,
    centre_id: int,
    seed: dict,
    role: str,
    base: str,
    deadline: float,
    stats: Stats,
    ledger: Ledger,
    errors: list[str],
) -> None:
    rnd = random.Random(username)
    client = Client(base, stats)
    try:
        client.login(username)
    except Exception as exc:  # noqa: BLE001 - report and stop this user
        errors.append(f"{username}: {exc}")
        return
    orgs = seed["orgs"][centre_id]
    hot = seed["hot"][centre_id]
    mine: list[tuple[str, int, int]] = []  # kind, id, org
    n = 0
    while time.monotonic() < deadline:
        n += 1
        token_title = f"{username}-{n}-{rnd.randrange(10**9)}"
        choice = rnd.random()
        try:
            if choice < 0.25 or not mine:
                org = rnd.choice(orgs)
                csrf, _ = client.form("/needs/new")
                status, _, loc = client.request(
                    "/needs/new", [("csrf_token", csrf), *need_fields(org, token_title)]
                )
                if status == 302 and "/needs/" in loc:
                    rid = int(loc.rstrip("/").rsplit("/", 1)[-1])
                    mine.append(("need", rid, org))
                    with ledger.lock:
                        ledger.created.append(("needs", rid, token_title, username))
                elif status >= 500:
                    errors.append(f"{username} create need: {status}")
            elif choice < 0.45:
                org = rnd.choice(orgs)
                csrf, _ = client.form("/visits/new")
                status, _, loc = client.request(
                    "/visits/new",
                    [("csrf_token", csrf), *visit_fields(org, token_title, token_title + "-n")],
                )
                if status == 302 and "/visits/" in loc:
                    rid = int(loc.rstrip("/").rsplit("/", 1)[-1])
                    with ledger.lock:
                        ledger.created.append(("visits", rid, token_title, username))
                elif status >= 500:
                    errors.append(f"{username} create visit: {status}")
            elif choice < 0.75:
                kind, rid, org = rnd.choice([m for m in mine if m[0] == "need"])
                csrf, version = client.form(f"/needs/{rid}/edit")
                status, _, loc = client.request(
                    f"/needs/{rid}/edit",
                    [
                        ("csrf_token", csrf),
                        ("version", version or ""),
                        *need_fields(org, token_title),
                    ],
                )
                if status == 302 and f"/needs/{rid}" in loc:
                    with ledger.lock:
                        ledger.edits.append(("needs", rid, token_title, username))
                elif status >= 500:
                    errors.append(f"{username} edit need: {status}")
            elif role != "coordinator":
                continue  # only coordinators edit needs they did not record
            else:
                csrf, version = client.form(f"/needs/{hot}/edit")
                time.sleep(rnd.random() * 0.05)  # widen the race window
                status, text, loc = client.request(
                    f"/needs/{hot}/edit",
                    [
                        ("csrf_token", csrf),
                        ("version", version or ""),
                        *[
                            (k, token_title if k == "description" else v)
                            for k, v in need_fields(seed["orgs"][centre_id][0], f"HOT-{centre_id}")
                        ],
                    ],
                )
                with ledger.lock:
                    if status == 302 and f"/needs/{hot}" in loc:
                        ledger.hot_edits[hot] += 1
                        ledger.edits.append(("hot", hot, token_title, username))
                    elif status in (200, 303):  # stale form / lost the race at the database
                        ledger.stale_refusals += 1
                if status >= 500:
                    errors.append(f"{username} edit hot need: {status}")
        except Exception as exc:  # noqa: BLE001 - a failed request is a finding, keep going
            errors.append(f"{username}: {type(exc).__name__}: {exc}")


def verify(env: dict[str, str], seed: dict, ledger: Ledger) -> list[str]:
    """Every acknowledged write present exactly once, the audit trail matching."""
    from sqlalchemy import func, select

    from needs_tracker import create_app
    from needs_tracker.audit.models import AuditEntry
    from needs_tracker.common.scoping import Scope, set_scope
    from needs_tracker.extensions import db
    from needs_tracker.needs.models import Need
    from needs_tracker.visits.models import Visit

    problems = []
    os.environ.update(env)
    app = create_app("development")
    with app.app_context():
        set_scope(db.session, Scope.system())
        final_title: dict[tuple[str, int], str] = {}
        edited = {(k, r) for k, r, _t, _u in ledger.edits}
        for kind, rid, title, user in ledger.created:
            model, col = (Need, Need.title) if kind == "needs" else (Visit, Visit.purpose)
            key = "title" if kind == "needs" else "purpose"
            if db.session.scalar(select(func.count(model.id)).where(model.id == rid)) != 1:
                problems.append(f"{kind} {rid} ({title}): missing")
            if (kind, rid) not in edited:
                n = db.session.scalar(select(func.count(model.id)).where(col == title))
                if n != 1:
                    problems.append(f"{kind} {title}: {n} rows (expected 1)")
            final_title[(kind, rid)] = title
            entries = db.session.scalar(
                select(func.count(AuditEntry.id)).where(
                    AuditEntry.table_name == kind,
                    AuditEntry.action == "create",
                    AuditEntry.user_id == seed["user_ids"][user],
                    func.coalesce(AuditEntry.after[key].as_string(), "") == title,
                )
            )
            if entries != 1:
                problems.append(f"{kind} {rid}: {entries} audit create entries (expected 1)")
        for kind, rid, title, user in ledger.edits:
            if kind == "hot":
                continue
            final_title[(kind, rid)] = title  # edits of one record come from one thread, in order
            n = db.session.scalar(
                select(func.count(AuditEntry.id)).where(
                    AuditEntry.table_name == kind,
                    AuditEntry.record_id == rid,
                    AuditEntry.action == "update",
                    AuditEntry.user_id == seed["user_ids"][user],
                    func.coalesce(AuditEntry.after["title"].as_string(), "") == title,
                )
            )
            if n != 1:
                problems.append(f"edit {kind} {rid} -> {title}: {n} audit entries (expected 1)")
        for (kind, rid), title in final_title.items():
            if kind != "needs":
                continue
            stored = db.session.scalar(select(Need.title).where(Need.id == rid))
            if stored != title:
                problems.append(f"need {rid}: title {stored!r}, last acknowledged {title!r}")
        for hot in seed["hot"].values():
            version = db.session.scalar(select(Need.version).where(Need.id == hot))
            acked = ledger.hot_edits[hot]
            if version != 1 + acked:
                problems.append(f"hot need {hot}: version {version}, acknowledged edits {acked}")
            updates = db.session.scalar(
                select(func.count(AuditEntry.id)).where(
                    AuditEntry.table_name == "needs",
                    AuditEntry.record_id == hot,
                    AuditEntry.action == "update",
                )
            )
            if updates != acked:
                problems.append(f"hot need {hot}: {updates} audit updates, {acked} acknowledged")
        db.engine.dispose()
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="nt-soak-"))
    url = args.database_url or f"sqlite:///{tmp / 'soak.db'}"
    env = {
        "NEEDS_TRACKER_CONFIG": "development",
        "NEEDS_TRACKER_INSTANCE": str(tmp),
        "DATABASE_URL": url,
        "SECRET_KEY": "soak-" + "x" * 40,
        "LOGIN_RATE_LIMIT": "100000 per minute",
        "ATTACHMENT_FOLDER": str(tmp / "attachments"),
    }
    t0 = time.perf_counter()
    seed = setup_database(env, args.users)
    print(f"seeded in {time.perf_counter() - t0:.1f} s", flush=True)
    port = free_port()
    log = (tmp / "gunicorn.log").open("w")
    server = subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "wsgi:app",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: master and workers stop together
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/login", timeout=2).close()  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        stats, ledger, errors = Stats(), Ledger(), []
        deadline = time.monotonic() + args.seconds
        threads = [
            threading.Thread(
                target=simulate,
                args=(u, c, seed, r, base, deadline, stats, ledger, errors),
                daemon=True,
            )
            for u, c, r in seed["accounts"]
        ]
        print(f"server up; running {args.users} users for {args.seconds:.0f} s", flush=True)
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=args.seconds + 60)
        elapsed = time.perf_counter() - started
        hung = sum(t.is_alive() for t in threads)
    finally:
        os.killpg(server.pid, signal.SIGINT)  # quick shutdown of master and workers
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
    problems = verify(env, seed, ledger)
    lat = sorted(stats.latencies)
    q = statistics.quantiles(lat, n=100) if len(lat) > 1 else [0] * 99
    backend = url.split(":", 1)[0]
    print(f"database: {backend}; gunicorn workers: {args.workers}; users: {args.users}")
    print(f"duration: {elapsed:.1f} s; requests: {len(lat)} ({len(lat) / elapsed:.1f}/s)")
    print(f"status codes: {dict(sorted(stats.statuses.items()))}")
    print(f"latency ms: p50 {q[49] * 1000:.0f}, p95 {q[94] * 1000:.0f}, max {lat[-1] * 1000:.0f}")
    print(
        f"acknowledged creates: {len(ledger.created)}; edits of own needs: "
        f"{sum(1 for e in ledger.edits if e[0] != 'hot')}; hot-need edits: "
        f"{sum(ledger.hot_edits.values())}; stale edits refused: {ledger.stale_refusals}"
    )
    print(f"client errors: {len(errors)}; threads still running: {hung}")
    for e in errors[:10]:
        print(f"  error: {e}")
    print(f"verification problems: {len(problems)}")
    for p in problems[:20]:
        print(f"  problem: {p}")
    fivexx = sum(n for s, n in stats.statuses.items() if s >= 500)
    ok = not problems and not errors and not hung and not fivexx
    print("RESULT: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
