"""A centre sets its Word report's title, issuer and section numbers once (issue 14)."""

from __future__ import annotations

import io

from docx import Document
from sqlalchemy import select

from needs_tracker.centres.models import Centre
from needs_tracker.extensions import db
from needs_tracker.reports.export import ReportStyle, to_docx, to_markdown

DATA = {"centre": "潍坊服务中心", "period_label": "2021 年 3 月", "previous": {}}


def _paragraphs(content: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(content)).paragraphs if p.text.strip()]


def test_docx_follows_the_consortiums_numbering():
    style = ReportStyle(
        title="中国科协智能制造学会联合体 进展情况月报",
        issuer="潍坊服务中心",
        progress_topic="2.产学融合",
        plan_topic="2. 产学融合",
    )
    texts = _paragraphs(to_docx(DATA, ["潍坊市科协"], style))
    assert texts[:3] == ["潍坊服务中心", "中国科协智能制造学会联合体 进展情况月报", "2021 年 3 月"]
    assert texts.index("一、当月总体进展情况") < texts.index("2.产学融合")
    assert texts.index("三、下月工作计划") < texts.index("2. 产学融合")
    assert "产学融合" not in texts  # no unnumbered subsection left
    md = to_markdown(DATA, [], style)
    assert md.startswith("# 中国科协智能制造学会联合体 进展情况月报 2021 年 3 月")
    assert "### 2. 产学融合" in md


def test_style_from_stored_settings_ignores_blanks_and_unknown_keys():
    style = ReportStyle.from_dict({"title": " ", "plan_topic": "3.产学融合", "colour": "red"})
    assert style == ReportStyle(plan_topic="3.产学融合")
    assert ReportStyle.from_dict(None) == ReportStyle()


def test_admin_sets_the_style_and_the_download_uses_it(client, auth, world):
    centre = world["a"]
    auth.login("admin")
    form = client.get(f"/centres/{centre.id}/edit").get_data(as_text=True)
    assert 'name="report_title"' in form
    resp = client.post(
        f"/centres/{centre.id}/edit",
        data={
            "name": centre.name,
            "region": centre.region,
            "partners": "中国科协智能制造学会联合体\n潍坊市科协",
            "report_title": "联合体进展情况月报",
            "report_progress_topic": "2.产学融合",
            "report_plan_topic": "2. 产学融合",
        },
    )
    assert resp.status_code == 302
    db.session.expire_all()
    stored = db.session.scalar(select(Centre.report_style).where(Centre.id == centre.id))
    assert stored == {
        "title": "联合体进展情况月报",
        "progress_topic": "2.产学融合",
        "plan_topic": "2. 产学融合",
    }
    auth.logout()
    auth.login("leader")
    docx = client.get(f"/reports/download.docx?centre={centre.id}&start=2021-03")
    assert docx.status_code == 200
    texts = _paragraphs(docx.data)
    assert "联合体进展情况月报" in texts
    assert "2.产学融合" in texts
    assert "2. 产学融合" in texts


def test_demo_centre_is_seeded_with_the_consortiums_numbering(runner):
    runner.invoke(args=["demo", "seed", "--password", "demo passphrase"])
    centre = db.session.scalar(select(Centre).where(Centre.name == "潍坊服务中心"))
    style = ReportStyle.from_dict(centre.report_style)
    assert style.title == "中国科协智能制造学会联合体 进展情况月报"
    assert (style.progress_topic, style.plan_topic) == ("2.产学融合", "2. 产学融合")
