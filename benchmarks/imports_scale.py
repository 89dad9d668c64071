"""Import scale: 50,000 companies with distinct valid credit codes must create 50,000.

Two files of 50,000 generated companies, each previewed and committed into its own centre:
  A. every row has its own valid 统一社会信用代码; a fifth of the names differ only by a
     number (潍坊校验测试机械123有限公司), the rest are random and often alike;
  B. the outside probe of issue 12: 70% of the rows with distinct valid codes, 30% without
     a code; the rows without a code whose names resemble another wait for merge-or-keep
     (here: "keep both", as `flask import --on-duplicate keep`).
Each run checks the counts (companies, import records for undo, audit entries) and exits 1
when a company is missing.

Usage: .venv/bin/python benchmarks/imports_scale.py [DATABASE_URL]
(default: a temporary SQLite file). Prints one line per figure.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from benchmarks.imports_speed import code, company_names  # noqa: E402
from needs_tracker import create_app  # noqa: E402
from needs_tracker.audit.models import AuditEntry  # noqa: E402
from needs_tracker.common.scoping import Scope, set_scope  # noqa: E402
from needs_tracker.extensions import db  # noqa: E402
from needs_tracker.imports.commit import commit_import  # noqa: E402
from needs_tracker.imports.export import to_xlsx  # noqa: E402
from needs_tracker.imports.models import ImportRecord  # noqa: E402
from needs_tracker.imports.plan import plan_import  # noqa: E402
from needs_tracker.imports.registry import parse_file  # noqa: E402
from needs_tracker.organisations.models import Organisation  # noqa: E402

N = 50_000
HEADERS = ["企业名称", "统一社会信用代码", "所属区县", "行业", "企业规模", "联系人"]


def rows_all_coded() -> list[list[str]]:
    """Scenario A: 50,000 names (10,000 differing only by a number), each its own code."""
    names = [f"潍坊校验测试机械{i}有限公司" for i in range(N // 5)]
    names += company_names(N - len(names), 7)
    return [[n, code(100_000 + i), "高新区", "制造", "小型", "王工"] for i, n in enumerate(names)]


def rows_probe() -> list[list[str]]:
    """Scenario B: 70% with distinct codes, 30% without."""
    names = company_names(N, 8)
    return [
        [n, code(200_000 + i) if i % 10 < 7 else "", "高新区", "制造", "小型", ""]
        for i, n in enumerate(names)
    ]


def count(stmt) -> int:
    return db.session.scalar(stmt)


def run(label: str, rows: list[list[str]], centre_id: int, on_duplicate: str | None) -> bool:
    """Preview and commit one file; print times and counts; True when every row was created."""
    data = to_xlsx(HEADERS, rows)
    t0 = time.perf_counter()
    parsed = parse_file("organisations", "scale.xlsx", data)
    t1 = time.perf_counter()
    plan = plan_import(parsed, centre_id)
    t2 = time.perf_counter()
    print(f"{label}: parse {t1 - t0:.2f} s, preview {t2 - t1:.2f} s; preview counts {plan.counts}")
    if on_duplicate and plan.undecided:
        plan = plan_import(parsed, centre_id, on_duplicate=on_duplicate)
        print(
            f"{label}: preview again with --on-duplicate {on_duplicate}: {time.perf_counter() - t2:.2f} s"
        )
    t3 = time.perf_counter()
    batch = commit_import(plan, None, "scale.xlsx")
    db.session.commit()
    t4 = time.perf_counter()
    created = count(
        select(func.count()).select_from(Organisation).where(Organisation.centre_id == centre_id)
    )
    records = count(
        select(func.count()).select_from(ImportRecord).where(ImportRecord.batch_id == batch.id)
    )
    audits = count(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.table_name == "organisations",
            AuditEntry.action == "create",
            AuditEntry.centre_id == centre_id,
        )
    )
    print(
        f"{label}: commit {t4 - t3:.2f} s; total {t4 - t0:.2f} s; rows {len(rows):,}, "
        f"created {batch.created_count:,} (companies in the centre {created:,}, import records "
        f"{records:,}, audit entries {audits:,}), skipped {batch.skipped_count}"
    )
    return created == records == audits == len(rows)


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else None
    tmp = None
    if url is None:
        tmp = tempfile.mkdtemp()
        url = f"sqlite:///{tmp}/scale.db"
    os.environ.setdefault("NEEDS_TRACKER_INSTANCE", tmp or tempfile.mkdtemp())
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    print(f"database: {url.split('@')[-1]}")
    ok = True
    with app.app_context():
        db.drop_all()
        db.create_all()
        set_scope(db.session, Scope.system())
        from needs_tracker.centres.services import create_centre

        a = create_centre("规模测试中心A", "", [])
        b = create_centre("规模测试中心B", "", [])
        db.session.commit()
        ok &= run("A: 50,000, all with distinct codes", rows_all_coded(), a.id, None)
        ok &= run("B: 50,000, 70% with codes", rows_probe(), b.id, "keep")
        db.session.remove()
        db.drop_all()
    print("every company created" if ok else "COMPANIES MISSING")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
