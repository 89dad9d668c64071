"""Names for the ids a trail entry holds: the record itself, its parent, and id values.

The trail stores ids (expert_id 2, fields [3]); a reader needs names (专家“邢卫东”, 技术领域
“智能检测”). The target of an id is found from the models' own foreign keys and relationships,
so the audit package needs to know no feature, and a new foreign key is named with no change
here. Names are read in one query per table for a whole page of entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select

from needs_tracker.audit.labels import column_label, table_label, value_label
from needs_tracker.audit.models import AuditEntry
from needs_tracker.audit.services import USER_COLUMNS, model_for_table
from needs_tracker.extensions import db

# The column a record is called by, first found wins.
NAME_COLUMNS = ("name", "title", "display_name", "username")

SENTENCES = {
    "create": _l("%(who)s created %(kind)s %(name)s"),
    "update": _l("%(who)s changed %(kind)s %(name)s"),
    "delete": _l("%(who)s deleted %(kind)s %(name)s permanently"),
    "soft_delete": _l("%(who)s moved %(kind)s %(name)s to the trash"),
    "restore": _l("%(who)s restored %(kind)s %(name)s"),
}


def _target_table(table: str, key: str) -> str | None:
    """The table an id column (expert_id) or id-list relationship (fields) of table points to."""
    model = model_for_table(table)
    if model is None:
        return None
    mapper = inspect(model)
    if key in mapper.relationships:
        return mapper.relationships[key].mapper.local_table.name
    column = model.__table__.columns.get(key)
    if column is not None:
        for fk in column.foreign_keys:
            return fk.column.table.name
    return None


def _name_column(table: str) -> Any:
    model = model_for_table(table)
    if model is None:
        return None
    columns = model.__table__.columns
    return next((columns[c] for c in NAME_COLUMNS if c in columns), None)


def _snapshot_name(values: dict[str, Any] | None) -> str | None:
    for c in NAME_COLUMNS:
        if values and values.get(c):
            return str(values[c])
    return None


class EntryNames:
    """Names for a page of entries: who acted, what record, and each id value."""

    def __init__(
        self,
        entries: Iterable[AuditEntry],
        users: dict[int, str],
        hidden: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self.entries = list(entries)
        self.users = users
        # Columns whose values this reader may not see (experts' contact data), by table.
        self.hidden = hidden or {}
        wanted: dict[str, set[int]] = defaultdict(set)
        for e in self.entries:
            if e.record_id is not None and not _snapshot_name(e.after or e.before):
                wanted[e.table_name].add(e.record_id)
            if e.parent_table and e.parent_id is not None:
                wanted[e.parent_table].add(e.parent_id)
            for values in (e.before or {}, e.after or {}):
                for key, value in values.items():
                    if key in USER_COLUMNS or key == "id":
                        continue
                    target = _target_table(e.table_name, key)
                    if target is None:
                        continue
                    ids = value if isinstance(value, list) else [value]
                    wanted[target].update(i for i in ids if isinstance(i, int))
        self.names: dict[str, dict[int, str]] = {}
        for table, ids in wanted.items():
            column = _name_column(table)
            if column is None or not ids:
                continue
            id_col = column.table.c.id
            # The raw table, not the model: deleted and other-centre rows keep their names in
            # the history (the entry itself was already judged visible).
            rows = db.session.connection().execute(
                select(id_col, column).where(id_col.in_(sorted(ids)))
            )
            self.names[table] = {rid: str(name) for rid, name in rows}

    def record(self, e: AuditEntry) -> str:
        """The record's name in quotes, or its number when it has none."""
        name = _snapshot_name(e.after or e.before) or self.names.get(e.table_name, {}).get(
            e.record_id
        )
        return f"“{name}”" if name else f"#{e.record_id}"

    def sentence(self, e: AuditEntry) -> str:
        """One line a non-developer reads: 胡志强 修改了 需求“焊缝缺陷自动检测”."""
        who = self.users.get(e.user_id, _("system")) if e.user_id else _("system")
        template = SENTENCES.get(e.action)
        kind = str(table_label(e.table_name))
        text = (
            str(template) % {"who": who, "kind": kind, "name": self.record(e)}
            if template is not None
            else f"{who} {e.action} {kind} {self.record(e)}"
        )
        if e.parent_table and e.parent_id is not None:
            parent = self.names.get(e.parent_table, {}).get(e.parent_id)
            text += _(
                " (of %(kind)s %(name)s)",
                kind=table_label(e.parent_table),
                name=f"“{parent}”" if parent else f"#{e.parent_id}",
            )
        return text

    def value(self, e: AuditEntry, key: str, value: Any) -> str:
        """A recorded value as a reader wants it: users and ids by name, codes by label."""
        if key in self.hidden.get(e.table_name, ()):
            return "***"
        if key in USER_COLUMNS and isinstance(value, int):
            return self.users.get(value, f"#{value}")
        target = _target_table(e.table_name, key) if key != "id" else None
        if target is not None and value is not None:
            names = self.names.get(target, {})
            ids = value if isinstance(value, list) else [value]
            if all(isinstance(i, int) for i in ids):
                return "、".join(names.get(i, f"#{i}") for i in ids) or "—"
        return value_label(e.table_name, key, value)

    def label(self, e: AuditEntry, key: str) -> Any:
        """The column's name in the entry's table."""
        return column_label(key, e.table_name)
