"""Need search by Chinese words of two characters and more, through the search index.

Every write path must keep the index in step: the form, the bulk import, its undo, the
company merge, soft delete and restore, hard delete. `_indexed` asks the index alone (no
substring check after it), so a stale index shows here even where the list would hide it.
"""

from __future__ import annotations

from sqlalchemy import select, text

from needs_tracker.common.models import utcnow
from needs_tracker.extensions import db
from needs_tracker.imports.commit import commit_import
from needs_tracker.imports.merge import merge_organisations
from needs_tracker.imports.plan import plan_import
from needs_tracker.imports.registry import parse_file
from needs_tracker.imports.undo import undo_import
from needs_tracker.needs.models import Need
from needs_tracker.needs.search import bigrams, indexed_match
from tests.imports.conftest import xlsx_bytes


def _indexed(q: str) -> set[str]:
    """Titles of the needs the index alone returns for q (deleted rows included)."""
    dialect = db.session.get_bind().dialect.name
    clause = indexed_match(dialect, Need.search_terms, Need.id, bigrams(q))
    stmt = select(Need.title).where(clause).execution_options(include_deleted=True)
    return set(db.session.scalars(stmt))


def _listed(client, q: str) -> str:
    resp = client.get("/needs/", query_string={"q": q})
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_two_character_words_find_title_and_description(client, auth, world, make_need):
    org = world["org_a"]
    make_need(org, "轴承寿命预测", description="风电主轴轴承的剩余寿命")
    make_need(org, "涂层工艺改进", description="激光焊接后的表面涂层开裂")
    make_need(org, "无关需求", description="接头焊缝")  # 焊 and 接 apart: not 焊接
    auth.login("member")
    page = _listed(client, "焊接")
    assert "涂层工艺改进" in page
    assert "焊缝缺陷自动检测" not in page  # its text has 焊缝, not 焊接
    assert "无关需求" not in page
    page = _listed(client, "轴承")
    assert "轴承寿命预测" in page
    assert "涂层工艺改进" not in page
    # Longer words, and words spanning the title only or the description only.
    assert "轴承寿命预测" in _listed(client, "主轴轴承的剩余")
    assert "涂层工艺改进" not in _listed(client, "主轴轴承的剩余")


def test_query_whose_bigrams_are_all_present_but_apart_is_not_a_match(
    client, auth, world, make_need
):
    make_need(world["org_a"], "焊接与接头", description="")
    auth.login("member")
    assert _indexed("焊接头") == {"焊接与接头"}  # the index narrows, the substring decides
    assert "焊接与接头" not in _listed(client, "焊接头")


def test_one_character_and_latin_queries_still_work(client, auth, world, make_need):
    make_need(world["org_a"], "PLC改造", description="西门子 S7-1200")
    auth.login("member")
    assert "PLC改造" in _listed(client, "改")
    assert "PLC改造" in _listed(client, "plc")
    assert "PLC改造" in _listed(client, "s7-12")
    # Company names are searched as before.
    assert "PLC改造" in _listed(client, "天恒")


def test_other_centres_needs_are_not_found(client, auth, world, make_need):
    make_need(world["org_b"], "青岛焊接需求", description="")
    auth.login("member")
    assert "青岛焊接需求" not in _listed(client, "焊接")


def test_form_create_and_edit_keep_the_index_in_step(client, auth, world):
    auth.login("member")
    form = {
        "organisation_id": str(world["org_a"].id),
        "visit_id": "",
        "title": "减速机轴承噪声",
        "description": "",
        "field_ids": [],
        "need_type": "rnd",
        "urgency": "medium",
        "budget": "",
        "collected_on": "2021-03-20",
    }
    assert client.post("/needs/new", data=form).status_code == 302
    need = db.session.scalar(select(Need).where(Need.title == "减速机轴承噪声"))
    assert _indexed("轴承") == {"减速机轴承噪声"}
    form.update(title="减速机齿轮噪声", description="齿面点蚀", version=str(need.version))
    assert client.post(f"/needs/{need.id}/edit", data=form).status_code == 302
    assert _indexed("轴承") == set()
    assert _indexed("点蚀") == {"减速机齿轮噪声"}
    assert "减速机齿轮噪声" in _listed(client, "点蚀")


def test_bulk_import_and_its_undo_keep_the_index_in_step(client, auth, world):
    rows = [
        ["企业名称", "需求名称", "需求描述", "技术领域"],
        ["天恒检测", "齿轮箱轴承监测", "振动在线监测", ""],
        ["盛瑞传动", "变速器换挡", "换挡冲击的焊接件", ""],
    ]
    plan = plan_import(parse_file("needs", "n.xlsx", xlsx_bytes(rows)), world["a"].id)
    batch = commit_import(plan, world["users"]["coordinator"], "n.xlsx")
    db.session.commit()
    assert _indexed("轴承") == {"齿轮箱轴承监测"}
    assert _indexed("焊接") == {"变速器换挡"}
    auth.login("member")
    assert "变速器换挡" in _listed(client, "焊接")
    undo_import(batch, None)
    db.session.commit()
    assert _indexed("轴承") == set()
    assert _indexed("焊接") == set()


def test_company_merge_moves_needs_under_the_survivors_name(
    client, auth, world, make_org, make_need
):
    dup = make_org(world["a"], "潍坊天恒检测科技股份有限公司")
    make_need(dup, "重复企业的轴承需求", description="")
    merge_organisations(world["org_a"], dup, {}, world["users"]["coordinator"])
    db.session.commit()
    auth.login("member")
    page = _listed(client, "天恒检测科技有限")
    assert "重复企业的轴承需求" in page
    assert "重复企业的轴承需求" in _listed(client, "轴承")


def test_soft_delete_restore_and_purge(client, auth, world, make_need):
    need = make_need(world["org_a2"], "可删除的轴承需求", description="")
    need.deleted_at = utcnow()
    db.session.commit()
    auth.login("admin")
    assert "可删除的轴承需求" not in _listed(client, "轴承")
    assert client.post(f"/trash/needs/{need.id}/restore").status_code == 302
    assert "可删除的轴承需求" in _listed(client, "轴承")
    db.session.expire_all()
    need = db.session.get(Need, need.id)
    need.deleted_at = utcnow()
    db.session.commit()
    assert client.post(f"/trash/needs/{need.id}/purge").status_code == 302
    assert _indexed("轴承") == set()


def test_export_finds_what_the_list_finds(client, auth, world, make_need):
    make_need(world["org_a"], "焊接机器人", description="")
    auth.login("member")
    data = client.get("/export/needs.csv", query_string={"q": "焊接"}).get_data()
    assert "焊接机器人".encode() in data
    assert "焊缝缺陷自动检测".encode() not in data


def test_search_uses_the_index(app, world):
    dialect = db.session.get_bind().dialect.name
    stmt = select(Need.id).where(indexed_match(dialect, Need.search_terms, Need.id, ["焊接"]))
    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if dialect == "sqlite":
        plan = db.session.execute(text("EXPLAIN QUERY PLAN " + sql)).all()
        assert any("VIRTUAL TABLE" in row[-1] for row in plan), plan
    else:
        # A test table is tiny: make every other way dearer than the GIN index, so the plan
        # shows whether the query can use it at all (the scale benchmark prints real plans).
        for setting in ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
            db.session.execute(text(f"SET LOCAL {setting} = off"))
        plan = db.session.execute(text("EXPLAIN " + sql)).scalars().all()
        assert any("ix_needs_search_terms" in row for row in plan), plan


def test_postgresql_search_is_a_subquery_of_ids_not_a_per_row_test(app):
    """Beside the company-name OR, a per-row `@>` made PostgreSQL split every need's terms
    (5 s at 300,000 needs); a subquery of ids is one GIN bitmap scan."""
    from sqlalchemy.dialects import postgresql

    from needs_tracker.needs.search import need_text_clause

    sql = str(need_text_clause("postgresql", "焊接").compile(dialect=postgresql.dialect()))
    assert "needs.id IN (SELECT needs.id" in sql
    assert "string_to_array(needs.search_terms, ' ') @>" in sql
