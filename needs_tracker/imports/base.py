"""What every import step shares: the error users see, the centre scope, loading by ids, limits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from needs_tracker.common.scoping import Scope, get_scope, scoped
from needs_tracker.extensions import db
from needs_tracker.imports.parsing import Limits


class ImportError_(ValueError):  # noqa: N801 - avoid shadowing the builtin ImportError
    """An import or undo that cannot proceed; the message is for the user."""


@contextmanager
def centre_scope(centre_id: int | None) -> Iterator[None]:
    """Narrow the session's scope to one centre (reads and writes) for the duration."""
    current = get_scope(db.session)
    if centre_id is None:
        yield
        return
    ids = frozenset({centre_id})
    if current is not None and not current.can_write(centre_id):
        raise ImportError_(_("You cannot import into this centre."))
    with scoped(db.session, Scope(ids, ids, current.user_id if current else None)):
        yield


def load_by_ids(model: Any, ids: list[int], *options: Any) -> dict[int, Any]:
    """The visible records of model with these ids, by id, read 500 at a time."""
    out: dict[int, Any] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for obj in db.session.scalars(select(model).where(model.id.in_(chunk)).options(*options)):
            out[obj.id] = obj
    return out


def limits_from_config() -> Limits:
    """Import limits from the app config (IMPORT_MAX_BYTES, IMPORT_MAX_ROWS; defaults in config.py)."""
    config = current_app.config
    return Limits(
        max_bytes=int(config["IMPORT_MAX_BYTES"]), max_rows=int(config["IMPORT_MAX_ROWS"])
    )
