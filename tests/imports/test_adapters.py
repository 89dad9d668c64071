"""Per-kind adapters (issue 15): the registry covers every importable kind, each kind's fields
are listed in its feature's adapter only, and the bulk path stores what the single-record
path stores."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from needs_tracker.audit.models import AuditEntry
from needs_tracker.common.permissions import scope_for
from needs_tracker.common.scoping import ScopeViolation, set_scope
from needs_tracker.extensions import db
from needs_tracker.imports.adapter import FieldSpec, KindAdapter
from needs_tracker.imports.commit import commit_import
from needs_tracker.imports.export import EXPORT_KINDS, export_rows, headers_of, template_bytes
from needs_tracker.imports.plan import plan_import
from needs_tracker.imports.registry import adapter, adapter_modules, adapters, parse_file
from needs_tracker.imports.undo import undo_import
from needs_tracker.needs import search
from needs_tracker.organisations.models import Organisation
from tests.imports.conftest import credit_code, csv_bytes, xlsx_bytes

PACKAGE = Path(__file__).resolve().parents[2] / "needs_tracker"
# Every kind a user could import or export before the adapters; none may get lost.
KNOWN_KINDS = {"organisations", "experts", "resources", "needs", "visits"}
# Modules of the import core that are about organisations by nature (company identity,
# duplicates and merges); every other module of the core is generic.
COMPANY_MODULES = {"identity.py", "companies.py", "merge.py"}
CORE_FEATURES = {
    "auth",
    "centres",
    "organisations",
    "visits",
    "needs",
    "experts",
    "taxonomy",
    "users",
}
# Names every kind may use in the generic core: a record's name and its technical fields.
GENERIC_NAMES = {"name", "fields", "field_ids"}


def _field_names(a: KindAdapter) -> set[str]:
    return {c.name for c in a.columns} | set(a.snapshot_names) | set(a.match_on) | set(a.defaults)


# ---------------------------------------------------------------- the registry


def test_the_registry_holds_every_kind_each_feature_declares():
    modules = {p.parent.name for p in PACKAGE.glob("*/importing.py")}
    assert {m.split(".")[1] for m in adapter_modules()} == modules
    assert set(adapters()) == KNOWN_KINDS
    declared = [a for m in adapter_modules() for a in __import__(m, fromlist=["x"]).ADAPTERS]
    assert sorted(a.kind for a in declared) == sorted(adapters())
    assert len({a.entity for a in declared}) == len(declared)
    assert len({a.position for a in declared}) == len(declared)


@pytest.mark.parametrize("kind", sorted(KNOWN_KINDS))
def test_an_adapter_declares_a_consistent_kind(kind):
    a = adapter(kind)
    assert isinstance(a, KindAdapter)
    # the kind is the table's name: the audit catalogue labels a change by (table, column)
    assert a.kind == a.model.__tablename__
    names = [c.name for c in a.columns]
    assert len(set(names)) == len(names)
    assert all(isinstance(c, FieldSpec) for c in a.columns)
    assert a.columns[0].required
    attributes = set(inspect(a.model).attrs.keys())
    assert set(a.snapshot_names) <= attributes
    assert len(a.example) <= len(a.columns)
    assert set(a.contact_columns) <= set(names)


def test_every_surface_offers_exactly_the_registrys_kinds(app):
    from needs_tracker.imports.cli import export_command, import_command
    from needs_tracker.imports.forms import UploadForm

    kinds = list(adapters())
    assert list(EXPORT_KINDS) == kinds
    for command in (import_command, export_command):
        param = next(p for p in command.params if p.name == "kind")
        assert list(param.type.choices) == kinds
    with app.test_request_context():
        form = UploadForm(meta={"csrf": False})
        form.set_choices([])
        assert [c.value for c in form.kind.choices] == kinds


@pytest.mark.parametrize("kind", sorted(KNOWN_KINDS))
def test_each_kinds_template_example_imports_cleanly(world, make_field, kind):
    """The example row the template offers is a valid row of the kind's columns."""
    make_field("人才培养", 2)
    data = template_bytes(kind, "csv")
    parsed = parse_file(kind, "template.csv", data)
    assert parsed.problems == []
    centre = world["a"].id if adapter(kind).centre_owned else None
    plan = plan_import(parsed, centre)
    assert plan.ok, plan.errors
    assert plan.rows[0].action in ("create", "update")


# ---------------------------------------------------------------- one place per field


def _core_modules() -> list[Path]:
    return sorted(p for p in (PACKAGE / "imports").glob("*.py") if p.name not in COMPANY_MODULES)


def _literal_collections(tree: ast.AST):
    """Each literal tuple, list or set, and each dict's keys, as the strings it holds."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            items = node.elts
        elif isinstance(node, ast.Dict):
            items = [k for k in node.keys if k is not None]
        else:
            continue
        strings = {
            i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)
        }
        if strings:
            yield node.lineno, strings


@pytest.mark.parametrize("path", _core_modules(), ids=lambda p: p.name)
def test_the_import_core_names_no_kind_and_lists_no_kinds_fields(path):
    """A kind, its fields and its headers are written in its adapter, not in the core."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    strings = {
        (n.lineno, n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }
    kinds = {name for a in adapters().values() for name in (a.kind, a.entity)}
    assert not {s for s in strings if s[1] in kinds}, "the core names a kind"
    headers = {alias for a in adapters().values() for c in a.columns for alias in c.aliases}
    assert not {s for s in strings if s[1] in headers and not s[1].isascii()}, "a column header"
    for a in adapters().values():
        fields = _field_names(a) - GENERIC_NAMES
        for line, held in _literal_collections(tree):
            listed = held & fields
            assert len(listed) < 3, f"line {line} lists {a.kind} fields {sorted(listed)}"


def test_columns_are_declared_in_adapters_only():
    """A FieldSpec (a spreadsheet column) is built in a feature's importing.py and nowhere else."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "importing.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        builders = {"FieldSpec"} | {
            t.id
            for n in ast.walk(tree)
            if isinstance(n, ast.Assign)
            and isinstance(n.value, ast.Name)
            and n.value.id == "FieldSpec"
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        found += [
            f"{path.relative_to(PACKAGE)}:{n.lineno}"
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in builders
        ]
    assert found == []


@pytest.mark.parametrize(
    "path",
    sorted(p for p in PACKAGE.glob("*/*.py") if p.parent.name in CORE_FEATURES),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_a_feature_reaches_the_import_through_its_adapter_module_only(path):
    """Core features do not import the import plug-in, except importing.py its declarations."""
    from tests.test_layers import imports_of

    used = {m for m, _ in imports_of(path) if m.startswith("needs_tracker.imports")}
    if path.name == "importing.py":
        adapter_module = "needs_tracker.imports.adapter"
        used = {m for m in used if m != adapter_module and not m.startswith(adapter_module + ".")}
    assert not used, sorted(used)


def test_a_column_added_to_an_adapter_is_imported_exported_and_undone(world, monkeypatch):
    """Adding a field to a kind's import and export is one line in its adapter."""
    organisations = type(adapter("organisations"))
    notes = FieldSpec("notes", ("备注", "notes"), max_len=500)
    monkeypatch.setattr(organisations, "columns", (*organisations.columns, notes))
    a = world["a"]
    rows = [
        ["企业名称", "统一社会信用代码", "备注"],
        ["潍坊新备注科技有限公司", credit_code(41), "首次走访时登记"],
        ["潍坊天恒检测科技有限公司", "", "已签约"],
    ]
    plan = plan_import(parse_file("organisations", "f.xlsx", xlsx_bytes(rows)), a.id)
    assert [r.action for r in plan.rows] == ["create", "update"]
    assert plan.rows[1].changes == {"notes": ("", "已签约")}
    batch = commit_import(plan, world["users"]["coordinator"], "f.xlsx")
    db.session.commit()
    by_name = {o.name: o for o in db.session.scalars(select(Organisation))}
    assert by_name["潍坊新备注科技有限公司"].notes == "首次走访时登记"
    assert by_name["潍坊天恒检测科技有限公司"].notes == "已签约"
    assert headers_of("organisations")[-1] == "备注"
    exported = {r[0]: r[-1] for r in export_rows("organisations")}
    assert exported["潍坊天恒检测科技有限公司"] == "已签约"
    assert (
        template_bytes("organisations", "csv").decode("utf-8-sig").splitlines()[0].endswith("备注")
    )
    undo_import(batch, None)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Organisation, world["org_a"].id).notes == ""


# ---------------------------------------------------------------- bulk = single record


def _columns(obj, skip: set[str]) -> dict:
    mapper = inspect(type(obj))
    return {c.key: getattr(obj, c.key) for c in mapper.column_attrs if c.key not in skip}


def _create_entry(table: str, record_id: int) -> AuditEntry:
    return db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.table_name == table,
            AuditEntry.record_id == record_id,
            AuditEntry.action == "create",
        )
    ).one()


SKIP = {"id", "created_at", "updated_at", "status_changed_at", "search_terms"}


def _single_and_bulk(world, kind: str):
    """One record made by the feature's own service, one by the import: (single, bulk, skip)."""
    from needs_tracker.experts.services import (
        ExpertData,
        ResourceData,
        create_expert,
        create_resource,
    )
    from needs_tracker.needs.services import NeedData, create_need
    from needs_tracker.organisations.services import OrganisationData, create_organisation

    a, actor = world["a"], world["users"]["coordinator"]
    set_scope(db.session, scope_for(actor))  # as a request by actor would
    if kind == "organisations":
        single = create_organisation(OrganisationData("单件企业", district="高新区"), a.id, actor)
        row = [["企业名称", "所属区县"], ["批量企业", "高新区"]]
        skip = {"name"}
    elif kind == "experts":
        data = ExpertData("单件专家", organisation="潍坊学院", expertise="焊接")
        single = create_expert(data, actor)
        row = [["姓名", "单位", "研究方向"], ["批量专家", "潍坊学院", "焊接"]]
        skip = {"name"}
    elif kind == "resources":
        data = ResourceData("单件平台", kind="platform", description="检测")
        single = create_resource(data, actor)
        row = [["名称", "类型", "简介"], ["批量平台", "平台", "检测"]]
        skip = {"name"}
    else:
        data = NeedData(organisation_id=world["org_a"].id, title="单件需求", description="在线检测")
        single = create_need(data, a.id, actor)
        row = [
            ["企业名称", "需求名称", "需求描述"],
            ["潍坊天恒检测科技有限公司", "批量需求", "在线检测"],
        ]
        skip = {"title"}
    db.session.commit()
    centre = a.id if adapter(kind).centre_owned else None
    batch = commit_import(plan_import(parse_file(kind, "f.csv", csv_bytes(row)), centre), actor)
    db.session.commit()
    model = adapter(kind).model
    bulk = db.session.get(model, batch.records[0].entity_id)
    return single, bulk, skip


@pytest.mark.parametrize("kind", ["organisations", "experts", "resources", "needs"])
def test_the_bulk_path_stores_and_audits_what_the_single_record_path_does(world, kind):
    single, bulk, skip = _single_and_bulk(world, kind)
    assert _columns(bulk, SKIP | skip) == _columns(single, SKIP | skip)
    table = adapter(kind).model.__tablename__
    one, many = _create_entry(table, single.id), _create_entry(table, bulk.id)
    assert (many.user_id, many.centre_id) == (one.user_id, one.centre_id)
    # The bulk entry lists what the import wrote (column defaults it left to the database,
    # such as created_at, are not in it); what both entries hold agrees.
    assert set(adapter(kind).snapshot_names) - skip <= set(many.after)
    same = (set(one.after) & set(many.after)) - SKIP - skip
    assert {k: many.after[k] for k in same} == {k: one.after[k] for k in same}
    if kind == "needs":
        assert bulk.search_terms == search.search_terms("批量需求", "在线检测")
        assert single.search_terms == search.search_terms("单件需求", "在线检测")
        assert [(h.from_status, h.to_status) for h in bulk.history] == [
            (h.from_status, h.to_status) for h in single.history
        ]
        assert bulk.collected_on == single.collected_on == date.today()


def test_importing_the_pool_moves_the_matching_stamp_as_a_saved_record_does(world):
    from needs_tracker.matching.models import MatchIndexState

    def stamp() -> str | None:
        db.session.expire_all()
        state = db.session.get(MatchIndexState, 1)
        return state.pool_version if state else None

    before = stamp()
    rows = [["姓名", "单位", "研究方向"], ["新专家", "潍坊学院", "焊接"]]
    commit_import(plan_import(parse_file("experts", "f.csv", csv_bytes(rows)), None), None)
    db.session.commit()
    assert stamp() not in (None, before)


def test_bulk_rows_outside_the_write_scope_are_refused_like_a_flush(world, monkeypatch):
    """The write guard sees no Core INSERT, so the bulk path applies its rule itself."""
    needs = type(adapter("needs"))
    original = needs.create_values

    def elsewhere(self, values, centre_id, actor_id):
        return {**original(self, values, centre_id, actor_id), "centre_id": world["b"].id}

    monkeypatch.setattr(needs, "create_values", elsewhere)
    from needs_tracker.needs.models import Need

    before = db.session.scalar(select(func.count()).select_from(Need))
    rows = [["企业名称", "需求名称", "需求描述"], ["潍坊天恒检测科技有限公司", "越界需求", "说明"]]
    plan = plan_import(parse_file("needs", "f.csv", csv_bytes(rows)), world["a"].id)
    with pytest.raises(ScopeViolation):
        commit_import(plan, world["users"]["coordinator"])
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Need)) == before


def test_an_unknown_kind_is_refused(world):
    with pytest.raises(KeyError):
        adapter("patents")
    from needs_tracker.imports.parsing import FileError

    with pytest.raises(FileError):
        parse_file("patents", "f.csv", csv_bytes([["名称"], ["x"]]))
