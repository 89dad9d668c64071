"""Undo an import as one unit: remove what it created, restore what it updated.

Refused while anything depends on its records: one was changed or deleted since, or other
records now refer to one it created (each kind's adapter says what may refer to it).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from needs_tracker.auth.models import User
from needs_tracker.common.models import utcnow
from needs_tracker.extensions import db
from needs_tracker.imports.base import ImportError_, centre_scope, load_by_ids
from needs_tracker.imports.models import ImportBatch, ImportRecord
from needs_tracker.imports.registry import adapter, adapter_of_entity
from needs_tracker.matching.services import after_bulk_change


def undo_problems(batch: ImportBatch) -> list[str]:
    """Why batch cannot be undone (empty when it can)."""
    if batch.undone_at is not None:
        return [_("This import has already been undone.")]
    problems: list[str] = []
    by_entity: dict[str, list[ImportRecord]] = {}
    for rec in batch.records:
        by_entity.setdefault(rec.entity, []).append(rec)
    for entity, recs in by_entity.items():
        kind = adapter_of_entity(entity)
        model = kind.model
        ids = [r.entity_id for r in recs]
        objs = {}
        for start in range(0, len(ids), 500):
            for obj in db.session.scalars(
                select(model)
                .where(model.id.in_(ids[start : start + 500]))
                .execution_options(include_deleted=True)
            ):
                objs[obj.id] = obj
        for rec in recs:
            obj = objs.get(rec.entity_id)
            if obj is None or getattr(obj, "deleted_at", None) is not None:
                problems.append(
                    _("Row %(row)s: the record was deleted since the import.", row=rec.row_number)
                )
            elif obj.version != rec.version_after:
                problems.append(
                    _("Row %(row)s: the record was changed since the import.", row=rec.row_number)
                )
        created = [r.entity_id for r in recs if r.action == "create"]
        for start in range(0, len(created), 500):
            problems += kind.dependents(created[start : start + 500])
    return problems


def undo_import(batch: ImportBatch, actor: User | None) -> None:
    """Remove the records an import created and restore those it updated, as one unit."""
    centre_id = batch.centre_id if adapter(batch.kind).centre_owned else None
    with centre_scope(centre_id):
        problems = undo_problems(batch)
        if problems:
            raise ImportError_(" ".join(dict.fromkeys(problems)))
        objs: dict[tuple[str, int], Any] = {}
        for entity in {r.entity for r in batch.records}:
            kind = adapter_of_entity(entity)
            ids = [r.entity_id for r in batch.records if r.entity == entity]
            loaded = load_by_ids(kind.model, ids, *kind.delete_options())
            objs.update({(entity, i): o for i, o in loaded.items()})
        for rec in reversed(batch.records):
            kind = adapter_of_entity(rec.entity)
            obj = objs[(rec.entity, rec.entity_id)]
            if rec.action == "create":
                kind.discard(obj)
            else:
                kind.restore(obj, rec.before or {})
        batch.undone_at = utcnow()
        batch.undone_by_id = actor.id if actor else None
        db.session.flush()
        after_bulk_change(batch.kind)
