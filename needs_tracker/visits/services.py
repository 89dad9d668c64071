"""Visit services: record, update, cancel and delete a visit (flush; the caller commits)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from needs_tracker.auth.models import User
from needs_tracker.centres.models import CoBuildingPartner
from needs_tracker.common.choices import OrganisationKind, VisitStatus
from needs_tracker.common.listing import filter_date_range
from needs_tracker.common.models import bump_version, soft_delete
from needs_tracker.extensions import db
from needs_tracker.needs.services import NeedData, create_need
from needs_tracker.organisations.models import Organisation
from needs_tracker.visits.models import Visit, VisitTeamMember, visit_organisations


@dataclass
class TeamMemberData:
    """One team member."""

    name: str
    title: str = ""
    organisation_name: str = ""
    user_id: int | None = None


@dataclass
class VisitData:
    """Validated values of a visit."""

    visit_date: date
    status: str = "done"
    purpose: str = ""
    summary: str = ""
    organisation_ids: list[int] = field(default_factory=list)
    new_organisation_names: list[str] = field(default_factory=list)
    team: list[TeamMemberData] = field(default_factory=list)


@dataclass
class InlineNeed:
    """A need collected on the visit; organisation is an id or the name of a new company."""

    organisation: int | str
    data: NeedData


def _new_organisations(names: list[str], centre_id: int) -> dict[str, Organisation]:
    created: dict[str, Organisation] = {}
    for name in names:
        existing = db.session.scalar(select(Organisation).where(Organisation.name == name))
        org = existing or Organisation(
            centre_id=centre_id, name=name, kind=OrganisationKind.COMPANY.value
        )
        if existing is None:
            db.session.add(org)
        created[name] = org
    db.session.flush()
    return created


def _apply(visit: Visit, data: VisitData, centre_id: int) -> dict[str, Organisation]:
    visit.visit_date = data.visit_date
    visit.status = data.status
    visit.purpose = data.purpose or ""
    visit.summary = data.summary or ""
    orgs = list(
        db.session.scalars(select(Organisation).where(Organisation.id.in_(data.organisation_ids)))
    )
    new_orgs = _new_organisations(data.new_organisation_names, centre_id)
    for org in new_orgs.values():
        if org not in orgs:
            orgs.append(org)
    visit.organisations = orgs
    visit.team = [
        VisitTeamMember(
            position=i,
            name=m.name,
            title=m.title,
            organisation_name=m.organisation_name,
            user_id=m.user_id,
        )
        for i, m in enumerate(data.team)
    ]
    return new_orgs


def team_organisation_suggestions(centre_id: int | None, limit: int = 200) -> list[str]:
    """Organisation names for a team member (the report groups by them, so spell them alike).

    The centre's co-building partners first, then universities, institutes and government
    bodies on record, then the names earlier teams used; each name once.
    """
    names: list[str] = []
    if centre_id is not None:
        names += db.session.scalars(
            select(CoBuildingPartner.name)
            .where(CoBuildingPartner.centre_id == centre_id)
            .order_by(CoBuildingPartner.position)
        )
    names += db.session.scalars(
        select(Organisation.name)
        .where(Organisation.kind != OrganisationKind.COMPANY.value)
        .order_by(Organisation.name)
    )
    names += db.session.scalars(
        select(VisitTeamMember.organisation_name)
        .join(Visit, Visit.id == VisitTeamMember.visit_id)
        .where(VisitTeamMember.organisation_name != "")
        .group_by(VisitTeamMember.organisation_name)
        .order_by(func.count().desc(), VisitTeamMember.organisation_name)
    )
    return list(dict.fromkeys(n for n in names if n))[:limit]


def find_sent_visit(client_key: str, actor: User) -> Visit | None:
    """The visit this actor already saved with this form key (a resend), if any."""
    if not client_key:
        return None
    return db.session.scalar(
        select(Visit).where(Visit.client_key == client_key, Visit.created_by_id == actor.id)
    )


def record_visit(
    data: VisitData,
    centre_id: int,
    actor: User | None,
    needs: list[InlineNeed] | None = None,
    client_key: str | None = None,
) -> Visit:
    """Create a visit, any new companies, its team and the needs collected on it.

    client_key, the form's idempotency key, is stored so a resend finds this visit.
    """
    visit = Visit(
        centre_id=centre_id,
        created_by_id=actor.id if actor else None,
        client_key=client_key or None,
    )
    db.session.add(visit)
    new_orgs = _apply(visit, data, centre_id)
    db.session.flush()
    for item in needs or []:
        org_id = (
            new_orgs[item.organisation].id
            if isinstance(item.organisation, str)
            else item.organisation
        )
        item.data.organisation_id = org_id
        item.data.visit_id = visit.id
        item.data.collected_on = item.data.collected_on or data.visit_date
        create_need(item.data, centre_id, actor)
    return visit


def _lists(visit: Visit) -> tuple[list[int], list[tuple[str, str, str]]]:
    team = [(m.name, m.title, m.organisation_name) for m in visit.team]
    # Visited organisations have no order of their own (the relationship sorts them by id).
    return sorted(o.id for o in visit.organisations), team


def update_visit(visit: Visit, data: VisitData, actor: User | None) -> None:
    """Overwrite a visit's values, organisations and team (a new version if any changed)."""
    before = _lists(visit)
    _apply(visit, data, visit.centre_id)  # new companies are flushed: their ids are known
    if _lists(visit) != before:
        bump_version(visit)
    db.session.flush()


def delete_visit(visit: Visit, actor: User | None) -> None:
    """Move visit to the trash (the needs collected on it stay)."""
    soft_delete(visit)
    db.session.flush()


class VisitNotPlanned(ValueError):
    """Only a planned visit can be cancelled; the message is for the user."""


def cancel_visit(visit: Visit, actor: User | None) -> None:
    """Cancel a planned visit that did not happen: it goes to the trash (and can come back)."""
    if visit.status != VisitStatus.PLANNED.value:
        raise VisitNotPlanned(_("Only a planned visit can be cancelled."))
    delete_visit(visit, actor)


def filter_visits(stmt: Select, args: Mapping[str, str], errors: list[str]) -> Select:
    """The visit list's filters (status, district of any organisation visited, date range).

    Shared by the list page and its export; unreadable dates are reported in errors.
    """
    status = args.get("status", "")
    if status in VisitStatus.labels():
        stmt = stmt.where(Visit.status == status)
    district = args.get("district", "").strip()
    if district:
        stmt = stmt.where(
            Visit.id.in_(
                select(visit_organisations.c.visit_id)
                .join(Organisation, Organisation.id == visit_organisations.c.organisation_id)
                .where(Organisation.district == district)
            )
        )
    return filter_date_range(stmt, Visit.visit_date, errors, args)


def visit_choices() -> list[tuple[int | None, str]]:
    """Visible visits, newest first, with a "none" option (for select fields)."""
    rows = db.session.execute(
        select(Visit.id, Visit.visit_date, Visit.purpose)
        .order_by(Visit.visit_date.desc())
        .limit(500)
    ).all()
    return [(None, "—")] + [
        (r.id, f"{r.visit_date.isoformat()} {r.purpose or ''}".strip()) for r in rows
    ]
