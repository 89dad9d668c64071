"""Import plan -> commit -> undo, merges, round trips and centre isolation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from needs_tracker.common.scoping import Scope, set_scope
from needs_tracker.experts.models import Expert
from needs_tracker.extensions import db
from needs_tracker.imports.base import ImportError_
from needs_tracker.imports.commit import commit_import
from needs_tracker.imports.export import export_rows, headers_of, to_csv, to_xlsx
from needs_tracker.imports.merge import find_duplicates, merge_organisations, unmerge_organisations
from needs_tracker.imports.models import ImportBatch
from needs_tracker.imports.plan import plan_import
from needs_tracker.imports.registry import parse_file
from needs_tracker.imports.undo import undo_import
from needs_tracker.matching.models import Match
from needs_tracker.needs.models import Need
from needs_tracker.organisations.models import Organisation
from needs_tracker.visits.models import Visit
from tests.imports.conftest import credit_code, csv_bytes, xlsx_bytes

ORG_HEADER = ["企业名称", "统一社会信用代码", "所属区县", "行业", "企业规模", "联系人"]


def _count(model, centre_id=None):
    stmt = select(func.count()).select_from(model)
    if centre_id is not None:
        stmt = stmt.where(model.centre_id == centre_id)
    return db.session.scalar(stmt.execution_options(include_deleted=True))


def _import(kind, rows, centre, actor=None, fmt="xlsx", **kw):
    data = xlsx_bytes(rows) if fmt == "xlsx" else csv_bytes(rows)
    plan = plan_import(parse_file(kind, f"f.{fmt}", data), centre.id if centre else None, **kw)
    return plan


def _commit(plan, actor=None):
    batch = commit_import(plan, actor, "f.xlsx")
    db.session.commit()
    return batch


def test_preview_writes_nothing_then_commit_creates_and_updates(world):
    a = world["a"]
    before = _count(Organisation)
    rows = [
        ORG_HEADER,
        ["潍坊华特磁电设备有限公司", credit_code(1), "高新区", "磁电设备", "中型", "王工"],
        ["潍坊天恒检测科技有限公司", "", "高新区", "检验检测", "小型", "李经理"],  # exists: update
        ["潍坊天恒检测科技有限公司", "", "", "", "", ""],  # same as row 3
    ]
    plan = _import("organisations", rows, a)
    db.session.rollback()
    assert _count(Organisation) == before
    assert plan.counts == {
        "create": 1,
        "update": 1,
        "unchanged": 0,
        "duplicate": 0,
        "merged": 0,
        "skip": 1,
        "error": 0,
    }
    assert plan.by_action("skip")[0].duplicate_note == "与第 3 行是同一单位"
    batch = _commit(plan, world["users"]["coordinator"])
    assert (batch.created_count, batch.updated_count, batch.skipped_count) == (1, 1, 1)
    db.session.refresh(world["org_a"])
    assert world["org_a"].contact_name == "李经理"
    assert world["org_a"].short_name == "天恒检测"  # empty cells keep stored values
    new = db.session.scalar(select(Organisation).where(Organisation.credit_code == credit_code(1)))
    assert (new.centre_id, new.size, new.kind) == (a.id, "medium", "company")


def test_possible_duplicates_are_flagged_never_merged(world, make_org):
    a = world["a"]
    make_org(a, "潍柴动力股份有限公司")
    rows = [ORG_HEADER, ["潍坊潍柴动力有限公司", "", "", "", "", ""]]
    plan = _import("organisations", rows, a)
    row = plan.rows[0]
    assert row.action == "duplicate"
    assert "潍柴动力股份有限公司" in row.duplicate_note
    with pytest.raises(ImportError_, match="第 2 行"):  # waits for merge-or-keep
        commit_import(plan, None)
    db.session.rollback()
    plan = _import("organisations", rows, a, create_duplicates=True)
    assert plan.rows[0].action == "create"
    _commit(plan)
    names = db.session.scalars(select(Organisation.name).where(Organisation.name.like("%潍柴%")))
    assert sorted(names) == ["潍坊潍柴动力有限公司", "潍柴动力股份有限公司"]


def test_all_or_nothing_bad_row_9000_of_10000(world):
    a = world["a"]
    rows = [ORG_HEADER] + [
        [f"测试企业{i:05d}有限公司", credit_code(1000 + i), "高新区", "制造", "小型", ""]
        for i in range(10_000)
    ]
    rows[9000][1] = rows[9000][1][:-1] + ("0" if rows[9000][1][-1] != "0" else "1")
    before = _count(Organisation)
    plan = _import("organisations", rows, a, fmt="csv")
    assert not plan.ok
    assert plan.errors == ["第 9001 行「统一社会信用代码」校验位错误"]  # data row 9,000
    with pytest.raises(ImportError_):
        commit_import(plan, None)
    db.session.rollback()
    assert _count(Organisation) == before
    assert _count(ImportBatch) == 0


def test_undo_removes_created_and_restores_updated(world, make_need):
    a = world["a"]
    org_a = world["org_a"]
    rows = [
        ORG_HEADER,
        ["新企业一有限公司", "", "奎文区", "", "", ""],
        ["新企业二有限公司", credit_code(2), "", "", "", ""],
        [org_a.name, "", "坊子区", "检测", "", ""],
    ]
    batch = _commit(_import("organisations", rows, a))
    assert _count(Organisation, a.id) == 4
    undo_import(batch, None)
    db.session.commit()
    assert _count(Organisation, a.id) == 2
    db.session.refresh(org_a)
    assert (org_a.district, org_a.industry) == ("高新区", "")
    with pytest.raises(ImportError_):
        undo_import(batch, None)
    db.session.rollback()
    # An import whose companies now have needs cannot be undone.
    batch = _commit(_import("organisations", rows[:2], a))
    new = db.session.scalar(select(Organisation).where(Organisation.name == "新企业一有限公司"))
    make_need(new, "新需求")
    with pytest.raises(ImportError_, match="需求或走访"):
        undo_import(batch, None)
    db.session.rollback()
    # ... nor one whose records were edited since.
    batch2 = _commit(_import("organisations", [ORG_HEADER, ["第三家有限公司"]], a))
    third = db.session.scalar(select(Organisation).where(Organisation.name == "第三家有限公司"))
    third.industry = "改过"
    db.session.commit()
    with pytest.raises(ImportError_, match="修改"):
        undo_import(batch2, None)


def test_another_centres_data_is_never_matched_or_touched(world):
    a, b, org_b = world["a"], world["b"], world["org_b"]
    snapshot = (org_b.name, org_b.district, org_b.version)
    # Needs naming B's company are refused in A.
    plan = _import(
        "needs",
        [["企业名称", "需求名称", "需求描述"], ["盛瑞传动", "t", "d"], ["海尔", "t", "d"]],
        a,
    )
    assert plan.errors == ["第 3 行「企业名称」本中心没有名为“海尔”的单位"]
    assert plan.rows[0].values["organisation_id"] == world["org_a2"].id  # found by short name
    rows = [ORG_HEADER, [org_b.name, "", "高新区", "家电", "", "张三"]]
    plan = _import("organisations", rows, a)
    assert plan.counts["create"] == 1
    assert plan.counts["duplicate"] == 0
    _commit(plan)
    db.session.refresh(org_b)
    assert (org_b.name, org_b.district, org_b.version) == snapshot
    assert find_duplicates("青岛海尔集团", None, a.id) != []  # A's new copy, not B's
    assert all(
        d.organisation.centre_id == a.id for d in find_duplicates("青岛海尔集团", None, a.id)
    )
    # A user scoped to A cannot import into B.
    user = world["users"]["coordinator"]
    set_scope(db.session, Scope(frozenset({a.id}), frozenset({a.id}), user.id))
    with pytest.raises(ImportError_):
        _import("organisations", rows, b)


def test_needs_import_and_round_trip(world, make_field):
    a = world["a"]
    make_field("工业互联网", 1)
    rows = [
        [
            "企业名称",
            "需求名称",
            "需求描述",
            "技术领域",
            "需求类型",
            "紧急程度",
            "预算（万元）",
            "征集日期",
        ],
        [
            "潍坊天恒检测科技有限公司",
            "设备联网",
            '=HYPERLINK("x")',
            "工业互联网、智能检测",
            "设备/平台",
            "紧急",
            "35",
            "2021年3月26日",
        ],
        ["天恒检测", "设备联网", '=HYPERLINK("x")', "", "", "", "", ""],
        ["盛瑞传动股份有限公司", "液力变矩器", "仿真", "热管理", "", "", "", ""],
    ]
    plan = _import("needs", rows, a, fmt="csv")
    assert plan.errors == ["第 4 行「技术领域」没有“热管理”这个技术领域"]
    rows[3][3] = ""
    plan = _import("needs", rows, a, fmt="csv")
    assert plan.counts["create"] == 2
    assert plan.counts["skip"] == 1
    _commit(plan, world["users"]["coordinator"])
    need = db.session.scalar(select(Need).where(Need.title == "设备联网"))
    assert (need.need_type, need.urgency, need.budget, need.collected_on) == (
        "equipment",
        "high",
        Decimal("35.00"),
        date(2021, 3, 26),
    )
    assert sorted(f.name for f in need.fields) == ["工业互联网", "智能检测"]
    assert need.status == "collected"
    assert len(need.history) == 1
    _assert_round_trip("needs", a)


def _assert_round_trip(kind, centre):
    set_scope(
        db.session,
        Scope(frozenset({centre.id}), frozenset({centre.id})) if centre else Scope.system(),
    )
    rows = export_rows(kind)
    assert rows
    for fmt, data in (
        ("xlsx", to_xlsx(headers_of(kind), rows)),
        ("csv", to_csv(headers_of(kind), rows)),
    ):
        set_scope(db.session, Scope.system())
        plan = plan_import(parse_file(kind, f"x.{fmt}", data), centre.id if centre else None)
        assert plan.ok, plan.errors
        changes = [(r.number, r.action, r.changes) for r in plan.rows if r.changes]
        assert plan.counts["create"] == 0, changes
        assert plan.counts["update"] == 0, changes


@pytest.mark.parametrize("kind", ["organisations", "needs", "visits", "experts", "resources"])
def test_round_trip_changes_nothing(world, kind):
    org = world["org_a"]
    org.credit_code = credit_code(42)
    org.contact_phone = "+86 536 1234567"
    org.industry = "-检测@服务"
    db.session.commit()
    centre = None if kind in ("experts", "resources") else world["a"]
    _assert_round_trip(kind, centre)


def test_export_neutralises_formulas(world):
    world["org_a"].industry = "=cmd|' /C calc'!A0"
    world["org_a"].address = "@SUM(1)"
    db.session.commit()
    set_scope(db.session, Scope(frozenset({world["a"].id}), frozenset()))
    data = to_csv(headers_of("organisations"), export_rows("organisations"))
    text = data.decode("utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")
    assert "'=cmd" in text
    assert "'@SUM(1)" in text
    assert "青岛" not in text  # the other centre's companies are not exported
    import io

    from openpyxl import load_workbook

    wb = load_workbook(
        io.BytesIO(to_xlsx(headers_of("organisations"), export_rows("organisations")))
    )
    values = [c.value for row in wb.active.iter_rows() for c in row]
    assert "'=cmd|' /C calc'!A0" in values
    assert not any(c.data_type == "f" for row in wb.active.iter_rows() for c in row)


def test_visits_import_with_team_and_organisations(world):
    a = world["a"]
    rows = [
        ["走访日期", "走访单位", "走访人员", "目的", "纪要"],
        [
            "2021/3/18",
            "天恒检测，盛瑞传动股份有限公司",
            "胡志强/秘书长助理/联合体；孙晓非//潍坊市科协\n刘军",
            "需求征集",
            "纪要",
        ],
        ["2021-04-02", "潍坊天恒检测科技有限公司", "a/b/c/d", "", ""],
    ]
    plan = _import("visits", rows, a)
    assert plan.errors == ["第 3 行「走访人员」人员请写成 姓名/职称/单位（a/b/c/d）"]
    rows[2][2] = "王五"
    plan = _import("visits", rows, a)
    # Row 2 has the same date and organisations as the existing visit: updated, not duplicated.
    assert plan.counts["update"] == 1
    assert plan.counts["create"] == 1
    _commit(plan)
    visit = db.session.get(Visit, world["visit_a"].id)
    assert [m.name for m in visit.team] == ["胡志强", "孙晓非", "刘军"]
    assert visit.team[1].organisation_name == "潍坊市科协"
    new = db.session.scalar(select(Visit).where(Visit.visit_date == date(2021, 4, 2)))
    assert [o.id for o in new.organisations] == [world["org_a"].id]


def test_experts_and_resources_pool(world):
    rows = [
        ["姓名", "单位", "职称", "研究方向", "技术领域", "邮箱"],
        ["邢卫东", "山东大学", "教授", "超声相控阵", "智能检测", "x@sdu.edu.cn"],
        ["李四", "潍坊学院", "", "机器视觉", "", ""],
        ["李四", " 潍坊学院 ", "", "机器视觉", "", ""],
    ]
    plan = _import("experts", rows, None)
    assert (plan.counts["create"], plan.counts["update"], plan.counts["skip"]) == (1, 1, 1)
    batch = _commit(plan)
    assert batch.centre_id is None
    assert _count(Expert) == 2
    plan = _import(
        "resources",
        [
            ["名称", "类型", "所属单位", "简介"],
            ["智能制造学习工厂", "学习工厂", "同济大学", "培训"],
            ["x", "火箭", "", "y"],
        ],
        None,
    )
    assert plan.errors == [
        "第 3 行「类型」必须是以下之一：实验室、平台、学习工厂、测试平台、科技成果、专利、其他（而不是“火箭”）"
    ]
    undo_import(batch, None)
    db.session.commit()
    assert _count(Expert) == 1
    assert db.session.scalar(select(Expert.title)) == ""  # restored


def test_merge_and_unmerge(world, make_org, make_need, make_visit):
    a = world["a"]
    survivor = world["org_a"]
    dup = make_org(a, "潍坊天恒检测科技股份有限公司", contact_name="赵工", district="奎文区")
    need = make_need(dup, "重复企业的需求")
    match = Match(centre_id=a.id, need_id=need.id, expert_id=world["expert"].id)
    db.session.add(match)
    db.session.commit()
    shared_visit = world["visit_a"]
    shared_visit.organisations = [survivor, world["org_a2"], dup]
    db.session.commit()
    own_visit = make_visit(a, [dup], visit_date=date(2021, 5, 1))
    record = merge_organisations(
        survivor, dup, {"contact_name": "赵工"}, world["users"]["coordinator"]
    )
    db.session.commit()
    assert survivor.contact_name == "赵工"
    assert survivor.district == "高新区"
    assert db.session.get(Need, need.id).organisation_id == survivor.id
    assert db.session.get(Match, match.id).need.organisation_id == survivor.id
    assert [o.id for o in db.session.get(Visit, own_visit.id).organisations] == [survivor.id]
    assert sorted(o.id for o in db.session.get(Visit, shared_visit.id).organisations) == sorted(
        [survivor.id, world["org_a2"].id]
    )
    assert db.session.scalar(select(Organisation).where(Organisation.id == dup.id)) is None
    unmerge_organisations(record, world["users"]["coordinator"])
    db.session.commit()
    db.session.expire_all()
    assert survivor.contact_name == ""
    assert db.session.get(Need, need.id).organisation_id == dup.id
    assert [o.id for o in db.session.get(Visit, own_visit.id).organisations] == [dup.id]
    assert dup.id in [o.id for o in db.session.get(Visit, shared_visit.id).organisations]
    assert db.session.get(Organisation, dup.id).deleted_at is None
    with pytest.raises(ImportError_):
        unmerge_organisations(record, None)


def test_merge_across_centres_is_refused(world):
    with pytest.raises(ImportError_):
        merge_organisations(world["org_a"], world["org_b"], {}, None)


def test_undo_of_needs_removes_history_and_fields(world):
    from needs_tracker.needs.models import NeedStatusChange, need_fields

    a = world["a"]
    rows = [
        ["企业名称", "需求名称", "需求描述", "技术领域"],
        ["天恒检测", "在线测量", "尺寸在线测量", "智能检测"],
        ["盛瑞传动", "换挡品质", "换挡冲击", ""],
    ]
    before_needs = _count(Need)
    before_history = db.session.scalar(select(func.count()).select_from(NeedStatusChange))
    before_links = db.session.scalar(select(func.count()).select_from(need_fields))
    batch = _commit(_import("needs", rows, a), world["users"]["coordinator"])
    assert _count(Need) == before_needs + 2
    need = db.session.scalar(select(Need).where(Need.title == "在线测量"))
    assert [f.name for f in need.fields] == ["智能检测"]
    assert need.created_by_id == world["users"]["coordinator"].id
    assert [h.to_status for h in need.history] == ["collected"]
    undo_import(batch, None)
    db.session.commit()
    assert _count(Need) == before_needs
    assert db.session.scalar(select(func.count()).select_from(NeedStatusChange)) == before_history
    assert db.session.scalar(select(func.count()).select_from(need_fields)) == before_links


def _trail(table, record_id):
    from needs_tracker.audit.models import AuditEntry

    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.table_name == table, AuditEntry.record_id == record_id)
            .order_by(AuditEntry.id)
        )
    )


def test_imported_records_start_their_audit_trail(client, auth, world, make_field):
    """Bulk-inserted rows get the same create entry as a form would write, with the importer."""
    a, coordinator = world["a"], world["users"]["coordinator"]
    field = make_field("工业互联网", 1)
    rows = [
        ["企业名称", "需求名称", "需求描述", "技术领域"],
        ["潍坊天恒检测科技有限公司", "设备联网", "车间设备数据采集", "工业互联网"],
        ["潍坊天恒检测科技有限公司", "能耗监测", "空压机能耗在线监测", ""],
    ]
    batch = _commit(_import("needs", rows, a), coordinator)
    needs = {
        n.title: n
        for n in db.session.scalars(select(Need).where(Need.title.in_(["设备联网", "能耗监测"])))
    }
    assert len(needs) == 2
    for title, need in needs.items():
        (entry,) = _trail("needs", need.id)
        assert (entry.action, entry.user_id, entry.centre_id) == ("create", coordinator.id, a.id)
        assert entry.before is None
        assert entry.after["title"] == title
        assert entry.after["status"] == "collected"
        assert entry.after["organisation_id"] == world["org_a"].id
    assert _trail("needs", needs["设备联网"].id)[0].after["fields"] == [field.id]
    # The first status change is a child entry of the need, as when a form creates it.
    from needs_tracker.audit.models import AuditEntry

    for need in needs.values():
        (child,) = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.parent_table == "needs", AuditEntry.parent_id == need.id
            )
        )
        assert (child.table_name, child.action, child.centre_id) == (
            "need_status_changes",
            "create",
            a.id,
        )
        assert child.after["to_status"] == "collected"
        assert child.record_id == need.history[0].id
    assert _trail("needs", needs["能耗监测"].id)[0].after["fields"] == []

    # Experts (the shared pool) too, and the record's history page shows the creation.
    _commit(
        _import("experts", [["姓名", "单位", "研究方向"], ["丁一", "潍坊学院", "能耗监测"]], None),
        coordinator,
    )
    expert = db.session.scalar(select(Expert).where(Expert.name == "丁一"))
    (entry,) = _trail("experts", expert.id)
    assert (entry.action, entry.user_id, entry.centre_id) == ("create", coordinator.id, None)
    auth.login("coordinator")
    page = client.get(f"/audit/experts/{expert.id}").get_data(as_text=True)
    assert "潍坊学院" in page

    # Undo deletes them through the ORM: the trail then reads create -> delete.
    undo_import(batch, coordinator)
    db.session.commit()
    assert [e.action for e in _trail("needs", needs["设备联网"].id)] == ["create", "delete"]


def test_a_failed_import_leaves_no_audit_entry(world):
    from needs_tracker.audit.models import AuditEntry

    before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    rows = [
        ORG_HEADER,
        ["好企业有限公司", "", "", "", "", ""],
        ["", "", "", "", "", ""],
        ["坏企业", "123", "", "", "", ""],
    ]
    plan = _import("organisations", rows, world["a"])
    with pytest.raises(ImportError_):
        commit_import(plan, world["users"]["coordinator"], "f.xlsx")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before
