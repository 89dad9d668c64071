"""Company identity in an import: which rows are organisations already held, or each other.

A credit code decides first; names decide only where a code is missing, with fuzzy
look-alikes offered to the user (merge or keep both) and never dropped. Used by the
organisations adapter's plan and by the duplicate warnings and merges (`merge`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import select

from needs_tracker.extensions import db
from needs_tracker.imports.base import load_by_ids
from needs_tracker.imports.identity import Candidate, CompanyIndex
from needs_tracker.imports.plan import Lookalike, RowPlan
from needs_tracker.organisations.models import Organisation

if TYPE_CHECKING:
    from needs_tracker.imports.adapter import KindAdapter


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


class _FileCompanies:
    """The companies of the rows planned so far, indexed like the database's."""

    def __init__(self) -> None:
        self.every, self.uncoded = CompanyIndex(), CompanyIndex()

    def add(self, r: RowPlan) -> None:
        candidate = Candidate(("row", r.number), r.values["name"], r.values.get("credit_code"))
        self.every.add(candidate)
        if not candidate.credit_code:
            self.uncoded.add(candidate)


def _fold(into: RowPlan, r: RowPlan, names: tuple[str, ...]) -> None:
    """Merge row r into an earlier row: r's values fill the cells the earlier row left empty."""
    for name in names:
        if into.values.get(name) in (None, "") and r.values.get(name) not in (None, ""):
            into.values[name] = r.values[name]
    r.action, r.merged_into = "merged", into.number
    r.duplicate_note = _("Merged into row %(row)s", row=into.number)


def plan_companies(
    kind: KindAdapter, rows: list[RowPlan], centre_id: int | None, decide: Callable
) -> None:
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
        _fold(into, r, kind.stored)
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
    existing = load_by_ids(kind.model, list(claimed))
    for r in rows:
        if r.action == "update":
            r.changes = kind.changes(existing[r.target_id], r.values)
