"""How organisations are imported and exported: the one place their spreadsheet columns live."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from needs_tracker.common.choices import CompanySize, OrganisationKind
from needs_tracker.extensions import db
from needs_tracker.imports.adapter import (
    CHOICE,
    CREDIT_CODE,
    FieldSpec,
    KindAdapter,
    plan_companies,
)
from needs_tracker.needs.models import Need
from needs_tracker.organisations.models import Organisation
from needs_tracker.organisations.services import FIELDS, OrganisationData, filter_organisations
from needs_tracker.visits.models import Visit

if TYPE_CHECKING:
    from needs_tracker.imports.plan import References, RowPlan

F = FieldSpec


class OrganisationImport(
    KindAdapter, model=Organisation, entity="organisation", title=_l("Organisations"), position=10
):
    """Companies, universities and other organisations of one centre, found by identity."""

    columns = (
        F("name", ("企业名称", "name", "单位名称", "名称"), True, max_len=200),
        F("credit_code", ("统一社会信用代码", "credit_code", "信用代码"), type=CREDIT_CODE),
        F("short_name", ("简称", "short_name"), max_len=60),
        F("kind", ("类型", "kind"), type=CHOICE, choices=OrganisationKind),
        F("district", ("所属区县", "district", "区县"), max_len=60),
        F("industry", ("行业", "industry"), max_len=120),
        F("size", ("企业规模", "size", "规模"), type=CHOICE, choices=CompanySize),
        F("address", ("地址", "address"), max_len=300),
        F("contact_name", ("联系人", "contact_name"), max_len=60),
        F("contact_phone", ("联系电话", "contact_phone"), max_len=40),
    )
    kept = FIELDS  # those of the form: a merge may set any of them, un-merge restores them
    match_on = ("name", "credit_code")
    example = ("潍坊天恒检测科技有限公司", "", "天恒检测", "企业", "高新区", "检验检测", "小型")
    list_order = (Organisation.name, Organisation.id)

    def plan_rows(self, rows: list[RowPlan], refs: References, decide: Any) -> None:
        """By company identity (credit code, then names), with look-alikes to merge or keep."""
        plan_companies(self, rows, refs.centre_id, decide)

    def create_values(
        self, values: Mapping[str, Any], centre_id: int | None, actor_id: int | None
    ) -> dict[str, Any]:
        """The organisation's row; a blank cell takes the form's default (OrganisationData)."""
        given = {k: values[k] for k in FIELDS if values.get(k) not in (None, "")}
        return {**asdict(OrganisationData(**given)), "centre_id": centre_id}

    def dependents(self, ids: list[int]) -> list[str]:
        """Needs and visits that name these organisations."""
        need = db.session.scalars(select(Need.id).where(Need.organisation_id.in_(ids)).limit(1))
        visit = db.session.scalars(
            select(Visit.id).join(Visit.organisations).where(Organisation.id.in_(ids)).limit(1)
        )
        if need.first() or visit.first():
            return [_("Needs or visits now refer to organisations this import created.")]
        return []

    def filter(self, stmt: Select, args: Mapping[str, str], errors: list[str]) -> Select:
        """The organisation list's filters."""
        return filter_organisations(stmt, args)

    def search(self, stmt: Select, q: str) -> Select:
        """The organisation list's search."""
        from needs_tracker.organisations.views import LIST_SPEC

        return LIST_SPEC.search(stmt, q)


ADAPTERS = (OrganisationImport(),)
