"""National scale: a consortium of 300 centres on one deployment, every page timed.

Generates (times --scale) 300 centres, 50,000 companies, 30,000 visits, 300,000 needs,
20,000 experts, 20,000 resources, 60,000 matches and their status history, need fields and
audit entries, with titles and descriptions taken from the real texts in ../shared/realdata
(read by path, --realdata). Rows are bulk-loaded with executemany in batches, keeping what
the app's bulk import keeps: a need's first status change, its field links, its search
terms (needs_tracker.needs.search) and one audit "create" entry per company, visit and need
(written by needs_tracker.audit.events.record_bulk_creates, as the import does).

Then, for a centre member (centre 1) and for the consortium leader (every centre):
1. single requests through the Flask test client: median and p95 of every list, detail,
   dashboard, report and export page (--repeat requests each, fewer for the slow ones);
2. the query plans of the main list queries (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE
   on PostgreSQL), captured from the SQL the pages really ran;
3. 8 concurrent clients (threads) against a real gunicorn with 2 workers on loopback for
   --seconds per page, beside a bare Flask app on the same gunicorn settings in the same run;
   then the resident memory of each gunicorn worker.

Usage:
  .venv/bin/python benchmarks/scale.py [DATABASE_URL] [--scale 0.05] [--repeat 7]
      [--seconds 5] [--realdata ../shared/realdata] [--keep] [--skip-load] [--no-concurrency]
DATABASE_URL defaults to a SQLite file in a temporary folder; a PostgreSQL URL must name an
empty database that this script may fill (its tables are dropped and created).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, select, text  # noqa: E402

from benchmarks.concurrency_soak import Client, Stats, free_port  # noqa: E402
from benchmarks.imports_speed import code, company_names  # noqa: E402

FULL = {
    "centres": 300,
    "organisations": 50_000,
    "visits": 30_000,
    "needs": 300_000,
    "experts": 20_000,
    "resources": 20_000,
    "matches": 60_000,
}
PASSWORD = "scale-bench-pass-1"
DISTRICTS = ["高新区", "奎文区", "潍城区", "坊子区", "寒亭区", "经开区", "滨海区", "崂山区"]
NEED_STATUSES = [
    ("collected", 30),
    ("assessing", 10),
    ("matching", 15),
    ("matched", 10),
    ("in_progress", 10),
    ("resolved", 15),
    ("closed", 10),
]
MATCH_STATUSES = ["proposed", "contacted", "meeting", "agreed", "declined"]
BATCH = 5000


def bare_app():
    """A bare Flask app answering one short page: the throughput ceiling of the setup."""
    from flask import Flask

    app = Flask("bare")

    @app.route("/")
    def index():
        return "ok"

    return app


def read_csv(folder: Path, name: str) -> list[dict[str, str]]:
    """Rows of one realdata CSV file."""
    with (folder / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def sizes(scale: float) -> dict[str, int]:
    """Row counts for this scale (at least a few of each)."""
    return {k: max(3 if k == "centres" else 20, int(v * scale)) for k, v in FULL.items()}


def _day(rnd: random.Random) -> date:
    return date(2019, 1, 1) + timedelta(days=rnd.randrange(6 * 365))


def _insert(conn, table, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        conn.execute(table.insert(), rows[start : start + BATCH])


def load(app, n: dict[str, int], realdata: Path, seed: int = 17) -> dict[str, Any]:
    """Create the schema and bulk-load the consortium; return ids the timing needs."""
    from needs_tracker.audit.events import record_bulk_creates
    from needs_tracker.auth.models import User
    from needs_tracker.centres.models import Centre
    from needs_tracker.experts.models import Expert, Resource, expert_fields, resource_fields
    from needs_tracker.extensions import db
    from needs_tracker.matching.models import Match, MatchTransition
    from needs_tracker.needs.models import Need, NeedStatusChange, need_fields
    from needs_tracker.needs.search import search_terms
    from needs_tracker.organisations.models import Organisation
    from needs_tracker.taxonomy.models import TechField
    from needs_tracker.visits.models import Visit, VisitTeamMember, visit_organisations

    rnd = random.Random(seed)
    now = datetime.now(UTC)
    need_rows = read_csv(realdata, "needs_51jishu_2019_2020.csv")
    expert_rows = read_csv(realdata, "experts_fudan_zju_faculty.csv")
    ach_rows = read_csv(realdata, "achievements_51jishu_2020.csv")
    field_rows = read_csv(realdata, "taxonomy_51jishu_tech_areas.csv")
    with app.app_context():
        db.drop_all()
        db.create_all()
        conn = db.session.connection()
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")  # persistent: readers never block
        t0 = time.perf_counter()
        centres = [
            {"id": i, "name": f"第{i}科技服务中心", "region": "山东省", "created_at": now}
            for i in range(1, n["centres"] + 1)
        ]
        _insert(conn, Centre.__table__, centres)
        user = User(username="x", display_name="x")
        user.set_password(PASSWORD)
        pw = user.password_hash
        users = [
            {
                "id": i,
                "username": f"member{i}",
                "display_name": f"成员{i}",
                "password_hash": pw,
                "role": "member",
                "centre_id": i,
                "is_consortium": False,
            }
            for i in range(1, n["centres"] + 1)
        ]
        users.append(
            {
                "id": n["centres"] + 1,
                "username": "consortium",
                "display_name": "联合体负责人",
                "password_hash": pw,
                "role": "leader",
                "centre_id": None,
                "is_consortium": True,
            }
        )
        _insert(conn, User.__table__, users)
        unique_names = list(dict.fromkeys(r["name"] for r in field_rows if r["name"]))
        fields = [
            {"id": i, "name": name, "position": i} for i, name in enumerate(unique_names, start=1)
        ]
        _insert(conn, TechField.__table__, fields)
        field_ids = [f["id"] for f in fields]

        names = company_names(n["organisations"], seed)
        orgs = []
        by_centre: dict[int, list[int]] = {}
        for i, name in enumerate(names, start=1):
            centre = (i - 1) % n["centres"] + 1
            by_centre.setdefault(centre, []).append(i)
            orgs.append(
                {
                    "id": i,
                    "centre_id": centre,
                    "name": name,
                    "kind": "company",
                    "credit_code": code(300_000 + i),
                    "district": rnd.choice(DISTRICTS),
                    "industry": "制造业",
                    "size": rnd.choice(["small", "medium", "large"]),
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        _insert(conn, Organisation.__table__, orgs)
        record_bulk_creates(db.session, Organisation, [(o["id"], o) for o in orgs], None)
        print(f"  centres, users, fields, companies: {time.perf_counter() - t0:.1f} s", flush=True)

        visits, links, team = [], [], []
        visits_by_centre: dict[int, list[tuple[int, date]]] = {}
        for i in range(1, n["visits"] + 1):
            centre = rnd.randrange(1, n["centres"] + 1)
            day = _day(rnd)
            visits.append(
                {
                    "id": i,
                    "centre_id": centre,
                    "visit_date": day,
                    "status": "done" if day < date(2024, 10, 1) else "planned",
                    "purpose": "需求征集",
                    "summary": rnd.choice(need_rows)["description"][:120],
                    "created_by_id": centre,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            visits_by_centre.setdefault(centre, []).append((i, day))
            for org in rnd.sample(by_centre[centre], min(2, len(by_centre[centre]))):
                links.append({"visit_id": i, "organisation_id": org})
            team.append(
                {"visit_id": i, "position": 0, "name": "胡志强", "title": "秘书长助理"}
                | {"organisation_name": "联合体", "created_at": now, "updated_at": now}
            )
        _insert(conn, Visit.__table__, visits)
        _insert(conn, visit_organisations, links)
        _insert(conn, VisitTeamMember.__table__, team)
        record_bulk_creates(db.session, Visit, [(v["id"], v) for v in visits], None)
        print(f"  visits: {time.perf_counter() - t0:.1f} s", flush=True)

        statuses = [s for s, _w in NEED_STATUSES]
        weights = [w for _s, w in NEED_STATUSES]
        needs, nf, changes = [], [], []
        for i in range(1, n["needs"] + 1):
            centre = rnd.randrange(1, n["centres"] + 1)
            src = rnd.choice(need_rows)
            status = rnd.choices(statuses, weights)[0]
            day = _day(rnd)
            visit = None
            if visits_by_centre.get(centre) and rnd.random() < 0.3:
                visit, day = rnd.choice(visits_by_centre[centre])
            title, description = src["title"][:200], src["description"]
            needs.append(
                {
                    "id": i,
                    "centre_id": centre,
                    "organisation_id": rnd.choice(by_centre[centre]),
                    "visit_id": visit,
                    "title": title,
                    "description": description,
                    "need_type": "rnd",
                    "urgency": rnd.choice(["low", "medium", "high"]),
                    "budget": None,
                    "collected_on": day,
                    "status": status,
                    "close_reason": "企业自行解决" if status == "closed" else "",
                    "status_changed_at": now,
                    "created_by_id": centre,
                    "search_terms": search_terms(title, description),
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            for fid in rnd.sample(field_ids, 2):
                nf.append({"need_id": i, "field_id": fid})
            changes.append(
                {
                    "need_id": i,
                    "from_status": None,
                    "to_status": "collected",
                    "changed_at": now,
                    "changed_by_id": centre,
                    "note": "import",
                }
            )
            if status != "collected":
                changes.append(
                    {
                        "need_id": i,
                        "from_status": "collected",
                        "to_status": status,
                        "changed_at": now,
                        "changed_by_id": centre,
                        "note": "",
                    }
                )
        print(f"  needs generated: {time.perf_counter() - t0:.1f} s", flush=True)
        _insert(conn, Need.__table__, needs)
        print(f"  needs inserted: {time.perf_counter() - t0:.1f} s", flush=True)
        _insert(conn, need_fields, nf)
        _insert(conn, NeedStatusChange.__table__, changes)
        record_bulk_creates(
            db.session,
            Need,
            [(r["id"], {**r, "fields": []}) for r in needs],
            None,
        )
        print(f"  needs, fields, history, audit: {time.perf_counter() - t0:.1f} s", flush=True)

        experts = []
        for i in range(1, n["experts"] + 1):
            src = expert_rows[(i - 1) % len(expert_rows)]
            experts.append(
                {
                    "id": i,
                    "name": src["name"],
                    "title": src["title"][:60],
                    "organisation": src["institution"],
                    "department": src["department"][:200],
                    "expertise": src["research_areas"],
                    "region": "上海市" if src["institution"] == "复旦大学" else "浙江省",
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        _insert(conn, Expert.__table__, experts)
        _insert(
            conn,
            expert_fields,
            [{"expert_id": e["id"], "field_id": rnd.choice(field_ids)} for e in experts],
        )
        resources = []
        for i in range(1, n["resources"] + 1):
            src = ach_rows[(i - 1) % len(ach_rows)]
            resources.append(
                {
                    "id": i,
                    "name": src["title"][:200],
                    "kind": "achievement",
                    "owner_organisation": src["institutions_mentioned"][:200],
                    "description": src["description"],
                    "maturity": src["maturity"][:60],
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        _insert(conn, Resource.__table__, resources)
        _insert(
            conn,
            resource_fields,
            [{"resource_id": r["id"], "field_id": rnd.choice(field_ids)} for r in resources],
        )
        matches, transitions = [], []
        for i, need in enumerate(rnd.sample(needs, min(n["matches"], len(needs))), start=1):
            status = rnd.choice(MATCH_STATUSES)
            matches.append(
                {
                    "id": i,
                    "centre_id": need["centre_id"],
                    "need_id": need["id"],
                    "expert_id": rnd.randrange(1, n["experts"] + 1),
                    "resource_id": None,
                    "status": status,
                    "score": round(rnd.random(), 3),
                    "amount": 50 if status == "agreed" else None,
                    "status_changed_at": datetime.combine(
                        need["collected_on"], datetime.min.time()
                    ).replace(tzinfo=UTC),
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            transitions.append(
                {"match_id": i, "from_status": None, "to_status": status, "at": now, "note": ""}
            )
        _insert(conn, Match.__table__, matches)
        _insert(conn, MatchTransition.__table__, transitions)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            for table in ("centres", "users", "tech_fields", "organisations", "visits"):
                db.session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
            for table in ("needs", "experts", "resources", "matches"):
                db.session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("VACUUM ANALYZE")
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        print(f"  loaded in {time.perf_counter() - t0:.1f} s", flush=True)
        audit = db.session.scalar(text("SELECT count(*) FROM audit_entries"))
        print(f"  audit entries: {audit:,}", flush=True)
    return {}


def sample_ids(app) -> dict[str, int]:
    """Ids of records of centre 1 (visible to its member and to the leader)."""
    from needs_tracker.experts.models import Expert, Resource
    from needs_tracker.extensions import db
    from needs_tracker.needs.models import Need
    from needs_tracker.organisations.models import Organisation
    from needs_tracker.visits.models import Visit

    with app.app_context():
        return {
            "need": db.session.scalar(select(func.min(Need.id)).where(Need.centre_id == 1)),
            "org": db.session.scalar(
                select(func.min(Organisation.id)).where(Organisation.centre_id == 1)
            ),
            "visit": db.session.scalar(select(func.min(Visit.id)).where(Visit.centre_id == 1)),
            "expert": db.session.scalar(select(func.min(Expert.id))),
            "resource": db.session.scalar(select(func.min(Resource.id))),
        }


def pages(ids: dict[str, int], every: bool = False) -> list[tuple[str, str, bool]]:
    """(group, path, slow) of every page timed; every: the consortium's reports cover every
    centre (?centre=all), a member's its own centre."""
    centre = "centre=all&" if every else ""
    return [
        ("list", "/needs/", False),
        ("list", "/needs/?q=焊接", False),
        ("list", "/needs/?q=轴承", False),
        ("list", "/needs/?q=自动化生产线", False),
        ("list", "/needs/?page=500", False),
        ("list", "/needs/?status=matching", False),
        ("list", "/needs/?sort=title", False),
        ("list", "/needs/?district=高新区&from=2022-01-01", False),
        ("list", "/organisations/", False),
        ("list", "/organisations/?q=机械", False),
        ("list", "/visits/", False),
        ("list", "/visits/?q=需求", False),
        ("list", "/experts/", False),
        ("list", "/experts/?q=机器人", False),
        ("list", "/resources/", False),
        ("list", "/audit/", False),
        ("detail", f"/needs/{ids['need']}", False),
        ("detail", f"/organisations/{ids['org']}", False),
        ("detail", f"/visits/{ids['visit']}", False),
        ("detail", f"/experts/{ids['expert']}", False),
        ("detail", f"/resources/{ids['resource']}", False),
        ("home", "/", False),
        ("dashboard", "/dashboard/", False),
        ("dashboard", "/dashboard/?start=2021-01&end=2023-12", True),
        ("report", f"/reports/?{centre}start=2023-06&end=2023-06", True),
        ("report", f"/reports/?{centre}start=2023-01&end=2023-12", True),
        ("export", "/export/needs.csv?q=焊接", True),
        ("export", "/export/needs.csv", True),
        ("export", "/export/needs.xlsx?status=resolved", True),
    ]


# Pages whose closed months' figures are cached (reports/cache.py): timed once with the cache
# emptied first ("cold"), then from the cache.
CACHED_GROUPS = ("dashboard", "report")


def clear_report_cache(app) -> None:
    """Empty the report facts cache (the next dashboard or report counts every month)."""
    from needs_tracker.extensions import db
    from needs_tracker.reports.models import ReportMonthFacts

    with app.app_context():
        db.session.execute(ReportMonthFacts.__table__.delete())
        db.session.commit()


def time_pages(
    app, username: str, ids: dict[str, int], repeat: int, captured: dict, only: str = ""
) -> None:
    """Print median and p95 of each page for one user (Flask test client, one at a time)."""
    from needs_tracker.extensions import db

    client = app.test_client()
    resp = client.post("/login", data={"username": username, "password": PASSWORD})
    assert resp.status_code == 302, resp.status_code
    statements: list[tuple[str, Any]] = []

    with app.app_context():
        engine = db.engine

    def spy(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    cpu_time = _cpu_clock(engine)
    print(
        f"\n{username}: page | status | median ms | p95 ms | n | rows/bytes | CPU median ms"
        " | cold (cache emptied): wall ms, CPU ms"
        "   (CPU: this process, plus the database server's on PostgreSQL)"
    )
    for group, path, slow in pages(ids, every=username == "consortium"):
        if only and not any(path.startswith(p) for p in only.split(",")):
            continue
        # The unfiltered export writes every row: once is enough to time it.
        n = 1 if path == "/export/needs.csv" else max(2, repeat // 3) if slow else repeat
        cold = ""
        if group in CACHED_GROUPS:
            clear_report_cache(app)
            start, cpu = time.perf_counter(), cpu_time()
            resp = client.get(path)
            resp.get_data()
            cold = (
                f" | cold {(time.perf_counter() - start) * 1000:8.1f}"
                f" / {(cpu_time() - cpu) * 1000:8.1f}"
            )
            n = max(n, 3)
        times, cpus = [], []
        status = size = 0
        for k in range(n):
            if k == 0:
                statements.clear()
                event.listen(engine, "before_cursor_execute", spy)
            start, cpu = time.perf_counter(), cpu_time()
            resp = client.get(path)
            body = resp.get_data()
            times.append((time.perf_counter() - start) * 1000)
            cpus.append((cpu_time() - cpu) * 1000)
            if k == 0:
                event.remove(engine, "before_cursor_execute", spy)
                captured[(username, path)] = list(statements)
            status, size = resp.status_code, len(body)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        extra = resp.headers.get("X-Export-Rows", "")
        print(
            f"{group:9} {path:45} {status} | {statistics.median(times):8.1f} | {p95:8.1f} "
            f"| {n} | {extra + ' rows' if extra else f'{size:,} B'} "
            f"| {statistics.median(cpus):8.1f}{cold}",
            flush=True,
        )


def _cpu_clock(engine) -> Any:
    """Seconds of CPU used so far by this process and, on PostgreSQL (same machine), by the
    database's server processes: the machine is shared, so wall time alone is noise."""
    if engine.dialect.name != "postgresql":
        return time.process_time
    with engine.connect() as conn:
        database = conn.exec_driver_sql("SELECT current_database()").scalar()
    tick = os.sysconf("SC_CLK_TCK")

    def server() -> float:
        with engine.connect() as conn:
            pids = conn.exec_driver_sql(
                "SELECT pid FROM pg_stat_activity WHERE datname = %(db)s", {"db": database}
            ).scalars()
            total = 0
            for pid in pids:
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                total += int(fields[11]) + int(fields[12])  # utime + stime
        return total / tick

    return lambda: time.process_time() + server()


def catch_up_schema(app) -> None:
    """Tables and indexes the code gained since the data was loaded (--skip-load)."""
    from sqlalchemy import inspect

    from needs_tracker.extensions import db

    with app.app_context():
        db.create_all()  # missing tables only
        added = []
        with db.engine.begin() as conn:
            for table in db.metadata.sorted_tables:
                for index in table.indexes:
                    exists = inspect(conn).get_indexes(table.name)
                    if index.name not in {i["name"] for i in exists}:
                        index.create(conn)
                        added.append(table.name)
            for name in dict.fromkeys(added):
                conn.exec_driver_sql(f"ANALYZE {name}")
        if added:
            print(f"  schema caught up: indexes added on {sorted(set(added))}", flush=True)


def print_plans(app, captured: dict) -> None:
    """EXPLAIN the main (paged) query of each list page, as the page ran it."""
    from needs_tracker.extensions import db

    wanted = [
        "/needs/",
        "/needs/?q=焊接",
        "/needs/?page=500",
        "/needs/?status=matching",
        "/visits/",
        "/organisations/",
    ]
    with app.app_context():
        dialect = db.engine.dialect.name
        with db.engine.connect() as conn:
            for (user, path), stmts in captured.items():
                if path not in wanted:
                    continue
                main = [s for s in stmts if "LIMIT" in s[0].upper() and "count(" not in s[0]]
                counts = [s for s in stmts if "count(" in s[0]]
                for label, pick in (("page", main[-1:]), ("count", counts[-1:])):
                    for sql, params in pick:
                        print(f"\n-- plan ({user}, {path}, {label}):")
                        prefix = (
                            "EXPLAIN QUERY PLAN "
                            if dialect == "sqlite"
                            else ("EXPLAIN (ANALYZE, BUFFERS OFF) ")
                        )
                        rows = conn.exec_driver_sql(prefix + sql, params).all()
                        for row in rows:
                            print("   ", row[-1] if dialect == "sqlite" else row[0])


def login(c: Client, username: str) -> None:
    """Log a gunicorn client in through the real form (CSRF token included)."""
    token, _ = c.form("/login")
    form = [("csrf_token", token), ("username", username), ("password", PASSWORD)]
    status, body, _ = c.request("/login", form)
    if status != 302:
        raise RuntimeError(f"login {username}: {status} {body[-1500:]}")


def warm(c: Client, path: str) -> None:
    """One untimed request with a long timeout (a worker's first need page builds the
    matching index, which took more than 30 s at full size on the loaded machine)."""
    try:
        c.opener.open(urllib.request.Request(c.base + path), timeout=600).read()
    except OSError as exc:
        print(f"  warm-up of {path}: {exc}", flush=True)


def concurrency(env: dict[str, str], ids: dict[str, int], seconds: float) -> None:
    """8 client threads against gunicorn (2 workers): throughput per page and bare Flask."""
    results = []
    targets = [
        ("bare Flask", None, "/"),
        ("member1", "member1", "/needs/"),
        ("member1", "member1", "/needs/?q=焊接"),
        ("member1", "member1", "/visits/"),
        ("member1", "member1", f"/needs/{ids['need']}"),
        ("consortium", "consortium", "/needs/"),
        ("consortium", "consortium", "/needs/?q=焊接"),
        ("consortium", "consortium", "/organisations/"),
        ("consortium", "consortium", "/experts/"),
    ]
    tmp = Path(env["NEEDS_TRACKER_INSTANCE"])
    servers = {}
    try:
        for name, spec in (("bare", "benchmarks.scale:bare_app()"), ("app", "wsgi:app")):
            port = free_port()
            log = (tmp / f"gunicorn-{name}.log").open("w")
            servers[name] = (
                subprocess.Popen(  # noqa: S603 - fixed arguments
                    [
                        str(ROOT / ".venv/bin/gunicorn"),
                        "-w",
                        "2",
                        "-b",
                        f"127.0.0.1:{port}",
                        "--timeout",
                        "120",
                        spec,
                    ],
                    cwd=ROOT,
                    env={**os.environ, **env},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                ),
                f"http://127.0.0.1:{port}",
            )
        for _proc, base in servers.values():
            for _ in range(150):
                try:
                    urllib.request.urlopen(base + "/", timeout=2).close()  # noqa: S310
                    break
                except urllib.error.HTTPError:
                    break
                except OSError:
                    time.sleep(0.2)
        print(f"\n8 concurrent clients, gunicorn -w 2, {seconds:.0f} s per page:")
        print("user | page | requests/s | median ms | p95 ms | errors | % of bare")
        bare_rps = None
        for user, username, path in targets:
            base = servers["bare" if username is None else "app"][1]
            clients = []
            for _ in range(8):
                c = Client(base, Stats())
                if username:
                    login(c, username)
                c.stats = Stats()
                clients.append(c)

            quoted = urllib.parse.quote(path, safe="/?=&")

            with ThreadPoolExecutor(8) as pool:
                # Warm-up, untimed: each worker's first need page builds the matching
                # index (seconds), which is not what a steady state costs.
                list(pool.map(lambda c, p=quoted: warm(c, p), clients))
            for c in clients:
                c.stats = Stats()
            deadline = time.monotonic() + seconds

            def run(c: Client, path=quoted, deadline=deadline) -> None:
                while time.monotonic() < deadline:
                    try:
                        c.request(path)
                    except OSError:  # a client-side timeout (30 s) counts as an error
                        c.stats.add(30.0, 0)

            start = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(run, clients))
            elapsed = time.perf_counter() - start
            lat = sorted(x for c in clients for x in c.stats.latencies)
            ok = sum(c.stats.statuses[200] for c in clients)
            errors = sum(sum(c.stats.statuses.values()) for c in clients) - ok
            rps = ok / elapsed
            if bare_rps is None:
                bare_rps = rps
            p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))] * 1000 if lat else 0
            med = statistics.median(lat) * 1000 if lat else 0
            share = 100 * rps / bare_rps if bare_rps else 0
            print(
                f"{user:10} {path:30} | {rps:8.1f} | {med:7.0f} | {p95:7.0f} | {errors} "
                f"| {share:5.1f}%",
                flush=True,
            )
            results.append((user, path, rps))
        proc = servers["app"][0]
        kids = subprocess.run(  # noqa: S603
            ["ps", "-o", "pid=,rss=", "--ppid", str(proc.pid)],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        rss = [int(kids[i + 1]) // 1024 for i in range(0, len(kids), 2)]
        print(f"gunicorn worker resident memory after the run: {rss} MiB")
    finally:
        for proc, _base in servers.values():
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def main() -> int:
    """Load (unless --skip-load), time, explain, and run the concurrency test."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default=None)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--realdata", default=str(ROOT / ".." / "shared" / "realdata"))
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file")
    parser.add_argument("--skip-load", action="store_true", help="reuse the data at URL")
    parser.add_argument("--no-concurrency", action="store_true")
    parser.add_argument("--only", default="", help="time only paths starting so (a,b,...)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="nt-scale-"))
    url = args.url or f"sqlite:///{tmp / 'scale.db'}"
    env = {
        "NEEDS_TRACKER_CONFIG": "development",
        "NEEDS_TRACKER_INSTANCE": str(tmp),
        "DATABASE_URL": url,
        "SECRET_KEY": "scale-" + "x" * 40,
        "LOGIN_RATE_LIMIT": "100000 per minute",
        "ATTACHMENT_FOLDER": str(tmp / "attachments"),
    }
    os.environ.update(env)
    from needs_tracker import create_app

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
    )
    n = sizes(args.scale)
    load_avg = os.getloadavg()
    print(f"database: {url.split(':', 1)[0]}; scale {args.scale}: {n}")
    print(f"load average at start: {load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f}")
    if not args.skip_load:
        t0 = time.perf_counter()
        load(app, n, Path(args.realdata))
        print(f"bulk load: {time.perf_counter() - t0:.1f} s", flush=True)
    else:
        catch_up_schema(app)
    ids = sample_ids(app)
    captured: dict = {}
    time_pages(app, "member1", ids, args.repeat, captured, args.only)
    time_pages(app, "consortium", ids, args.repeat, captured, args.only)
    print_plans(app, captured)
    from needs_tracker.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # no connection of this process may hold the SQLite file
    if not args.no_concurrency:
        concurrency(env, ids, args.seconds)
    load_avg = os.getloadavg()
    print(f"\nload average at end: {load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f}")
    if args.keep or args.url:
        print(f"data kept at {url}")
    else:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    threading.stack_size(1 << 20)
    sys.exit(main())
