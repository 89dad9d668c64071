"""Report and dashboard pages: who sees which centre, downloads, revisions."""

from __future__ import annotations

import io
import json

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select

from needs_tracker.extensions import db
from needs_tracker.reports.models import ReportSnapshot

ROLES = ["member", "coordinator", "leader", "admin", "consortium", "other"]
OWN = {"member", "coordinator", "leader", "admin", "consortium"}


@pytest.mark.parametrize("role", ROLES)
def test_dashboard_own_centre(client, auth, world, role):
    auth.login(role)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    if role == "other":
        assert "青岛服务中心" in page
        assert "潍坊服务中心" not in page
    else:
        assert "潍坊服务中心" in page or "全部服务中心" in page


@pytest.mark.parametrize("role", ROLES)
def test_dashboard_of_centre_a(client, auth, world, role):
    auth.login(role)
    response = client.get(f"/dashboard/?centre={world['a'].id}&start=2021-03")
    assert response.status_code == (200 if role in OWN else 404)
    if role in OWN:
        payload = _payload(response.get_data(as_text=True))
        assert payload["by_field"] == [["智能检测", 1]]
        assert payload["trend"]["visits"][-1] == 1


@pytest.mark.parametrize("role", ["consortium", "admin"])
def test_consortium_compares_centres(client, auth, world, role):
    auth.login(role)
    response = client.get("/dashboard/?start=2021-03")
    assert response.status_code == 200
    payload = _payload(response.get_data(as_text=True))
    names = [c["name"] for c in payload["centres"]]
    assert names == ["潍坊服务中心", "青岛服务中心"]
    assert [c["visits"] for c in payload["centres"]] == [1, 1]
    assert 'id="centre-table"' in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["member", "coordinator", "leader"])
def test_centre_users_get_no_comparison(client, auth, world, role):
    auth.login(role)
    response = client.get("/dashboard/?start=2021-03")
    assert _payload(response.get_data(as_text=True))["centres"] == []
    assert "青岛服务中心" not in response.get_data(as_text=True)


def test_dashboard_no_inline_script_and_chinese_labels(client, auth, world):
    auth.login("leader")
    page = client.get("/dashboard/?start=2021-03").get_data(as_text=True)
    assert '<script type="application/json" id="dashboard-data">' in page
    assert "vendor/echarts.custom.min.js" in page
    assert "js/dashboard.js" in page
    assert " onclick=" not in page
    payload = _payload(page)
    assert payload["labels"]["series"]["visits"] == "走访"
    kpi = page.split('data-kpi="visits">', 1)[1].split("<", 1)[0]
    assert kpi == "1"


def test_dashboard_bad_month(client, auth, world):
    """An unreadable month is answered on the page (issue 14), not with a bare 400."""
    auth.login("leader")
    response = client.get("/dashboard/?start=2021-13")
    assert response.status_code == 200
    assert "“2021-13”不是有效的月份" in response.get_data(as_text=True)


def test_nav_items(client, auth, world):
    auth.login("leader")
    page = client.get("/").get_data(as_text=True)
    assert 'href="/dashboard/"' in page
    assert 'href="/reports/"' in page


@pytest.mark.parametrize("role", ROLES)
def test_report_page_access(client, auth, world, role):
    auth.login(role)
    response = client.get(f"/reports/?centre={world['a'].id}&start=2021-03")
    assert response.status_code == (200 if role in OWN else 404)
    download = client.get(f"/reports/download.json?centre={world['a'].id}&start=2021-03")
    assert download.status_code == (200 if role in OWN else 404)
    if role in OWN:
        data = download.get_json()
        assert data["centre"] == "潍坊服务中心"
        assert data["needs_collected"] == 1


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("member", 403),
        ("leader", 403),
        ("consortium", 403),
        ("coordinator", 302),
        ("admin", 302),
        ("other", 403),
    ],
)
def test_only_coordinators_save_revisions(client, auth, world, role, status):
    auth.login(role)
    a = world["a"].id
    form = {"centre": a, "start": "2021-03", "end": "2021-03"}
    assert client.post("/reports/generate", data=form).status_code == status
    edit = dict(form, narrative="改过的文字", plan="下月计划")
    assert client.post("/reports/edit", data=edit).status_code == status
    count = db.session.scalar(select(db.func.count(ReportSnapshot.id)))
    assert count == (2 if status == 302 else 0)


def test_other_centre_coordinator_cannot_write_into_a(client, auth, world):
    auth.login("other_coordinator")
    form = {"centre": world["a"].id, "start": "2021-03", "narrative": "x", "plan": "y"}
    assert client.post("/reports/edit", data=form).status_code == 404
    assert db.session.scalar(select(db.func.count(ReportSnapshot.id))) == 0


def test_edited_text_is_not_overwritten_by_regenerating(client, auth, world):
    auth.login("coordinator")
    a = world["a"].id
    base = {"centre": a, "start": "2021-03", "end": "2021-03"}
    client.post("/reports/generate", data=base)
    client.post("/reports/edit", data=dict(base, narrative="领导改过的段落。", plan="下月继续。"))
    # regenerating without confirmation is refused; the edited text stays the latest
    response = client.post("/reports/generate", data=base, follow_redirects=True)
    assert "手工修改" in response.get_data(as_text=True)
    data = client.get(f"/reports/download.json?centre={a}&start=2021-03").get_json()
    assert data["narrative"] == "领导改过的段落。"
    assert data["revision"] == 2
    # with confirmation a new revision is generated; the edited one is still there
    client.post("/reports/generate", data=dict(base, confirm="y"))
    revisions = db.session.execute(
        select(ReportSnapshot.revision, ReportSnapshot.edited, ReportSnapshot.narrative).order_by(
            ReportSnapshot.revision
        )
    ).all()
    assert [(r.revision, r.edited) for r in revisions] == [(1, False), (2, True), (3, False)]
    assert revisions[1].narrative == "领导改过的段落。"
    old = client.get(f"/reports/download.json?centre={a}&start=2021-03&revision=2").get_json()
    assert old["narrative"] == "领导改过的段落。"


def test_edit_rejects_empty_text(client, auth, world):
    auth.login("coordinator")
    form = {"centre": world["a"].id, "start": "2021-03", "narrative": "", "plan": ""}
    response = client.post("/reports/edit", data=form, follow_redirects=True)
    assert "未能保存" in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(ReportSnapshot.id))) == 0


def test_report_page_shows_text_and_edit_form(client, auth, world):
    auth.login("coordinator")
    page = client.get(f"/reports/?centre={world['a'].id}&start=2021-03").get_data(as_text=True)
    assert "走访了高新区天恒检测、盛瑞传动等部分企业" in page
    assert 'name="narrative"' in page
    auth.logout()
    auth.login("leader")
    page = client.get(f"/reports/?centre={world['a'].id}&start=2021-03").get_data(as_text=True)
    assert 'name="narrative"' not in page


def test_downloads_docx_and_xlsx(client, auth, world):
    auth.login("leader")
    a = world["a"].id
    response = client.get(f"/reports/download.docx?centre={a}&start=2021-03")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    doc = Document(io.BytesIO(response.data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "一、当月总体进展情况" in text
    assert "三、下月工作计划" in text
    response = client.get(f"/reports/download.xlsx?centre={a}&start=2021-03")
    wb = load_workbook(io.BytesIO(response.data))
    assert "主要数据" in wb.sheetnames
    assert "原始-需求" in wb.sheetnames
    assert wb["原始-需求"]["D2"].value == "焊缝缺陷自动检测"


def test_download_bad_format_and_period(client, auth, world):
    auth.login("leader")
    assert client.get("/reports/download.pdf?start=2021-03").status_code == 404
    assert client.get("/reports/download.json").status_code == 400
    assert client.get("/reports/download.json?start=2021-13").status_code == 400


def _payload(page: str) -> dict:
    raw = page.split('<script type="application/json" id="dashboard-data">', 1)[1]
    return json.loads(raw.split("</script>", 1)[0])
