"""How needs are imported and exported: the one place their spreadsheet columns live.

A new need's row comes from `services.need_values`, as for the form, and it starts with
`services.first_status_change`, so an imported need is built like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from needs_tracker.common.choices import NeedType, Urgency
from needs_tracker.common.models import utcnow
from needs_tracker.extensions import db
from needs_tracker.imports.adapter import CHOICE, DATE, DECIMAL, LIST, FieldSpec, KindAdapter
from needs_tracker.needs import services  # read at call time: tests swap need_values
from needs_tracker.needs.models import Need, NeedStatusChange
from needs_tracker.organisations.models import Organisation

if TYPE_CHECKING:
    from needs_tracker.imports.plan import References, RowPlan

F = FieldSpec


class NeedImport(KindAdapter, model=Need, entity="need", title=_l("Needs"), position=40):
    """A centre's needs; a need is found again by its company, title and description."""

    columns = (
        F("company", ("企业名称", "company"), True, max_len=200),
        F("title", ("需求名称", "title"), True, max_len=200),
        F("description", ("需求描述", "description"), True),
        F("fields", ("技术领域", "field", "fields"), type=LIST),
        F("need_type", ("需求类型", "type", "need_type"), type=CHOICE, choices=NeedType),
        F("urgency", ("紧急程度", "urgency"), type=CHOICE, choices=Urgency),
        F("budget", ("预算（万元）", "budget", "预算"), type=DECIMAL),
        F("collected_on", ("征集日期", "collected_on"), type=DATE),
    )
    match_on = ("organisation_id", "title", "description")
    example = (
        "潍坊天恒检测科技有限公司",
        "焊缝缺陷自动检测",
        "需要自动识别焊缝缺陷",
        "智能检测",
        "技术攻关",
        "一般",
        "20",
        "2021-03-26",
    )
    # 300,000 needs as ORM objects cost minutes: the export reads columns.
    export_sql = {"company": Organisation.name}
    list_order = (Need.collected_on.desc(), Need.id.desc())

    def resolve(self, row: RowPlan, refs: References) -> None:
        """Technical fields, then the company by name (one of the centre's organisations)."""
        refs.tech_fields(row)
        refs.organisation(row, "company", into="organisation_id")

    def row_label(self, values: Mapping[str, Any]) -> str:
        """A need is named by its title."""
        return values["title"]

    def delete_options(self) -> tuple[Any, ...]:
        """Undo deletes a need with its status history."""
        return (*self.load_options(), selectinload(Need.history))

    def create_values(
        self, values: Mapping[str, Any], centre_id: int | None, actor_id: int | None
    ) -> dict[str, Any]:
        """The need's row, built as the form builds it."""
        return services.need_values(values, centre_id, actor_id)

    def first_children(
        self, ids: list[int], actor_id: int | None
    ) -> tuple[type, str, list[dict[str, Any]]]:
        """Each new need's first status change, as create_need writes it."""
        start = services.first_status_change(actor_id, note="import")
        rows = [{"need_id": i, **start, "changed_at": utcnow()} for i in ids]
        return NeedStatusChange, "need_id", rows

    def dependents(self, ids: list[int]) -> list[str]:
        """Matches made for these needs."""
        from needs_tracker.matching.models import Match

        stmt = select(Match.id).where(Match.need_id.in_(ids)).limit(1)
        if db.session.scalars(stmt).first():
            return [_("Matches now refer to records this import created.")]
        return []

    def export_select(self, columns: bool = False) -> Select:
        """Needs with their company (joined: the list filters on its district)."""
        if columns:
            return super().export_select(columns=True).join(Need.organisation)
        return (
            select(Need)
            .join(Need.organisation)
            .options(selectinload(Need.organisation), selectinload(Need.fields))
        )

    def filter(self, stmt: Select, args: Mapping[str, str], errors: list[str]) -> Select:
        """The need list's filters."""
        return services.filter_needs(stmt, args, errors)

    def search(self, stmt: Select, q: str) -> Select:
        """The need list's search (its search index)."""
        from needs_tracker.needs.views import LIST_SPEC

        return LIST_SPEC.search(stmt, q)

    def export_cells(self, obj: Need) -> dict[str, Any]:
        """A need's company and technical fields by name."""
        return {**super().export_cells(obj), "company": obj.organisation.name}


ADAPTERS = (NeedImport(),)
