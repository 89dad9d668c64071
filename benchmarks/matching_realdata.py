"""The engine on real text (../shared/realdata, read by path, never copied).

    .venv/bin/python benchmarks/matching_realdata.py /work/shared/realdata [--sample 400]

1. Title -> description retrieval on the 2,8xx unique real technology achievements mixed with
   the 544 real faculty profiles: each achievement is indexed by its description only (its
   name is hidden), and queried by its title. A good engine ranks the achievement itself
   first. Prints hit@1, hit@5 and MRR for the plain TF-IDF baseline, the engine without
   related terms and feedback, and the full engine.
2. Real enterprise needs (title + description) against that pool: median time per need and
   the top three suggestions with reasons for a few needs, to read.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from needs_tracker.matching.engine import (  # noqa: E402
    Candidate,
    EngineConfig,
    MatchIndex,
    NeedQuery,
)


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--sample", type=int, default=400)
    args = parser.parse_args()
    achievements = [
        r for r in read(args.folder / "achievements_51jishu_2020.csv") if not r["duplicate_of"]
    ]
    faculty = [
        r for r in read(args.folder / "experts_fudan_zju_faculty.csv") if r["research_areas"]
    ]
    needs = [r for r in read(args.folder / "needs_51jishu_2019_2020.csv") if not r["duplicate_of"]]
    pool = [
        Candidate(
            "resource",
            i,
            f"成果{i}",
            r.get("institutions_mentioned", ""),
            r["description"],
            (r["tech_field"],) if r["tech_field"] else (),
        )
        for i, r in enumerate(achievements, start=1)
    ] + [
        Candidate("expert", i, r["name"], r["institution"], r["research_areas"], ())
        for i, r in enumerate(faculty, start=1)
    ]
    print(f"pool: {len(achievements)} real achievements + {len(faculty)} real faculty profiles")
    rng = random.Random(7)
    sample = rng.sample(range(len(achievements)), min(args.sample, len(achievements)))
    for label, config in (
        ("plain TF-IDF", EngineConfig.plain_tfidf()),
        ("no related/fb", EngineConfig(related_terms=False, feedback=False)),
        ("full engine", EngineConfig()),
    ):
        t0 = time.perf_counter()
        index = MatchIndex(pool, config)
        build = time.perf_counter() - t0
        ranks = []
        for i in sample:
            query = NeedQuery(title=achievements[i]["title"])
            result = index.suggest(query, top=20, kinds=["resource", "expert"])
            rank = next((s.rank for s in result if s.kind == "resource" and s.id == i + 1), None)
            ranks.append(rank)
        hit1 = sum(1 for r in ranks if r == 1) / len(ranks)
        hit5 = sum(1 for r in ranks if r and r <= 5) / len(ranks)
        mrr = sum(1 / r for r in ranks if r) / len(ranks)
        print(
            f"{label:<14} title->description over {len(sample)} achievements: "
            f"hit@1 {hit1:.3f}  hit@5 {hit5:.3f}  MRR@20 {mrr:.3f}  (build {build:.1f} s)"
        )
    times = []
    shown = 0
    for r in rng.sample(needs, 200):
        query = NeedQuery(title=r["title"], description=r["description"])
        t0 = time.perf_counter()
        result = index.suggest(query, top=3)
        times.append((time.perf_counter() - t0) * 1000)
        if shown < 5 and result:
            shown += 1
            print(f"\nneed: {r['title']}")
            for s in result:
                name = s.name if s.kind == "expert" else achievements[s.id - 1]["title"]
                print(f"  {s.rank}. {s.score:.2f} {s.kind} {name}: {s.reason_text}")
    print(f"\nreal needs: median {statistics.median(times):.1f} ms per need over {len(times)}")


if __name__ == "__main__":
    main()
