"""Safe redirect targets."""

from __future__ import annotations

from urllib.parse import urlsplit


def is_safe_next(target: str | None) -> bool:
    """True only for a local path (no scheme, no host, no protocol-relative //)."""
    if not target:
        return False
    if target.startswith(("//", "\\")) or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target.startswith("/")
