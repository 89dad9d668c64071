"""Commit a planned import as one unit: new records in bulk, updates through the ORM, a batch.

The batch records each record's values before and after, so `undo` can reverse it. Bulk
INSERTs bypass the ORM's flush events, so this module does for them what those events do for
a record saved one at a time: the write-scope check, the audit entries (`record_bulk_creates`),
what a new record starts with (a need's first status change, through its adapter) and the
matching index stamp (`after_bulk_change`). A need's search terms are a column default, which
a bulk INSERT computes too.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Table, insert, inspect, select

from needs_tracker.audit.events import record_bulk_creates
from needs_tracker.auth.models import User
from needs_tracker.common.scoping import ScopeViolation, get_scope
from needs_tracker.extensions import db
from needs_tracker.imports.adapter import KindAdapter, json_value
from needs_tracker.imports.base import ImportError_, centre_scope, load_by_ids
from needs_tracker.imports.models import ImportBatch, ImportRecord
from needs_tracker.imports.plan import ImportPlan, RowPlan
from needs_tracker.imports.registry import adapter
from needs_tracker.matching.services import after_bulk_change
from needs_tracker.taxonomy.models import TechField


def commit_import(plan: ImportPlan, actor: User | None, filename: str = "") -> ImportBatch:
    """Write a previewed import as one unit; refuses (writing nothing) when any row has errors.

    New records are inserted in bulk (one multi-row INSERT ... RETURNING per table) unless
    their kind builds objects; the write scope is checked by centre_scope beforehand.
    """
    if not plan.ok:
        raise ImportError_(_("The file has errors; nothing was imported."))
    if plan.undecided:
        rows = "、".join(str(r.number) for r in plan.undecided[:20])
        raise ImportError_(
            _(
                "Choose “merge” or “keep both” for every possible duplicate (rows %(rows)s); nothing was imported.",
                rows=rows,
            )
        )
    kind = adapter(plan.kind)
    centre_id = plan.centre_id if kind.centre_owned else None
    with centre_scope(centre_id):
        fields = {f.id: f for f in db.session.scalars(select(TechField))}
        batch = ImportBatch(
            kind=plan.kind,
            centre_id=plan.centre_id,
            filename=filename[:200],
            created_by_id=actor.id if actor else None,
        )
        db.session.add(batch)
        creates = plan.by_action("create")
        updates = plan.by_action("update")
        targets = load_by_ids(kind.model, [r.target_id for r in updates], *kind.load_options())
        befores = {r.target_id: kind.snapshot(targets[r.target_id]) for r in updates}
        for r in updates:
            obj = targets[r.target_id]
            kind.apply(obj, r.values, r.changes)
            _set_fields(kind, obj, r.values, fields)
        db.session.flush()
        actor_id = actor.id if actor else None
        if kind.bulk:
            created = _bulk_create(kind, creates, centre_id, actor_id)
        else:
            new_objs = [(r, kind.build(r.values, centre_id, actor_id)) for r in creates]
            for r, obj in new_objs:
                _set_fields(kind, obj, r.values, fields)
            db.session.add_all([o for _, o in new_objs])
            db.session.flush()
            created = [(r, o.id, kind.snapshot(o)) for r, o in new_objs]
        records = [
            _record(batch, kind, "create", r, obj_id, None, after, 1)
            for r, obj_id, after in created
        ]
        records += [
            _record(
                batch,
                kind,
                "update",
                r,
                r.target_id,
                befores[r.target_id],
                kind.snapshot(targets[r.target_id]),
                targets[r.target_id].version,
            )
            for r in updates
        ]
        if records:
            db.session.execute(insert(ImportRecord).execution_options(**_bulk_options()), records)
        c = plan.counts
        batch.created_count = len(creates)
        batch.updated_count = len(updates)
        batch.unchanged_count = c["unchanged"]
        batch.skipped_count = c["skip"]
        batch.merged_count = c["merged"]
        batch.skipped_rows = skipped_rows_payload(plan) if c["skip"] else None
        db.session.flush()
        db.session.expire(batch, ["records"])
        # Bulk inserts bypass the ORM events: move the index stamp, ask for embeddings.
        after_bulk_change(plan.kind)
    return batch


def _set_fields(
    kind: KindAdapter, obj: Any, values: dict[str, Any], fields: dict[int, TechField]
) -> None:
    """Give obj the technical fields a row names, when it names some others than obj has."""
    ids = values.get("field_ids")
    if ids and kind.has_fields and set(ids) != {f.id for f in obj.fields}:
        obj.fields = [fields[i] for i in ids]


def _record(
    batch: ImportBatch,
    kind: KindAdapter,
    action: str,
    r: RowPlan,
    entity_id: int,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    version_after: int,
) -> dict[str, Any]:
    """One import_records row: a record the batch created or updated, as it was and became."""
    return {
        "batch_id": batch.id,
        "entity": kind.entity,
        "entity_id": entity_id,
        "action": action,
        "row_number": r.number,
        "before": before,
        "after": after,
        "version_after": version_after,
    }


def skipped_rows_payload(plan: ImportPlan) -> dict[str, Any]:
    """The rows an import skipped, as written in the file, with the reason (for the batch page)."""
    return {
        "header": plan.header_cells,
        "rows": [
            {"row": r.number, "label": r.label, "reason": r.duplicate_note, "cells": r.cells}
            for r in plan.by_action("skip")
        ],
    }


def _bulk_options() -> dict[str, Any]:
    """psycopg parses each statement's text in Python, so on PostgreSQL many short multi-row
    INSERTs (50 rows) are about three times faster than the default pages of 1,000 rows."""
    if db.session.get_bind().dialect.name == "postgresql":
        return {"insertmanyvalues_page_size": 50}
    return {}


def field_link(model: Any) -> tuple[Table, str] | None:
    """The table linking model to its technical fields, and its column naming the record."""
    relationship = inspect(model).relationships.get("fields")
    if relationship is None or relationship.secondary is None:
        return None
    own = next(c for c in relationship.secondary.c if c.references(model.__table__.c.id))
    return relationship.secondary, own.key


def _check_scope(kind: KindAdapter, values: list[dict[str, Any]]) -> None:
    """The flush guard's rule for rows that are not flushed: every centre must be writable."""
    scope = get_scope(db.session)
    if not kind.centre_owned or scope is None or scope.write_centres is None:
        return
    for centre_id in {v["centre_id"] for v in values}:
        if not scope.can_write(centre_id):
            raise ScopeViolation(f"{kind.entity} of centre {centre_id} is outside the scope")


def _bulk_create(
    kind: KindAdapter, creates: list[RowPlan], centre_id: int | None, actor_id: int | None
) -> list[tuple[RowPlan, int, dict[str, Any]]]:
    """Insert the new rows of one kind in bulk; return (row plan, new id, snapshot)."""
    if not creates:
        return []
    model = kind.model
    values = [{**kind.create_values(r.values, centre_id, actor_id), "version": 1} for r in creates]
    _check_scope(kind, values)
    # The returned ids are matched by key (RETURNING order is not guaranteed by every
    # backend, and asking SQLAlchemy for it makes SQLite insert one row at a time). Keys are
    # nearly always unique among the new rows; companies the user chose to keep apart may
    # share a name (and no code): such rows get their ids in insertion order, in which both
    # SQLite and PostgreSQL number a multi-row INSERT.
    key_cols = kind.match_on
    returned = db.session.execute(
        insert(model)
        .returning(model.id, *(getattr(model, k) for k in key_cols))
        .execution_options(render_nulls=True, **_bulk_options()),  # NULLs keep one batch
        values,
    ).all()
    by_key: dict[tuple, list[int]] = {}
    for row in sorted(returned, key=lambda row: row[0], reverse=True):
        by_key.setdefault(tuple(row[1:]), []).append(row[0])
    ids = [by_key[tuple(v[k] for k in key_cols)].pop() for v in values]
    link = field_link(model)
    field_ids = [list(dict.fromkeys(r.values.get("field_ids") or [])) for r in creates]
    if link is not None:
        table, own = link
        links = [
            {own: obj_id, "field_id": fid}
            for obj_id, chosen in zip(ids, field_ids, strict=True)
            for fid in chosen
        ]
        if links:
            db.session.execute(insert(table).execution_options(**_bulk_options()), links)
    out = []
    audited = []
    names = kind.snapshot_names
    for r, obj_id, row, chosen in zip(creates, ids, values, field_ids, strict=True):
        after = {n: json_value(row.get(n)) for n in names}
        if link is not None:
            after["field_ids"] = chosen
        out.append((r, obj_id, after))
        audited.append((obj_id, {**row, "fields": chosen} if link is not None else row))
    # Bulk INSERTs bypass the session events that write the audit trail: record them here,
    # so an imported record's history starts with its creation, like any other.
    record_bulk_creates(db.session, model, audited, actor_id)
    _insert_first_children(kind, ids, centre_id, actor_id)
    return out


def _insert_first_children(
    kind: KindAdapter, ids: list[int], centre_id: int | None, actor_id: int | None
) -> None:
    """Insert and audit what each new record starts with (a need's first status change)."""
    children = kind.first_children(ids, actor_id)
    if children is None:
        return
    child, parent_key, rows = children
    returned = db.session.execute(
        insert(child)
        .returning(child.id, getattr(child, parent_key))
        .execution_options(**_bulk_options()),
        rows,
    ).all()
    by_parent = {parent_id: child_id for child_id, parent_id in returned}
    record_bulk_creates(
        db.session,
        child,
        [(by_parent[row[parent_key]], row) for row in rows],
        actor_id,
        centre_id=centre_id,
        parent=(kind.model.__tablename__, parent_key),
    )
