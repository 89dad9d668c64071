"""Plan an import (the preview): what each row would create, update or skip, and every error.

Nothing is written. Rows of a kind are matched to existing records by the kind's adapter
(`KindAdapter.plan_rows`: by key for most kinds, by company identity for organisations);
the look-ups that turn names into ids (technical fields, a centre's organisations) are
`References`, shared by every kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from sqlalchemy import select

from needs_tracker.extensions import db
from needs_tracker.imports.base import ImportError_, centre_scope, load_by_ids
from needs_tracker.imports.identity import clean_name, normalise_name
from needs_tracker.imports.messages import problem_message
from needs_tracker.imports.parsing import ParsedFile, Problem
from needs_tracker.imports.registry import adapter
from needs_tracker.organisations.models import Organisation
from needs_tracker.taxonomy.models import TechField

if TYPE_CHECKING:
    from needs_tracker.imports.adapter import KindAdapter

ACTIONS = ("create", "update", "unchanged", "duplicate", "merged", "skip", "error")
DUPLICATE_CHOICES = ("merge", "keep")


@dataclass
class Lookalike:
    """A company a row may be: an organisation (ref = its id) or an earlier row (ref = None)."""

    name: str
    score: int
    organisation_id: int | None = None
    row: int | None = None


@dataclass
class RowPlan:
    """What confirming will do with one row.

    Actions: create, update, unchanged; "duplicate" = a possible duplicate waiting for the
    user's choice (merge or keep both); "merged" = folded into an earlier row of the file
    (by the user's choice); "skip" = the same record as an earlier row, not imported;
    "error" = the row has errors (nothing is imported then).
    """

    number: int
    action: str
    values: dict[str, Any]
    label: str = ""
    target_id: int | None = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    duplicate_note: str = ""
    errors: list[str] = field(default_factory=list)
    error_columns: list[str | None] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)
    lookalikes: list[Lookalike] = field(default_factory=list)
    decision: str | None = None  # "merge" | "keep" for a possible duplicate
    merged_into: int | None = None  # row number, for action "merged"

    def add_problem(self, problem: Problem) -> None:
        """Record a cell error (translated), remembering its column for the annotated file."""
        self.errors.append(problem_message(problem))
        self.error_columns.append(problem.column)


@dataclass
class ImportPlan:
    """The preview of an import: per-row actions and every error message."""

    kind: str
    centre_id: int | None
    rows: list[RowPlan]
    ignored_headers: list[str] = field(default_factory=list)
    create_duplicates: bool = False
    header_cells: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        """Every error message, in row order."""
        return [e for r in self.rows for e in r.errors]

    @property
    def ok(self) -> bool:
        """True when no row has an error (possible duplicates may still need a choice)."""
        return not any(r.errors for r in self.rows)

    @property
    def undecided(self) -> list[RowPlan]:
        """Possible duplicates still waiting for merge-or-keep."""
        return self.by_action("duplicate")

    def by_action(self, action: str) -> list[RowPlan]:
        """The rows with one action."""
        return [r for r in self.rows if r.action == action]

    @property
    def counts(self) -> dict[str, int]:
        """How many rows for each action."""
        out = dict.fromkeys(ACTIONS, 0)
        for r in self.rows:
            out[r.action] += 1
        return out

    def summary(self) -> str:
        """One line for the CLI and flash messages."""
        c = self.counts
        return _(
            "%(create)s to create, %(update)s to update, %(unchanged)s unchanged, %(duplicate)s possible duplicates, %(merged)s merged, %(skip)s skipped, %(error)s with errors",
            **c,
        )


def _rows_from(parsed: ParsedFile) -> list[RowPlan]:
    bad: dict[int, list[Problem]] = {}
    for p in parsed.problems:
        bad.setdefault(p.row or 0, []).append(p)
    plans = []
    for row in parsed.rows:
        plan = RowPlan(row.number, "create", row.values, cells=row.cells)
        for p in bad.get(row.number, []):
            plan.add_problem(p)
        if plan.errors:
            plan.action = "error"
        plans.append(plan)
    return plans


def diff(obj: Any, values: dict[str, Any], names: tuple[str, ...]) -> dict[str, tuple[Any, Any]]:
    """Changes that applying values (empty cells keep what is stored) would make to obj."""
    changes = {}
    for name in names:
        new = values.get(name)
        if new is None or new == "":
            continue
        old = obj.get(name) if isinstance(obj, dict) else getattr(obj, name)
        if isinstance(new, Decimal) and old is not None:
            if Decimal(old) == new:
                continue
        elif old == new:
            continue
        changes[name] = (old, new)
    return changes


def _finish(plan: RowPlan) -> None:
    if plan.errors:
        plan.action = "error"
    elif plan.action == "update" and not plan.changes:
        plan.action = "unchanged"


def plan_import(
    parsed: ParsedFile,
    centre_id: int | None,
    *,
    create_duplicates: bool = False,
    on_duplicate: str | None = None,
    decisions: dict[int, str] | None = None,
) -> ImportPlan:
    """Preview an import: what each row would create or update, duplicates and errors.

    A possible duplicate (a company whose name resembles another while at least one of the
    two has no credit code) is never dropped: it waits for a choice, taken from
    decisions[row number] ("merge" or "keep"), else on_duplicate for every such row
    (create_duplicates=True means on_duplicate="keep"). Undecided rows keep the action
    "duplicate" and commit_import refuses the plan until each has a choice.
    """
    kind = adapter(parsed.kind)
    if kind.centre_owned and centre_id is None:
        raise ImportError_(_("Choose the centre to import into."))
    if on_duplicate is None and create_duplicates:
        on_duplicate = "keep"
    if on_duplicate not in (None, *DUPLICATE_CHOICES):
        raise ValueError(on_duplicate)
    decisions = decisions or {}

    def decide(number: int) -> str | None:
        choice = decisions.get(number, on_duplicate)
        return choice if choice in DUPLICATE_CHOICES else None

    with centre_scope(centre_id if kind.centre_owned else None):
        rows = _rows_from(parsed)
        kind.plan_rows(rows, References(parsed.headers, centre_id), decide)
        for r in rows:
            _finish(r)
    return ImportPlan(
        parsed.kind,
        centre_id,
        rows,
        parsed.ignored_headers,
        on_duplicate == "keep",
        parsed.header_cells,
    )


class OrganisationNames:
    """Find a centre's organisation by full name, short name or unique normalised name."""

    def __init__(self, centre_id: int) -> None:
        self.by_name: dict[str, int] = {}
        by_key: dict[str, set[int]] = {}
        stmt = select(Organisation.id, Organisation.name, Organisation.short_name).where(
            Organisation.centre_id == centre_id
        )
        shorts = []
        self.shared: set[str] = set()  # full names held by several organisations
        for oid, name, short in db.session.execute(stmt):
            key = clean_name(name)
            if self.by_name.setdefault(key, oid) != oid:
                self.shared.add(key)
            by_key.setdefault(normalise_name(name), set()).add(oid)
            if short:
                shorts.append((clean_name(short), oid))
        for short, oid in shorts:
            self.by_name.setdefault(short, oid)
        self.by_key = {k: next(iter(v)) for k, v in by_key.items() if len(v) == 1}

    def find(self, name: str) -> int | None:
        """The organisation's id; None when no organisation, or several, bear the name."""
        if self.ambiguous(name):
            return None
        return self.by_name.get(clean_name(name)) or self.by_key.get(normalise_name(name))

    def ambiguous(self, name: str) -> bool:
        """True when several organisations (with different credit codes) have this name."""
        return clean_name(name) in self.shared

    def problem(self, name: str) -> str:
        """The problem code for a name find() did not resolve."""
        return "ambiguous_company" if self.ambiguous(name) else "unknown_company"


class References:
    """Turn the names a row holds into ids; each unknown name becomes a problem on its row.

    Built once per plan: the technical fields and the centre's organisations are read on
    first use, then looked up in memory for every row.
    """

    def __init__(self, headers: dict[str, str], centre_id: int | None) -> None:
        self.headers = headers  # field name -> header as written (for problems)
        self.centre_id = centre_id
        self._fields: dict[str, TechField] | None = None
        self._organisations: OrganisationNames | None = None

    def problem(self, row: RowPlan, code: str, column: str, value: str) -> None:
        """Add a problem (a `messages` code) about a cell of column to row."""
        row.add_problem(Problem(code, row.number, self.headers.get(column), {"value": value}))

    def tech_fields(self, row: RowPlan, column: str = "fields", into: str = "field_ids") -> None:
        """Technical field names (a LIST column) -> ids, when the file has the column."""
        if column not in self.headers:
            return
        if self._fields is None:
            self._fields = {clean_name(f.name): f for f in db.session.scalars(select(TechField))}
        ids = []
        for name in row.values.get(column) or []:
            found = self._fields.get(clean_name(name))
            if found is None:
                self.problem(row, "unknown_field", column, name)
            else:
                ids.append(found.id)
        row.values[into] = ids

    @property
    def organisations_by_name(self) -> OrganisationNames:
        """The centre's organisations by name (read once)."""
        if self._organisations is None:
            assert self.centre_id is not None  # kinds that name organisations are centre data
            self._organisations = OrganisationNames(self.centre_id)
        return self._organisations

    def organisation(self, row: RowPlan, column: str, into: str) -> None:
        """One organisation's name -> its id (None, with a problem, when unknown or ambiguous)."""
        name = row.values.get(column)
        if not name:
            return
        names = self.organisations_by_name
        found = names.find(name)
        if found is None:
            self.problem(row, names.problem(name), column, name)
        row.values[into] = found

    def organisation_list(self, row: RowPlan, column: str, into: str) -> None:
        """Several organisations' names (a LIST column) -> the ids of those found."""
        names = self.organisations_by_name
        ids = []
        for name in row.values.get(column) or []:
            found = names.find(name)
            if found is None:
                self.problem(row, names.problem(name), column, name)
            else:
                ids.append(found)
        row.values[into] = ids


def plan_by_key(kind: KindAdapter, rows: list[RowPlan], refs: References) -> None:
    """Plan rows that are one record when their keys (kind.key) agree.

    A row whose key an earlier row has is skipped; one whose key a stored record has updates
    it; any other creates a record.
    """
    existing = kind.existing(refs.centre_id)
    seen: dict[tuple, int] = {}
    for r in rows:
        kind.resolve(r, refs)
        if r.action == "error" or r.errors:
            continue
        r.label = kind.row_label(r.values)
        key = kind.key(r.values)
        if key in seen:
            r.action = "skip"
            r.duplicate_note = _("Same as row %(row)s", row=seen[key])
            continue
        seen[key] = r.number
        if key in existing:
            r.action, r.target_id = "update", existing[key]
    updates = [r for r in rows if r.action == "update"]
    targets = load_by_ids(kind.model, [r.target_id for r in updates], *kind.load_options())
    for r in updates:
        r.changes = kind.changes(targets[r.target_id], r.values)
