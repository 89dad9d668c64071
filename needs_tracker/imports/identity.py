"""Company identity: credit code first, else a normalised name; fuzzy look-alikes are flagged.

Pure core (no Flask, no SQLAlchemy). The normalised name is for comparison only; stored names
are never changed. Fuzzy comparison uses blocking on short keys of the normalised name, so a
file of n rows against m companies costs about n x (block size), never n x m.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

REGION_PREFIXES = (
    "中华人民共和国",
    "中国",
    "山东省",
    "山东",
    "潍坊市",
    "潍坊",
    "青岛市",
    "青岛",
    "济南市",
    "济南",
    "烟台市",
    "烟台",
    "淄博市",
    "淄博",
    "高新区",
    "高新技术产业开发区",
)
LEGAL_SUFFIXES = (
    "集团股份有限公司",
    "集团有限责任公司",
    "集团有限公司",
    "股份有限公司",
    "有限责任公司",
    "股份合作公司",
    "有限公司",
    "股份公司",
    "分公司",
    "总公司",
    "集团",
    "公司",
    "厂",
    "科技",
    "技术",
    "实业",
    "发展",
    "控股",
    "股份",
    "coltd",
    "co",
    "ltd",
    "inc",
    "limited",
    "corporation",
    "corp",
    "group",
)
_PUNCT = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
_BRACKETS = re.compile(r"[（(][^）)]*[）)]")

FUZZY_THRESHOLD = 85.0


def clean_name(name: str) -> str:
    """Full-width -> half-width, lower case, no whitespace or punctuation."""
    text = unicodedata.normalize("NFKC", name or "").lower()
    return _PUNCT.sub("", text)


def normalise_name(name: str) -> str:
    """The comparison key of a company name.

    「潍柴动力股份有限公司」 and 「潍坊潍柴动力有限公司」 both give 「潍柴动力」. Region prefixes
    and legal-form suffixes are removed repeatedly, but a prefix never leaves fewer than three
    characters (潍坊学院 stays) and a suffix never fewer than two; bracketed parts such as （潍坊） are dropped.
    """
    text = unicodedata.normalize("NFKC", name or "").lower()
    text = _BRACKETS.sub("", text)
    text = _PUNCT.sub("", text)
    changed = True
    while changed:
        changed = False
        for prefix in REGION_PREFIXES:
            if text.startswith(prefix) and len(text) - len(prefix) >= 3:
                text = text[len(prefix) :]
                changed = True
        for suffix in LEGAL_SUFFIXES:
            if text.endswith(suffix) and len(text) - len(suffix) >= 2:
                text = text[: -len(suffix)]
                changed = True
    return text or clean_name(name)


BLOCK_CAP = 1000


def block_keys(key: str) -> tuple[str, ...]:
    """Blocking keys of a normalised name: first two, last two, and first+last characters.

    A look-alike (ratio above the threshold) almost always shares at least one of them.
    Blocks that grow beyond BLOCK_CAP names carry no information (like stop words) and
    are skipped, so one comparison never scans a large part of the index.
    """
    if len(key) <= 2:
        return (f"w:{key}",)
    return (f"p:{key[:2]}", f"s:{key[-2:]}", f"e:{key[0]}{key[-1]}")


@dataclass(frozen=True)
class Candidate:
    """A company already known (in the DB or earlier in the same file)."""

    ref: object  # an organisation id, or ("row", n) for an earlier row of the file
    name: str
    credit_code: str | None = None


@dataclass(frozen=True)
class DuplicateHit:
    """Why a name looks like a known company."""

    candidate: Candidate
    reason: str  # "credit_code" | "name" | "normalised" | "fuzzy"
    score: float


class CompanyIndex:
    """Known companies indexed by credit code, exact name, normalised name and block keys."""

    def __init__(self, threshold: float = FUZZY_THRESHOLD) -> None:
        self.threshold = threshold
        self.by_code: dict[str, Candidate] = {}
        self.by_name: dict[str, list[Candidate]] = defaultdict(list)
        self.by_key: dict[str, list[Candidate]] = defaultdict(list)
        self.blocks: dict[str, list[str]] = defaultdict(list)
        self.comparisons = 0

    def add(self, candidate: Candidate) -> None:
        """Index one company."""
        if candidate.credit_code:
            self.by_code.setdefault(candidate.credit_code, candidate)
        self.by_name[clean_name(candidate.name)].append(candidate)
        key = normalise_name(candidate.name)
        if key not in self.by_key:
            for b in block_keys(key):
                self.blocks[b].append(key)
        self.by_key[key].append(candidate)

    def extend(self, candidates: Iterable[Candidate]) -> None:
        """Index many companies."""
        for c in candidates:
            self.add(c)

    def exact(self, name: str, credit_code: str | None) -> tuple[Candidate | None, str]:
        """The company this row is: same credit code, else the one company of the same name.

        A credit code is a legal identity: a company with another valid code is another
        company, whatever its name. A name decides only when at least one side has no code,
        and only when it names exactly one company (two same-named companies with their own
        codes leave the choice to the user).
        """
        if credit_code and credit_code in self.by_code:
            return self.by_code[credit_code], "credit_code"
        same = [
            c
            for c in self.by_name.get(clean_name(name), ())
            if not (credit_code and c.credit_code and c.credit_code != credit_code)
        ]
        if len(same) == 1:
            return same[0], "name"
        return None, ""

    def similar(self, name: str, exclude: object = None, limit: int = 5) -> list[DuplicateHit]:
        """Companies whose normalised name equals or closely resembles name's (never itself)."""
        key = normalise_name(name)
        hits: dict[int, DuplicateHit] = {}
        for c in self.by_key.get(key, ()):
            if c.ref != exclude:
                hits[id(c)] = DuplicateHit(c, "normalised", 100.0)
        for b in block_keys(key):
            block = self.blocks.get(b)
            if not block or len(block) > BLOCK_CAP:
                continue
            self.comparisons += len(block)
            for other_key, score, _ in process.extract(
                key, block, scorer=fuzz.ratio, score_cutoff=self.threshold, limit=limit + 1
            ):
                if other_key == key:
                    continue
                for c in self.by_key[other_key]:
                    if c.ref != exclude and id(c) not in hits:
                        hits[id(c)] = DuplicateHit(c, "fuzzy", round(score, 1))
        return sorted(hits.values(), key=lambda h: -h.score)[:limit]
