"""Load a labelled evaluation set (CSV) and score engine configurations on it (pure Python).

The set under tests/data/ has three files: matching_eval_pool.csv (kind, name, title,
organisation, region, fields, text), matching_eval_needs.csv (title, company, district,
industry, fields, need_type, description) and matching_eval_gold.csv (need_title,
expert_name: one relevant candidate per row, judged by reading).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from needs_tracker.matching.engine import (
    Candidate,
    EngineConfig,
    Evaluation,
    MatchIndex,
    NeedQuery,
    evaluate_rankings,
)

CENTRE_REGION = "山东省潍坊市"


@dataclass
class EvalSet:
    """Candidates, needs by title, and the relevant names per need title."""

    candidates: list[Candidate]
    needs: dict[str, NeedQuery]
    gold: dict[str, set[str]]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(";") if v.strip())


def load_eval_set(folder: Path, region: str = CENTRE_REGION) -> EvalSet:
    """Read the three CSV files of folder."""
    candidates = [
        Candidate(
            kind=row["kind"],
            id=i,
            name=row["name"],
            organisation=row["organisation"],
            text=row["text"],
            fields=_split(row["fields"]),
            region=row["region"],
            title=row["title"],
        )
        for i, row in enumerate(_rows(folder / "matching_eval_pool.csv"), start=1)
    ]
    needs = {
        row["title"]: NeedQuery(
            title=row["title"],
            description=row["description"],
            fields=_split(row["fields"]),
            need_type=row["need_type"],
            industry=row["industry"],
            region=region,
            district=row["district"],
        )
        for row in _rows(folder / "matching_eval_needs.csv")
    }
    gold: dict[str, set[str]] = defaultdict(set)
    for row in _rows(folder / "matching_eval_gold.csv"):
        gold[row["need_title"]].add(row["expert_name"])
    return EvalSet(candidates, needs, dict(gold))


def evaluate_config(
    data: EvalSet, config: EngineConfig, k: int = 5, index: MatchIndex | None = None
) -> Evaluation:
    """precision@k, recall@k and MRR of one engine configuration on data."""
    index = index or MatchIndex(data.candidates, config)
    ranked = {
        title: [s.name for s in index.suggest(need, top=max(k, 50))]
        for title, need in data.needs.items()
    }
    return evaluate_rankings(ranked, data.gold, k=k)
