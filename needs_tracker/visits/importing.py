"""How visits are imported and exported: the one place their spreadsheet columns live.

A visit names organisations and a team, so new visits are built as objects (not inserted in
bulk) and the session's events audit them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from needs_tracker.common.choices import VisitStatus
from needs_tracker.extensions import db
from needs_tracker.imports.adapter import CHOICE, DATE, LIST, FieldSpec, KindAdapter
from needs_tracker.needs.models import Need
from needs_tracker.organisations.models import Organisation
from needs_tracker.visits.models import Visit, VisitTeamMember
from needs_tracker.visits.services import filter_visits

if TYPE_CHECKING:
    from needs_tracker.imports.plan import References, RowPlan

F = FieldSpec


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


def _team(visit: Visit) -> list[dict[str, str]]:
    return [
        {"name": m.name, "title": m.title, "organisation_name": m.organisation_name}
        for m in visit.team
    ]


def _members(team: list[dict[str, str]]) -> list[VisitTeamMember]:
    return [VisitTeamMember(position=i, **m) for i, m in enumerate(team)]


class VisitImport(KindAdapter, model=Visit, entity="visit", title=_l("Visits"), position=50):
    """A centre's visits; a visit is found again by its date and the organisations visited."""

    columns = (
        F("visit_date", ("走访日期", "date", "visit_date"), True, type=DATE),
        F("organisations", ("走访单位", "organisations"), True, type=LIST),
        F("team", ("走访人员", "team"), type=LIST),
        F("purpose", ("目的", "purpose"), max_len=300),
        F("summary", ("纪要", "summary")),
        F("status", ("状态", "status"), type=CHOICE, choices=VisitStatus),
    )
    defaults = {"status": VisitStatus.DONE.value}
    example = (
        "2021-03-18",
        "潍坊天恒检测科技有限公司、盛瑞传动股份有限公司",
        "胡志强/秘书长助理/联合体、孙晓非//潍坊市科协",
        "需求征集",
        "",
        "已完成",
    )
    bulk = False
    change_labels = {"team": _l("Service team")}
    list_order = (Visit.visit_date.desc(), Visit.id.desc())

    def load_options(self) -> tuple[Any, ...]:
        """A visit is compared and restored with its organisations and team."""
        return (selectinload(Visit.organisations), selectinload(Visit.team))

    def resolve(self, row: RowPlan, refs: References) -> None:
        """The organisations visited (the centre's, by name), then the team."""
        refs.organisation_list(row, "organisations", into="organisation_ids")
        team = parse_team(row.values.get("team") or [])
        if team is None:
            refs.problem(row, "bad_team", "team", "、".join(row.values["team"])[:40])
        row.values["team_members"] = team or []

    def row_label(self, values: Mapping[str, Any]) -> str:
        """A visit is named by its date and organisations."""
        return f"{values['visit_date']} {'、'.join(values['organisations'])}"

    def key(self, values: Mapping[str, Any]) -> tuple:
        """The same day at the same organisations is the same visit."""
        return (values["visit_date"], frozenset(values["organisation_ids"]))

    def existing(self, centre_id: int | None) -> dict[tuple, int]:
        """The centre's visits by date and organisations."""
        visits = db.session.scalars(
            select(Visit)
            .where(Visit.centre_id == centre_id)
            .options(selectinload(Visit.organisations))
        )
        out: dict[tuple, int] = {}
        for v in visits:
            out.setdefault((v.visit_date, frozenset(o.id for o in v.organisations)), v.id)
        return out

    def changes(self, obj: Visit, values: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
        """Changed values, and the team when the row names one that differs."""
        changes = super().changes(obj, values)
        current = _team(obj)
        if values["team_members"] and values["team_members"] != current:
            changes["team"] = (current, values["team_members"])
        return changes

    def show_value(self, key: str, value: Any) -> str | None:
        """A team as 姓名（职称，单位）、…"""
        if key != "team":
            return None
        return "、".join(
            m.get("name", "")
            + (
                "（"
                + "，".join(x for x in (m.get("title"), m.get("organisation_name")) if x)
                + "）"
                if m.get("title") or m.get("organisation_name")
                else ""
            )
            for m in value
        )

    def build(
        self, values: Mapping[str, Any], centre_id: int | None, actor_id: int | None
    ) -> Visit:
        """A new visit with its organisations and team."""
        visit = super().build(values, centre_id, actor_id)
        ids = values["organisation_ids"]
        visit.organisations = list(
            db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)))
        )
        visit.team = _members(values["team_members"])
        return visit

    def apply(self, obj: Visit, values: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
        """Update the values, and the team when it changed."""
        super().apply(obj, values, changes)
        if "team" in changes:
            obj.team = _members(values["team_members"])

    def snapshot(self, obj: Visit) -> dict[str, Any]:
        """The values and the team."""
        return {**super().snapshot(obj), "team": _team(obj)}

    def restore(self, obj: Visit, values: Mapping[str, Any]) -> None:
        """Put the values and the team back."""
        super().restore(obj, {k: v for k, v in values.items() if k != "team"})
        if "team" in values:
            obj.team = _members(values["team"])

    def discard(self, obj: Visit) -> None:
        """Unlink the organisations, then delete."""
        obj.organisations = []
        super().discard(obj)

    def dependents(self, ids: list[int]) -> list[str]:
        """Needs collected on these visits."""
        stmt = select(Need.id).where(Need.visit_id.in_(ids)).limit(1)
        if db.session.scalars(stmt).first():
            return [_("Needs now refer to visits this import created.")]
        return []

    def filter(self, stmt: Select, args: Mapping[str, str], errors: list[str]) -> Select:
        """The visit list's filters."""
        return filter_visits(stmt, args, errors)

    def search(self, stmt: Select, q: str) -> Select:
        """The visit list's search."""
        from needs_tracker.visits.views import LIST_SPEC

        return LIST_SPEC.search(stmt, q)

    def export_cells(self, obj: Visit) -> dict[str, Any]:
        """Organisations by name; the team as name/title/organisation."""
        team = "、".join(
            "/".join(p for p in (m.name, m.title, m.organisation_name)).rstrip("/")
            for m in obj.team
        )
        return {"organisations": "、".join(o.name for o in obj.organisations), "team": team}


ADAPTERS = (VisitImport(),)
