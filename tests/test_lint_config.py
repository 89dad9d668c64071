"""The pre-commit hooks and `make lint` run the same ruff checks with the pinned ruff."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _lint_commands() -> list[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    body = text.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    return [line.strip().replace("$(BIN)/", ".venv/bin/") for line in body.splitlines()[1:]]


def test_pre_commit_hooks_are_make_lints_checks_with_the_pinned_ruff():
    # read as text: the file is a few flat keys, and PyYAML is not one of our requirements
    config = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    repos = re.findall(r"^\s*- repo:\s*(\S+)$", config, re.M)
    assert repos == ["local"]  # nothing to download
    hooks = [
        {"entry": entry, "language": language}
        for entry, language in re.findall(
            r"^\s*entry:\s*(.+?)\s*$\n^\s*language:\s*(\S+)", config, re.M
        )
    ]
    assert len(hooks) == 2
    entries = [h["entry"].replace(" --force-exclude", "") for h in hooks]
    assert sorted(entries) == sorted(c.removesuffix(" .") for c in _lint_commands())
    pinned = re.search(r"^ruff==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M)
    assert pinned is not None
    assert all(
        h["language"] == "system" and h["entry"].startswith(".venv/bin/ruff ") for h in hooks
    )
