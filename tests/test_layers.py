"""Layers point one way (issue 15): read from the source, so a back-pointing import fails here.

import-linter is not on the package index this project installs from, so the contracts are
checked with the standard library's ast: every import statement of a module, at any depth
(imports inside functions count), except those under ``if TYPE_CHECKING:`` (annotations only).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "needs_tracker"
# What common/ may use: itself, the extension objects and the translation helpers.
COMMON_MAY_IMPORT = ("needs_tracker.common", "needs_tracker.extensions", "needs_tracker.i18n")
# listing.py is being reworked by the list-scale work; its Organisation import goes with that.
KNOWN_BACK_POINTERS = {"common/listing.py": {"needs_tracker.organisations.models"}}


def _module_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, module: str | None = None) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) for every runtime import in a file."""
    module = module or _module_of(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, list[str]]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.extend((a.name, []) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    up = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*up, base] if base else up)
                names = [a.name for a in child.names]
                # `from needs_tracker.reports import cli` imports the module reports.cli
                found.append((base, names))
                found.extend((f"{base}.{n}", []) for n in names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def _files(pattern: str) -> list[Path]:
    return sorted(PACKAGE.glob(pattern))


def test_the_checker_sees_imports_inside_functions_and_skips_type_checking(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from needs_tracker.needs.models import Need\n"
        "def f():\n    from needs_tracker.visits.models import Visit\n",
        encoding="utf-8",
    )
    modules = {m for m, _ in imports_of(probe, "needs_tracker.common.probe")}
    assert "needs_tracker.visits.models" in modules
    assert "needs_tracker.needs.models" not in modules


@pytest.mark.parametrize("path", _files("common/*.py"), ids=lambda p: p.name)
def test_common_imports_no_feature(path):
    allowed = tuple(KNOWN_BACK_POINTERS.get(f"common/{path.name}", ()))
    bad = {
        m
        for m, _ in imports_of(path)
        if m.startswith("needs_tracker")
        and m != "needs_tracker"
        and not m.startswith(COMMON_MAY_IMPORT)
        and not m.startswith(allowed)
    }
    assert not bad, f"common/{path.name} imports features: {sorted(bad)}"


@pytest.mark.parametrize(
    "path", _files("**/views.py") + _files("**/*_views.py"), ids=lambda p: _module_of(p)
)
def test_no_view_imports_a_cli(path):
    bad = {m for m, _ in imports_of(path) if m.split(".")[-1] == "cli"}
    assert not bad, f"{_module_of(path)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", _files("audit/*.py"), ids=lambda p: p.name)
def test_audit_imports_no_matching(path):
    assert not [m for m, _ in imports_of(path) if m.startswith("needs_tracker.matching")]


@pytest.mark.parametrize("path", _files("**/*.py"), ids=lambda p: _module_of(p))
def test_no_module_takes_a_private_name_from_another_feature(path):
    own = _module_of(path).split(".")[:2]
    bad = [
        f"{m}.{n}"
        for m, names in imports_of(path)
        if m.startswith("needs_tracker.") and m.split(".")[:2] != own
        for n in names
        if n.startswith("_") and not n.startswith("__")
    ]
    assert not bad, f"{_module_of(path)} uses private helpers: {bad}"
