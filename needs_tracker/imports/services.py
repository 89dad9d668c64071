"""Import services: plan (preview) -> commit as one unit -> undo; company duplicates and merges.

Services take the acting user, flush and never commit; callers (views, CLI) commit once.
Centre data is read through db.session, so the scoping layer keeps every other centre's
rows out of look-ups; plan_import and commit_import additionally narrow the scope to the
target centre, so even an admin's import never matches another centre's companies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from needs_tracker.audit.events import record_bulk_creates
from needs_tracker.auth.models import User
from needs_tracker.common.models import utcnow
from needs_tracker.common.scoping import Scope, get_scope, scoped
from needs_tracker.experts.models import Expert, Resource, expert_fields, resource_fields
from needs_tracker.extensions import db
from needs_tracker.imports.identity import Candidate, CompanyIndex, clean_name, normalise_name
from needs_tracker.imports.models import ImportBatch, ImportRecord, OrganisationMerge
from needs_tracker.imports.parsing import (
    KINDS,
    FileError,
    Limits,
    ParsedFile,
    ParsedRow,
    Problem,
)
from needs_tracker.matching.models import DockingEvent, Match
from needs_tracker.matching.services import after_bulk_change
from needs_tracker.needs import services as needs_services  # builds needs as create_need
from needs_tracker.needs.models import Need, NeedStatusChange, need_fields
from needs_tracker.organisations.models import Organisation
from needs_tracker.organisations.services import FIELDS as ORGANISATION_FORM_FIELDS
from needs_tracker.taxonomy.models import TechField
from needs_tracker.visits.models import Visit, VisitTeamMember

CENTRE_KINDS = ("organisations", "needs", "visits")
POOL_KINDS = ("experts", "resources")
ENTITY = {
    "organisations": "organisation",
    "experts": "expert",
    "resources": "resource",
    "needs": "need",
    "visits": "visit",
}
MODELS: dict[str, Any] = {
    "organisation": Organisation,
    "expert": Expert,
    "resource": Resource,
    "need": Need,
    "visit": Visit,
}

ORG_FIELDS = (
    "name",
    "credit_code",
    "short_name",
    "kind",
    "district",
    "industry",
    "size",
    "address",
    "contact_name",
    "contact_phone",
)
EXPERT_FIELDS = (
    "name",
    "organisation",
    "title",
    "department",
    "expertise",
    "phone",
    "email",
    "region",
)
RESOURCE_FIELDS = ("name", "kind", "owner_organisation", "description", "maturity")
NEED_FIELDS = ("title", "description", "need_type", "urgency", "budget", "collected_on")
VISIT_FIELDS = ("visit_date", "purpose", "summary", "status")
# the fields a merge may set on the survivor and that undo/un-merge restore: those of the form
MERGE_FIELDS = ORGANISATION_FORM_FIELDS


class ImportError_(ValueError):  # noqa: N801 - avoid shadowing the builtin ImportError
    """An import or undo that cannot proceed; the message is for the user."""


# ---------------------------------------------------------------- messages


def problem_message(p: Problem) -> str:
    """Translate a cell problem, e.g. 第 12 行「统一社会信用代码」校验位错误."""
    args = {"row": p.row, "column": p.column, "value": "", **p.params}
    texts = {
        "required": lambda: _("Row %(row)s, “%(column)s”: a value is required", **args),
        "credit_check": lambda: _("Row %(row)s, “%(column)s”: the check digit is wrong", **args),
        "credit_length": lambda: _(
            "Row %(row)s, “%(column)s”: a credit code has 18 characters", **args
        ),
        "credit_chars": lambda: _(
            "Row %(row)s, “%(column)s”: characters not allowed in a credit code", **args
        ),
        "bad_date": lambda: _("Row %(row)s, “%(column)s”: not a date (%(value)s)", **args),
        "impossible_date": lambda: _(
            "Row %(row)s, “%(column)s”: %(value)s is not a valid date (there is no such day)",
            **args,
        ),
        "bad_char": lambda: _(
            "Row %(row)s, “%(column)s”: contains a character that cannot be stored (a NUL byte or an invalid character)",
            **args,
        ),
        "bad_number": lambda: _(
            "Row %(row)s, “%(column)s”: not a valid amount (%(value)s)", **args
        ),
        "bad_choice": lambda: (
            _(
                "Row %(row)s, “%(column)s” must be one of %(allowed)s (not “%(value)s”)",
                **args,
            )
            if args.get("allowed")
            else _("Row %(row)s, “%(column)s”: not one of the allowed values (%(value)s)", **args)
        ),
        "too_long": lambda: (
            _(
                "Row %(row)s, “%(column)s”: the text is too long (at most %(max)s characters)",
                **args,
            )
            if args.get("max")
            else _("Row %(row)s, “%(column)s”: the text is too long", **args)
        ),
        "formula_no_value": lambda: _(
            "Row %(row)s, “%(column)s”: a formula without a computed value; open and save the file in Excel first",
            **args,
        ),
        "unknown_company": lambda: _(
            "Row %(row)s, “%(column)s”: no organisation named “%(value)s” in this centre", **args
        ),
        "ambiguous_company": lambda: _(
            "Row %(row)s, “%(column)s”: several organisations in this centre are named “%(value)s”; rename one or merge them first",
            **args,
        ),
        "unknown_field": lambda: _(
            "Row %(row)s, “%(column)s”: unknown technical field “%(value)s”", **args
        ),
        "bad_team": lambda: _(
            "Row %(row)s, “%(column)s”: write team members as name/title/organisation (%(value)s)",
            **args,
        ),
    }
    if p.code in texts:
        return texts[p.code]()
    return _("Row %(row)s, “%(column)s”: invalid value", **args)


def file_error_message(exc: FileError) -> str:
    """Translate a whole-file error."""
    p = exc.params
    if exc.code == "too_big":
        size, limit = "{:.1f}".format(p["size"] / 1048576), "{:.1f}".format(p["max"] / 1048576)
        return _("The file is too large (%(size)s MB; at most %(max)s MB).", size=size, max=limit)
    texts = {
        "empty": _("The file is empty."),
        "no_rows": _("The file has a header row but no data rows."),
        "wrong_type": _("Only .xlsx and .csv files can be imported (not .xls or other types)."),
        "encoding": _("The CSV file is neither UTF-8 nor GB18030/GBK text."),
        "unknown_kind": _("Unknown kind of data."),
    }
    if exc.code in texts:
        return texts[exc.code]
    if exc.code == "too_many_rows":
        return _("The file has %(rows)s rows; at most %(max)s can be imported at once.", **p)
    if exc.code == "unknown_sheet":
        return _("There is no sheet named “%(sheet)s” (sheets: %(sheets)s).", **p)
    if exc.code == "merged_header":
        return _(
            "The header row has merged cells (%(cells)s); unmerge them so that each column has its own header.",
            **p,
        )
    if exc.code == "missing_columns":
        return _("Required columns are missing: %(columns)s.", **p)
    if exc.code == "duplicate_header":
        return _("The column “%(header)s” appears twice.", **p)
    return _("The file could not be read (%(detail)s).", detail=p.get("detail", exc.code))


# ---------------------------------------------------------------- plan


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


def limits_from_config() -> Limits:
    """Import limits from the app config (IMPORT_MAX_BYTES, IMPORT_MAX_ROWS)."""
    return Limits(
        max_bytes=int(current_app.config.get("IMPORT_MAX_BYTES", 10 * 1024 * 1024)),
        max_rows=int(current_app.config.get("IMPORT_MAX_ROWS", 50_000)),
    )


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


def _text(v: Any) -> str:
    return "" if v is None else str(v)


def _diff(obj: Any, values: dict[str, Any], names: tuple[str, ...]) -> dict[str, tuple[Any, Any]]:
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


def _field_lookup() -> dict[str, TechField]:
    return {clean_name(f.name): f for f in db.session.scalars(select(TechField))}


def _resolve_fields(plan: RowPlan, headers: dict[str, str], fields: dict[str, TechField]) -> None:
    names = plan.values.get("fields") or []
    ids = []
    for name in names:
        f = fields.get(clean_name(name))
        if f is None:
            plan.add_problem(
                Problem("unknown_field", plan.number, headers.get("fields"), {"value": name})
            )
        else:
            ids.append(f.id)
    plan.values["field_ids"] = ids


def _field_change(plan: RowPlan, current_ids: list[int]) -> None:
    new = plan.values.get("field_ids") or []
    if new and set(new) != set(current_ids):
        plan.changes["fields"] = (sorted(current_ids), sorted(new))


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
    if parsed.kind in CENTRE_KINDS and centre_id is None:
        raise ImportError_(_("Choose the centre to import into."))
    if on_duplicate is None and create_duplicates:
        on_duplicate = "keep"
    if on_duplicate not in (None, *DUPLICATE_CHOICES):
        raise ValueError(on_duplicate)
    decisions = decisions or {}

    def decide(number: int) -> str | None:
        choice = decisions.get(number, on_duplicate)
        return choice if choice in DUPLICATE_CHOICES else None

    with centre_scope(centre_id if parsed.kind in CENTRE_KINDS else None):
        rows = _rows_from(parsed)
        if parsed.kind == "organisations":
            _plan_organisations(rows, centre_id, decide)
        else:
            planner = {
                "experts": _plan_experts,
                "resources": _plan_resources,
                "needs": _plan_needs,
                "visits": _plan_visits,
            }[parsed.kind]
            planner(rows, parsed.headers, centre_id, create_duplicates)
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


def company_index(centre_id: int | None = None) -> CompanyIndex:
    """Index of the (visible) organisations, optionally of one centre."""
    return _company_indexes(centre_id)[0]


def _company_indexes(centre_id: int | None) -> tuple[CompanyIndex, CompanyIndex]:
    """Indexes of every organisation and of those without a credit code.

    A row with a credit code is compared by name only with companies that have no code
    (two valid codes that differ are two companies), so it searches the second index.
    """
    every, uncoded = CompanyIndex(), CompanyIndex()
    stmt = select(Organisation.id, Organisation.name, Organisation.credit_code)
    if centre_id is not None:
        stmt = stmt.where(Organisation.centre_id == centre_id)
    for i, n, c in db.session.execute(stmt):
        candidate = Candidate(i, n, c)
        every.add(candidate)
        if not c:
            uncoded.add(candidate)
    return every, uncoded


def _load(model: Any, ids: list[int], *options: Any) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for obj in db.session.scalars(select(model).where(model.id.in_(chunk)).options(*options)):
            out[obj.id] = obj
    return out


class _FileCompanies:
    """The companies of the rows planned so far, indexed like the database's."""

    def __init__(self) -> None:
        self.every, self.uncoded = CompanyIndex(), CompanyIndex()

    def add(self, r: RowPlan) -> None:
        candidate = Candidate(("row", r.number), r.values["name"], r.values.get("credit_code"))
        self.every.add(candidate)
        if not candidate.credit_code:
            self.uncoded.add(candidate)


def _fold(into: RowPlan, r: RowPlan) -> None:
    """Merge row r into an earlier row: r's values fill the cells the earlier row left empty."""
    for name in ORG_FIELDS:
        if into.values.get(name) in (None, "") and r.values.get(name) not in (None, ""):
            into.values[name] = r.values[name]
    r.action, r.merged_into = "merged", into.number
    r.duplicate_note = _("Merged into row %(row)s", row=into.number)


def _plan_organisations(rows: list[RowPlan], centre_id: int | None, decide) -> None:
    """Identity of each company row: credit code first; names only where a code is missing.

    Cost: dictionary look-ups for codes and exact names; fuzzy name comparison only for rows
    or companies without a code, and then only within blocks (see identity.CompanyIndex).
    """
    every, uncoded = _company_indexes(centre_id)
    in_file = _FileCompanies()
    by_number = {r.number: r for r in rows}
    claimed: dict[int, RowPlan] = {}  # organisation id -> the row that updates it

    def final(r: RowPlan) -> RowPlan:
        while r.action == "merged" and r.merged_into is not None:
            r = by_number[r.merged_into]
        return r

    def fold(into: RowPlan, r: RowPlan) -> None:
        had_code = into.values.get("credit_code")
        _fold(into, r)
        code = into.values.get("credit_code")
        if code and not had_code:  # a later row with this code is this company too
            in_file.every.by_code.setdefault(
                code, Candidate(("row", into.number), into.values["name"], code)
            )

    def update(r: RowPlan, org_id: int) -> None:
        if org_id in claimed:
            first = claimed[org_id]
            if r.decision == "merge":
                fold(final(first), r)
            else:
                r.action = "skip"
                r.duplicate_note = _("Same organisation as row %(row)s", row=first.number)
            return
        r.action, r.target_id = "update", org_id
        claimed[org_id] = r

    for r in rows:
        if r.action == "error":
            continue
        name, code = r.values["name"], r.values.get("credit_code")
        r.label = name
        hit, _reason = every.exact(name, code)
        if hit is not None:
            update(r, hit.ref)
            if r.action != "skip":
                in_file.add(r)
            continue
        earlier, reason = in_file.every.exact(name, code)
        if earlier is not None and reason == "credit_code":
            r.action = "skip"
            r.duplicate_note = _("Same credit code as row %(row)s", row=earlier.ref[1])
            continue
        if earlier is not None:
            r.lookalikes = [Lookalike(earlier.name, 100, row=earlier.ref[1])]
        else:
            hits = (uncoded if code else every).similar(name, limit=3)
            r.lookalikes = [
                Lookalike(h.candidate.name, int(h.score), organisation_id=h.candidate.ref)
                for h in hits
            ]
            if not hits:
                near = (in_file.uncoded if code else in_file.every).similar(name, limit=1)
                r.lookalikes = [
                    Lookalike(h.candidate.name, int(h.score), row=h.candidate.ref[1]) for h in near
                ]
        if r.lookalikes:
            r.duplicate_note = "；".join(
                _("looks like row %(row)s (%(score)s)", row=x.row, score=x.score)
                if x.row
                else _("looks like “%(name)s” (%(score)s)", name=x.name, score=x.score)
                for x in r.lookalikes
            )
            r.decision = decide(r.number)
            if r.decision is None:
                r.action = "duplicate"
            elif r.decision == "merge":
                best = r.lookalikes[0]
                if best.row is not None:
                    fold(final(by_number[best.row]), r)
                    continue
                update(r, best.organisation_id)
                if r.action == "update":
                    in_file.add(r)
                    r.values["name"] = None  # merged into a company: it keeps its own name
                continue
        in_file.add(r)
    existing = _load(Organisation, list(claimed))
    for r in rows:
        if r.action == "update":
            r.changes = _diff(existing[r.target_id], r.values, ORG_FIELDS)


def _plan_pool(rows, headers, model, key_fields, names, label_field) -> None:
    fields = _field_lookup()
    existing: dict[tuple, int] = {}
    for obj_id, *vals in db.session.execute(
        select(model.id, *(getattr(model, k) for k in key_fields))
    ):
        existing.setdefault(tuple(clean_name(v or "") for v in vals), obj_id)
    seen: dict[tuple, int] = {}
    for r in rows:
        if "fields" in headers:
            _resolve_fields(r, headers, fields)
        if r.action == "error" or r.errors:
            continue
        r.label = r.values.get(label_field) or ""
        key = tuple(clean_name(r.values.get(k) or "") for k in key_fields)
        if key in seen:
            r.action = "skip"
            r.duplicate_note = _("Same as row %(row)s", row=seen[key])
            continue
        seen[key] = r.number
        if key in existing:
            r.action, r.target_id = "update", existing[key]
    targets = _load(
        model, [r.target_id for r in rows if r.action == "update"], selectinload(model.fields)
    )
    for r in rows:
        if r.action == "update":
            obj = targets[r.target_id]
            r.changes = _diff(obj, r.values, names)
            _field_change(r, [f.id for f in obj.fields])


def _plan_experts(rows, headers, centre_id, create_duplicates) -> None:
    _plan_pool(rows, headers, Expert, ("name", "organisation"), EXPERT_FIELDS, "name")


def _plan_resources(rows, headers, centre_id, create_duplicates) -> None:
    _plan_pool(
        rows,
        headers,
        Resource,
        ("name", "owner_organisation", "description"),
        RESOURCE_FIELDS,
        "name",
    )


class _OrgResolver:
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


def _plan_needs(rows, headers, centre_id, create_duplicates) -> None:
    orgs = _OrgResolver(centre_id)
    fields = _field_lookup()
    existing: dict[tuple, int] = {}
    stmt = select(Need.id, Need.organisation_id, Need.title, Need.description).where(
        Need.centre_id == centre_id
    )
    for nid, oid, title, desc in db.session.execute(stmt):
        existing.setdefault((oid, clean_name(title), clean_name(desc)), nid)
    seen: dict[tuple, int] = {}
    for r in rows:
        if "fields" in headers:
            _resolve_fields(r, headers, fields)
        if r.values.get("company"):
            oid = orgs.find(r.values["company"])
            if oid is None:
                r.add_problem(
                    Problem(
                        orgs.problem(r.values["company"]),
                        r.number,
                        headers["company"],
                        {"value": r.values["company"]},
                    )
                )
            r.values["organisation_id"] = oid
        if r.action == "error" or r.errors:
            continue
        r.label = r.values["title"]
        key = (
            r.values["organisation_id"],
            clean_name(r.values["title"]),
            clean_name(r.values["description"]),
        )
        if key in seen:
            r.action = "skip"
            r.duplicate_note = _("Same as row %(row)s", row=seen[key])
            continue
        seen[key] = r.number
        if key in existing:
            r.action, r.target_id = "update", existing[key]
    targets = _load(
        Need, [r.target_id for r in rows if r.action == "update"], selectinload(Need.fields)
    )
    for r in rows:
        if r.action == "update":
            obj = targets[r.target_id]
            r.changes = _diff(obj, r.values, NEED_FIELDS)
            _field_change(r, [f.id for f in obj.fields])


def parse_team(entries: list[str]) -> list[dict[str, str]] | None:
    """Team cells: 姓名/职称/单位 (title and organisation optional); None when malformed."""
    team = []
    for entry in entries:
        parts = [p.strip() for p in entry.replace("／", "/").split("/")]
        if len(parts) > 3 or not parts[0]:
            return None
        parts += [""] * (3 - len(parts))
        team.append(
            {"name": parts[0][:60], "title": parts[1][:120], "organisation_name": parts[2][:200]}
        )
    return team


def _plan_visits(rows, headers, centre_id, create_duplicates) -> None:
    orgs = _OrgResolver(centre_id)
    existing: dict[tuple, int] = {}
    visits = db.session.scalars(
        select(Visit)
        .where(Visit.centre_id == centre_id)
        .options(selectinload(Visit.organisations), selectinload(Visit.team))
    ).all()
    by_id = {v.id: v for v in visits}
    for v in visits:
        existing.setdefault((v.visit_date, frozenset(o.id for o in v.organisations)), v.id)
    seen: dict[tuple, int] = {}
    for r in rows:
        ids = []
        for name in r.values.get("organisations") or []:
            oid = orgs.find(name)
            if oid is None:
                r.add_problem(
                    Problem(orgs.problem(name), r.number, headers["organisations"], {"value": name})
                )
            else:
                ids.append(oid)
        r.values["organisation_ids"] = ids
        team = parse_team(r.values.get("team") or [])
        if team is None:
            r.add_problem(
                Problem(
                    "bad_team",
                    r.number,
                    headers.get("team"),
                    {"value": "、".join(r.values["team"])[:40]},
                )
            )
        r.values["team_members"] = team or []
        if r.action == "error" or r.errors:
            continue
        r.label = f"{r.values['visit_date']} {'、'.join(r.values['organisations'])}"
        key = (r.values["visit_date"], frozenset(ids))
        if key in seen:
            r.action = "skip"
            r.duplicate_note = _("Same as row %(row)s", row=seen[key])
            continue
        seen[key] = r.number
        if key in existing:
            r.action, r.target_id = "update", existing[key]
            v = by_id[r.target_id]
            r.changes = _diff(v, r.values, VISIT_FIELDS)
            current = [
                {"name": m.name, "title": m.title, "organisation_name": m.organisation_name}
                for m in v.team
            ]
            if r.values["team_members"] and r.values["team_members"] != current:
                r.changes["team"] = (current, r.values["team_members"])


# ---------------------------------------------------------------- snapshots


def _json(v: Any) -> Any:
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    return v


def snapshot(entity: str, obj: Any) -> dict[str, Any]:
    """The importable values of obj, JSON-safe (for undo and un-merge)."""
    names = {
        "organisation": MERGE_FIELDS,
        "expert": EXPERT_FIELDS,
        "resource": RESOURCE_FIELDS,
        "need": NEED_FIELDS,
        "visit": VISIT_FIELDS,
    }[entity]
    out = {n: _json(getattr(obj, n)) for n in names}
    if entity in ("expert", "resource", "need"):
        out["field_ids"] = [f.id for f in obj.fields]
    if entity == "visit":
        out["team"] = [
            {"name": m.name, "title": m.title, "organisation_name": m.organisation_name}
            for m in obj.team
        ]
    return out


def _restore(entity: str, obj: Any, values: dict[str, Any]) -> None:
    for key, value in values.items():
        if key == "field_ids":
            obj.fields = list(db.session.scalars(select(TechField).where(TechField.id.in_(value))))
        elif key == "team":
            obj.team = [VisitTeamMember(position=i, **m) for i, m in enumerate(value)]
        elif key in ("collected_on", "visit_date") and value:
            setattr(obj, key, date.fromisoformat(value))
        elif key == "budget":
            setattr(obj, key, Decimal(value) if value is not None else None)
        else:
            setattr(obj, key, value)


# ---------------------------------------------------------------- commit


def _apply_values(r: RowPlan, obj: Any, names: tuple[str, ...], fields: dict[int, TechField]):
    for name in names:
        value = r.values.get(name)
        if value is None or value == "":
            continue
        setattr(obj, name, value)
    ids = r.values.get("field_ids")
    if ids and hasattr(obj, "fields") and set(ids) != {f.id for f in obj.fields}:
        obj.fields = [fields[i] for i in ids]


def commit_import(plan: ImportPlan, actor: User | None, filename: str = "") -> ImportBatch:
    """Write a previewed import as one unit; refuses (writing nothing) when any row has errors.

    New organisations, experts, resources and needs are inserted in bulk (one multi-row
    INSERT ... RETURNING per table); the write scope is checked by centre_scope beforehand.
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
    entity = ENTITY[plan.kind]
    model = MODELS[entity]
    centre_id = plan.centre_id if plan.kind in CENTRE_KINDS else None
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
        opts = [selectinload(model.fields)] if hasattr(model, "fields") else []
        if entity == "visit":
            opts = [selectinload(Visit.organisations), selectinload(Visit.team)]
        targets = _load(model, [r.target_id for r in updates], *opts)
        befores = {r.target_id: snapshot(entity, targets[r.target_id]) for r in updates}
        for r in updates:
            _update(entity, r, targets[r.target_id], fields)
        db.session.flush()
        if entity == "visit":
            new_objs = [(r, _build(entity, r, centre_id, actor, fields)) for r in creates]
            db.session.add_all([o for _, o in new_objs])
            db.session.flush()
            created = [(r, o.id, snapshot(entity, o)) for r, o in new_objs]
        else:
            created = _bulk_create(entity, creates, centre_id, actor)
        records = [
            {
                "batch_id": batch.id,
                "entity": entity,
                "entity_id": obj_id,
                "action": "create",
                "row_number": r.number,
                "before": None,
                "after": after,
                "version_after": 1,
            }
            for r, obj_id, after in created
        ]
        records += [
            {
                "batch_id": batch.id,
                "entity": entity,
                "entity_id": r.target_id,
                "action": "update",
                "row_number": r.number,
                "before": befores[r.target_id],
                "after": snapshot(entity, targets[r.target_id]),
                "version_after": targets[r.target_id].version,
            }
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


def skipped_rows_payload(plan: ImportPlan) -> dict[str, Any]:
    """The rows an import skipped, as written in the file, with the reason (for the batch page)."""
    return {
        "header": plan.header_cells,
        "rows": [
            {"row": r.number, "label": r.label, "reason": r.duplicate_note, "cells": r.cells}
            for r in plan.by_action("skip")
        ],
    }


def _create_values(entity: str, r: RowPlan, centre_id: int | None, actor_id: int | None):
    v = r.values
    if entity == "organisation":
        row = {n: v.get(n) or "" for n in MERGE_FIELDS}
        row.update(centre_id=centre_id, credit_code=v.get("credit_code"))
        row["kind"] = v.get("kind") or "company"
    elif entity == "expert":
        row = {n: v.get(n) or "" for n in EXPERT_FIELDS}
    elif entity == "resource":
        row = {n: v.get(n) or "" for n in RESOURCE_FIELDS}
        row["kind"] = v.get("kind") or "other"
    else:
        row = needs_services.need_values(v, centre_id, actor_id)
    row["version"] = 1
    return row


def _bulk_options() -> dict[str, Any]:
    """psycopg parses each statement's text in Python, so on PostgreSQL many short multi-row
    INSERTs (50 rows) are about three times faster than the default pages of 1,000 rows."""
    if db.session.get_bind().dialect.name == "postgresql":
        return {"insertmanyvalues_page_size": 50}
    return {}


CREATE_KEYS = {
    "organisation": ("name", "credit_code"),
    "expert": ("name", "organisation"),
    "resource": ("name", "owner_organisation", "description"),
    "need": ("organisation_id", "title", "description"),
}


def _bulk_create(entity: str, creates: list[RowPlan], centre_id, actor) -> list[tuple]:
    """Insert the new rows of one kind in bulk; return (row plan, new id, snapshot)."""
    if not creates:
        return []
    model = MODELS[entity]
    actor_id = actor.id if actor else None
    values = [_create_values(entity, r, centre_id, actor_id) for r in creates]
    # The returned ids are matched by key (RETURNING order is not guaranteed by every
    # backend, and asking SQLAlchemy for it makes SQLite insert one row at a time). Keys are
    # nearly always unique among the new rows; companies the user chose to keep apart may
    # share a name (and no code): such rows get their ids in insertion order, in which both
    # SQLite and PostgreSQL number a multi-row INSERT.
    key_cols = CREATE_KEYS[entity]
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
    assoc = {"expert": expert_fields, "resource": resource_fields, "need": need_fields}.get(entity)
    if assoc is not None:
        key = f"{entity}_id"
        links = [
            {key: obj_id, "field_id": fid}
            for r, obj_id in zip(creates, ids, strict=True)
            for fid in dict.fromkeys(r.values.get("field_ids") or [])
        ]
        if links:
            db.session.execute(insert(assoc).execution_options(**_bulk_options()), links)
    status_audit: list[tuple[int, dict[str, Any]]] = []
    if entity == "need":
        changes = [
            {
                "need_id": obj_id,
                **needs_services.first_status_change(actor_id, note="import"),
                "changed_at": utcnow(),
            }
            for obj_id in ids
        ]
        change_ids = db.session.execute(
            insert(NeedStatusChange)
            .returning(NeedStatusChange.id, NeedStatusChange.need_id)
            .execution_options(**_bulk_options()),
            changes,
        ).all()
        by_need = {need_id: change_id for change_id, need_id in change_ids}
        status_audit = [(by_need[c["need_id"]], c) for c in changes]
    names = {
        "organisation": MERGE_FIELDS,
        "expert": EXPERT_FIELDS,
        "resource": RESOURCE_FIELDS,
        "need": NEED_FIELDS,
    }[entity]
    out = []
    audited = []
    for r, obj_id, row in zip(creates, ids, values, strict=True):
        after = {n: _json(row.get(n)) for n in names}
        field_ids = list(dict.fromkeys(r.values.get("field_ids") or []))
        if assoc is not None:
            after["field_ids"] = field_ids
        out.append((r, obj_id, after))
        audited.append((obj_id, {**row, "fields": field_ids} if assoc is not None else row))
    # Bulk INSERTs bypass the session events that write the audit trail: record them here,
    # so an imported record's history starts with its creation, like any other.
    record_bulk_creates(db.session, model, audited, actor_id)
    if entity == "need":
        record_bulk_creates(
            db.session,
            NeedStatusChange,
            status_audit,
            actor_id,
            centre_id=centre_id,
            parent=("needs", "need_id"),
        )
    return out


def _build(entity, r: RowPlan, centre_id, actor, fields):
    v = r.values
    actor_id = actor.id if actor else None
    if entity == "organisation":
        obj = Organisation(centre_id=centre_id)
        for name in ORG_FIELDS:
            setattr(obj, name, v.get(name) if name == "credit_code" else (v.get(name) or ""))
        if not v.get("kind"):
            obj.kind = "company"
        return obj
    if entity == "expert":
        obj = Expert(**{n: v.get(n) or "" for n in EXPERT_FIELDS})
    elif entity == "resource":
        obj = Resource(**{n: v.get(n) or "" for n in RESOURCE_FIELDS})
        obj.kind = v.get("kind") or "other"
    elif entity == "need":
        obj = Need(**needs_services.need_values(v, centre_id, actor_id))
        obj.history = [
            NeedStatusChange(**needs_services.first_status_change(actor_id, note="import"))
        ]
    else:
        obj = Visit(
            centre_id=centre_id,
            visit_date=v["visit_date"],
            status=v.get("status") or "done",
            purpose=v.get("purpose") or "",
            summary=v.get("summary") or "",
            created_by_id=actor_id,
        )
        obj.organisations = list(_load(Organisation, v["organisation_ids"]).values())
        obj.team = [VisitTeamMember(position=i, **m) for i, m in enumerate(v["team_members"])]
        return obj
    obj.fields = [fields[i] for i in v.get("field_ids") or []]
    return obj


def _update(entity, r: RowPlan, obj, fields) -> None:
    names = {
        "organisation": ORG_FIELDS,
        "expert": EXPERT_FIELDS,
        "resource": RESOURCE_FIELDS,
        "need": NEED_FIELDS,
        "visit": VISIT_FIELDS,
    }[entity]
    _apply_values(r, obj, names, fields)
    if entity == "visit" and "team" in r.changes:
        obj.team = [
            VisitTeamMember(position=i, **m) for i, m in enumerate(r.values["team_members"])
        ]


# ---------------------------------------------------------------- undo


def undo_problems(batch: ImportBatch) -> list[str]:
    """Why batch cannot be undone (empty when it can)."""
    if batch.undone_at is not None:
        return [_("This import has already been undone.")]
    problems: list[str] = []
    by_entity: dict[str, list[ImportRecord]] = {}
    for rec in batch.records:
        by_entity.setdefault(rec.entity, []).append(rec)
    for entity, recs in by_entity.items():
        model = MODELS[entity]
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
        problems += _dependents(entity, created)
    return problems


def _dependents(entity: str, ids: list[int]) -> list[str]:
    if not ids:
        return []
    out: list[str] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        if entity == "organisation":
            n = db.session.scalars(
                select(Need.id).where(Need.organisation_id.in_(chunk)).limit(1)
            ).first()
            v = db.session.scalars(
                select(Visit.id)
                .join(Visit.organisations)
                .where(Organisation.id.in_(chunk))
                .limit(1)
            ).first()
            if n or v:
                out.append(_("Needs or visits now refer to organisations this import created."))
        elif entity in ("need", "expert", "resource"):
            col = {"need": Match.need_id, "expert": Match.expert_id, "resource": Match.resource_id}[
                entity
            ]
            if db.session.scalars(select(Match.id).where(col.in_(chunk)).limit(1)).first():
                out.append(_("Matches now refer to records this import created."))
            if entity != "need":
                dcol = DockingEvent.expert_id if entity == "expert" else DockingEvent.resource_id
                if db.session.scalars(
                    select(DockingEvent.id).where(dcol.in_(chunk)).limit(1)
                ).first():
                    out.append(_("Docking meetings now refer to records this import created."))
        elif (
            entity == "visit"
            and db.session.scalars(select(Need.id).where(Need.visit_id.in_(chunk)).limit(1)).first()
        ):
            out.append(_("Needs now refer to visits this import created."))
    return out


def undo_import(batch: ImportBatch, actor: User | None) -> None:
    """Remove the records an import created and restore those it updated, as one unit."""
    centre_id = batch.centre_id if batch.kind in CENTRE_KINDS else None
    with centre_scope(centre_id):
        problems = undo_problems(batch)
        if problems:
            raise ImportError_(" ".join(dict.fromkeys(problems)))
        objs: dict[tuple[str, int], Any] = {}
        for entity in {r.entity for r in batch.records}:
            model = MODELS[entity]
            ids = [r.entity_id for r in batch.records if r.entity == entity]
            opts = [selectinload(model.fields)] if hasattr(model, "fields") else []
            if entity == "need":
                opts.append(selectinload(Need.history))
            if entity == "visit":
                opts += [selectinload(Visit.organisations), selectinload(Visit.team)]
            objs.update({(entity, i): o for i, o in _load(model, ids, *opts).items()})
        for rec in reversed(batch.records):
            obj = objs[(rec.entity, rec.entity_id)]
            if rec.action == "create":
                if hasattr(obj, "fields"):
                    obj.fields = []
                if rec.entity == "visit":
                    obj.organisations = []
                db.session.delete(obj)
            else:
                _restore(rec.entity, obj, rec.before or {})
        batch.undone_at = utcnow()
        batch.undone_by_id = actor.id if actor else None
        db.session.flush()
        after_bulk_change(batch.kind)


# ---------------------------------------------------------------- duplicates and merge


@dataclass
class Duplicate:
    """An existing organisation that looks like the one being created."""

    organisation: Organisation
    reason: str
    score: float


def _distinct_codes(a: str | None, b: str | None) -> bool:
    """Two different credit codes: two companies, however alike their names."""
    return bool(a and b and a != b)


def find_duplicates(
    name: str, credit_code: str | None, centre_id: int, exclude_id: int | None = None
) -> list[Duplicate]:
    """Organisations of centre_id that are, or look like, the company name/credit_code.

    Same credit code or same cleaned name first, then same normalised name, then fuzzy
    look-alikes above the threshold. Only the given centre is searched.
    """
    with centre_scope(centre_id):
        index = company_index(centre_id)
        hits: list[tuple[int, str, float]] = []
        exact, reason = index.exact(name or "", credit_code or None)
        if exact is not None and exact.ref != exclude_id:
            hits.append((exact.ref, reason, 100.0))
        for h in index.similar(name or "", exclude=exclude_id):
            if _distinct_codes(credit_code or None, h.candidate.credit_code):
                continue
            if all(h.candidate.ref != i for i, _, _ in hits):
                hits.append((h.candidate.ref, h.reason, h.score))
        orgs = _load(Organisation, [i for i, _, _ in hits])
        return [Duplicate(orgs[i], r, s) for i, r, s in hits if i in orgs]


def lookalike_organisations(
    name: str, credit_code: str | None, centre_id: int
) -> list[Organisation]:
    """Organisations of centre_id that may be the one about to be created (find_duplicates'
    hits, best first): the API refuses such a create unless the caller confirms it."""
    return [d.organisation for d in find_duplicates(name, credit_code, centre_id)]


def duplicate_pairs(
    centre_id: int, limit: int = 200
) -> list[tuple[Organisation, Organisation, float]]:
    """Possible duplicate pairs among a centre's organisations (blocked, not all pairs)."""
    with centre_scope(centre_id):
        index = CompanyIndex()
        pairs: dict[tuple[int, int], float] = {}
        rows = db.session.execute(
            select(Organisation.id, Organisation.name, Organisation.credit_code)
            .where(Organisation.centre_id == centre_id)
            .order_by(Organisation.id)
        ).all()
        for oid, name, code in rows:
            exact, _r = index.exact(name, code)
            if exact is not None:
                pairs[(exact.ref, oid)] = 100.0
            for h in index.similar(name):
                if not _distinct_codes(code, h.candidate.credit_code):
                    pairs.setdefault((h.candidate.ref, oid), h.score)
            index.add(Candidate(oid, name, code))
            if len(pairs) >= limit:
                break
        orgs = _load(Organisation, sorted({i for p in pairs for i in p}))
        return [(orgs[a], orgs[b], s) for (a, b), s in pairs.items() if a in orgs and b in orgs]


def merge_organisations(
    survivor: Organisation, merged: Organisation, values: dict[str, Any], actor: User | None
) -> OrganisationMerge:
    """Merge `merged` into `survivor`: chosen values, needs and visits (and so matches) move.

    The merged organisation is soft-deleted; the OrganisationMerge row records everything
    needed to reverse the merge with unmerge_organisations.
    """
    if survivor.id == merged.id:
        raise ImportError_(_("Choose two different organisations."))
    if survivor.centre_id != merged.centre_id:
        raise ImportError_(_("Organisations of different centres cannot be merged."))
    if survivor.deleted_at is not None or merged.deleted_at is not None:
        raise ImportError_(_("A deleted organisation cannot be merged."))
    before = snapshot("organisation", survivor)
    for key in MERGE_FIELDS:
        if key in values:
            value = values[key]
            setattr(survivor, key, value if (value or key != "notes") else "")
    needs = db.session.scalars(
        select(Need)
        .where(Need.organisation_id == merged.id)
        .execution_options(include_deleted=True)
    ).all()
    for need in needs:
        need.organisation_id = survivor.id
    visits = db.session.scalars(
        select(Visit)
        .join(Visit.organisations)
        .where(Organisation.id == merged.id)
        .options(selectinload(Visit.organisations))
        .execution_options(include_deleted=True)
    ).all()
    moved, shared = [], []
    for visit in visits:
        orgs = [o for o in visit.organisations if o.id != merged.id]
        if any(o.id == survivor.id for o in orgs):
            shared.append(visit.id)
        else:
            orgs.append(survivor)
            moved.append(visit.id)
        visit.organisations = orgs
    merged.deleted_at = utcnow()
    record = OrganisationMerge(
        centre_id=survivor.centre_id,
        survivor_id=survivor.id,
        merged_id=merged.id,
        survivor_before=before,
        survivor_after=snapshot("organisation", survivor),
        moved_need_ids=[n.id for n in needs],
        moved_visit_ids=moved,
        shared_visit_ids=shared,
        merged_by_id=actor.id if actor else None,
    )
    db.session.add(record)
    db.session.flush()
    return record


def unmerge_organisations(record: OrganisationMerge, actor: User | None) -> Organisation:
    """Reverse a merge: the merged organisation returns with its needs and visits.

    Survivor values are restored only where they still hold the merged value, so edits
    made after the merge are kept.
    """
    if record.undone_at is not None:
        raise ImportError_(_("This merge has already been reversed."))
    survivor = db.session.scalar(select(Organisation).where(Organisation.id == record.survivor_id))
    merged = db.session.scalar(
        select(Organisation)
        .where(Organisation.id == record.merged_id)
        .execution_options(include_deleted=True)
    )
    if survivor is None or merged is None:
        raise ImportError_(_("One of the organisations no longer exists."))
    for key, old in record.survivor_before.items():
        if getattr(survivor, key) == record.survivor_after.get(key):
            setattr(survivor, key, old)
    if record.moved_need_ids:
        for need in db.session.scalars(
            select(Need)
            .where(Need.id.in_(record.moved_need_ids), Need.organisation_id == survivor.id)
            .execution_options(include_deleted=True)
        ):
            need.organisation_id = merged.id
    visit_ids = record.moved_visit_ids + record.shared_visit_ids
    if visit_ids:
        for visit in db.session.scalars(
            select(Visit)
            .where(Visit.id.in_(visit_ids))
            .options(selectinload(Visit.organisations))
            .execution_options(include_deleted=True)
        ):
            orgs = list(visit.organisations)
            if visit.id in record.moved_visit_ids:
                orgs = [o for o in orgs if o.id != survivor.id]
            if merged not in orgs:
                orgs.append(merged)
            visit.organisations = orgs
    merged.deleted_at = None
    record.undone_at = utcnow()
    record.undone_by_id = actor.id if actor else None
    db.session.flush()
    return merged


def import_rows_from_kind(kind: str) -> tuple[str, ...]:
    """The canonical field names of a kind (for templates)."""
    return tuple(s.name for s in KINDS[kind])


def row_values(row: ParsedRow) -> dict[str, Any]:
    """Convenience for tests: a parsed row's values."""
    return row.values
