"""Import the real public data files through the importer (by path; nothing is copied).

Usage: .venv/bin/python benchmarks/imports_realdata.py [REALDATA_DIR] [DATABASE_URL]
(defaults: ../shared/realdata and a temporary SQLite file).

- needs_51jishu_2019_2020.csv mapped to the needs template, every need under one placeholder
  company (the source has no company names);
- experts_fudan_zju_faculty.csv mapped to the experts template;
- achievements_51jishu_2020.csv mapped to the resources template (科技成果 / 专利).
Prints timings, counts, the duplicates found compared with the files' own duplicate_of
column, and how empty fields were handled.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from needs_tracker import create_app  # noqa: E402
from needs_tracker.common.scoping import Scope, set_scope  # noqa: E402
from needs_tracker.extensions import db  # noqa: E402
from needs_tracker.imports.commit import commit_import  # noqa: E402
from needs_tracker.imports.export import to_csv  # noqa: E402
from needs_tracker.imports.plan import plan_import  # noqa: E402
from needs_tracker.imports.registry import parse_file  # noqa: E402

PLACEHOLDER = "公开技术市场需求方（占位企业）"


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def run(kind: str, label: str, headers: list[str], rows: list[list[str]], centre_id, commit=True):
    data = to_csv(headers, rows)
    t0 = time.perf_counter()
    parsed = parse_file(kind, f"{label}.csv", data)
    t1 = time.perf_counter()
    plan = plan_import(parsed, centre_id)
    t2 = time.perf_counter()
    print(
        f"{label}: {len(rows)} rows; parse {t1 - t0:.2f} s, preview {t2 - t1:.2f} s; {plan.counts}"
    )
    if not plan.ok:
        errors = plan.errors
        print(f"  {len(errors)} errors, nothing written; first: {errors[:3]}")
        db.session.rollback()
        return plan, None
    if commit:
        batch = commit_import(plan, None, f"{label}.csv")
        db.session.commit()
        print(
            f"  commit {time.perf_counter() - t2:.2f} s: batch {batch.id}, {batch.created_count} created"
        )
    return plan, parsed


def compare_duplicates(label: str, plan, source: list[dict[str, str]], first_data_row: int = 2):
    flagged = {r.number - first_data_row for r in plan.by_action("skip")}
    cols = ("name", "institution") if "research_areas" in source[0] else ("title", "description")
    seen: set = set()
    exact = 0
    for r in source:
        key = tuple(r[c] for c in cols)
        exact += key in seen
        seen.add(key)
    print(f"  exact duplicates of {cols} in the file: {exact}")
    marked = {i for i, r in enumerate(source) if r.get("duplicate_of")}
    print(
        f"  duplicates: importer {len(flagged)}, file's duplicate_of {len(marked)}, "
        f"both {len(flagged & marked)}"
    )
    for i in sorted(flagged ^ marked)[:5]:
        side = "importer only" if i in flagged else "duplicate_of only"
        r = source[i]
        name = r.get("name") if "research_areas" in r else r.get("title")
        note = next((p.duplicate_note for p in plan.rows if p.number == i + first_data_row), "")
        print(f"    {side}: row {i + first_data_row} {name} {note}")


def main() -> None:
    realdata = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "realdata"
    url = sys.argv[2] if len(sys.argv) > 2 else None
    tmp = tempfile.mkdtemp()
    os.environ.setdefault("NEEDS_TRACKER_INSTANCE", tmp)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{tmp}/real.db"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        set_scope(db.session, Scope.system())
        from needs_tracker.centres.services import create_centre

        centre = create_centre("潍坊服务中心", "山东省潍坊市", [])
        db.session.commit()
        run(
            "organisations",
            "placeholder company",
            ["企业名称", "行业"],
            [[PLACEHOLDER, "多行业"]],
            centre.id,
        )

        needs = read(realdata / "needs_51jishu_2019_2020.csv")
        headers = ["企业名称", "需求名称", "需求描述", "征集日期"]
        rows = [[PLACEHOLDER, r["title"], r["description"], r["post_date"]] for r in needs]
        empty = sum(1 for r in needs if not r["description"].strip() or not r["title"].strip())
        print(f"needs source: {len(needs)} rows, {empty} with an empty title or description")
        print("needs, straight mapping (需求名称 and 需求描述 are required):")
        plan, _ = run("needs", "needs_51jishu", headers, rows, centre.id)
        compare_duplicates("needs", plan, needs)
        print("needs, 需求描述 falling back to 需求名称 when empty:")
        rows = [
            [PLACEHOLDER, r["title"], r["description"] or r["title"], r["post_date"]] for r in needs
        ]
        plan, _ = run("needs", "needs_51jishu_fallback", headers, rows, centre.id)
        keep = rows
        if not plan.ok:
            keep = [r for r, p in zip(rows, plan.rows, strict=True) if p.action != "error"]
            print(
                f"  dropping the {len(rows) - len(keep)} rows without a title and importing the rest:"
            )
            plan, _ = run("needs", "needs_51jishu_fallback", headers, keep, centre.id)
        print("needs, importing the same file again (nothing should change):")
        run("needs", "needs_51jishu_again", headers, keep, centre.id, commit=False)

        experts = read(realdata / "experts_fudan_zju_faculty.csv")
        headers = ["姓名", "单位", "职称", "研究方向"]
        rows = [[r["name"], r["institution"], r["title"], r["research_areas"]] for r in experts]
        print(
            f"experts source: {len(experts)} rows, {sum(1 for r in experts if not r['research_areas'].strip())} without research areas, {sum(1 for r in experts if not r['title'].strip())} without title"
        )
        print("experts, straight mapping (研究方向 is required):")
        run("experts", "experts_straight", headers, rows, None)
        print("experts, 研究方向 falling back to the department when empty:")
        rows = [
            [r["name"], r["institution"], r["title"], r["research_areas"] or r["department"]]
            for r in experts
        ]
        plan, _ = run("experts", "experts_fallback", headers, rows, None)
        compare_duplicates("experts", plan, experts)

        ach = read(realdata / "achievements_51jishu_2020.csv")
        headers = ["名称", "类型", "所属单位", "简介", "成熟度"]
        rows = [
            [
                r["title"],
                "专利" if "专利" in r["ip_type"] else "科技成果",
                r["institutions_mentioned"].split(";")[0].strip(),
                r["description"],
                r["maturity"],
            ]
            for r in ach
        ]
        print(
            f"achievements source: {len(ach)} rows, {sum(1 for r in ach if not r['institutions_mentioned'].strip())} without an institution"
        )
        print("achievements, straight mapping (简介 is required):")
        plan, _ = run("resources", "achievements_51jishu", headers, rows, None)
        compare_duplicates("achievements", plan, ach)
        print("achievements, 简介 falling back to 名称 when empty:")
        for row in rows:
            row[3] = row[3] or row[0]
        run("resources", "achievements_fallback", headers, rows, None)
        db.session.remove()
        db.drop_all()


if __name__ == "__main__":
    main()
