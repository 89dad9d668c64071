"""One builder per need (issue 15): the form, the import and the CLI store the same record.

A need is built by needs.services.need_values wherever it comes from, so defaults and
columns cannot drift between the single-record path and the bulk import.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from needs_tracker.extensions import db
from needs_tracker.imports.commit import commit_import
from needs_tracker.imports.plan import plan_import
from needs_tracker.imports.registry import parse_file
from needs_tracker.needs.models import Need
from needs_tracker.needs.services import NeedData, create_need
from tests.imports.conftest import xlsx_bytes

HEADER = [
    "企业名称",
    "需求名称",
    "需求描述",
    "技术领域",
    "需求类型",
    "紧急程度",
    "预算（万元）",
    "征集日期",
]
COLUMNS = (
    "centre_id",
    "organisation_id",
    "visit_id",
    "description",
    "need_type",
    "urgency",
    "budget",
    "collected_on",
    "status",
    "created_by_id",
    "deleted_at",
)


def _stored(title: str) -> dict[str, Any]:
    db.session.expire_all()
    need = db.session.scalar(select(Need).where(Need.title == title))
    assert need is not None, title
    record = {c: getattr(need, c) for c in COLUMNS}
    record["fields"] = sorted(f.name for f in need.fields)
    record["history"] = [(h.from_status, h.to_status, h.changed_by_id) for h in need.history]
    return record


def _import(world, title: str, cells: list[Any]) -> None:
    rows = [HEADER, ["潍坊天恒检测科技有限公司", title, *cells]]
    plan = plan_import(parse_file("needs", "f.xlsx", xlsx_bytes(rows)), world["a"].id)
    assert plan.ok, plan.errors
    commit_import(plan, world["users"]["coordinator"], "f.xlsx")
    db.session.commit()


def test_form_and_import_store_the_same_need(client, auth, world):
    auth.login("coordinator")
    form = {
        "organisation_id": str(world["org_a"].id),
        "visit_id": "",
        "title": "表单录入的需求",
        "description": "降低压降，提高温度均匀性",
        "field_ids": [str(world["field"].id)],
        "need_type": "equipment",
        "urgency": "high",
        "budget": "100",
        "collected_on": "2021-03-20",
    }
    assert client.post("/needs/new", data=form).status_code == 302
    # the same values as a sheet would give them (a different title, or it would be a duplicate)
    _import(
        world,
        "导入的需求",
        ["降低压降，提高温度均匀性", "智能检测", "设备/平台", "紧急", "100", "2021-03-20"],
    )
    assert _stored("导入的需求") == _stored("表单录入的需求")


def test_blank_cells_take_the_same_defaults_as_a_need_built_in_code(world):
    coordinator = world["users"]["coordinator"]
    create_need(
        NeedData(organisation_id=world["org_a"].id, title="代码创建的需求", description="说明"),
        world["a"].id,
        coordinator,
    )
    db.session.commit()
    _import(world, "空白单元格的需求", ["说明", "", "", "", "", ""])
    built, imported = _stored("代码创建的需求"), _stored("空白单元格的需求")
    assert imported == built
    assert (imported["need_type"], imported["urgency"], imported["status"]) == (
        "rnd",
        "low",
        "collected",
    )


def test_a_column_added_to_the_builder_is_stored_by_form_and_import(
    client, auth, world, monkeypatch
):
    """Adding a field to needs means adding it to need_values, and every path then stores it."""
    from needs_tracker.needs import services

    original = services.need_values

    def with_extra(data, centre_id, actor_id):
        return {**original(data, centre_id, actor_id), "close_reason": "构建器填写"}

    monkeypatch.setattr(services, "need_values", with_extra)
    auth.login("coordinator")
    form = {
        "organisation_id": str(world["org_a"].id),
        "visit_id": "",
        "title": "表单录入的需求",
        "description": "说明",
        "need_type": "rnd",
        "urgency": "low",
        "collected_on": "2021-03-20",
    }
    assert client.post("/needs/new", data=form).status_code == 302
    _import(world, "导入的需求", ["说明", "", "", "", "", ""])
    db.session.expire_all()
    for title in ("表单录入的需求", "导入的需求"):
        need = db.session.scalar(select(Need).where(Need.title == title))
        assert need.close_reason == "构建器填写", title
