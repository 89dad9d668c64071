"""Web pages and CLI of the imports feature: roles, upload -> preview -> confirm, exports."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from needs_tracker.extensions import db
from needs_tracker.imports.models import ImportBatch, ImportUpload
from needs_tracker.needs.models import Need
from needs_tracker.organisations.models import Organisation
from tests.imports.conftest import credit_code, csv_bytes, xlsx_bytes

ROLES = ["member", "coordinator", "leader", "admin", "consortium", "other", "other_coordinator"]
IMPORTERS = {"coordinator", "admin", "other_coordinator"}


def _orgs() -> int:
    return db.session.scalar(select(func.count()).select_from(Organisation))


def _upload(client, kind, data, filename, **extra):
    return client.post(
        "/imports/",
        data={"kind": kind, "file": (io.BytesIO(data), filename), **extra},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "url",
    ["/imports/", "/imports/duplicates", "/imports/template/organisations.xlsx"],
)
def test_import_pages_by_role(world, client, auth, role, url):
    auth.login(role)
    response = client.get(url)
    if url.startswith("/imports/template"):
        assert response.status_code == 200
    elif role == "admin" and url == "/imports/duplicates":
        assert response.status_code == 200  # admin of centre A
    else:
        assert response.status_code == (200 if role in IMPORTERS else 403)


@pytest.mark.parametrize("role", ROLES)
def test_export_by_role_is_scoped(world, client, auth, role):
    auth.login(role)
    response = client.get("/export/needs.csv")
    assert response.status_code == 200
    text = response.data.decode("utf-8-sig")
    assert response.data.startswith(b"\xef\xbb\xbf")
    sees_a = role not in ("other", "other_coordinator")
    sees_b = role in ("admin", "consortium", "other", "other_coordinator")
    assert ("焊缝缺陷自动检测" in text) == sees_a
    assert ("青岛的保密需求" in text) == sees_b


def test_export_uses_list_filters(world, client, auth):
    auth.login("coordinator")
    assert "焊缝缺陷" in client.get("/export/needs.csv?status=collected").data.decode("utf-8-sig")
    assert "焊缝缺陷" not in client.get("/export/needs.csv?status=resolved").data.decode(
        "utf-8-sig"
    )
    assert "焊缝缺陷" not in client.get("/export/needs.csv?q=不存在").data.decode("utf-8-sig")
    xlsx = client.get("/export/organisations.xlsx?district=高新区")
    assert xlsx.status_code == 200
    assert xlsx.data[:2] == b"PK"
    assert client.get("/export/users.csv").status_code == 404


def test_upload_preview_confirm_and_undo(world, client, auth):
    auth.login("coordinator")
    before = _orgs()
    rows = [
        ["企业名称", "统一社会信用代码", "所属区县"],
        ["潍坊华特磁电设备有限公司", credit_code(3), "高新区"],
        ["潍坊天恒检测科技有限公司", "", "坊子区"],
    ]
    response = _upload(client, "organisations", xlsx_bytes(rows), "企业.xlsx")
    assert response.status_code == 302
    preview = client.get(response.headers["Location"])
    page = preview.data.decode()
    assert "导入预览" in page
    assert "新建: 1" in page.replace("：", ": ") or "新建" in page
    assert _orgs() == before  # nothing written before confirm
    token = db.session.scalar(select(ImportUpload.token))
    # Another user cannot see or confirm this upload.
    other = client.application.test_client()
    other.post("/login", data={"username": "admin", "password": "correct horse battery"})
    assert other.get(f"/imports/preview/{token}").status_code == 404
    assert other.post(f"/imports/preview/{token}/confirm").status_code == 404
    done = client.post(f"/imports/preview/{token}/confirm", follow_redirects=True)
    assert "导入完成" in done.data.decode()
    assert _orgs() == before + 1
    batch = db.session.scalar(select(ImportBatch))
    assert (batch.created_count, batch.updated_count) == (1, 1)
    client.post(f"/imports/batches/{batch.id}/undo", follow_redirects=True)
    assert _orgs() == before
    # The other centre's coordinator cannot see or undo A's import.
    auth.logout()
    auth.login("other_coordinator")
    assert client.get(f"/imports/batches/{batch.id}").status_code == 404


def test_preview_lists_errors_in_chinese_and_cannot_be_confirmed(world, client, auth):
    auth.login("coordinator")
    bad = credit_code(9)[:-1] + ("0" if credit_code(9)[-1] != "0" else "1")
    rows = [["企业名称", "统一社会信用代码"]] + [[f"企业{i}", ""] for i in range(10)]
    rows.append(["企业X", bad])
    response = _upload(client, "organisations", csv_bytes(rows, "gbk"), "企业.csv")
    page = client.get(response.headers["Location"]).data.decode()
    assert "第 12 行「统一社会信用代码」校验位错误" in page
    assert "确认导入" not in page
    token = db.session.scalar(select(ImportUpload.token))
    client.post(f"/imports/preview/{token}/confirm")
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "a.csv", "文件是空的"),
        (b"%PDF-1.4 ...", "a.pdf", "只能导入 .xlsx 和 .csv 文件"),
        ("企业名称\n".encode(), "a.csv", "没有数据行"),
        ("行业\n制造\n".encode(), "a.csv", "缺少必填列：企业名称"),
    ],
)
def test_file_errors_are_shown(world, client, auth, data, filename, message):
    auth.login("coordinator")
    response = _upload(client, "organisations", data, filename)
    assert response.status_code == 200
    assert message in response.data.decode()


def test_size_limit_and_sheet_errors(world, client, auth, app):
    auth.login("coordinator")
    old = app.config["IMPORT_MAX_BYTES"]
    app.config["IMPORT_MAX_BYTES"] = 100
    try:
        page = _upload(client, "organisations", b"x" * 200, "a.csv").data.decode()
        assert "文件过大" in page
    finally:
        app.config["IMPORT_MAX_BYTES"] = old
    page = _upload(
        client, "organisations", xlsx_bytes([["企业名称"], ["A"]]), "a.xlsx", sheet="企业"
    ).data.decode()
    assert "没有名为“企业”的工作表" in page
    merged = xlsx_bytes([["企业名称", "", "行业"], ["A", "", "x"]], merge="A1:B1")
    assert "表头有合并单元格" in _upload(client, "organisations", merged, "a.xlsx").data.decode()


def test_merge_pages(world, client, auth, make_org):
    dup = make_org(world["a"], "潍坊天恒检测科技股份有限公司")
    auth.login("coordinator")
    page = client.get("/imports/duplicates").data.decode()
    assert "潍坊天恒检测科技股份有限公司" in page
    url = f"/imports/merge?survivor={world['org_a'].id}&merged={dup.id}"
    assert client.get(url).status_code == 200
    assert (
        client.get(
            f"/imports/merge?survivor={world['org_a'].id}&merged={world['org_b'].id}"
        ).status_code
        == 404
    )
    client.post(url, data={"confirm": "y", "pick_name": "survivor"})
    assert db.session.scalar(select(Organisation).where(Organisation.id == dup.id)) is None
    from needs_tracker.imports.models import OrganisationMerge

    record = db.session.scalar(select(OrganisationMerge))
    auth.logout()
    auth.login("member")
    assert client.post(f"/imports/merges/{record.id}/undo").status_code == 403
    auth.logout()
    auth.login("other_coordinator")
    assert client.post(f"/imports/merges/{record.id}/undo").status_code == 404
    auth.logout()
    auth.login("coordinator")
    client.post(f"/imports/merges/{record.id}/undo")
    db.session.expire_all()
    assert db.session.get(Organisation, dup.id).deleted_at is None


def test_duplicate_warning_hook(world, app):
    from needs_tracker.imports.views import duplicate_warning

    with app.test_request_context("/organisations/new", method="POST", data={"name": "x"}):
        html = duplicate_warning(
            {"name": "潍坊天恒检测有限公司", "credit_code": None}, world["a"].id
        )
        assert "潍坊天恒检测科技有限公司" in html
        assert 'name="confirm_duplicate"' in html
        assert duplicate_warning({"name": "青岛海尔集团"}, world["a"].id) is None
    with app.test_request_context(
        "/organisations/new", method="POST", data={"confirm_duplicate": "1"}
    ):
        assert duplicate_warning({"name": "潍坊天恒检测有限公司"}, world["a"].id) is None


def test_cli_import_dry_run_errors_and_export(world, runner, tmp_path):
    good = tmp_path / "needs.xlsx"
    good.write_bytes(
        xlsx_bytes(
            [
                ["需求名称", "企业名称", "需求描述", "征集日期"],
                ["新需求", "盛瑞传动", "描述", "2021/3/26"],
            ]
        )
    )
    result = runner.invoke(
        args=["import", "needs", str(good), "--centre", "潍坊服务中心", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "Dry run" in result.output
    assert db.session.scalar(select(Need).where(Need.title == "新需求")) is None
    result = runner.invoke(args=["import", "needs", str(good), "--centre", "潍坊服务中心"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Need).where(Need.title == "新需求")).centre_id == world["a"].id
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        csv_bytes(
            [
                ["企业名称", "需求名称", "需求描述", "征集日期"],
                ["盛瑞传动", "x", "y", "昨天"],
                ["无此公司", "x", "", ""],
            ]
        )
    )
    result = runner.invoke(args=["import", "needs", str(bad), "--centre", "潍坊服务中心"])
    assert result.exit_code == 1
    assert "第 2 行「征集日期」不是有效日期（昨天）" in result.output
    assert "第 3 行「需求描述」不能为空" in result.output
    assert "第 3 行「企业名称」本中心没有名为“无此公司”的单位" in result.output
    assert db.session.scalar(select(Need).where(Need.title == "x")) is None
    # Importing A's company names into B creates B's own rows; A untouched.
    result = runner.invoke(args=["import", "needs", str(good), "--centre", "青岛服务中心"])
    assert result.exit_code == 1
    out = tmp_path / "orgs.csv"
    result = runner.invoke(
        args=["export", "organisations", "-o", str(out), "--centre", "青岛服务中心"]
    )
    assert result.exit_code == 0, result.output
    text = out.read_bytes().decode("utf-8-sig")
    assert "青岛海尔集团" in text
    assert "天恒" not in text


@pytest.mark.parametrize("role", ROLES)
def test_only_coordinators_and_admins_upload_and_merge(world, client, auth, role, make_org):
    dup = make_org(world["a"], "潍坊天恒检测科技股份有限公司")
    auth.login(role)
    data = csv_bytes([["企业名称"], ["某新企业有限公司"]])
    response = _upload(client, "organisations", data, "a.csv")
    merge = client.get(f"/imports/merge?survivor={world['org_a'].id}&merged={dup.id}")
    if role in ("coordinator", "admin"):
        assert response.status_code == 302
        assert merge.status_code == 200
    elif role == "other_coordinator":
        assert response.status_code == 302  # into its own centre
        assert merge.status_code == 404  # A's organisations are invisible
    else:
        assert response.status_code == 403
        assert merge.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 4


def test_large_export_streams_in_batches_and_says_its_row_count(
    world, client, auth, runner, make_need, tmp_path, monkeypatch
):
    """Exports read rows a batch at a time (constant memory for 300,000 needs), the web
    response says how many rows it holds, and the CLI reports progress."""
    from sqlalchemy import event

    from needs_tracker.imports import export

    monkeypatch.setattr(export, "EXPORT_BATCH", 2)
    for i in range(4):
        make_need(world["org_a"], f"导出需求{i}")
    auth.login("member")  # 5 needs in centre A
    field_loads: list[str] = []

    def spy(conn, cursor, statement, parameters, context, executemany):
        if "need_fields" in statement and "JOIN" in statement.upper():
            field_loads.append(statement)

    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        response = client.get("/export/needs.csv")
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)
    assert response.headers["X-Export-Rows"] == "5"
    body = response.data.decode("utf-8-sig")
    assert body.count("导出需求") == 4
    assert len(field_loads) == 3  # fields loaded per batch of 2 rows, not for all at once
    xlsx = client.get("/export/needs.xlsx")
    assert xlsx.headers["X-Export-Rows"] == "5"
    assert xlsx.data[:2] == b"PK"
    monkeypatch.setattr(export, "EXPORT_BATCH", 1000)
    out = tmp_path / "needs.csv"
    result = runner.invoke(args=["export", "needs", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Exporting 6 needs" in result.output  # both centres from the CLI
    assert out.read_bytes().decode("utf-8-sig").count("\r\n") == 7
