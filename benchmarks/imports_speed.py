"""Import speed: 10,000 companies and 20,000 experts (preview + commit), and dedupe of a
10,000-row file against 50,000 existing companies with blocking.

Usage: .venv/bin/python benchmarks/imports_speed.py [DATABASE_URL]
(default: a temporary SQLite file). Prints one line per figure.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from needs_tracker import create_app  # noqa: E402
from needs_tracker.common.scoping import Scope, set_scope  # noqa: E402
from needs_tracker.common.validators import credit_code_check_char  # noqa: E402
from needs_tracker.extensions import db  # noqa: E402
from needs_tracker.imports.commit import commit_import  # noqa: E402
from needs_tracker.imports.export import to_xlsx  # noqa: E402
from needs_tracker.imports.plan import plan_import  # noqa: E402
from needs_tracker.imports.registry import parse_file  # noqa: E402
from needs_tracker.organisations.models import Organisation  # noqa: E402

CHARS = "华特磁电天恒检测中科普锐潍柴盛瑞银轮雅士福田海尔浪潮歌尔晨鸣鲁信金宝豪迈赛轮玲珑万华恒安泰和金正大元利润丰新和成"
WORDS = [
    "机械",
    "电子",
    "精密",
    "智能",
    "新材料",
    "化工",
    "汽车部件",
    "环保",
    "医疗器械",
    "软件",
    "热能",
    "传动",
    "检测",
]
PREFIX = ["", "", "潍坊", "潍坊市", "山东", "山东省"]
SUFFIX = ["有限公司", "股份有限公司", "有限责任公司", "集团有限公司"]


def company_names(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    names: set[str] = set()
    while len(names) < n:
        core = "".join(rnd.choice(CHARS) for _ in range(rnd.choice((2, 3, 4))))
        names.add(rnd.choice(PREFIX) + core + rnd.choice(WORDS) + rnd.choice(SUFFIX))
    return sorted(names)


def code(i: int) -> str:
    first = f"913707{i:011d}"[:17]
    return first + credit_code_check_char(first)


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    print(f"{label}: {time.perf_counter() - start:.2f} s")
    return result


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else None
    tmp = None
    if url is None:
        tmp = tempfile.mkdtemp()
        url = f"sqlite:///{tmp}/bench.db"
    os.environ.setdefault("NEEDS_TRACKER_INSTANCE", tmp or tempfile.mkdtemp())
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    print(f"database: {url.split('@')[-1]}")
    with app.app_context():
        db.drop_all()
        db.create_all()
        set_scope(db.session, Scope.system())
        from needs_tracker.centres.services import create_centre

        centre = create_centre("基准中心", "", [])
        db.session.commit()

        # 1. 10,000 companies, xlsx, preview + commit
        names = company_names(10_000, 1)
        rows = [
            [
                n,
                code(i) if i % 2 else "",
                "高新区",
                "制造",
                "小型",
                "",
                "",
                "",
                "王工",
                "0536-1234567",
            ]
            for i, n in enumerate(names)
        ]
        headers = [
            "企业名称",
            "统一社会信用代码",
            "所属区县",
            "行业",
            "企业规模",
            "类型",
            "简称",
            "地址",
            "联系人",
            "联系电话",
        ]
        data = to_xlsx(headers, rows)
        t0 = time.perf_counter()
        parsed = timed(
            "companies 10,000: parse xlsx", lambda: parse_file("organisations", "c.xlsx", data)
        )
        plan = timed(
            "companies 10,000: preview (plan, dedupe)",
            lambda: plan_import(parsed, centre.id, create_duplicates=True),
        )
        timed(
            "companies 10,000: commit",
            lambda: (commit_import(plan, None, "c.xlsx"), db.session.commit()),
        )
        print(
            f"companies 10,000: preview + commit total {time.perf_counter() - t0:.2f} s; counts {plan.counts}"
        )

        # 2. 20,000 experts, csv, preview + commit
        from needs_tracker.imports.export import to_csv

        rnd = random.Random(2)
        erows = [
            [
                f"专家{i:05d}",
                f"{rnd.choice(['山东大学', '潍坊学院', '同济大学', '浙江大学'])}",
                "教授",
                "智能制造；机器视觉",
                "",
                "",
                f"e{i}@example.edu.cn",
                "山东省",
            ]
            for i in range(20_000)
        ]
        edata = to_csv(
            ["姓名", "单位", "职称", "研究方向", "技术领域", "联系电话", "邮箱", "地区"], erows
        )
        t0 = time.perf_counter()
        eparsed = timed("experts 20,000: parse csv", lambda: parse_file("experts", "e.csv", edata))
        eplan = timed("experts 20,000: preview", lambda: plan_import(eparsed, None))
        timed(
            "experts 20,000: commit",
            lambda: (commit_import(eplan, None, "e.csv"), db.session.commit()),
        )
        print(
            f"experts 20,000: preview + commit total {time.perf_counter() - t0:.2f} s; counts {eplan.counts}"
        )

        # 3. dedupe 10,000 rows against 50,000 existing companies (another centre)
        other = create_centre("基准中心二", "", [])
        db.session.commit()
        existing = company_names(50_000, 3)
        timed(
            "seed 50,000 companies",
            lambda: (
                db.session.execute(
                    insert(Organisation),
                    [
                        {"centre_id": other.id, "name": n, "kind": "company", "version": 1}
                        for n in existing
                    ],
                ),
                db.session.commit(),
            ),
        )
        rnd = random.Random(4)
        incoming = []
        for i in range(10_000):
            if i % 5 == 0:  # a variant of an existing name
                n = rnd.choice(existing).replace("有限公司", "").replace("股份", "") + "有限公司"
                n = ("潍坊" + n) if not n.startswith(("潍坊", "山东")) else n
            else:
                n = company_names(1, 10_000 + i)[0]
            incoming.append([n])
        ddata = to_csv(["企业名称"], incoming)
        dparsed = parse_file("organisations", "d.csv", ddata)
        from needs_tracker.imports.companies import company_index

        index = timed("dedupe: index 50,000 existing", lambda: company_index(other.id))
        t0 = time.perf_counter()
        dplan = plan_import(dparsed, other.id)
        elapsed = time.perf_counter() - t0
        print(f"dedupe 10,000 vs 50,000: preview {elapsed:.2f} s; counts {dplan.counts}")
        t0 = time.perf_counter()
        flagged = sum(1 for r in incoming if index.similar(r[0]))
        print(
            f"dedupe blocking: {index.comparisons:,} fuzzy comparisons for 10,000 rows "
            f"(all pairs would be {10_000 * 50_000:,}); {flagged} rows flagged; {time.perf_counter() - t0:.2f} s"
        )
        db.session.remove()
        db.drop_all()


if __name__ == "__main__":
    main()
