"""Which kinds can be imported and exported: the adapters the features declare, found by name.

A feature makes its records importable by declaring adapters (`imports.adapter.KindAdapter`)
in a module `needs_tracker/<feature>/importing.py` that lists them in `ADAPTERS`. The import
core reads kinds only from here, so adding a kind or a field touches the feature alone.
Adapters are looked up on first use, not at import time, so no feature is imported early.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from needs_tracker.imports.parsing import (
    FieldSpec,
    FileError,
    Limits,
    ParsedFile,
    parse_rows,
    parse_upload,
)

if TYPE_CHECKING:
    from needs_tracker.imports.adapter import KindAdapter

PACKAGE = Path(__file__).resolve().parent.parent
MODULE = "importing"  # the module of a feature that declares its adapters


def adapter_modules() -> list[str]:
    """The dotted names of every feature's adapter module, in package order."""
    return [
        f"{PACKAGE.name}.{path.parent.name}.{MODULE}"
        for path in sorted(PACKAGE.glob(f"*/{MODULE}.py"))
    ]


@cache
def adapters() -> dict[str, KindAdapter]:
    """Every importable kind's adapter by kind, in the order menus show them (position)."""
    found: list[KindAdapter] = []
    for name in adapter_modules():
        found.extend(importlib.import_module(name).ADAPTERS)
    kinds = [a.kind for a in found]
    if len(set(kinds)) != len(kinds):
        raise RuntimeError(f"two adapters declare the same kind: {sorted(kinds)}")
    return {a.kind: a for a in sorted(found, key=lambda a: (a.position, a.kind))}


def adapter(kind: str) -> KindAdapter:
    """The adapter of kind; KeyError for a kind nobody declares."""
    return adapters()[kind]


def adapter_of_entity(entity: str) -> KindAdapter:
    """The adapter whose records import_records name entity ("need")."""
    return next(a for a in adapters().values() if a.entity == entity)


def kind_labels() -> dict[str, Any]:
    """kind -> its translated name, in menu order (the upload form, batch and preview pages)."""
    return {kind: a.title for kind, a in adapters().items()}


class _Columns(Mapping[str, tuple[FieldSpec, ...]]):
    """kind -> the spreadsheet columns its adapter declares (read lazily)."""

    def __getitem__(self, kind: str) -> tuple[FieldSpec, ...]:
        return adapters()[kind].columns

    def __iter__(self) -> Iterator[str]:
        return iter(adapters())

    def __len__(self) -> int:
        return len(adapters())


KINDS: Mapping[str, tuple[FieldSpec, ...]] = _Columns()


def _columns(kind: str) -> Sequence[FieldSpec]:
    if kind not in adapters():
        raise FileError("unknown_kind", kind=kind)
    return adapters()[kind].columns


def parse_table(
    kind: str, table: list[tuple[int, list[Any]]], limits: Limits | None = None
) -> ParsedFile:
    """Typed rows of kind from a raw table whose first non-blank row is the header."""
    return parse_rows(kind, _columns(kind), table, limits)


def parse_file(
    kind: str,
    filename: str,
    data: bytes,
    sheet: str | None = None,
    limits: Limits | None = None,
) -> ParsedFile:
    """Parse an uploaded file (.xlsx or .csv) of kind with the columns its adapter declares."""
    return parse_upload(kind, _columns(kind), filename, data, sheet, limits)
