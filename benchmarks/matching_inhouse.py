"""Ranking quality on the in-house labelled set (a unit-test fixture, not the yardstick): baseline, each ingredient, ablations, CV.

    .venv/bin/python benchmarks/matching_inhouse.py [--k 5] [--data tests/data]
    .venv/bin/python benchmarks/matching_inhouse.py --cv 5 [--seed 0] [--repeats 3]

Prints precision@k, recall@k and MRR for a plain TF-IDF baseline, for each ingredient added
in turn, and for the full engine with one ingredient removed.

With --cv N the needs are split into N folds (fixed seed); for each fold the weights are
chosen from a small grid on the other folds and scored on the held-out fold. The held-out
figure is the honest one: the shipped defaults were chosen by looking at the whole set.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from needs_tracker.matching.engine import (  # noqa: E402
    EngineConfig,
    MatchIndex,
    Weights,
    evaluate_rankings,
)
from needs_tracker.matching.evaluation import EvalSet, evaluate_config, load_eval_set  # noqa: E402

FLAGS = (
    "domain_dict",
    "stopwords",
    "char_ngrams",
    "use_fields",
    "field_cosine",
    "use_boosts",
    "related_terms",
    "feedback",
)

# The grid searched on the training folds. Weights outside it stay at their defaults.
GRID = {
    "related": (0.0, 0.3, 0.6, 1.0),
    "feedback": (0.0, 0.15, 0.3, 0.45),
    "feedback_docs": (2, 3),
    "field": (0.28, 0.35),
}


def ablations() -> list[tuple[str, EngineConfig]]:
    """The baseline, each ingredient added in turn, and the full engine minus each one."""
    # The issue-3 engine and its word TF-IDF baseline: the in-house set's own ladder.
    full = EngineConfig.shipped_issue3()
    plain = replace(
        full,
        domain_dict=False,
        stopwords=False,
        char_ngrams=False,
        use_fields=False,
        use_boosts=False,
        related_terms=False,
        feedback=False,
    )
    added: list[tuple[str, str]] = [
        ("+ domain dictionary", "domain_dict"),
        ("+ stop-words", "stopwords"),
        ("+ character n-grams", "char_ngrams"),
        ("+ field overlap", "use_fields"),
        ("+ boosts (engine before related terms)", "use_boosts"),
        ("+ related terms", "related_terms"),
        ("+ feedback (full engine)", "feedback"),
    ]
    steps = [("plain TF-IDF (jieba default dict, text only)", plain)]
    config = plain
    for label, flag in added:
        config = replace(config, **{flag: True})
        steps.append((label, config))
    assert steps[-1][1] == full, "the last step must be the full engine"
    minus = [(f"full - {flag}", replace(full, **{flag: False})) for flag in FLAGS]
    return steps + minus


def grid() -> list[dict[str, float]]:
    """Every weight combination of GRID (feedback_docs only varies when feedback is on)."""
    out = []
    for values in itertools.product(*GRID.values()):
        point = dict(zip(GRID, values, strict=True))
        if point["feedback"] == 0 and point["feedback_docs"] != GRID["feedback_docs"][0]:
            continue
        point["text"] = round(1 - point["field"] - Weights.region - Weights.past, 4)
        out.append(point)
    return out


def per_need(index: MatchIndex, data: EvalSet, k: int) -> dict[str, tuple[float, float, float]]:
    """(precision, recall, reciprocal rank) of every need."""
    out = {}
    for title, need in data.needs.items():
        if not data.gold.get(title):
            continue
        ranked = [s.name for s in index.suggest(need, top=max(k, 50))]
        r = evaluate_rankings({title: ranked}, {title: data.gold[title]}, k=k)
        out[title] = (r.precision, r.recall, r.mrr)
    return out


def mean(rows: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Column means."""
    n = len(rows) or 1
    return tuple(sum(r[j] for r in rows) / n for j in range(3))  # type: ignore[return-value]


def cross_validate(data: EvalSet, k: int, folds: int, seeds: list[int]) -> None:
    """Choose weights on the training folds, report the held-out folds."""
    index = MatchIndex(data.candidates, EngineConfig.shipped_issue3())
    points = grid()
    scores = [per_need(index.reweighted(**p), data, k) for p in points]
    titles = sorted(scores[0])
    print(f"\n{folds}-fold cross-validation over {len(titles)} needs, {len(points)} weight sets")
    held_all = []
    for seed in seeds:
        order = titles[:]
        random.Random(seed).shuffle(order)
        held: list[tuple[float, float, float]] = []
        for f in range(folds):
            test = set(order[f::folds])
            train = [t for t in titles if t not in test]
            # Best training precision, then MRR; ties go to the earlier (smaller) weights.
            best = max(
                range(len(points)),
                key=lambda j: (
                    round(mean([scores[j][t] for t in train])[0], 9),
                    round(mean([scores[j][t] for t in train])[2], 9),
                    -j,
                ),
            )
            chosen = {n: v for n, v in points[best].items() if n != "text"}
            tr = mean([scores[best][t] for t in train])
            te = mean([scores[best][t] for t in test])
            held.extend(scores[best][t] for t in test)
            print(
                f"  seed {seed} fold {f + 1}: chose {chosen}  "
                f"train P@{k} {tr[0]:.3f}  held-out P@{k} {te[0]:.3f} MRR {te[2]:.3f}"
            )
        p, r, m = mean(held)
        held_all.extend(held)
        print(f"  seed {seed} held-out: P@{k} {p:.3f}  R@{k} {r:.3f}  MRR {m:.3f}")
    p, r, m = mean(held_all)
    print(f"held-out over {len(seeds)} split(s): P@{k} {p:.3f}  R@{k} {r:.3f}  MRR {m:.3f}")
    default = mean(list(per_need(index, data, k).values()))
    print(
        f"shipped defaults on the full set (not held out): P@{k} {default[0]:.3f}  "
        f"R@{k} {default[1]:.3f}  MRR {default[2]:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--data", type=Path, default=ROOT / "tests" / "data")
    parser.add_argument("--cv", type=int, default=0, help="folds over needs (0: no CV)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1, help="CV splits, seeds seed..")
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
    if args.cv:
        cross_validate(data, args.k, args.cv, list(range(args.seed, args.seed + args.repeats)))
        return
    print(f"{'configuration':<48} P@{args.k}   R@{args.k}   MRR")
    for name, config in ablations():
        r = evaluate_config(data, config, k=args.k)
        print(f"{name:<48} {r.precision:.3f}  {r.recall:.3f}  {r.mrr:.3f}")


if __name__ == "__main__":
    main()
