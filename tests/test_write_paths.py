"""One write path per feature, one registration path, one place per default (issue 15).

Each feature's delete_x service soft-deletes (the row is hidden, not removed), leaves an audit
entry naming the actor, and, for the shared pool, moves the matching index's stamp so every
worker rebuilds. The rest are read from the source with ast, as tests/test_layers.py does: no
page writes deleted_at itself, hooks are reached through common/hooks.py only, every feature
registers through FEATURES, and no feature gives a setting a default of its own.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from sqlalchemy import select

import config
from needs_tracker import FEATURES
from needs_tracker.audit.models import AuditEntry
from needs_tracker.common import hooks
from needs_tracker.common.permissions import scope_for
from needs_tracker.common.scoping import scoped
from needs_tracker.experts.services import delete_expert, delete_resource
from needs_tracker.extensions import db
from needs_tracker.needs.services import delete_need
from needs_tracker.organisations.services import delete_organisation
from needs_tracker.visits.services import VisitNotPlanned, cancel_visit, delete_visit

PACKAGE = Path(__file__).resolve().parent.parent / "needs_tracker"

DELETES = [
    ("needs", "need_a", "member", delete_need),
    ("visits", "visit_a", "member", delete_visit),
    ("organisations", "org_a", "coordinator", delete_organisation),
    ("experts", "expert", "coordinator", delete_expert),
    ("resources", "resource", "coordinator", delete_resource),
]


def _as(actor, service, *args) -> None:
    """Run service as actor would in a request: under the actor's scope, then commit."""
    with scoped(db.session, scope_for(actor)):
        service(*args, actor)
        db.session.commit()


def _soft_deleted_row(model, record_id):
    return db.session.scalar(
        select(model).where(model.id == record_id).execution_options(include_deleted=True)
    )


@pytest.mark.parametrize(("table", "key", "role", "service"), DELETES, ids=[d[0] for d in DELETES])
def test_delete_service_soft_deletes_and_audits(world, table, key, role, service):
    obj, actor = world[key], world["users"][role]
    model, record_id = type(obj), obj.id
    _as(actor, service, obj)
    db.session.expire_all()
    assert db.session.scalar(select(model).where(model.id == record_id)) is None
    kept = _soft_deleted_row(model, record_id)
    assert kept is not None
    assert kept.deleted_at is not None
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.table_name == table, AuditEntry.record_id == record_id)
        .order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.user_id) for e in entries if e.action == "soft_delete"] == [
        ("soft_delete", actor.id)
    ]
    assert entries[-1].action == "soft_delete"


@pytest.mark.parametrize(
    ("key", "service"), [("expert", delete_expert), ("resource", delete_resource)]
)
def test_deleting_a_pool_record_moves_the_matching_index_stamp(world, key, service):
    from needs_tracker.matching.services import index_versions

    before = index_versions()
    _as(world["users"]["coordinator"], service, world[key])
    pool, signals = index_versions()
    assert pool != before[0]
    assert signals == before[1]


def test_cancel_is_for_planned_visits_only(world):
    visit, member = world["visit_a"], world["users"]["member"]
    with pytest.raises(VisitNotPlanned):
        _as(member, cancel_visit, visit)
    db.session.rollback()
    assert _soft_deleted_row(type(visit), visit.id).deleted_at is None
    visit.status = "planned"
    db.session.commit()
    _as(member, cancel_visit, visit)
    assert _soft_deleted_row(type(visit), visit.id).deleted_at is not None


# ----------------------------------------------------------------- read from the source


def _page_modules() -> list[Path]:
    """Modules that define pages: views.py, *_views.py and any other module with a Blueprint."""
    return sorted(
        p
        for p in PACKAGE.rglob("*.py")
        if p.name == "views.py"
        or p.name.endswith("_views.py")
        or "Blueprint(" in p.read_text(encoding="utf-8")
    )


def deleted_at_writes(source: str) -> list[int]:
    """Lines of source that assign deleted_at (attribute, setattr or update(...values))."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = [t for tgt in node.targets for t in ast.walk(tgt)]
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Attribute) and t.attr == "deleted_at" for t in targets):
            lines.append(node.lineno)
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            args = [a.value for a in node.args if isinstance(a, ast.Constant)]
            keywords = [k.arg for k in node.keywords]
            if (name == "setattr" and "deleted_at" in args) or (
                name == "values" and "deleted_at" in keywords
            ):
                lines.append(node.lineno)
    return lines


def test_the_checker_sees_each_way_of_writing_deleted_at():
    probe = (
        "def a(x):\n    x.deleted_at = now()\n"
        "def b(x):\n    setattr(x, 'deleted_at', None)\n"
        "def c(t):\n    return update(t).values(deleted_at=None)\n"
        "def d(x):\n    x.deleted_at, y = None, 1\n"
        "def e(x):\n    return x.deleted_at is None\n"
    )
    assert sorted(deleted_at_writes(probe)) == [2, 4, 6, 8]


def test_the_page_modules_include_every_views_module():
    names = {p.relative_to(PACKAGE).as_posix() for p in _page_modules()}
    assert {"needs/views.py", "experts/resource_views.py", "ops/trash.py"} <= names


@pytest.mark.parametrize("path", _page_modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_page_writes_deleted_at_itself(path):
    lines = deleted_at_writes(path.read_text(encoding="utf-8"))
    assert not lines, (
        f"{path.relative_to(PACKAGE)} writes deleted_at at lines {lines}: "
        "call the feature's delete_x service (common.models.soft_delete / restore)"
    )


def _hook_lookups(path: Path) -> list[str]:
    """Hook names that a module reaches by string in app.extensions (not through a Hook)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        key = None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "extensions"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            key = node.args[0].value
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "extensions"
            and isinstance(node.slice, ast.Constant)
        ):
            key = node.slice.value
        if key in hooks.HOOKS:
            found.append(key)
    return found


@pytest.mark.parametrize(
    "path",
    [p for p in sorted(PACKAGE.rglob("*.py")) if p.name != "hooks.py"],
    ids=lambda p: p.relative_to(PACKAGE).as_posix(),
)
def test_hooks_are_reached_through_their_declaration(path):
    assert not _hook_lookups(path), f"use common.hooks instead of {_hook_lookups(path)}"


def test_a_hook_refuses_what_does_not_fit_its_signature(app):
    def panel_without_user(record):
        return None

    with pytest.raises(TypeError, match="need_panels"):
        hooks.NEED_PANELS.add(app, panel_without_user)
    with pytest.raises(TypeError, match="nav_items"):
        hooks.NAV_ITEMS.add(app, {"endpoint": "main.index", "label": "x"})
    assert panel_without_user not in hooks.NEED_PANELS.items(app)


def test_every_package_with_pages_or_commands_registers_through_features():
    factory = (PACKAGE / "__init__.py").read_text(encoding="utf-8")
    assert "register_blueprint(" not in factory
    assert "add_command(" not in factory
    for package in sorted(p.parent for p in PACKAGE.glob("*/__init__.py")):
        text = "".join(p.read_text(encoding="utf-8") for p in package.rglob("*.py"))
        if "Blueprint(" in text or "AppGroup(" in text:
            name = f"needs_tracker.{package.name}"
            assert name in FEATURES, f"{name} has pages or commands but is not in FEATURES"
            assert callable(importlib.import_module(name).init_app)


def _config_reads_with_a_fallback(path: Path) -> list[str]:
    keys = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"get", "setdefault"}
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "config"
            and len(node.args) == 2
            and isinstance(node.args[0], ast.Constant)
        ):
            keys.append((node.func.attr, node.args[0].value))
    return keys


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.relative_to(PACKAGE).as_posix()
)
def test_settings_have_their_default_in_config_py(path):
    reads = _config_reads_with_a_fallback(path)
    assert not [k for how, k in reads if how == "setdefault"], "put the default in config.py"
    undeclared = [k for _, k in reads if not hasattr(config.Config, k)]
    assert not undeclared, f"settings with a default only in the code: {undeclared}"
