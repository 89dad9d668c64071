"""Company duplicates and merges: find look-alikes, merge two organisations, reverse a merge.

A merge moves the merged organisation's needs and visits (and so their matches) to the
survivor, soft-deletes it and records everything needed to reverse it (OrganisationMerge).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from needs_tracker.auth.models import User
from needs_tracker.common.models import utcnow
from needs_tracker.extensions import db
from needs_tracker.imports.base import ImportError_, centre_scope, load_by_ids
from needs_tracker.imports.companies import company_index
from needs_tracker.imports.identity import Candidate, CompanyIndex
from needs_tracker.imports.models import OrganisationMerge
from needs_tracker.imports.registry import adapter
from needs_tracker.needs.models import Need
from needs_tracker.organisations.models import Organisation
from needs_tracker.organisations.services import FIELDS
from needs_tracker.visits.models import Visit

# What a merge may take from the merged organisation, and un-merge restores: the form's fields.
MERGE_FIELDS = FIELDS


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
        orgs = load_by_ids(Organisation, [i for i, _, _ in hits])
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
        orgs = load_by_ids(Organisation, sorted({i for p in pairs for i in p}))
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
    organisations = adapter("organisations")
    before = organisations.snapshot(survivor)
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
        survivor_after=organisations.snapshot(survivor),
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
