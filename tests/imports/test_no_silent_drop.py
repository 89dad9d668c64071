"""Issue 12: an import never drops a company silently.

A valid credit code is a legal identity; names decide only where a code is missing, and then
the row waits for the user's merge-or-keep. Skipped rows are listed (and fail the CLI unless
allowed); values a database would refuse are cell errors; rejected rows come back annotated.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from needs_tracker.audit.models import AuditEntry
from needs_tracker.extensions import db
from needs_tracker.imports.base import ImportError_
from needs_tracker.imports.commit import commit_import
from needs_tracker.imports.models import ImportBatch, ImportRecord, ImportUpload
from needs_tracker.imports.plan import plan_import
from needs_tracker.imports.registry import parse_file
from needs_tracker.organisations.models import Organisation
from tests.imports.conftest import credit_code, csv_bytes, xlsx_bytes

HEADER = ["企业名称", "统一社会信用代码", "所属区县", "企业规模"]
TEN = [[f"潍坊校验测试机械{i}有限公司", credit_code(500 + i), "高新区", "小型"] for i in range(10)]


def _plan(rows, centre, fmt="csv", **kw):
    data = csv_bytes(rows) if fmt == "csv" else xlsx_bytes(rows)
    return plan_import(parse_file("organisations", f"f.{fmt}", data), centre.id, **kw)


def _count(**where) -> int:
    stmt = select(func.count()).select_from(Organisation)
    for key, value in where.items():
        stmt = stmt.where(getattr(Organisation, key) == value)
    return db.session.scalar(stmt)


def _upload(client, kind, data, filename):
    return client.post(
        "/imports/",
        data={"kind": kind, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


# ---------------------------------------------------------------- identity


def test_ten_similar_names_with_their_own_codes_import_as_ten(world):
    a = world["a"]
    plan = _plan([HEADER, *TEN], a)
    assert plan.counts["create"] == 10
    assert plan.counts["duplicate"] == plan.counts["skip"] == 0
    batch = commit_import(plan, None, "ten.csv")
    db.session.commit()
    assert batch.created_count == 10
    codes = set(db.session.scalars(select(Organisation.credit_code)))
    assert {row[1] for row in TEN} <= codes
    # The same file again: every row is its company by code -> unchanged, nothing created.
    again = _plan([HEADER, *TEN], a)
    assert again.counts["unchanged"] == 10


def test_cli_imports_the_ten_with_exit_code_0(world, runner, tmp_path):
    path = tmp_path / "ten.csv"
    path.write_bytes(csv_bytes([HEADER, *TEN]))
    result = runner.invoke(args=["import", "organisations", str(path), "--centre", "潍坊服务中心"])
    assert result.exit_code == 0, result.output
    assert "10 created" in result.output
    assert _count(centre_id=world["a"].id) == 2 + 10


def test_a_code_that_exists_is_that_company_whatever_the_name(world, make_org):
    a = world["a"]
    org = make_org(a, "潍坊老名称机械有限公司", credit_code=credit_code(42))
    plan = _plan([HEADER, ["山东新名称重工股份有限公司", credit_code(42), "", ""]], a)
    (row,) = plan.rows
    assert (row.action, row.target_id) == ("update", org.id)
    commit_import(plan, None)
    db.session.commit()
    db.session.refresh(org)
    assert org.name == "山东新名称重工股份有限公司"


def test_same_name_with_different_codes_is_two_companies(world, make_org):
    a = world["a"]
    make_org(a, "潍坊同名机械有限公司", credit_code=credit_code(60))
    rows = [
        HEADER,
        ["潍坊同名机械有限公司", credit_code(61), "奎文区", "中型"],
        ["潍坊同名机械有限公司", credit_code(62), "坊子区", "小型"],
    ]
    plan = _plan(rows, a)
    assert [r.action for r in plan.rows] == ["create", "create"]
    commit_import(plan, None)
    db.session.commit()
    by_code = dict(
        db.session.execute(
            select(Organisation.credit_code, Organisation.district).where(
                Organisation.name == "潍坊同名机械有限公司"
            )
        ).all()
    )
    # Each new row's values landed on the company with its own code.
    assert by_code == {
        credit_code(60): "高新区",
        credit_code(61): "奎文区",
        credit_code(62): "坊子区",
    }


def test_a_look_alike_without_code_waits_for_merge_or_keep(world, make_org):
    a = world["a"]
    existing = make_org(a, "潍柴动力股份有限公司")  # no credit code
    rows = [HEADER, ["潍坊潍柴动力有限公司", credit_code(70), "", "大型"]]
    plan = _plan(rows, a)
    (row,) = plan.rows
    assert row.action == "duplicate"
    assert row.lookalikes[0].organisation_id == existing.id
    with pytest.raises(ImportError_, match="合并.*都保留"):
        commit_import(plan, None)
    db.session.rollback()

    merged = _plan(rows, a, decisions={2: "merge"})
    assert (merged.rows[0].action, merged.rows[0].target_id) == ("update", existing.id)
    kept = _plan(rows, a, on_duplicate="keep")
    assert kept.rows[0].action == "create"

    commit_import(merged, None)
    db.session.commit()
    db.session.refresh(existing)
    # merged: the company keeps its name and takes the row's other values
    assert (existing.name, existing.credit_code, existing.size) == (
        "潍柴动力股份有限公司",
        credit_code(70),
        "large",
    )
    assert _count(centre_id=a.id) == 3  # the two of the fixture and this one


def test_look_alikes_within_the_file_merge_by_filling_empty_cells(world):
    a = world["a"]
    rows = [
        HEADER,
        ["潍坊鸿达精密机械有限公司", "", "高新区", ""],
        ["鸿达精密机械股份有限公司", credit_code(80), "", "中型"],
        ["潍坊鸿达精密机械有限公司", "", "", ""],  # same name, no code: a choice, not a drop
    ]
    plan = _plan(rows, a)
    assert [r.action for r in plan.rows] == ["create", "duplicate", "duplicate"]
    plan = _plan(rows, a, on_duplicate="merge")
    assert [r.action for r in plan.rows] == ["create", "merged", "merged"]
    assert plan.rows[1].duplicate_note == "已合并到第 2 行"
    batch = commit_import(plan, None)
    db.session.commit()
    org = db.session.scalar(
        select(Organisation).where(Organisation.name == "潍坊鸿达精密机械有限公司")
    )
    assert (org.credit_code, org.district, org.size) == (credit_code(80), "高新区", "medium")
    assert (batch.created_count, batch.merged_count, batch.skipped_count) == (1, 2, 0)


def test_two_thousand_distinct_codes_with_similar_names_are_all_created(world):
    """The bulk path: every row created, each with an ImportRecord and an audit entry."""
    a = world["a"]
    coordinator = world["users"]["coordinator"]
    rows = [HEADER] + [
        [f"潍坊校验测试{'机械' if i % 2 else '电子'}{i}有限公司", credit_code(10_000 + i), "", ""]
        for i in range(2_000)
    ]
    plan = _plan(rows, a)
    assert plan.counts["create"] == 2_000
    batch = commit_import(plan, coordinator, "2000.csv")
    db.session.commit()
    assert batch.created_count == 2_000
    assert _count(centre_id=a.id) == 2 + 2_000
    records = db.session.scalar(
        select(func.count()).select_from(ImportRecord).where(ImportRecord.batch_id == batch.id)
    )
    audits = db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.table_name == "organisations",
            AuditEntry.action == "create",
            AuditEntry.user_id == coordinator.id,
        )
    )
    assert records == audits == 2_000


# ---------------------------------------------------------------- CLI choices and skips


def _write(tmp_path, rows, name="f.csv"):
    path = tmp_path / name
    path.write_bytes(csv_bytes(rows))
    return str(path)


def test_cli_on_duplicate_fail_merge_keep_and_ask(world, runner, make_org, tmp_path):
    make_org(world["a"], "潍柴动力股份有限公司")
    path = _write(tmp_path, [HEADER, ["潍坊潍柴动力有限公司", credit_code(90), "", ""]])
    base = ["import", "organisations", path, "--centre", "潍坊服务中心"]
    result = runner.invoke(args=base)
    assert result.exit_code == 1
    assert "row 2: 潍坊潍柴动力有限公司" in result.output
    assert "潍柴动力股份有限公司" in result.output
    assert _count(credit_code=credit_code(90)) == 0
    result = runner.invoke(args=[*base, "--dry-run", "--on-duplicate", "keep"])
    assert result.exit_code == 0, result.output
    assert _count(credit_code=credit_code(90)) == 0
    result = runner.invoke(args=[*base, "--on-duplicate", "ask"], input="merge\n")
    assert result.exit_code == 0, result.output
    assert "1 updated" in result.output
    assert _count(name="潍柴动力股份有限公司", credit_code=credit_code(90)) == 1

    other = _write(tmp_path, [HEADER, ["潍坊盛瑞传动有限公司", "", "", ""]], "g.csv")
    result = runner.invoke(
        args=[
            "import",
            "organisations",
            other,
            "--centre",
            "潍坊服务中心",
            "--on-duplicate",
            "keep",
        ]
    )
    assert result.exit_code == 0, result.output
    assert _count(name="潍坊盛瑞传动有限公司") == 1


def test_cli_skipped_rows_fail_unless_allowed_and_are_kept_on_the_batch(
    world, runner, tmp_path, client, auth
):
    rows = [HEADER, TEN[0], [TEN[0][0] + "（重复）", TEN[0][1], "", ""], TEN[1]]
    path = _write(tmp_path, rows)
    base = ["import", "organisations", path, "--centre", "潍坊服务中心"]
    result = runner.invoke(args=base)
    assert result.exit_code == 1
    assert "skipped row 3" in result.output
    assert "--allow-skip" in result.output
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0
    result = runner.invoke(args=[*base, "--allow-skip"])
    assert result.exit_code == 0, result.output
    batch = db.session.scalar(select(ImportBatch))
    assert (batch.created_count, batch.skipped_count) == (2, 1)

    auth.login("coordinator")
    page = client.get(f"/imports/batches/{batch.id}").get_data(as_text=True)
    assert "跳过的行" in page
    assert "与第 2 行的统一社会信用代码相同" in page
    download = client.get(f"/imports/batches/{batch.id}/skipped.xlsx")
    assert download.status_code == 200
    ws = load_workbook(io.BytesIO(download.data)).active
    values = [[c.value for c in r] for r in ws.iter_rows()]
    assert values[0] == [*HEADER, "跳过原因"]
    assert values[1][:2] == [TEN[0][0] + "（重复）", TEN[0][1]]
    assert values[1][-1] == "与第 2 行的统一社会信用代码相同"
    auth.logout()
    auth.login("other_coordinator")
    assert client.get(f"/imports/batches/{batch.id}/skipped.xlsx").status_code == 404
    auth.logout()
    auth.login("member")
    assert client.get(f"/imports/batches/{batch.id}/skipped.xlsx").status_code == 403


# ---------------------------------------------------------------- web: merge or keep per row


def test_preview_lists_possible_duplicates_and_confirm_takes_each_choice(
    world, client, auth, make_org
):
    a = world["a"]
    existing = make_org(a, "潍柴动力股份有限公司")
    make_org(a, "潍坊盛瑞传动股份有限公司")
    rows = [
        HEADER,
        ["潍坊潍柴动力有限公司", credit_code(91), "", ""],
        ["盛瑞传动有限公司", "", "", ""],
    ]
    auth.login("coordinator")
    response = _upload(client, "organisations", csv_bytes(rows), "dup.csv")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "可能重复" in page
    assert 'name="dup-2"' in page
    assert 'name="dup-3"' in page
    token = db.session.scalar(select(ImportUpload.token))
    # Without a choice for row 3, nothing is written.
    client.post(f"/imports/preview/{token}/confirm", data={"dup-2": "merge"})
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0
    done = client.post(
        f"/imports/preview/{token}/confirm", data={"dup-2": "merge", "dup-all": "keep"}
    )
    assert done.status_code == 302
    batch = db.session.scalar(select(ImportBatch))
    assert (batch.created_count, batch.updated_count) == (1, 1)
    db.session.refresh(existing)
    assert existing.credit_code == credit_code(91)
    assert _count(name="盛瑞传动有限公司") == 1


# ---------------------------------------------------------------- cell errors


def test_nul_byte_and_over_long_text_are_cell_errors(world, client, auth):
    rows = [HEADER, ["潍坊\x00空字符有限公司", "", "", ""], ["长" * 201, "", "", ""]]
    plan = _plan(rows, world["a"])
    assert plan.errors == [
        "第 2 行「企业名称」含有无法保存的字符（NUL 空字符或无效字符）",
        "第 3 行「企业名称」内容过长（最多 200 个字）",
    ]
    # Through the web on any database: the preview names the cell, confirm writes nothing.
    auth.login("coordinator")
    response = _upload(client, "organisations", csv_bytes(rows), "nul.csv")
    assert response.status_code == 302
    preview = client.get(response.headers["Location"])
    assert preview.status_code == 200
    assert "第 2 行「企业名称」含有无法保存的字符" in preview.get_data(as_text=True)
    token = db.session.scalar(select(ImportUpload.token))
    confirm = client.post(f"/imports/preview/{token}/confirm")
    assert confirm.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_impossible_date_says_it_is_not_a_valid_date(world):
    rows = [["企业名称", "需求名称", "需求描述", "征集日期"], ["盛瑞传动", "t", "d", "2024-02-30"]]
    parsed = parse_file("needs", "n.csv", csv_bytes(rows))
    plan = plan_import(parsed, world["a"].id)
    assert plan.errors == ["第 2 行「征集日期」2024-02-30 不是有效日期（没有这一天）"]


def test_choice_errors_list_the_allowed_values(world):
    plan = _plan([HEADER, ["潍坊某企业有限公司", "", "", "巨型"]], world["a"])
    assert plan.errors == [
        "第 2 行「企业规模」必须是以下之一：大型、中型、小型、微型（而不是“巨型”）"
    ]


def test_rejected_rows_come_back_annotated(world, client, auth):
    rows = [
        [*HEADER, "备注"],
        ["潍坊好企业有限公司", "", "", "小型", "ok"],
        ["潍坊坏企业有限公司", "", "", "巨型", "x"],
        ["", credit_code(5)[:-1] + "?", "", "", "y"],
    ]
    auth.login("coordinator")
    response = _upload(client, "organisations", xlsx_bytes(rows), "bad.xlsx")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "下载有错误的行" in page
    token = db.session.scalar(select(ImportUpload.token))
    download = client.get(f"/imports/preview/{token}/rejected.xlsx")
    assert download.status_code == 200
    ws = load_workbook(io.BytesIO(download.data)).active
    values = [[c.value for c in r] for r in ws.iter_rows()]
    assert values[0] == [*HEADER, "备注", "错误"]
    assert [v[0] for v in values[1:]] == ["潍坊坏企业有限公司", None]  # only rejected rows
    assert values[1][-1].startswith("第 3 行「企业规模」必须是以下之一")
    assert "大型、中型、小型、微型" in ws["D2"].comment.text
    assert "不能为空" in ws["A3"].comment.text
    assert ws["B3"].comment is not None
    # Someone else's upload stays private.
    auth.logout()
    auth.login("admin")
    assert client.get(f"/imports/preview/{token}/rejected.xlsx").status_code == 404


def test_templates_carry_an_example_row_and_the_allowed_values(world, client, auth):
    auth.login("member")
    xlsx = client.get("/imports/template/organisations.xlsx")
    wb = load_workbook(io.BytesIO(xlsx.data))
    sheet, choices = wb.worksheets
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert len(rows) == 2
    assert rows[1][0] == "潍坊天恒检测科技有限公司"
    columns = {col[0].value: [c.value for c in col[1:] if c.value] for col in choices.iter_cols()}
    assert columns["企业规模"] == ["大型", "中型", "小型", "微型"]
    assert columns["类型"][0] == "企业"
    csv_text = client.get("/imports/template/needs.csv").data.decode("utf-8-sig")
    assert len(csv_text.strip().splitlines()) == 2
    # The example row itself passes the parser's checks.
    parsed = parse_file("organisations", "t.xlsx", xlsx.data)
    assert parsed.problems == []


def test_companies_with_different_codes_are_not_offered_as_duplicates(world, make_org):
    from needs_tracker.imports.merge import duplicate_pairs, find_duplicates

    a = world["a"]
    one = make_org(a, "潍坊校验测试机械1有限公司", credit_code=credit_code(1))
    make_org(a, "潍坊校验测试机械2有限公司", credit_code=credit_code(2))
    uncoded = make_org(a, "潍坊校验测试机械3有限公司")
    assert find_duplicates("潍坊校验测试机械4有限公司", credit_code(4), a.id)[0].organisation == (
        uncoded
    )
    assert [d.organisation for d in find_duplicates("潍坊校验测试机械4有限公司", None, a.id)]
    pairs = {frozenset((x.id, y.id)) for x, y, _ in duplicate_pairs(a.id)}
    assert frozenset((one.id, uncoded.id)) in pairs
    assert all(uncoded.id in p for p in pairs if one.id in p)


def test_a_need_naming_two_same_named_companies_is_an_error_not_a_guess(world, make_org):
    a = world["a"]
    make_org(a, "潍坊同名机械有限公司", credit_code=credit_code(61))
    make_org(a, "潍坊同名机械有限公司", credit_code=credit_code(62))
    rows = [["企业名称", "需求名称", "需求描述"], ["潍坊同名机械有限公司", "t", "d"]]
    plan = plan_import(parse_file("needs", "n.csv", csv_bytes(rows)), a.id)
    assert plan.errors == [
        "第 2 行「企业名称」本中心有多个名为“潍坊同名机械有限公司”的单位，请先改名或合并"
    ]
