"""The import preview reads in the user's language: counts, column names and code labels."""

from __future__ import annotations

import io

import lxml.html

from needs_tracker.extensions import db
from needs_tracker.taxonomy.models import TechField
from tests.imports.conftest import xlsx_bytes


def _preview(client, kind: str, rows: list[list[str]]) -> str:
    resp = client.post(
        "/imports/",
        data={"kind": kind, "file": (io.BytesIO(xlsx_bytes(rows)), "导入.xlsx")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    return client.get(resp.headers["Location"]).get_data(as_text=True)


def _update_cells(html: str) -> list[str]:
    doc = lxml.html.fromstring(html)
    return [td.text_content().strip() for td in doc.xpath("//table//tr/td[3]")]


def test_preview_counts_and_changes_read_as_labels(world, client, auth):
    auth.login("coordinator")
    html = _preview(
        client,
        "organisations",
        [
            ["企业名称", "所属区县", "企业规模", "单位类型"],
            ["潍坊天恒检测科技有限公司", "坊子区", "中型", ""],
        ],
    )
    assert "built-in method" not in html
    summary = lxml.html.fromstring(html).xpath('//ul[@aria-label="概要" or @aria-label]')[0]
    assert "更新: 1" in summary.text_content()
    cells = _update_cells(html)
    assert len(cells) == 1
    assert "所属区县: 高新区 → 坊子区" in cells[0]
    assert "企业规模: — → 中型" in cells[0]
    for raw in ("size", "district", "medium"):
        assert raw not in cells[0]


def test_need_changes_show_field_names_and_labels(world, client, auth):
    auth.login("coordinator")
    other = TechField(name="工业软件", position=5)
    db.session.add(other)
    db.session.commit()
    description = world["need_a"].description
    html = _preview(
        client,
        "needs",
        [
            ["企业名称", "需求名称", "需求描述", "技术领域", "紧急程度"],
            ["潍坊天恒检测科技有限公司", "焊缝缺陷自动检测", description, "工业软件", "紧急"],
        ],
    )
    cells = _update_cells(html)
    assert len(cells) == 1, html
    assert "技术领域: 智能检测 → 工业软件" in cells[0]
    assert "紧急程度: 较急 → 紧急" in cells[0] or "紧急程度: 一般 → 紧急" in cells[0]
    assert "high" not in cells[0]
    assert "urgency" not in cells[0]
