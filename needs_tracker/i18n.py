"""Compile every translations/ catalogue in the package: `python -m needs_tracker.i18n compile`.

Catalogues (.po) are committed; compiled ones (.mo) are built, never committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

PACKAGE = Path(__file__).resolve().parent


def catalogues() -> list[Path]:
    """Every messages.po under a translations/ folder of the package."""
    return sorted(PACKAGE.rglob("translations/*/LC_MESSAGES/*.po"))


def compile_all() -> int:
    """Compile each .po next to itself; return how many were compiled."""
    count = 0
    for po_path in catalogues():
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh)
        with mo_path.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        count += 1
    return count


if __name__ == "__main__":
    if sys.argv[1:] != ["compile"]:
        sys.exit("usage: python -m needs_tracker.i18n compile")
    n = compile_all()
    print(f"translations: {n} catalogue(s) compiled, {len(catalogues())} in all")
