"""Ranking quality on the real evaluation set (../shared/matching/JUDGING.md), in one run.

    .venv/bin/python benchmarks/matching_quality.py [--realdata ../shared/realdata]
        [--grades tests/data/matching_real_grades.csv] [--folds 5] [--seed 0]
        [--models usem3,e5small] [--unjudged out.csv]

The pool (544 faculty profiles with research areas, the achievements minus exact
(title, description) duplicates) is imported through the project's own import into a
temporary SQLite database, as a user's import would store it, and read back with the
service that builds the live index. The 60 needs of ../shared/matching/dev_needs.txt
(title + description) are the queries. Texts are read from --realdata at run time; the
repository holds only ids and grades.

Printed for the plain character-bigram TF-IDF baseline, the engine as shipped by issue 3 and
each ingredient added in turn: nDCG@5 (gain = grade, ideal from all judged items of the
need), P@5 (grade >= 1), strict P@5 (grade 2), over the needs with a relevant item, judged@5
(share of shown top-5 items that were judged), and ratios to the baseline. Then k-fold
cross-validation: the model, its share in the fusion and the similarity zero are chosen on
the training folds by nDCG@5, the relevance floor on the training folds by honest@5 (P@5
on needs with a relevant item, 1 - shown/5 on needs without), and scored on the held-out
fold.

Sentence vectors are cached in --cache (a .npz per model, keyed by the same text hash the
app stores them under), so only the first run pays for encoding.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from needs_tracker.matching.embeddings import (  # noqa: E402
    EmbedText,
    encode_batches,
    get_encoder,
    text_key,
)
from needs_tracker.matching.engine import (  # noqa: E402
    EXPERT,
    Candidate,
    EngineConfig,
    MatchIndex,
    NeedQuery,
    candidate_embed_text,
    need_embed_text,
    with_weights,
)

K = 5
DUMP_TOP = 20  # how deep --dump records each ranking
Pair = tuple[str, str]  # (kind as graded: expert | achievement, realdata id)


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a UTF-8 CSV file."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def pool_rows(realdata: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(faculty with research areas, achievements without exact (title, description) twins)."""
    experts = [
        r
        for r in read_csv(realdata / "experts_fudan_zju_faculty.csv")
        if r["research_areas"].strip()
    ]
    seen: set[tuple[str, str]] = set()
    achievements = []
    for r in read_csv(realdata / "achievements_51jishu_2020.csv"):
        key = (r["title"], r["description"])
        if key not in seen:
            seen.add(key)
            achievements.append(r)
    return experts, achievements


def achievement_text(r: dict[str, str]) -> str:
    """An achievement's 简介 as imported: the description (the title when it has none; 简介
    is required) and the application scope, which the template has no column for."""
    scope = r["application_scope"].strip()
    return (r["description"] or r["title"]) + (f"\n应用范围：{scope}" if scope else "")


def import_pool(
    experts: list[dict[str, str]], achievements: list[dict[str, str]]
) -> tuple[list[Candidate], dict[tuple[str, int], Pair]]:
    """Import the pool through the project's import; the engine's candidates and their ids."""
    from needs_tracker import create_app
    from needs_tracker.common.scoping import Scope, set_scope
    from needs_tracker.extensions import db
    from needs_tracker.imports.commit import commit_import
    from needs_tracker.imports.export import to_csv
    from needs_tracker.imports.plan import plan_import
    from needs_tracker.imports.registry import parse_file
    from needs_tracker.matching.services import load_candidates
    from needs_tracker.taxonomy.models import TechField

    tmp = tempfile.mkdtemp(prefix="nt-quality-")
    os.environ.setdefault("NEEDS_TRACKER_INSTANCE", tmp)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/pool.db"})
    with app.app_context():
        db.create_all()
        set_scope(db.session, Scope.system())
        # The achievements' own field labels become fields of the taxonomy, as an admin
        # would add them before importing.
        names = sorted(
            {n for r in achievements for n in (r["tech_field"], r["tech_subfield"]) if n}
        )
        db.session.add_all(TechField(name=n, position=i) for i, n in enumerate(names))
        db.session.commit()

        def run(kind: str, headers: list[str], rows: list[list[str]]) -> None:
            parsed = parse_file(kind, f"{kind}.csv", to_csv(headers, rows))
            plan = plan_import(parsed, None, create_duplicates=True)
            if not plan.ok:
                raise SystemExit(f"{kind}: import refused: {plan.errors[:3]}")
            commit_import(plan, None, f"{kind}.csv")
            db.session.commit()

        run(
            "experts",
            ["姓名", "单位", "院系", "职称", "研究方向"],
            [
                [r["name"], r["institution"], r["department"], r["title"], r["research_areas"]]
                for r in experts
            ],
        )
        # The template has no column for the application scope: it goes into 简介.
        run(
            "resources",
            ["名称", "类型", "所属单位", "技术领域", "简介", "成熟度"],
            [
                [
                    r["title"],
                    "专利" if "专利" in r["ip_type"] else "科技成果",
                    r["institutions_mentioned"].split(";")[0].strip(),
                    "；".join(n for n in (r["tech_field"], r["tech_subfield"]) if n),
                    achievement_text(r),
                    r["maturity"],
                ]
                for r in achievements
            ],
        )
        candidates = load_candidates()

    # Back to the realdata ids, by name and text as imported (whitespace aside).
    def key(name: str, text: str) -> tuple[str, str]:
        return (name.strip(), "".join(text.split())[:120])

    by_expert = {key(r["name"], r["research_areas"]): r for r in experts}
    by_ach = {key(r["title"], achievement_text(r)): r for r in achievements}
    ids: dict[tuple[str, int], Pair] = {}
    for c in candidates:
        if c.kind == EXPERT:
            r = by_expert.get(key(c.name, c.text))
            if r:
                ids[c.key] = ("expert", r["expert_id"])
        else:
            r = by_ach.get(key(c.name, c.text))
            if r:
                ids[c.key] = ("achievement", r["ach_id"])
    return candidates, ids


def load_needs(realdata: Path, dev: Path) -> dict[str, NeedQuery]:
    """The evaluation needs by id (title + description, as the company wrote them)."""
    wanted = [line.strip() for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    wanted = [w for w in wanted if not w.startswith("#")]
    rows = {r["need_id"]: r for r in read_csv(realdata / "needs_51jishu_2019_2020.csv")}
    return {
        n: NeedQuery(title=rows[n]["title"], description=rows[n]["description"]) for n in wanted
    }


def load_grades(path: Path) -> dict[str, dict[Pair, int]]:
    """need_id -> {(kind, cand_id): grade}."""
    grades: dict[str, dict[Pair, int]] = defaultdict(dict)
    if not path.exists():
        return grades
    for r in read_csv(path):
        if not (r.get("grade") or "").strip():
            continue
        grades[r["need_id"].strip()][(r["kind"].strip(), r["cand_id"].strip())] = int(r["grade"])
    return grades


def vectors(
    model: str,
    texts: list[EmbedText],
    cache: Path,
) -> tuple[np.ndarray, float]:
    """Vectors of texts under model (cached by text key); seconds spent encoding."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"embeddings-{model}.npz"
    stored: dict[str, np.ndarray] = {}
    if path.exists():
        with np.load(path) as data:
            stored = {k: data[k] for k in data.files}
    keys = [text_key(model + ("/q" if t.query else ""), t.text) for t in texts]
    todo = [i for i, k in enumerate(keys) if k not in stored]
    spent = 0.0
    if todo:
        encoder = get_encoder(model)
        t0 = time.perf_counter()
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            print(f"\r  {model}: {done[0]}/{len(todo)} texts", end="", file=sys.stderr)

        step = 512  # saved every step texts, so an interrupted run keeps its work
        for start in range(0, len(todo), step):
            part = todo[start : start + step]
            got = encode_batches(encoder, [texts[i] for i in part], progress=tick)
            for i, v in zip(part, got, strict=True):
                stored[keys[i]] = v
            np.savez(path, **stored)
        spent = time.perf_counter() - t0
        print(
            f"\r  {model}: encoded {len(todo)} texts in {spent:.0f} s "
            f"({len(todo) / spent:.1f} texts/s)",
            file=sys.stderr,
        )
    return np.stack([stored[k] for k in keys]), spent


@dataclass
class NeedScore:
    """One need's figures for one configuration."""

    ndcg: float
    p: float
    strict: float
    judged: int
    shown: int
    has_rel: bool


def score_need(top: list[Pair], grades: dict[Pair, int]) -> NeedScore:
    """nDCG@5, P@5, strict P@5 and judged counts of one need's top 5."""
    top = top[:K]
    gains = [grades.get(p, 0) for p in top]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted(grades.values(), reverse=True)[:K]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return NeedScore(
        ndcg=dcg / idcg if idcg else 0.0,
        p=sum(1 for g in gains if g >= 1) / K,
        strict=sum(1 for g in gains if g >= 2) / K,
        judged=sum(1 for p in top if p in grades),
        shown=len(top),
        has_rel=any(g >= 1 for g in grades.values()),
    )


@dataclass
class Summary:
    """Figures over a set of needs."""

    ndcg: float
    p: float
    strict: float
    judged: float
    honest: float
    empty_right: int  # needs without a relevant item that got an empty list
    no_rel: int

    def row(self, base: Summary | None = None) -> str:
        """One printed line, with ratios to base."""
        ratio = ""
        if base is not None:
            ratio = (
                f"  ×{self.ndcg / base.ndcg:.2f}  ×{self.p / base.p:.2f}"
                if base.ndcg and base.p
                else ""
            )
        return (
            f"{self.ndcg:.3f}  {self.p:.3f}  {self.strict:.3f}  {self.judged:.3f}  "
            f"{self.honest:.3f}  {self.empty_right}/{self.no_rel}{ratio}"
        )


def summarise(scores: dict[str, NeedScore]) -> Summary:
    """Means over the needs with a relevant item; judged@5 and honest@5 over all."""
    rel = [s for s in scores.values() if s.has_rel]
    shown = sum(s.shown for s in scores.values())
    honest = [
        s.p if s.has_rel else 1 - s.shown / K for s in scores.values()
    ]  # an honest list is short when the pool has nothing good
    n = len(rel) or 1
    return Summary(
        ndcg=sum(s.ndcg for s in rel) / n,
        p=sum(s.p for s in rel) / n,
        strict=sum(s.strict for s in rel) / n,
        judged=sum(s.judged for s in scores.values()) / shown if shown else 1.0,
        honest=sum(honest) / (len(honest) or 1),
        empty_right=sum(1 for s in scores.values() if not s.has_rel and s.shown == 0),
        no_rel=sum(1 for s in scores.values() if not s.has_rel),
    )


class Bench:
    """The pool, the needs, the grades and the vectors; ranks needs under a configuration."""

    def __init__(self, candidates, ids, needs, grades, vecs, need_vecs) -> None:
        self.candidates = candidates
        self.ids = ids
        self.needs = needs
        self.grades = grades
        self.vecs = vecs  # model -> candidate vectors
        self.need_vecs = need_vecs  # model -> {need_id: vector}
        self.indexes: dict[tuple, MatchIndex] = {}
        self.shown: set[tuple[str, str, str]] = set()
        self.dump: list[dict] | None = None  # every ranking, when --dump asks for them

    def index(self, config: EngineConfig, model: str | None) -> MatchIndex:
        """An index for config's text ingredients (built once), with model's vectors."""
        text_key_ = (config.domain_dict, config.stopwords, config.char_ngrams, config.whole_profile)
        base = self.indexes.get(text_key_)
        if base is None:
            base = MatchIndex(self.candidates, config)
            self.indexes[text_key_] = base
        other = base.reweighted()
        other.config = config
        names = model.split("+") if model else []
        other.vectors = self.vecs[names[0]] if names else None
        other.vectors2 = self.vecs[names[1]] if len(names) > 1 else None
        return other

    def run(self, config: EngineConfig, model: str | None = None) -> dict[str, NeedScore]:
        """Every need's figures under config (vectors of model, if any)."""
        index = self.index(config, model)
        out = {}
        for nid, need in self.needs.items():
            names = model.split("+") if model else []
            vec = self.need_vecs[names[0]][nid] if names else None
            vec2 = self.need_vecs[names[1]][nid] if len(names) > 1 else None
            ranked = index.suggest(
                need,
                top=DUMP_TOP if self.dump is not None else K,
                need_vector=vec,
                need_vector2=vec2,
            )
            if self.dump is not None:
                self.dump.append(
                    {
                        "config": repr(config),
                        "model": model,
                        "need": nid,
                        "top": [[s.kind, s.id, s.score, s.reasons] for s in ranked],
                    }
                )
            top = [self.ids.get((s.kind, s.id), (s.kind, str(s.id))) for s in ranked[:K]]
            for kind, cid in top:
                self.shown.add((nid, kind, cid))
            out[nid] = score_need(top, self.grades.get(nid, {}))
        return out


def ladder(models: list[str]) -> list[tuple[str, EngineConfig, str | None]]:
    """The baseline, the issue-3 engine, each ingredient added in turn, and ablations."""
    base = EngineConfig.plain_tfidf()
    shipped = EngineConfig.shipped_issue3()
    full = EngineConfig()
    char = replace(shipped, weights=replace(shipped.weights, char_share=full.weights.char_share))
    whole = replace(char, whole_profile=True)
    generic = replace(whole, generic_filter=True)
    steps: list[tuple[str, EngineConfig, str | None]] = [
        ("plain char-bigram TF-IDF (baseline)", base, None),
        ("engine as shipped (issue 3)", shipped, None),
        (f"+ character share {full.weights.char_share}", char, None),
        ("+ whole profile text", whole, None),
        ("+ generic words never match alone", generic, None),
    ]
    for m in models:
        sem = replace(full, floor=False)
        w = full.weights
        shares = f"{w.semantic}" + (f" + {w.semantic2}" if "+" in m else "")
        steps.append((f"+ {m} fused (share {shares})", sem, m))
        steps.append((f"+ relevance floor {full.weights.floor} (shipped)", full, m))
        steps.append(("  (shipped + per-kind normalisation)", replace(full, kind_norm=True), m))
        if "+" not in m:
            alone = with_weights(
                replace(full, floor=False, kind_norm=True), semantic=1.0, semantic2=0.0
            )
            steps.append((f"  ({m} alone, per kind)", alone, m))
        for label, flag in (
            ("whole profile text", "whole_profile"),
            ("generic-word filter", "generic_filter"),
            ("related terms", "related_terms"),
            ("feedback", "feedback"),
            ("field overlap", "use_fields"),
        ):
            steps.append((f"  (shipped minus {label})", replace(full, **{flag: False}), m))
    steps.append(("  (shipped without vectors)", full, None))
    return steps


# The grid is kept small on purpose: with 60 needs, every extra option is one more way for
# a training split to pick a setting that happens to suit its 48 needs. Per-kind
# normalisation is always on (the issue's outside measurement, and 4 of 5 folds chose it
# when it was an option; the fold that did not lost 0.03 held out), and the character
# share is fixed at 0.8 (every fold chose it over 0.35).
SHARES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)  # share of the sentence-vector similarity (0: lexical)
ZEROS = (0.2, 0.3)
# With a pair of models (usem3+e5small): the first model's share and the second's share and
# zero (its cosines sit higher); the first model's zero stays 0.3. Fixed before the judging
# round of 2026-12-02 evening (benchmarks/matching_fusion.py, "both shares").
PAIR_SHARES = (0.0, 0.1, 0.2, 0.3)
SHARES2 = (0.0, 0.1, 0.2, 0.3, 0.4)
ZEROS2 = (0.75, 0.8)
CHAR_SHARES = (0.8,)  # share of character bigrams in the lexical text score
KIND_NORMS = (True,)
FLOORS = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4)


def cross_validate(bench: Bench, models: list[str], folds: int, seed: int) -> None:
    """Choose model, share, zero (by nDCG@5) and floor (by honest@5) on training folds."""
    kind = replace(EngineConfig(), floor=False)
    points = [
        (m, a, z, n, c, 0.0, 0.8)
        for m in models
        if "+" not in m
        for a in SHARES
        for z in (ZEROS if a else ZEROS[:1])
        for n in KIND_NORMS
        for c in CHAR_SHARES
    ] + [
        (m, a, 0.3, True, 0.8, a2, z2)
        for m in models
        if "+" in m
        for z2 in ZEROS2
        for a in PAIR_SHARES
        for a2 in SHARES2
    ]
    print(f"\n{folds}-fold cross-validation (seed {seed}), {len(points)} fusion settings")

    def setting(p: tuple) -> EngineConfig:
        return with_weights(
            replace(kind, kind_norm=p[3], semantic=p[1] + p[5] > 0),
            semantic=p[1],
            semantic_zero=p[2],
            char_share=p[4],
            semantic2=p[5],
            semantic2_zero=p[6],
        )

    runs = {p: bench.run(setting(p), p[0]) for p in points}
    base = summarise(bench.run(EngineConfig.plain_tfidf()))
    order = sorted(bench.needs)
    random.Random(seed).shuffle(order)
    held: dict[str, NeedScore] = {}
    held_floor: dict[str, NeedScore] = {}
    for f in range(folds):
        test = set(order[f::folds])
        train = [n for n in bench.needs if n not in test]

        def fit(scores: dict[str, NeedScore], train=train) -> tuple[float, float]:
            s = summarise({n: scores[n] for n in train})
            return (round(s.ndcg, 9), round(s.p, 9))

        best = max(points, key=lambda p: (fit(runs[p]), -points.index(p)))
        model, share, zero, norm, char, share2, zero2 = best
        chosen = setting(best)
        floors = {
            fl: bench.run(with_weights(replace(chosen, floor=True), floor=fl), model)
            for fl in FLOORS
        }
        floor = max(
            FLOORS,
            key=lambda fl: (round(summarise({n: floors[fl][n] for n in train}).honest, 9), -fl),
        )
        for n in test:
            held[n] = runs[best][n]
            held_floor[n] = floors[floor][n]
        print(
            f"  fold {f + 1}: chose {model} share {share} zero {zero} "
            f"second share {share2} zero {zero2} per-kind {norm} "
            f"char share {char} "
            f"floor {floor}; "
            f"train nDCG@5 {summarise({n: runs[best][n] for n in train}).ndcg:.3f}"
        )
    every = list(bench.needs)
    best = max(
        points,
        key=lambda p: (
            (round(summarise(runs[p]).ndcg, 9), round(summarise(runs[p]).p, 9)),
            -points.index(p),
        ),
    )
    floors = {
        fl: bench.run(with_weights(replace(setting(best), floor=True), floor=fl), best[0])
        for fl in FLOORS
    }
    floor = max(FLOORS, key=lambda fl: (round(summarise(floors[fl]).honest, 9), -fl))
    print(
        f"  chosen on all {len(every)} needs (what ships): {best[0]} share {best[1]} "
        f"zero {best[2]} second share {best[5]} zero {best[6]} per-kind {best[3]} "
        f"char share {best[4]} floor {floor}"
    )
    head = "nDCG@5 P@5   strict judged honest empty  ratio nDCG, P@5"
    print(f"{'':<40}{head}")
    print(f"{'baseline (same run)':<40}{base.row()}")
    print(f"{'held out, no floor':<40}{summarise(held).row(base)}")
    print(f"{'held out, with the floor':<40}{summarise(held_floor).row(base)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--realdata", type=Path, default=ROOT.parent / "shared" / "realdata")
    parser.add_argument("--dev", type=Path, default=None, help="default: ../matching/dev_needs.txt")
    parser.add_argument(
        "--grades", type=Path, default=ROOT / "tests" / "data" / "matching_real_grades.csv"
    )
    parser.add_argument("--models", default="usem3")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=ROOT / "instance" / "bench-cache")
    parser.add_argument(
        "--max-chars", type=int, default=0, help="cut embedded texts here (default: the app's)"
    )
    parser.add_argument("--unjudged", type=Path, default=None, help="write unjudged top-5 pairs")
    parser.add_argument(
        "--dump",
        type=Path,
        default=None,
        help="write every configuration's top 20 per need (kind, id, score, reasons) as JSON "
        "lines, to check that a speed change leaves the ranking as it was (diff two dumps)",
    )
    args = parser.parse_args()
    dev = args.dev or args.realdata.parent / "matching" / "dev_needs.txt"
    models = [m for m in args.models.split(",") if m]
    if args.max_chars:
        from needs_tracker.matching import embeddings

        embeddings.MAX_CHARS = args.max_chars

    experts, achievements = pool_rows(args.realdata)
    t0 = time.perf_counter()
    candidates, ids = import_pool(experts, achievements)
    print(
        f"pool: {len(experts)} faculty + {len(achievements)} achievements -> "
        f"{len(candidates)} records through the import ({time.perf_counter() - t0:.0f} s); "
        f"{len(ids)} mapped back to realdata ids"
    )
    needs = load_needs(args.realdata, dev)
    grades = load_grades(args.grades)
    pairs = sum(len(g) for g in grades.values())
    print(f"needs: {len(needs)}; grades: {pairs} judged pairs from {args.grades.name}")
    vecs, need_vecs = {}, {}
    for m in dict.fromkeys(n for spec in models for n in spec.split("+")):
        items = [EmbedText(candidate_embed_text(c)) for c in candidates]
        vecs[m], spent = vectors(m, items, args.cache)
        nv, _ = vectors(
            m, [EmbedText(need_embed_text(n), True) for n in needs.values()], args.cache
        )
        need_vecs[m] = dict(zip(needs, nv, strict=True))
    bench = Bench(candidates, ids, needs, grades, vecs, need_vecs)
    if args.dump:
        bench.dump = []

    print(f"\n{'configuration':<40}nDCG@5 P@5   strict judged honest empty  ratio nDCG, P@5")
    base = None
    for label, config, model in ladder(models):
        s = summarise(bench.run(config, model))
        print(f"{label:<40}{s.row(base)}")
        base = base or s
    if args.folds > 1 and grades:
        cross_validate(bench, models, args.folds, args.seed)
    if args.dump:
        import json

        with args.dump.open("w", encoding="utf-8") as fh:
            for row in bench.dump:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"\n{len(bench.dump)} rankings -> {args.dump}")
    if args.unjudged:
        missing = sorted((n, k, c) for n, k, c in bench.shown if (k, c) not in grades.get(n, {}))
        with args.unjudged.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["need_id", "kind", "cand_id"])
            w.writerows(missing)
        print(
            f"\n{len(missing)} unjudged (need, candidate) pairs in a reported top 5 -> {args.unjudged}"
        )


if __name__ == "__main__":
    main()
