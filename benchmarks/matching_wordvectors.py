"""Experiment: word vectors trained on real text as an extra, semantic part of the text score.

    .venv/bin/python -m pip install gensim==4.4.0   # not a dependency of the app
    PYTHONHASHSEED=0 .venv/bin/python benchmarks/matching_wordvectors.py /work/shared/realdata \
        [--with-eval-texts]
        [--shares 0,0.1,0.2,0.3] [--cv 5 --repeats 3]

Trains word2vec (skip-gram, gensim) on the real needs, achievements and faculty profiles of
../shared/realdata (read by path, never copied), segmented by the engine's own segmenter.
Need and profile become IDF-weighted means of their word vectors; their cosine (shifted by
0.3, clipped to [0, 1]) replaces a share of the engine's text score. With --with-eval-texts
the texts of the evaluation pool and needs (not the gold) join the training corpus, as an
engine trained on a centre's own records would see them.

PYTHONHASHSEED=0 makes runs repeatable (gensim seeds each word's initial vector from Python's
string hash, which is salted per process otherwise).

Prints P@5 / R@5 / MRR on tests/data for each share, the nearest neighbours of a few terms (to
judge the vectors), and with --cv the held-out P@5 of the usual weight grid at one share.
Recorded in docs/benchmarks/matching.md; the result did not justify shipping it.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import matching_inhouse as mq  # noqa: E402

from needs_tracker.matching.engine import EngineConfig, MatchIndex, Segmenter  # noqa: E402
from needs_tracker.matching.evaluation import load_eval_set  # noqa: E402

SOURCES = (
    ("needs_51jishu_2019_2020.csv", ("title", "description")),
    ("achievements_51jishu_2020.csv", ("title", "application_scope", "description")),
    ("experts_fudan_zju_faculty.csv", ("research_areas",)),
)
SHIFT = 0.3  # cosines of unrelated texts' mean vectors sit around 0.2-0.4


def real_texts(folder: Path) -> list[str]:
    """Unique real texts of the three files."""
    out = []
    for name, cols in SOURCES:
        with (folder / name).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if row.get("duplicate_of"):
                    continue
                text = "。".join(row[c] for c in cols if row.get(c))
                if text:
                    out.append(text)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("realdata", type=Path)
    parser.add_argument("--with-eval-texts", action="store_true")
    parser.add_argument("--shares", default="0,0.1,0.2,0.3")
    parser.add_argument("--cv", type=int, default=0)
    parser.add_argument("--cv-share", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from gensim.models import Word2Vec

    data = load_eval_set(ROOT / "tests" / "data")
    seg = Segmenter(True, True)
    texts = real_texts(args.realdata)
    sentences = [seg(t) for t in texts]
    if args.with_eval_texts:
        own = [c.text for c in data.candidates] + [
            f"{n.title}。{n.description}" for n in data.needs.values()
        ]
        # Repeated so that the centre's own texts are not drowned by 5,000 others.
        sentences += [seg(t) for t in own] * 3
    t0 = time.perf_counter()
    model = Word2Vec(
        sentences, vector_size=100, window=5, min_count=2, sg=1, epochs=20, workers=1, seed=1
    )
    print(
        f"{len(texts)} real texts, {sum(map(len, sentences))} tokens, "
        f"vocabulary {len(model.wv)}, trained in {time.perf_counter() - t0:.0f} s"
    )
    for w in ("排产", "相机", "减速器", "无损检测", "焊接"):
        if w in model.wv.key_to_index:
            print(f"  {w}: {' '.join(x for x, _ in model.wv.most_similar(w, topn=8))}")

    index = MatchIndex(data.candidates, EngineConfig())
    vocab, idf = index.words.vocabulary_, index.words.idf_
    top_idf = float(np.max(idf))

    def embed(text: str) -> np.ndarray:
        words = [t for t in seg(text) if t in model.wv.key_to_index]
        if not words:
            return np.zeros(model.wv.vector_size, dtype=np.float32)
        weights = [idf[vocab[t]] if t in vocab else top_idf for t in words]
        v = np.average(np.array([model.wv[t] for t in words]), axis=0, weights=weights)
        return v / (np.linalg.norm(v) or 1.0)

    docs = np.array([embed(c.text) for c in data.candidates])
    state = {"share": 0.0}
    plain = MatchIndex._text_scores

    def text_scores(self, q, qvec, related, rvec):
        base = plain(self, q, qvec, related, rvec)
        if not state["share"]:
            return base
        sim = np.clip((docs @ embed(q) - SHIFT) / (1 - SHIFT), 0.0, 1.0)
        return (1 - state["share"]) * base + state["share"] * sim

    MatchIndex._text_scores = text_scores  # the experiment only; the engine is not changed
    print("share   P@5    R@5    MRR")
    for share in (float(s) for s in args.shares.split(",")):
        state["share"] = share
        p, r, m = mq.mean(list(mq.per_need(index, data, 5).values()))
        print(f"{share:<6}  {p:.3f}  {r:.3f}  {m:.3f}")
    if args.cv:
        state["share"] = args.cv_share
        print(f"\nshare {args.cv_share}:")
        mq.cross_validate(data, 5, args.cv, list(range(args.repeats)))


if __name__ == "__main__":
    main()
