"""Compile every translations/ catalogue in the package: `python -m needs_tracker.i18n compile`.

Catalogues (.po) are committed; compiled ones (.mo) are built, never committed.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import support
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_babel.speaklater import LazyString

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


def extracted_messages(paths: list[Path] | None = None) -> dict[str, list[str]]:
    """Every msgid used in the code and templates, with where it is used."""
    from babel.messages.extract import extract_from_dir

    root = PACKAGE.parent
    method_map = [("**.py", "python"), ("**.html", "jinja2")]
    found: dict[str, list[str]] = {}
    for base in paths or [PACKAGE, root / "templates"]:
        for filename, lineno, message, _comments, _ctx in extract_from_dir(
            str(base),
            method_map=method_map,
            # Babel's default filter skips folders starting with "_", which would hide _macros/.
            directory_filter=lambda path: not Path(path).name.startswith((".", "__")),
            keywords={
                "_": None,
                "_l": None,
                "gettext": None,
                "lazy_gettext": None,
                "ngettext": (1, 2),
            },
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault(msgid, []).append(f"{base.name}/{filename}:{lineno}")
    return found


def translated(locale: str = "zh") -> set[str]:
    """Every msgid with a non-empty, non-fuzzy translation for locale, across all catalogues."""
    done: set[str] = set()
    for po_path in PACKAGE.rglob(f"translations/{locale}/LC_MESSAGES/*.po"):
        with po_path.open("rb") as fh:
            catalog = read_po(fh)
        for message in catalog:
            if message.id and message.string and not message.fuzzy:
                done.add(message.id if isinstance(message.id, str) else message.id[0])
    return done


def missing(locale: str = "zh", paths: list[Path] | None = None) -> dict[str, list[str]]:
    """msgids used in paths (default: everything) that no catalogue translates."""
    have = translated(locale)
    return {k: v for k, v in extracted_messages(paths).items() if k not in have}


def translation_dirs() -> list[str]:
    """Every translations/ folder in the package: one per feature that has strings."""
    return sorted(str(p) for p in PACKAGE.rglob("translations") if p.is_dir())


@lru_cache(maxsize=8)
def _catalogue(locale: str) -> support.Translations:
    # Merged in the order Flask-Babel merges them, so a msgid reads the same here and in a page.
    merged = support.Translations()
    for dirname in translation_dirs():
        merged.merge(support.Translations.load(dirname, [locale]))
    return merged


def in_locale(text: Any, locale: str = "zh") -> str:
    """text (a lazy label or a msgid) translated into locale, with no app or request needed.

    Documents (the monthly report, list exports) are written in Chinese whatever the UI
    language, from the same catalogue the pages use, so a code has one label everywhere.
    """
    if isinstance(text, LazyString):
        msgid = text._args[0] if text._args else ""
        params = text._kwargs
    else:
        msgid, params = str(text), {}
    out = _catalogue(locale).ugettext(msgid)
    return out % params if params else out


if __name__ == "__main__":
    args = sys.argv[1:]
    if args == ["compile"]:
        n = compile_all()
        print(f"translations: {n} catalogue(s) compiled, {len(catalogues())} in all")
    elif args and args[0] == "missing":
        todo = missing(paths=[Path(p).resolve() for p in args[1:]] or None)
        for msgid, where in sorted(todo.items()):
            print(f"{where[0]}\t{msgid!r}")
        print(f"{len(todo)} message(s) without a zh translation")
        sys.exit(1 if todo else 0)
    else:
        sys.exit("usage: python -m needs_tracker.i18n compile | missing [PATH ...]")
