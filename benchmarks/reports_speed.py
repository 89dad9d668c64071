"""Speed of the dashboard page and the monthly report on a large centre.

Usage: .venv/bin/python benchmarks/reports_speed.py [DATABASE_URL] [--runs N]
(default: a fresh SQLite file under /tmp). The database is emptied and filled with one centre
(plus a small second one) holding 10,000 visits, 30,000 needs and 20,000 matches over three
years (2022-01..2024-12), by bulk inserts. Then, through the test client as the centre's
leader, it times GET /dashboard/ and GET /reports/download.json for one month (median of N),
and beside each the "bare SQL": the same statements the request ran, replayed directly on the
DBAPI connection (no ORM, no pandas, no templates) — the floor.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert  # noqa: E402

from needs_tracker import create_app  # noqa: E402
from needs_tracker.common.scoping import Scope, set_scope  # noqa: E402
from needs_tracker.extensions import db  # noqa: E402

N_VISITS, N_NEEDS, N_MATCHES = 10_000, 30_000, 20_000
N_ORGS = 3_000
START = date(2022, 1, 1)
DAYS = (date(2024, 12, 31) - START).days
PASSWORD = "benchmark password 1"
FIELDS = ["工业互联网", "智能检测", "传动与控制", "热管理", "新材料", "工业软件", "人才培养"]
DISTRICTS = ["高新区", "奎文区", "潍城区", "寒亭区", "坊子区", "高密市", "诸城市"]
NEED_STATUSES = ["collected", "assessing", "matching", "matched", "in_progress", "resolved"]
MATCH_PATHS = [
    ["proposed"],
    ["proposed", "contacted"],
    ["proposed", "contacted", "meeting_held"],
    ["proposed", "contacted", "meeting_held", "agreement"],
    ["proposed", "contacted", "meeting_held", "agreement", "resolved"],
    ["proposed", "declined"],
]


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def fill(rng: random.Random) -> tuple[int, str]:
    from needs_tracker.centres.models import Centre, CoBuildingPartner
    from needs_tracker.experts.models import Expert
    from needs_tracker.matching.models import DockingEvent, Match, MatchTransition
    from needs_tracker.needs.models import Need, NeedStatusChange, need_fields
    from needs_tracker.organisations.models import Organisation
    from needs_tracker.taxonomy.models import TechField
    from needs_tracker.users.services import create_user
    from needs_tracker.visits.models import Visit, VisitTeamMember, visit_organisations

    db.drop_all()
    db.create_all()
    set_scope(db.session, Scope.system())
    centre = Centre(name="潍坊服务中心", region="山东省潍坊市")
    other = Centre(name="青岛服务中心", region="山东省青岛市")
    db.session.add_all([centre, other])
    db.session.flush()
    for i, name in enumerate(["中国科协智能制造学会联合体", "潍坊市科协", "潍坊市高新区科技局"]):
        db.session.add(CoBuildingPartner(centre_id=centre.id, name=name, position=i))
    fields = [TechField(name=n, position=i) for i, n in enumerate(FIELDS)]
    db.session.add_all(fields)
    experts = [Expert(name=f"专家{i}", title="教授", organisation="某大学") for i in range(200)]
    db.session.add_all(experts)
    db.session.flush()
    create_user("bench_leader", "领导", "leader", centre.id, PASSWORD)
    db.session.commit()
    cid = centre.id

    def bulk(table, rows):
        for i in range(0, len(rows), 5000):
            db.session.execute(insert(table), rows[i : i + 5000])

    now = datetime.now(UTC)
    common = {"created_at": now, "updated_at": now, "version": 1}
    bulk(
        Organisation,
        [
            dict(
                common,
                id=i,
                centre_id=cid,
                name=f"企业{i}有限公司",
                short_name=f"企业{i}",
                kind="company" if i % 20 else "university",
                district=rng.choice(DISTRICTS),
            )
            for i in range(1, N_ORGS + 1)
        ],
    )
    visits, links, team = [], [], []
    for i in range(1, N_VISITS + 1):
        day = START + timedelta(days=rng.randrange(DAYS))
        visits.append(dict(common, id=i, centre_id=cid, visit_date=day, status="done", purpose=""))
        for org in rng.sample(range(1, N_ORGS + 1), rng.randint(1, 3)):
            links.append({"visit_id": i, "organisation_id": org})
        for pos in range(2):
            team.append(
                {
                    "visit_id": i,
                    "position": pos,
                    "name": f"成员{rng.randrange(30)}",
                    "title": "干事",
                    "organisation_name": "潍坊市科协",
                    "created_at": now,
                    "updated_at": now,
                }
            )
    bulk(Visit, visits)
    bulk(visit_organisations, links)
    bulk(VisitTeamMember, team)
    needs, nf, changes = [], [], []
    for i in range(1, N_NEEDS + 1):
        day = START + timedelta(days=rng.randrange(DAYS))
        status = rng.choice(NEED_STATUSES)
        changed = min(day + timedelta(days=rng.randrange(120)), date(2024, 12, 31))
        needs.append(
            dict(
                common,
                id=i,
                centre_id=cid,
                organisation_id=rng.randrange(1, N_ORGS + 1),
                visit_id=rng.randrange(1, N_VISITS + 1),
                title=f"技术需求{i}",
                description="",
                need_type="rnd",
                urgency=rng.choice(["low", "medium", "high"]),
                collected_on=day,
                status=status,
                close_reason="",
                status_changed_at=at(changed),
            )
        )
        for f in rng.sample(fields, rng.randint(1, 2)):
            nf.append({"need_id": i, "field_id": f.id})
        changes.append(
            {
                "need_id": i,
                "from_status": None,
                "to_status": "collected",
                "changed_at": at(day),
                "note": "",
            }
        )
        if status == "resolved":
            changes.append(
                {
                    "need_id": i,
                    "from_status": "in_progress",
                    "to_status": "resolved",
                    "changed_at": at(changed, 15),
                    "note": "",
                }
            )
    bulk(Need, needs)
    bulk(need_fields, nf)
    bulk(NeedStatusChange, changes)
    events = []
    for i in range(1, 2001):
        day = START + timedelta(days=rng.randrange(DAYS))
        events.append(
            dict(
                common,
                id=i,
                centre_id=cid,
                title=f"对接会{i}",
                held_on=day,
                place="",
                attendees="",
                minutes="",
            )
        )
    bulk(DockingEvent, events)
    matches, steps = [], []
    for i in range(1, N_MATCHES + 1):
        need = needs[rng.randrange(N_NEEDS)]
        path = rng.choice(MATCH_PATHS)
        day = need["collected_on"] + timedelta(days=rng.randrange(1, 30))
        matches.append(
            dict(
                common,
                id=i,
                centre_id=cid,
                need_id=need["id"],
                expert_id=experts[rng.randrange(len(experts))].id,
                status=path[-1],
                reasons="",
                declined_by="",
                decline_reason="",
                decline_note="",
                keep_need_open=False,
                status_changed_at=at(day),
                amount=50 if "agreement" in path else None,
            )
        )
        prev = None
        for step in path:
            steps.append(
                {"match_id": i, "from_status": prev, "to_status": step, "at": at(day), "note": ""}
            )
            prev = step
            day += timedelta(days=rng.randrange(1, 20))
    bulk(Match, matches)
    bulk(MatchTransition, steps)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # autocommit: an ANALYZE inside a rolled-back transaction leaves no statistics
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    return cid, "2024-11"


def time_request(client, url: str, runs: int, engine) -> tuple[float, float, int]:
    """Median wall time of GET url, and of replaying its SQL on the raw connection."""
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    times = []
    for i in range(runs + 1):
        if i == runs:
            event.listen(engine, "before_cursor_execute", capture)
        t0 = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - t0
        if i == runs:
            event.remove(engine, "before_cursor_execute", capture)
        assert response.status_code == 200, (url, response.status_code)
        if 0 < i < runs:  # the first run warms caches
            times.append(elapsed)
    # the request's own statements, minus the login/session bookkeeping (users table)
    statements = [(s, p) for s, p in captured if "FROM users" not in s]
    raw = []
    for _ in range(max(3, runs // 2)):
        conn = engine.raw_connection()
        try:
            cur = conn.cursor()
            t0 = time.perf_counter()
            for statement, params in statements:
                cur.execute(statement, params)
                cur.fetchall()
            raw.append(time.perf_counter() - t0)
        finally:
            conn.close()
    return statistics.median(times), statistics.median(raw), len(statements)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    runs = 11
    if "--runs" in sys.argv:
        runs = int(sys.argv[sys.argv.index("--runs") + 1])
        args = [a for a in args if a != str(runs)]
    url = args[0] if args else "sqlite:////tmp/nt_reports_bench.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    rng = random.Random(20210318)
    with app.app_context():
        t0 = time.perf_counter()
        if "--reuse" in sys.argv:  # the data of an earlier run
            set_scope(db.session, Scope.system())
            cid, month = 1, "2024-11"
        else:
            cid, month = fill(rng)
        print(f"database: {db.engine.dialect.name}; ready in {time.perf_counter() - t0:.1f} s")
        engine = db.engine
    client = app.test_client()
    response = client.post("/login", data={"username": "bench_leader", "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    print(f"{N_VISITS} visits, {N_NEEDS} needs, {N_MATCHES} matches over 3 years; month {month}")
    for label, path, budget in (
        ("dashboard page", f"/dashboard/?centre={cid}&start={month}", 0.300),
        ("dashboard (default period)", "/dashboard/", 0.300),
        ("monthly report JSON", f"/reports/download.json?centre={cid}&start={month}", 1.0),
        (
            "quarter report JSON",
            f"/reports/download.json?centre={cid}&start=2024-10&end=2024-12",
            1.0,
        ),
        ("monthly report docx", f"/reports/download.docx?centre={cid}&start={month}", None),
        ("monthly report xlsx", f"/reports/download.xlsx?centre={cid}&start={month}", None),
    ):
        with app.app_context():
            median, floor, n = time_request(client, path, runs, engine)
        verdict = "" if budget is None else (" OK" if median <= budget else " OVER BUDGET")
        budget_text = f" (budget {budget * 1000:.0f} ms)" if budget else ""
        print(
            f"{label:30s} median {median * 1000:7.1f} ms{budget_text}{verdict}; "
            f"bare SQL {floor * 1000:6.1f} ms in {n} statements"
        )


if __name__ == "__main__":
    main()
