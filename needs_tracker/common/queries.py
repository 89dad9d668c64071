"""Lookups that always go through the scoping layer."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort
from sqlalchemy import select

from needs_tracker.extensions import db

T = TypeVar("T")


def get_visible(model: type[T], ident: Any, *options: Any) -> T | None:
    """Load one row by id if the current scope can see it (never via the identity map alone)."""
    try:
        ident = int(ident)
    except (TypeError, ValueError):
        return None
    stmt = select(model).where(model.id == ident).options(*options)  # type: ignore[attr-defined]
    return db.session.scalar(stmt)


def get_visible_or_404(model: type[T], ident: Any, *options: Any) -> T:
    """Like get_visible, but 404 when missing or outside the user's centres."""
    obj = get_visible(model, ident, *options)
    if obj is None:
        abort(404)
    return obj


def visible_ids(model: Any, ids: list[int]) -> set[int]:
    """The subset of ids that the current scope can see."""
    if not ids:
        return set()
    return set(db.session.scalars(select(model.id).where(model.id.in_(ids))))
