"""Speed of the matching engine: index build for N candidates and one need's suggestions.

    .venv/bin/python benchmarks/matching_speed.py [--n 20000] [--realdata ../shared/realdata]

The pool is made of the phrases of the labelled evaluation set (tests/data), recombined
deterministically into N experts/resources, plus the real achievements and faculty profiles
when --realdata points at them. Queries are the 80 needs of the evaluation set, each run
--repeat times; the median and 95th percentile per suggestion are printed.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from needs_tracker.matching.engine import (  # noqa: E402
    Candidate,
    MatchIndex,
    Segmenter,
    segmenter_name,
)
from needs_tracker.matching.evaluation import load_eval_set  # noqa: E402

FIELDS = [
    "工业互联网",
    "智能检测",
    "传动与控制",
    "热管理",
    "新材料",
    "工业软件",
    "机器人与自动化",
    "动力与能源",
    "精密制造与加工",
    "节能环保",
    "电子与传感",
    "人工智能与大数据",
    "汽车与零部件",
    "人才培养",
]
REGIONS = ["潍坊", "济南", "青岛", "上海", "北京", "武汉", "西安", "沈阳", "杭州", "广州"]


def real_texts(folder: Path) -> list[str]:
    texts: list[str] = []
    ach = folder / "achievements_51jishu_2020.csv"
    fac = folder / "experts_fudan_zju_faculty.csv"
    if ach.exists():
        with ach.open(encoding="utf-8", newline="") as fh:
            texts += [f"{r['title']} {r['description']}" for r in csv.DictReader(fh)]
    if fac.exists():
        with fac.open(encoding="utf-8", newline="") as fh:
            texts += [r["research_areas"] for r in csv.DictReader(fh) if r["research_areas"]]
    return texts


def make_pool(n: int, realdata: Path | None) -> list[Candidate]:
    data = load_eval_set(ROOT / "tests" / "data")
    phrases = [p for c in data.candidates for p in re.split(r"[；、，。]", c.text) if len(p) >= 4]
    reals = real_texts(realdata) if realdata else []
    rng = random.Random(20210318)
    pool: list[Candidate] = []
    for i in range(n):
        if reals and i % 3 == 0:
            text = reals[(i // 3) % len(reals)][:400]
        else:
            text = "、".join(rng.sample(phrases, rng.randint(2, 5)))
        pool.append(
            Candidate(
                kind="expert" if i % 4 else "resource",
                id=i + 1,
                name=f"候选{i + 1}",
                organisation=rng.choice(["山东大学", "潍坊学院", "清华大学", "某研究院"]),
                text=text,
                fields=tuple(rng.sample(FIELDS, rng.randint(1, 3))),
                region=rng.choice(REGIONS),
                fit_declines=1 if i % 97 == 0 else 0,
            )
        )
    return pool


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--realdata", type=Path, default=None)
    parser.add_argument(
        "--dim", type=int, default=512, help="sentence-vector size (0: lexical engine only)"
    )
    args = parser.parse_args()

    Segmenter()  # load jieba and the dictionary once (process start-up, not index build)
    pool = make_pool(args.n, args.realdata)
    chars = sum(len(c.text) for c in pool)
    start = time.perf_counter()
    index = MatchIndex(pool)
    build = time.perf_counter() - start
    needs = list(load_eval_set(ROOT / "tests" / "data").needs.values())
    # Stored vectors (random unit vectors cost the same as real ones): a suggestion only
    # multiplies them with the need's stored vector; it never encodes.
    rng = np.random.default_rng(0)

    def unit(n: int) -> np.ndarray:
        v = rng.standard_normal((n, args.dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    need_vectors = unit(len(needs)) if args.dim else [None] * len(needs)
    if args.dim:
        index.set_vectors(unit(len(pool)))
    times, cpu = [], []
    for _ in range(args.repeat):
        for need, vec in zip(needs, need_vectors, strict=True):
            t0, c0 = time.perf_counter(), time.process_time()
            index.suggest(
                need, top=args.top, exclude={("expert", 2), ("resource", 5)}, need_vector=vec
            )
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
    times.sort()
    print(f"segmenter: {segmenter_name()}")
    print(f"candidates: {len(pool)} ({chars} characters of text)")
    print(f"vocabulary: {len(index.words.vocabulary_)} words")
    print(f"index build: {build:.2f} s; sentence vectors: {args.dim or 'none'} dimensions")
    print(
        f"suggest (top {args.top}): median {statistics.median(times):.1f} ms, "
        f"p95 {times[int(len(times) * 0.95)]:.1f} ms over {len(times)} queries; "
        f"CPU time median {statistics.median(cpu):.1f} ms "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
