"""How experts and resources are imported and exported: the one place their columns live."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from needs_tracker.common.choices import ResourceKind
from needs_tracker.experts.models import Expert, Resource
from needs_tracker.experts.services import filter_experts, filter_resources
from needs_tracker.extensions import db
from needs_tracker.imports.adapter import CHOICE, LIST, FieldSpec, KindAdapter

F = FieldSpec


class _PoolImport(KindAdapter):
    """The shared pool (no centre): a record is found again by its name and organisation."""

    def dependents(self, ids: list[int]) -> list[str]:
        """Matches and docking meetings that name these records."""
        from needs_tracker.matching.models import DockingEvent, Match

        column = f"{self.entity}_id"
        out = []
        stmt = select(Match.id).where(getattr(Match, column).in_(ids)).limit(1)
        if db.session.scalars(stmt).first():
            out.append(_("Matches now refer to records this import created."))
        stmt = select(DockingEvent.id).where(getattr(DockingEvent, column).in_(ids)).limit(1)
        if db.session.scalars(stmt).first():
            out.append(_("Docking meetings now refer to records this import created."))
        return out


class ExpertImport(_PoolImport, model=Expert, entity="expert", title=_l("Experts"), position=20):
    """Experts of the shared pool."""

    columns = (
        F("name", ("姓名", "name"), True, max_len=60),
        F("organisation", ("单位", "organisation", "organization"), True, max_len=200),
        F("title", ("职称", "title"), max_len=60),
        F("department", ("院系", "部门", "department"), max_len=200),
        F("expertise", ("研究方向", "expertise"), True),
        F("fields", ("技术领域", "fields"), type=LIST),
        F("phone", ("联系电话", "phone"), max_len=40),
        F("email", ("邮箱", "email"), max_len=120),
        F("region", ("地区", "region"), max_len=60),
    )
    match_on = ("name", "organisation")
    contact_columns = ("phone", "email")
    example = (
        "邢卫东",
        "山东大学",
        "教授",
        "机械工程学院",
        "超声相控阵无损检测",
        "智能检测",
        "",
        "",
        "山东省",
    )
    list_order = (Expert.name, Expert.id)

    def filter(self, stmt: Select, args: Mapping[str, str], errors: list[str]) -> Select:
        """The expert list's filters."""
        return filter_experts(stmt, args)

    def search(self, stmt: Select, q: str) -> Select:
        """The expert list's search."""
        from needs_tracker.experts.views import EXPERT_LIST

        return EXPERT_LIST.search(stmt, q)


class ResourceImport(
    _PoolImport, model=Resource, entity="resource", title=_l("Resources"), position=30
):
    """Resources (platforms, labs, programmes) of the shared pool."""

    columns = (
        F("name", ("名称", "name"), True, max_len=200),
        F("kind", ("类型", "kind"), type=CHOICE, choices=ResourceKind),
        F("owner_organisation", ("所属单位", "organisation", "owner_organisation"), max_len=200),
        F("description", ("简介", "description"), True),
        F("fields", ("技术领域", "fields"), type=LIST),
        F("maturity", ("成熟度", "maturity"), max_len=60),
    )
    match_on = ("name", "owner_organisation", "description")
    defaults = {"kind": ResourceKind.OTHER.value}
    example = ("智能制造学习工厂", "学习工厂", "同济大学", "面向工程师培训的学习工厂", "人才培养")
    list_order = (Resource.name, Resource.id)

    def filter(self, stmt: Select, args: Mapping[str, str], errors: list[str]) -> Select:
        """The resource list's filters."""
        return filter_resources(stmt, args)

    def search(self, stmt: Select, q: str) -> Select:
        """The resource list's search."""
        from needs_tracker.experts.resource_views import RESOURCE_LIST

        return RESOURCE_LIST.search(stmt, q)


ADAPTERS = (ExpertImport(), ResourceImport())
