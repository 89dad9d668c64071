"""A kind's adapter: all the import core knows about one kind of record, declared by its feature.

A feature makes a kind importable with a KindAdapter subclass in `<feature>/importing.py`,
beside its model, listed in that module's ADAPTERS (`registry` finds it). The adapter is the
one place the kind's importable fields are listed: its spreadsheet columns (FieldSpec); the
values stored as they are follow from them (the columns that are the model's own). The
defaults below fit a record of plain columns with optional technical fields; a kind overrides
only what differs (how names in a row become ids, how a new record is built, what undo keeps,
what the export writes). Nothing here commits; the import core flushes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from needs_tracker.common.models import CentreOwnedMixin
from needs_tracker.extensions import db
from needs_tracker.imports.companies import plan_companies
from needs_tracker.imports.identity import clean_name
from needs_tracker.imports.parsing import (
    CHOICE,
    CREDIT_CODE,
    DATE,
    DECIMAL,
    LIST,
    TEXT,
    FieldSpec,
)
from needs_tracker.imports.plan import diff, plan_by_key
from needs_tracker.taxonomy.models import TechField

if TYPE_CHECKING:
    from needs_tracker.imports.plan import References, RowPlan

__all__ = [
    "CHOICE",
    "CREDIT_CODE",
    "DATE",
    "DECIMAL",
    "LIST",
    "TEXT",
    "FieldSpec",
    "KindAdapter",
    "json_value",
    "plan_companies",
]


def json_value(value: Any) -> Any:
    """A stored value made JSON-safe for a snapshot (dates ISO, amounts as text)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _key_part(value: Any) -> Any:
    """One part of a record's identity: an id as it is, a text cleaned (case, spaces, width)."""
    return value if isinstance(value, int) else clean_name(value or "")


class KindAdapter:
    """How one kind is imported, updated, undone and exported.

    A kind names itself in its class statement, then sets what differs from the defaults:
    `class NeedImport(KindAdapter, model=Need, entity="need", title=_l("Needs"), position=40)`.
    """

    model: Any = None
    kind: str = ""  # import kind, URL part, batch kind ("needs"): the model's table name
    entity: str = ""  # one record, as import_records store it ("need")
    title: Any = ""  # the kind's name in menus (a lazy msgid)
    position: int = 0  # order in menus, the CLI and the list of templates
    columns: tuple[FieldSpec, ...] = ()  # the spreadsheet's columns, in template order
    kept: tuple[str, ...] = ()  # what a snapshot keeps for undo, when more than stored
    match_on: tuple[str, ...] = ()  # values that find a record again (existing or just inserted)
    defaults: Mapping[str, Any] = {}  # the value of a blank cell in a new record, by field
    example: tuple[str, ...] = ()  # the template's example row, one cell per column
    contact_columns: tuple[str, ...] = ()  # exported only to roles that may see contacts
    bulk: bool = True  # new records by one multi-row INSERT, else built as ORM objects
    # Export columns read as SQL (name -> expression) instead of loading objects; None: objects.
    export_sql: Mapping[str, Any] | None = None
    list_order: tuple[Any, ...] = ()  # the export's row order (stable, not the page's sort)
    # How the preview names a change that is not one of the model's columns (a visit's team).
    change_labels: Mapping[str, Any] = {}

    def __init_subclass__(
        cls,
        *,
        model: Any = None,
        entity: str = "",
        title: Any = "",
        position: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if model is not None:
            cls.model, cls.kind, cls.entity = model, model.__tablename__, entity
            cls.title, cls.position = title, position

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind}>"

    # ------------------------------------------------------------ what the kind is

    @property
    def centre_owned(self) -> bool:
        """True when records belong to one centre (imported into it); else the shared pool."""
        return issubclass(self.model, CentreOwnedMixin)

    @property
    def has_fields(self) -> bool:
        """True when records carry technical fields (the 技术领域 column)."""
        return hasattr(self.model, "fields")

    @property
    def stored(self) -> tuple[str, ...]:
        """The columns written to the record as they are: those that are the model's own."""
        columns = self.columns
        cached = self.__dict__.get("_stored")
        if cached is None or cached[0] is not columns:  # worked out again if columns change
            table = self.model.__table__.c
            names = tuple(c.name for c in columns if c.type != LIST and c.name in table)
            self.__dict__["_stored"] = cached = (columns, names)
        return cached[1]

    @property
    def snapshot_names(self) -> tuple[str, ...]:
        """The values a snapshot holds (undo restores them; a merge compares them)."""
        return self.kept or self.stored

    def load_options(self) -> tuple[Any, ...]:
        """Loader options for records an import updates or undo restores."""
        return (selectinload(self.model.fields),) if self.has_fields else ()

    def delete_options(self) -> tuple[Any, ...]:
        """Loader options for records undo deletes (their children go with them)."""
        return self.load_options()

    # ------------------------------------------------------------ plan

    def plan_rows(self, rows: list[RowPlan], refs: References, decide: Any) -> None:
        """Decide each row's action (create, update, skip); default: find records by match_on."""
        plan_by_key(self, rows, refs)

    def resolve(self, row: RowPlan, refs: References) -> None:
        """Turn the names a row holds into ids, adding a problem for each unknown one."""
        if self.has_fields:
            refs.tech_fields(row)

    def row_label(self, values: Mapping[str, Any]) -> str:
        """How the preview and the CLI name a row."""
        return values.get("name") or ""

    def key(self, values: Mapping[str, Any]) -> tuple:
        """A row's identity: two rows (or a row and a record) with one key are one record."""
        return tuple(_key_part(values.get(k)) for k in self.match_on)

    def existing(self, centre_id: int | None) -> dict[tuple, int]:
        """The identity of every visible record (of the centre, for centre data) -> its id."""
        stmt = select(self.model.id, *(getattr(self.model, k) for k in self.match_on))
        if self.centre_owned:
            stmt = stmt.where(self.model.centre_id == centre_id)
        out: dict[tuple, int] = {}
        for obj_id, *values in db.session.execute(stmt):
            out.setdefault(tuple(_key_part(v) for v in values), obj_id)
        return out

    def changes(self, obj: Any, values: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
        """What applying a row to obj would change (blank cells keep what is stored)."""
        changes = diff(obj, values, self.stored)
        new = values.get("field_ids") or []
        if self.has_fields and new:
            current = [f.id for f in obj.fields]
            if set(new) != set(current):
                changes["fields"] = (sorted(current), sorted(new))
        return changes

    def show_value(self, key: str, value: Any) -> str | None:
        """How the preview shows a changed value the audit catalogue cannot; None: as usual."""
        return None

    # ------------------------------------------------------------ commit

    def blank(self, name: str) -> Any:
        """A new record's value for a blank cell: the kind's default, else "" or NULL."""
        if name in self.defaults:
            return self.defaults[name]
        column = self.model.__table__.c.get(name)
        return None if column is not None and column.nullable else ""

    def create_values(
        self, values: Mapping[str, Any], centre_id: int | None, actor_id: int | None
    ) -> dict[str, Any]:
        """The stored columns of a new record from a row's values."""
        row = {n: values.get(n) or self.blank(n) for n in self.snapshot_names}
        if self.centre_owned:
            row["centre_id"] = centre_id
        if hasattr(self.model, "created_by_id"):
            row["created_by_id"] = actor_id
        return row

    def first_children(
        self, ids: list[int], actor_id: int | None
    ) -> tuple[type, str, list[dict[str, Any]]] | None:
        """What each new record starts with besides its row, one child row per record.

        (child model, its column naming the record, the rows); inserted in bulk with the
        records and audited as their children. None: nothing.
        """
        return None

    def build(self, values: Mapping[str, Any], centre_id: int | None, actor_id: int | None) -> Any:
        """A new record as an ORM object (kinds not inserted in bulk; the core sets its fields)."""
        return self.model(**self.create_values(values, centre_id, actor_id))

    def apply(self, obj: Any, values: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
        """Update obj from a row: filled cells overwrite, blank cells keep what is stored."""
        for name in self.stored:
            value = values.get(name)
            if value is None or value == "":
                continue
            setattr(obj, name, value)

    # ------------------------------------------------------------ snapshots and undo

    def snapshot(self, obj: Any) -> dict[str, Any]:
        """The importable values of obj, JSON-safe (what undo and un-merge restore)."""
        out = {n: json_value(getattr(obj, n)) for n in self.snapshot_names}
        if self.has_fields:
            out["field_ids"] = [f.id for f in obj.fields]
        return out

    def restore(self, obj: Any, values: Mapping[str, Any]) -> None:
        """Put a snapshot back on obj."""
        table = self.model.__table__.c
        for key, value in values.items():
            if key == "field_ids":
                obj.fields = list(
                    db.session.scalars(select(TechField).where(TechField.id.in_(value)))
                )
                continue
            column = table.get(key)
            if column is not None and value is not None:
                python_type = column.type.python_type
                if python_type is date and value:
                    value = date.fromisoformat(value)
                elif python_type is Decimal:
                    value = Decimal(value)
            setattr(obj, key, value)

    def discard(self, obj: Any) -> None:
        """Delete a record undo removes (its links first)."""
        if self.has_fields:
            obj.fields = []
        db.session.delete(obj)

    def dependents(self, ids: list[int]) -> list[str]:
        """Why records with these ids may not be removed: what now refers to them."""
        return []

    # ------------------------------------------------------------ export

    def export_select(self, columns: bool = False) -> Select:
        """The export's base query: records (with what a row shows), or export_sql's columns."""
        if columns and self.export_sql is not None:
            sql = self.export_sql
            return select(
                self.model.id,
                *(
                    (sql[c.name] if c.name in sql else getattr(self.model, c.name)).label(c.name)
                    for c in self.columns
                    if c.type != LIST
                ),
            )
        return select(self.model).options(*self.load_options())

    def filter(self, stmt: Select, args: Mapping[str, str], errors: list[str]) -> Select:
        """The list page's filters (the feature's own), from the same query-string arguments."""
        return stmt

    def search(self, stmt: Select, q: str) -> Select:
        """The list page's text search."""
        return stmt

    def export_cells(self, obj: Any) -> dict[str, Any]:
        """Cells of an export row that are not the record's own attribute, by column name."""
        if self.has_fields:
            return {"fields": "、".join(f.name for f in obj.fields)}
        return {}
