"""The audit trail reads as sentences with names, in zh and en (issue 14)."""

from __future__ import annotations

import lxml.html

from needs_tracker.extensions import db
from needs_tracker.matching import services as matching


def _sentences(html: str) -> list[str]:
    doc = lxml.html.fromstring(html)
    return [e.text_content().strip() for e in doc.xpath('//*[contains(@class,"audit-sentence")]')]


def _values(html: str) -> dict[str, list[str]]:
    doc = lxml.html.fromstring(html)
    out: dict[str, list[str]] = {}
    for dt in doc.xpath("//dl/dt"):
        dd = dt.getnext()
        out.setdefault(dt.get("title"), []).append(
            (dt.text_content().strip(), dd.text_content().strip())
        )
    return out


def test_entries_name_who_did_what_to_which_record(client, auth, world):
    need = world["need_a"]
    auth.login("coordinator")
    client.post(
        f"/needs/{need.id}/edit",
        data={"title": "改过的标题", "description": need.description, "version": need.version},
    )
    page = client.get(f"/audit/needs/{need.id}").get_data(as_text=True)
    sentences = _sentences(page)
    coordinator = world["users"]["coordinator"].display_name
    assert f"{coordinator} 修改了需求“改过的标题”" in sentences
    # Technical fields and the company by name, not by id.
    values = _values(page)
    assert ("技术领域", "智能检测") in values["fields"]
    assert [v for _, v in values["organisation_id"]] == [world["org_a"].name]
    client.post("/lang/en", data={"next": "/"})
    sentences = _sentences(client.get(f"/audit/needs/{need.id}").get_data(as_text=True))
    assert f"{coordinator} changed Need “改过的标题”" in sentences


def test_child_rows_name_their_parent_and_ids_show_as_names(client, auth, world):
    user = world["users"]["coordinator"]
    match = matching.propose_match(world["need_a"], "expert", world["expert"].id, user)
    db.session.commit()
    auth.login("admin")
    page = client.get(f"/audit/matches/{match.id}").get_data(as_text=True)
    values = _values(page)
    assert values["expert_id"] == [("专家", "邢卫东")]
    assert values["need_id"] == [("需求", "焊缝缺陷自动检测")]
    assert "#" not in values["expert_id"][0][1]


def test_an_experts_title_is_a_professional_title(client, auth, world):
    expert = world["expert"]
    expert.title = "教授"
    db.session.commit()
    auth.login("admin")
    values = _values(client.get(f"/audit/experts/{expert.id}").get_data(as_text=True))
    assert any(label == "职称" and value.endswith("教授") for label, value in values["title"])
    assert all(label != "需求名称" for label, _ in values["title"])


def test_search_filter_offers_kinds_of_record_by_name(client, auth, world):
    auth.login("admin")
    doc = lxml.html.fromstring(client.get("/audit/").get_data(as_text=True))
    options = {o.get("value"): o.text_content() for o in doc.xpath('//select[@id="table"]/option')}
    assert options["needs"] == "需求"
    assert options["organisations"] == "单位"
    assert "needs" not in options.values()
