"""The engine's TF-IDF without scikit-learn at query time: the same floats, bit for bit."""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from needs_tracker.matching import tfidf
from needs_tracker.matching.engine import (
    Candidate,
    MatchIndex,
    NeedQuery,
    _char_text,
    _doc_text,
    _long_terms,
    _terms_in,
    _terms_in_many,
    char_bigrams,
)
from needs_tracker.matching.evaluation import load_eval_set

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def eval_set():
    """The in-house labelled set: 207 candidates, 80 needs."""
    return load_eval_set(DATA)


def _sklearn(analyzer, docs):
    vec = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, dtype=np.float32, norm=None)
    return vec, normalize(vec.fit_transform(docs).tocsr(), copy=False)


def _same_csr(a, b) -> None:
    assert a.shape == b.shape
    for part in ("data", "indices", "indptr"):
        x, y = getattr(a, part), getattr(b, part)
        assert x.dtype == y.dtype, part
        assert np.array_equal(x, y), part


def test_word_fit_is_scikit_learns_to_the_bit():
    rng = random.Random(3)
    words = [f"词{i}" for i in range(300)] + ["mes", "agv", "3d打印"]
    docs = [[rng.choice(words) for _ in range(rng.randint(0, 40))] for _ in range(500)]
    counts, terms, _rank = tfidf.fit_terms(docs)
    matrix, idf = tfidf.weigh(counts)
    vec, expected = _sklearn(lambda d: d, docs)
    # The row order of entries (first use in the corpus, not column order) is kept too:
    # it is the order a matrix-vector product adds them in.
    _same_csr(matrix, expected)
    assert terms == sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
    assert np.array_equal(idf, vec.idf_)


def test_bigram_fit_and_query_weighting_are_scikit_learns(eval_set):
    docs = [_doc_text(c) for c in eval_set.candidates] + ["", "Ａ！", "ab cd", "无损检测 无损"]
    counts, codes, _rank = tfidf.fit_bigrams([_char_text(d) for d in docs])
    matrix, idf = tfidf.weigh(counts)
    vec, expected = _sklearn(char_bigrams, docs)
    _same_csr(matrix, expected)
    # Counted a few texts at a time (as a large pool is), the counts are the same.
    texts = [_char_text(d) for d in docs]
    chunked, chunked_codes, chunked_rank = tfidf.fit_bigrams(texts, 7)
    _same_csr(chunked, tfidf.fit_bigrams(texts)[0])
    assert np.array_equal(chunked_codes, codes)
    assert np.array_equal(chunked_rank, _rank)
    vocab = tfidf.Vocabulary.of_bigrams(char_bigrams, codes, idf)
    assert [vocab.term(i) for i in range(len(vocab))] == sorted(vec.vocabulary_)
    queries = [n.title + "\n" + n.description for n in eval_set.needs.values()]
    for q in [*queries, "", "火星殖民飞船", "检测检测检测 AGV"]:
        _same_csr(vocab.transform([q]), sparse.csr_matrix(vec.transform([q])))


def test_word_vocabulary_finds_names_and_weighs_queries_as_scikit_learn(eval_set):
    index = MatchIndex(eval_set.candidates)
    docs = [_doc_text(c) for c in eval_set.candidates]
    vec, expected = _sklearn(index.segment, docs)
    _same_csr(index.word_matrix, expected)
    for term, col in list(vec.vocabulary_.items())[:300]:
        assert index.words.vocabulary_[term] == col
        assert index.words.term(col) == term
    assert "不存在的词语" not in index.words.vocabulary_
    for need in eval_set.needs.values():
        q = need.title + "\n" + need.description
        _same_csr(index.words.transform([q]), sparse.csr_matrix(vec.transform([q])))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_postings_product_equals_scipys_matrix_vector_product(eval_set, dtype):
    index = MatchIndex(eval_set.candidates)
    rng = np.random.default_rng(5)
    for matrix, postings in (
        (index.word_matrix, index.word_postings),
        (index.char_matrix, index.char_postings),
    ):
        for _ in range(30):
            cols = np.unique(rng.integers(0, matrix.shape[1], size=rng.integers(1, 60)))
            dense = np.zeros(matrix.shape[1], dtype=dtype)
            dense[cols] = rng.random(len(cols)).astype(dtype)
            got = postings.dot(cols, dense[cols])
            want = matrix @ dense
            assert got.dtype == want.dtype
            assert np.array_equal(got, want)


def test_domain_terms_found_across_texts_as_one_by_one(eval_set):
    terms = _long_terms()
    # The former finder: lookaheads over the alternation of the terms, longest first.
    pattern = re.compile("(?=(" + "|".join(re.escape(t) for t in terms) + "))")
    texts = [_doc_text(c).lower() for c in eval_set.candidates]
    texts += ["", "超声相控阵检测与机器视觉检测", "数字孪生数字孪生", "x"]
    many = _terms_in_many(texts, terms)
    for text, found in zip(texts, many, strict=True):
        assert found == pattern.findall(text) == _terms_in(text, terms)


def test_stored_index_loads_mapped_and_ranks_the_same(tmp_path, eval_set):
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((len(eval_set.candidates), 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    built = MatchIndex(
        [
            Candidate(**{**c.__dict__, "fit_declines": 1, "resolved_fields": (("智能检测", 2),)})
            if i % 17 == 0
            else c
            for i, c in enumerate(eval_set.candidates)
        ],
        vectors=vectors,
    )
    built.save(tmp_path / "ix")
    loaded = MatchIndex.load(tmp_path / "ix")
    # Big arrays are mapped from the files (one copy in the page cache for every worker).
    assert isinstance(loaded.vectors, np.memmap)
    assert isinstance(loaded.char_postings.data, np.memmap)
    assert len(loaded) == len(built)
    assert loaded.candidates[5] == built.candidates[5]
    assert loaded.position[("resource", built.ids[-1])] == len(built) - 1
    for need in list(eval_set.needs.values())[:40]:
        need_vec = vectors[hash(need.title) % len(vectors)]
        for vec in (need_vec, None):
            a = built.suggest(need, top=15, exclude=[("expert", 3)], need_vector=vec)
            b = loaded.suggest(need, top=15, exclude=[("expert", 3)], need_vector=vec)
            assert [(s.kind, s.id, s.score, s.reasons, s.parts) for s in a] == [
                (s.kind, s.id, s.score, s.reasons, s.parts) for s in b
            ]


def test_an_index_of_other_ingredients_is_not_loaded(tmp_path, eval_set):
    from needs_tracker.matching.engine import EngineConfig

    MatchIndex(eval_set.candidates[:20]).save(tmp_path / "ix")
    with pytest.raises(ValueError, match="ingredients"):
        MatchIndex.load(tmp_path / "ix", EngineConfig(whole_profile=False))


def test_signals_update_without_reindexing(eval_set):
    index = MatchIndex(eval_set.candidates)
    key = (index.candidates[0].kind, index.candidates[0].id)
    index.update_signals({key: ((("智能检测", 3),), 2)})
    assert index.candidates[0].fit_declines == 2
    assert index.candidates[0].resolved_fields == (("智能检测", 3),)
    assert index.penalty[0] == np.float32(2 / 3)
    assert index.has_history[0]
    assert not index.has_history[1]
    index.update_signals({})
    assert index.candidates[0].fit_declines == 0
    assert not index.has_history.any()


def test_empty_vocabulary_gives_no_suggestion_instead_of_an_error():
    index = MatchIndex([Candidate("expert", 1, "李")])
    assert index.suggest(NeedQuery(title="焊接")) == []
