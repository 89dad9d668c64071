"""Seed the demo centre; every step is idempotent (existing rows are left as they are)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from needs_tracker.auth.models import User
from needs_tracker.centres.models import Centre
from needs_tracker.centres.services import create_centre
from needs_tracker.common.choices import Role, VisitStatus
from needs_tracker.demo import data
from needs_tracker.experts.models import Expert, Resource
from needs_tracker.extensions import db
from needs_tracker.needs.models import Need
from needs_tracker.needs.services import NeedData, create_need
from needs_tracker.organisations.models import Organisation
from needs_tracker.taxonomy.models import DEFAULT_FIELDS, TechField
from needs_tracker.users.services import create_user, generate_password
from needs_tracker.visits.models import Visit
from needs_tracker.visits.services import TeamMemberData, VisitData, record_visit

DEMO_USERS = [
    ("demo_member", "王晓明", Role.MEMBER, False),
    ("demo_coordinator", "李娜", Role.COORDINATOR, False),
    ("demo_leader", "张伟", Role.LEADER, False),
    ("demo_admin", "系统管理员", Role.SYSADMIN, False),
    ("demo_consortium", "联合体领导", Role.LEADER, True),
]


@dataclass
class SeedResult:
    """What the seed created; credentials only for users created now."""

    centre: Centre
    created_users: dict[str, str] = field(default_factory=dict)
    existing_users: list[str] = field(default_factory=list)


def seed_fields() -> dict[str, TechField]:
    """Ensure the default technical fields exist; return all fields by name."""
    existing = {f.name: f for f in db.session.scalars(select(TechField))}
    for i, (name, desc) in enumerate(DEFAULT_FIELDS):
        if name not in existing:
            existing[name] = TechField(name=name, description=desc, position=i)
            db.session.add(existing[name])
    db.session.flush()
    return existing


def seed_demo(password: str | None = None) -> SeedResult:
    """Create the demo centre, users, organisations, visits, needs, experts and resources."""
    fields = seed_fields()
    centre = db.session.scalar(select(Centre).where(Centre.name == data.CENTRE["name"]))
    if centre is None:
        centre = create_centre(data.CENTRE["name"], data.CENTRE["region"], data.PARTNERS)
    if centre.report_style is None:  # set once; an admin's later edits are kept
        centre.report_style = dict(data.REPORT_STYLE)
    result = SeedResult(centre=centre)
    users = _seed_users(centre, password, result)
    orgs = _seed_organisations(centre)
    _seed_pool(fields)
    _seed_visits(centre, orgs, fields, users["demo_member"])
    _seed_second_centre(fields, password, result)
    db.session.flush()
    return result


def _seed_second_centre(
    fields: dict[str, TechField], password: str | None, result: SeedResult
) -> Centre:
    """A smaller second centre with its own member, companies, one visit and a few needs."""
    spec = data.SECOND_CENTRE
    centre = db.session.scalar(select(Centre).where(Centre.name == spec["name"]))
    if centre is None:
        centre = create_centre(spec["name"], spec["region"], spec["partners"])
    username, display = spec["member"]
    member = db.session.scalar(select(User).where(User.username == username))
    if member is None:
        pw = password or generate_password()
        member, _ = create_user(username, display, Role.MEMBER, centre.id, pw, False)
        result.created_users[username] = pw
    else:
        result.existing_users.append(username)
    orgs: dict[str, Organisation] = {}
    for name, short, kind, district, industry, size in spec["organisations"]:
        org = db.session.scalar(
            select(Organisation).where(
                Organisation.centre_id == centre.id, Organisation.name == name
            )
        )
        if org is None:
            org = Organisation(
                centre_id=centre.id,
                name=name,
                short_name=short,
                kind=kind,
                district=district,
                industry=industry,
                size=size,
            )
            db.session.add(org)
        orgs[short] = org
    db.session.flush()
    day = date.fromisoformat(spec["visit"]["date"])
    visit = db.session.scalar(
        select(Visit).where(Visit.centre_id == centre.id, Visit.visit_date == day)
    )
    if visit is None:
        visit = record_visit(
            VisitData(
                visit_date=day,
                status=VisitStatus.DONE.value,
                purpose=spec["visit"]["purpose"],
                summary=spec["visit"]["summary"],
                organisation_ids=[o.id for o in orgs.values()],
                team=[
                    TeamMemberData(name=n, title=t, organisation_name=o) for n, t, o in spec["team"]
                ],
            ),
            centre.id,
            member,
        )
    for short, title, desc, names, ntype, urgency in spec["needs"]:
        if db.session.scalar(
            select(Need.id).where(Need.centre_id == centre.id, Need.title == title)
        ):
            continue
        create_need(
            NeedData(
                organisation_id=orgs[short].id,
                title=title,
                description=desc,
                field_ids=[fields[n].id for n in names],
                need_type=ntype,
                urgency=urgency,
                collected_on=day,
                visit_id=visit.id,
            ),
            centre.id,
            member,
        )
    return centre


def _seed_users(centre: Centre, password: str | None, result: SeedResult) -> dict[str, User]:
    users: dict[str, User] = {}
    for username, display, role, consortium in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            pw = password or generate_password()
            centre_id = None if consortium else centre.id
            user, _ = create_user(username, display, role, centre_id, pw, consortium)
            result.created_users[username] = pw
        else:
            result.existing_users.append(username)
        users[username] = user
    return users


def _seed_organisations(centre: Centre) -> dict[str, Organisation]:
    orgs: dict[str, Organisation] = {}
    for name, short, kind, district, industry, size in data.ORGANISATIONS:
        org = db.session.scalar(
            select(Organisation).where(
                Organisation.centre_id == centre.id, Organisation.name == name
            )
        )
        if org is None:
            org = Organisation(
                centre_id=centre.id,
                name=name,
                short_name=short,
                kind=kind,
                district=district,
                industry=industry,
                size=size,
            )
            db.session.add(org)
        orgs[short] = org
    db.session.flush()
    return orgs


def _seed_pool(fields: dict[str, TechField]) -> None:
    for name, title, org, region, expertise, names in data.EXPERTS:
        exists = db.session.scalar(
            select(Expert.id).where(Expert.name == name, Expert.organisation == org)
        )
        if not exists:
            db.session.add(
                Expert(
                    name=name,
                    title=title,
                    organisation=org,
                    region=region,
                    expertise=expertise,
                    fields=[fields[n] for n in names],
                )
            )
    for name, kind, owner, region, desc, names, maturity in data.RESOURCES:
        if not db.session.scalar(select(Resource.id).where(Resource.name == name)):
            db.session.add(
                Resource(
                    name=name,
                    kind=kind,
                    owner_organisation=owner,
                    region=region,
                    description=desc,
                    maturity=maturity,
                    fields=[fields[n] for n in names],
                )
            )
    db.session.flush()


def _seed_visits(
    centre: Centre, orgs: dict[str, Organisation], fields: dict[str, TechField], member: User
) -> None:
    q1_date = date.fromisoformat(data.Q1_VISIT["date"])
    visit = db.session.scalar(
        select(Visit).where(Visit.centre_id == centre.id, Visit.visit_date == q1_date)
    )
    if visit is None:
        visit_orgs = [orgs[o[1]] for o in data.ORGANISATIONS if o[1] != "豪迈科技"]
        visit = record_visit(
            VisitData(
                visit_date=q1_date,
                status=VisitStatus.DONE.value,
                purpose=data.Q1_VISIT["purpose"],
                summary=data.Q1_VISIT["summary"],
                organisation_ids=[o.id for o in visit_orgs],
                team=[
                    TeamMemberData(name=n, title=t, organisation_name=o) for n, t, o in data.TEAM
                ],
            ),
            centre.id,
            member,
        )
    for short, title, desc, names, ntype, urgency, budget in data.NEEDS:
        exists = db.session.scalar(
            select(Need.id).where(Need.centre_id == centre.id, Need.title == title)
        )
        if exists:
            continue
        create_need(
            NeedData(
                organisation_id=orgs[short].id,
                title=title,
                description=desc,
                field_ids=[fields[n].id for n in names],
                need_type=ntype,
                urgency=urgency,
                budget=Decimal(budget) if budget is not None else None,
                collected_on=q1_date,
                visit_id=visit.id,
            ),
            centre.id,
            member,
        )
    planned_date = date.fromisoformat(data.PLANNED_VISIT["date"])
    planned = db.session.scalar(
        select(Visit).where(Visit.centre_id == centre.id, Visit.visit_date == planned_date)
    )
    if planned is None:
        record_visit(
            VisitData(
                visit_date=planned_date,
                status=VisitStatus.PLANNED.value,
                purpose=data.PLANNED_VISIT["purpose"],
                organisation_ids=[orgs[s].id for s in data.PLANNED_VISIT["organisations"]],
                team=[
                    TeamMemberData(name=n, title=t, organisation_name=o)
                    for n, t, o in data.TEAM[:2]
                ],
            ),
            centre.id,
            member,
        )
