"""TF-IDF for the matching engine, fitted in bulk and queried from flat arrays (pure numpy).

The engine's numbers are those of scikit-learn's ``TfidfVectorizer(sublinear_tf=True,
norm=None, dtype=float32)`` followed by ``normalize``; this module computes the same floats,
bit for bit (``tests/unit/test_tfidf.py``), in less time and in a form workers can share:

- ``fit_terms`` and ``fit_bigrams`` count a corpus with numpy sorts instead of a Python
  dictionary per document. The count matrix is scikit-learn's to the entry: columns in
  alphabetical order of the terms, a row's entries in the order the corpus first used their
  terms (scikit-learn remaps column numbers without re-sorting rows, and that order is the
  order in which a matrix-vector product adds the terms up, so it is kept).
- ``Vocabulary`` maps terms to columns through sorted 64-bit codes (a stable hash of a
  word, the two code points of a character bigram) and weights a query as scikit-learn's
  ``transform`` does, with no dictionary of Python strings: its arrays can be memory-mapped
  from a file, shared by every worker.
- ``Postings`` computes ``matrix @ query`` from the query's side (the inverted index: only
  the columns the query has), adding the terms of each row in the same order as scipy's
  product does, so the result is identical while touching a few thousand entries instead
  of every entry of the matrix.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np
from scipy import sparse

_BITS = 21  # a Unicode code point fits in 21 bits
_LOW = (1 << _BITS) - 1


def term_code(term: str) -> int:
    """A stable 64-bit code of a term (the same in every process, unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=8).digest(), "little")


def bigram_code(bigram: str) -> int:
    """The code of a two-character term; codes sort as the bigrams do (code-point order)."""
    return (ord(bigram[0]) << _BITS) | ord(bigram[1])


def bigram_text(code: int) -> str:
    """The bigram of a code made by ``bigram_code``."""
    return chr(code >> _BITS) + chr(code & _LOW)


def _csr(counts: np.ndarray, cols: np.ndarray, rows: np.ndarray, n_rows: int, n_cols: int):
    """A float32 CSR matrix from entries grouped by row (int32 indices, as scikit-learn's)."""
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    return sparse.csr_matrix(
        (counts.astype(np.float32), cols.astype(np.int32), indptr.astype(np.int32)),
        shape=(n_rows, n_cols),
    )


def _count(doc: np.ndarray, first: np.ndarray, n_docs: int, n_terms: int, new_of_first):
    """Count (document, term) pairs; entries of a row in order of first use in the corpus."""
    key = (doc.astype(np.int64) << 32) | first.astype(np.int64)
    pairs, counts = np.unique(key, return_counts=True)
    rows = (pairs >> 32).astype(np.int64)
    cols = new_of_first[(pairs & 0xFFFFFFFF).astype(np.int64)]
    return _csr(counts, cols, rows, n_docs, n_terms)


def fit_terms(docs: Sequence[Sequence[str]]) -> tuple[sparse.csr_matrix, list[str], np.ndarray]:
    """(count matrix, terms by column, first-use rank of each column) of segmented documents."""
    first_use: dict[str, int] = {}
    ids = [first_use.setdefault(t, len(first_use)) for terms in docs for t in terms]
    lengths = np.fromiter((len(terms) for terms in docs), dtype=np.int64, count=len(docs))
    doc = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
    by_first = list(first_use)
    order = sorted(range(len(by_first)), key=by_first.__getitem__)  # column -> first-use id
    new_of_first = np.empty(len(order), dtype=np.int64)
    new_of_first[order] = np.arange(len(order), dtype=np.int64)
    counts = _count(doc, np.asarray(ids, dtype=np.int64), len(docs), len(order), new_of_first)
    return counts, [by_first[i] for i in order], np.asarray(order, dtype=np.int32)


def fit_bigrams(
    texts: Sequence[str], chunk: int = 5000
) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """(count matrix, bigram codes by column, first-use rank of each column) of texts.

    texts are already reduced to letters and spaces (``engine._char_text``): a bigram is two
    neighbouring characters, neither a space, within one text. Counted chunk texts at a
    time, so the per-character arrays of the whole corpus never exist at once.
    """
    docs, codes, counts, first = [], [], [], []
    space = ord(" ")
    offset = 0  # position of the chunk's first character in the corpus
    for lo in range(0, len(texts), chunk):
        part = texts[lo : lo + chunk]
        points = np.frombuffer(" ".join(part).encode("utf-32-le"), dtype=np.uint32)
        starts = np.zeros(len(part), dtype=np.int64)
        np.cumsum([len(t) + 1 for t in part[:-1]], out=starts[1:])
        at = np.flatnonzero((points[:-1] != space) & (points[1:] != space))
        code = (points[at].astype(np.int64) << _BITS) | points[at + 1].astype(np.int64)
        doc = np.searchsorted(starts, at, side="right") - 1 + lo
        # (document, bigram) pairs: a document index fits in 21 bits, a code in 42.
        pairs, where, n = np.unique((doc << 42) | code, return_index=True, return_counts=True)
        docs.append(pairs >> 42)
        codes.append(pairs & ((1 << 42) - 1))
        counts.append(n)
        first.append(at[where] + offset)  # first place of the pair, in corpus order
        offset += len(points) + 1
        del points, at, code, doc, pairs, where, n
    if not docs:
        empty = np.zeros(0, dtype=np.int64)
        return _csr(empty, empty, empty, len(texts), 0), np.zeros(0, dtype=np.uint64), empty
    # Temporaries are dropped as soon as used: this runs over millions of entries.
    doc = np.concatenate(docs).astype(np.int32)
    n = np.concatenate(counts).astype(np.int32)
    del docs, counts
    uniq, col = np.unique(np.concatenate(codes), return_inverse=True)  # sorted bigrams
    del codes
    first_use = np.full(len(uniq), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_use, col, np.concatenate(first))
    del first
    rank = np.empty(len(uniq), dtype=np.int64)  # column -> rank of its first use
    rank[np.argsort(first_use, kind="stable")] = np.arange(len(uniq), dtype=np.int64)
    del first_use
    # A row's entries in order of first use (as scikit-learn leaves them), rows in order.
    order = np.lexsort((rank[col], doc))
    matrix = _csr(n[order], col[order], doc[order], len(texts), len(uniq))
    return matrix, uniq.astype(np.uint64), rank.astype(np.int32)


def weigh(counts: sparse.csr_matrix) -> tuple[sparse.csr_matrix, np.ndarray]:
    """(TF-IDF rows of unit length, idf): scikit-learn's own transformer and normaliser.

    Imported here, in the builder only: scikit-learn takes seconds to import.
    """
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.preprocessing import normalize

    if counts.shape[1] == 0:
        return counts, np.zeros(0, dtype=np.float32)
    transformer = TfidfTransformer(norm=None, sublinear_tf=True).fit(counts)
    weighted = sparse.csr_matrix(transformer.transform(counts, copy=False))
    return normalize(weighted, copy=False), transformer.idf_.astype(np.float32, copy=False)


class Vocabulary:
    """Columns and idf of a fitted vocabulary; weighs queries as scikit-learn's transform.

    Words are found by a stable hash (``codes`` sorted, ``cols`` their columns, the words
    themselves in ``blob`` at ``offsets``, to name a matched term and to rule out a
    collision); character bigrams by their code, which sorts as the columns do.
    """

    def __init__(
        self,
        analyzer: Callable[[str], list[str]],
        idf: np.ndarray,
        codes: np.ndarray,
        cols: np.ndarray | None = None,
        blob: np.ndarray | None = None,
        offsets: np.ndarray | None = None,
    ) -> None:
        self.analyzer = analyzer
        self.idf = idf
        self.codes = codes
        self.cols = cols
        self.blob = blob
        self.offsets = offsets

    @classmethod
    def of_words(
        cls, analyzer: Callable[[str], list[str]], terms: Sequence[str], idf: np.ndarray
    ) -> Vocabulary:
        """The vocabulary of words (terms in column order)."""
        raw = [t.encode() for t in terms]
        offsets = np.zeros(len(raw) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in raw], out=offsets[1:])
        codes = np.fromiter((term_code(t) for t in terms), dtype=np.uint64, count=len(terms))
        order = np.argsort(codes, kind="stable")
        blob = np.frombuffer(b"".join(raw), dtype=np.uint8)
        return cls(analyzer, idf, codes[order], order.astype(np.int32), blob, offsets)

    @classmethod
    def of_bigrams(
        cls, analyzer: Callable[[str], list[str]], codes: np.ndarray, idf: np.ndarray
    ) -> Vocabulary:
        """The vocabulary of character bigrams (their codes in column order)."""
        return cls(analyzer, idf, codes)

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def bigrams(self) -> bool:
        """True for a vocabulary of character bigrams."""
        return self.cols is None

    def term(self, col: int) -> str:
        """The term of column col."""
        if self.bigrams:
            return bigram_text(int(self.codes[col]))
        return bytes(self.blob[self.offsets[col] : self.offsets[col + 1]]).decode()

    def columns(self, terms: Sequence[str]) -> np.ndarray:
        """The column of each term (-1 for a term not in the vocabulary)."""
        out = np.full(len(terms), -1, dtype=np.int64)
        if not len(terms) or not len(self.codes):
            return out
        if self.bigrams:
            # Only a two-character term can be a bigram (code 0 matches nothing).
            keys = np.fromiter(
                (bigram_code(t) if len(t) == 2 else 0 for t in terms),
                dtype=np.uint64,
                count=len(terms),
            )
        else:
            keys = np.fromiter((term_code(t) for t in terms), dtype=np.uint64, count=len(terms))
        at = np.searchsorted(self.codes, keys)
        for i, (pos, key) in enumerate(zip(at.tolist(), keys.tolist(), strict=True)):
            # Equal codes sit side by side: step over a (most unlikely) hash collision.
            while pos < len(self.codes) and int(self.codes[pos]) == key:
                col = pos if self.bigrams else int(self.cols[pos])
                if self.bigrams or self.term(col) == terms[i]:
                    out[i] = col
                    break
                pos += 1
        return out

    def column(self, term: str) -> int | None:
        """The column of term, or None."""
        col = int(self.columns([term])[0])
        return col if col >= 0 else None

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """TF-IDF rows of texts (not normalised), as ``TfidfVectorizer.transform`` gives them."""
        indptr = [0]
        indices: list[np.ndarray] = []
        data: list[np.ndarray] = []
        for text in texts:
            counts = Counter(self.analyzer(text))
            terms = list(counts)
            cols = self.columns(terms)
            keep = cols >= 0
            order = np.argsort(cols[keep], kind="stable")
            row_cols = cols[keep][order]
            n = np.asarray([counts[t] for t, k in zip(terms, keep, strict=True) if k])[order]
            # scikit-learn: float32 counts, log + 1 in place, times idf of the column.
            values = np.asarray(n, dtype=np.float32)
            np.log(values, out=values)
            values += 1.0
            values *= self.idf[row_cols]
            indices.append(row_cols.astype(np.int32))
            data.append(values)
            indptr.append(indptr[-1] + len(row_cols))
        return sparse.csr_matrix(
            (
                np.concatenate(data) if data else np.zeros(0, dtype=np.float32),
                np.concatenate(indices) if indices else np.zeros(0, dtype=np.int32),
                np.asarray(indptr, dtype=np.int32),
            ),
            shape=(len(texts), len(self)),
        )

    # scikit-learn's names, for code written against TfidfVectorizer.
    @property
    def vocabulary_(self) -> _TermColumns:
        """term -> column, as a read-only mapping."""
        return _TermColumns(self)

    @property
    def idf_(self) -> np.ndarray:
        """idf by column."""
        return self.idf

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays to store."""
        out = {"idf": self.idf, "codes": self.codes}
        if not self.bigrams:
            out.update(cols=self.cols, blob=self.blob, offsets=self.offsets)
        return out

    @classmethod
    def from_arrays(
        cls, analyzer: Callable[[str], list[str]], arrays: Mapping[str, np.ndarray]
    ) -> Vocabulary:
        """A vocabulary over stored (possibly memory-mapped) arrays."""
        return cls(
            analyzer,
            arrays["idf"],
            arrays["codes"],
            arrays.get("cols"),
            arrays.get("blob"),
            arrays.get("offsets"),
        )


class _TermColumns(Mapping[str, int]):
    """A vocabulary as a term -> column mapping (looked up, not held in a dictionary)."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.v = vocabulary

    def __getitem__(self, term: str) -> int:
        col = self.v.column(term)
        if col is None:
            raise KeyError(term)
        return col

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.v.column(term) is not None

    def __iter__(self) -> Iterator[str]:
        return (self.v.term(i) for i in range(len(self.v)))

    def __len__(self) -> int:
        return len(self.v)


class Postings:
    """A normalised document-term matrix read by column: exact products with sparse queries.

    ``dot(cols, values)`` equals ``matrix @ q`` for the dense q that has values at cols and
    zeros elsewhere, bit for bit: scipy adds each row's products in the row's stored order,
    which here is the order of ``rank``, so the columns are visited in that order.
    """

    def __init__(
        self,
        n_rows: int,
        indptr: np.ndarray,
        indices: np.ndarray,
        data: np.ndarray,
        rank: np.ndarray,
    ) -> None:
        self.n_rows = n_rows
        self.indptr = indptr
        self.indices = indices
        self.data = data
        self.rank = rank

    @classmethod
    def of(cls, matrix: sparse.csr_matrix, rank: np.ndarray) -> Postings:
        """The postings of matrix (rows of matrix ordered by rank)."""
        csc = matrix.tocsc()
        return cls(
            matrix.shape[0],
            csc.indptr.astype(np.int64),
            csc.indices.astype(np.int32),
            csc.data,
            np.asarray(rank, dtype=np.int32),
        )

    def dot(self, cols: np.ndarray, values: np.ndarray) -> np.ndarray:
        """matrix @ q, q being values at cols (distinct columns) and zero elsewhere."""
        values = np.asarray(values)
        dtype = np.result_type(self.data.dtype, values.dtype)
        out = np.zeros(self.n_rows, dtype=dtype)
        cols = np.asarray(cols, dtype=np.int64)
        if not len(cols):
            return out
        order = np.argsort(self.rank[cols], kind="stable")
        cols, values = cols[order], values[order]
        starts = self.indptr[cols]
        lengths = self.indptr[cols + 1] - starts
        total = int(lengths.sum())
        if not total:
            return out
        # Positions of every posting of the chosen columns, column after column.
        shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        at = shift + np.arange(total, dtype=np.int64)
        products = self.data[at].astype(dtype, copy=False) * np.repeat(
            values.astype(dtype), lengths
        )
        # ufunc.at adds in the given order, entry by entry, as scipy's loop does.
        np.add.at(out, self.indices[at], products)
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays to store."""
        return {
            "indptr": self.indptr,
            "indices": self.indices,
            "data": self.data,
            "rank": self.rank,
        }

    @classmethod
    def from_arrays(cls, n_rows: int, arrays: Mapping[str, np.ndarray]) -> Postings:
        """Postings over stored (possibly memory-mapped) arrays."""
        return cls(n_rows, arrays["indptr"], arrays["indices"], arrays["data"], arrays["rank"])
