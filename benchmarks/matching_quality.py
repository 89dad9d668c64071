"""Ranking quality on the labelled evaluation set: baseline, each ingredient, ablations.

    .venv/bin/python benchmarks/matching_quality.py [--k 5] [--data tests/data]

Prints precision@k, recall@k and MRR for a plain TF-IDF baseline, for each ingredient added
in turn, and for the full engine with one ingredient removed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from needs_tracker.matching.evaluation import ablations, evaluate_config, load_eval_set  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--data", type=Path, default=ROOT / "tests" / "data")
    args = parser.parse_args()
    data = load_eval_set(args.data)
    pairs = sum(len(g) for g in data.gold.values())
    fields = {f for c in data.candidates for f in c.fields}
    print(
        f"evaluation set: {len(data.needs)} needs, {len(data.candidates)} experts/resources, "
        f"{len(fields)} fields, {pairs} relevant pairs"
    )
    best = sum(min(args.k, len(g)) for g in data.gold.values()) / (args.k * len(data.gold))
    print(f"highest reachable precision@{args.k} (some needs have fewer relevant): {best:.3f}")
    print(f"{'configuration':<48} P@{args.k}   R@{args.k}   MRR")
    for name, config in ablations():
        r = evaluate_config(data, config, k=args.k)
        print(f"{name:<48} {r.precision:.3f}  {r.recall:.3f}  {r.mrr:.3f}")


if __name__ == "__main__":
    main()
