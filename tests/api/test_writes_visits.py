"""POST /visits and PATCH /visits/{id}: the visit form's rules, all or nothing, zh and en."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from needs_tracker.audit.models import AuditEntry
from needs_tracker.extensions import db
from needs_tracker.needs.models import Need
from needs_tracker.organisations.models import Organisation
from needs_tracker.visits.models import Visit
from tests.api.conftest import audit_count, bearer, etag, is_chinese


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count(model.id)))


def _two_companies_and_a_need(w: dict[str, Any], **values: Any) -> dict[str, Any]:
    """The issue's example: a visit to a company on record and a new one, with a need each."""
    return {
        "visit_date": "2026-11-30",
        "purpose": "需求征集",
        "organisation_ids": [w["org_a"].id],
        "new_organisations": ["潍坊雅士股份有限公司"],
        "team": [
            {
                "name": "胡志强",
                "title": "秘书长助理",
                "organisation_name": "中国科协智能制造学会联合体",
            },
            {"name": "王磊", "organisation_name": "潍坊市科协"},
        ],
        "needs": [
            {
                "organisation": "潍坊雅士股份有限公司",
                "title": "喷涂机器人轨迹规划",
                "field_ids": [w["field"].id],
                "urgency": "high",
            },
            {"organisation": w["org_a"].id, "title": "焊缝图像数据标注", "need_type": "talent"},
        ],
        **values,
    }


def test_a_visit_with_two_companies_and_needs_is_saved_like_the_form(client, writer):
    response = client.post(
        "/api/v1/visits", json=_two_companies_and_a_need(writer), headers=bearer(writer["token"])
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/visits/{body['id']}"
    visit = db.session.get(Visit, body["id"])
    assert visit.centre_id == writer["a"].id
    assert visit.status == "done"
    assert visit.visit_date == date(2026, 11, 30)
    new_org = db.session.scalar(
        select(Organisation).where(Organisation.name == "潍坊雅士股份有限公司")
    )
    assert new_org.centre_id == writer["a"].id
    assert new_org.kind == "company"
    assert [o.id for o in visit.organisations] == [writer["org_a"].id, new_org.id]
    assert [(m.name, m.organisation_name) for m in visit.team] == [
        ("胡志强", "中国科协智能制造学会联合体"),
        ("王磊", "潍坊市科协"),
    ]
    needs = db.session.scalars(select(Need).where(Need.visit_id == visit.id).order_by(Need.id))
    needs = list(needs)
    assert [(n.title, n.organisation_id) for n in needs] == [
        ("喷涂机器人轨迹规划", new_org.id),
        ("焊缝图像数据标注", writer["org_a"].id),
    ]
    # Built by the needs service: collected on the visit's day, with the first history entry.
    assert {n.collected_on for n in needs} == {date(2026, 11, 30)}
    assert [n.status for n in needs] == ["collected", "collected"]
    assert [h.to_status for h in needs[0].history] == ["collected"]
    assert [f.id for f in needs[0].fields] == [writer["field"].id]
    assert needs[1].need_type == "talent"
    assert body["need_ids"] == [n.id for n in needs]
    # Every row written names the token in the audit trail.
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "create")).all()
    created = {(e.table_name, e.record_id) for e in entries if e.via == "api:mini-program"}
    assert ("visits", visit.id) in created
    assert ("organisations", new_org.id) in created
    assert {("needs", n.id) for n in needs} <= created


def test_a_new_company_already_on_record_is_not_created_twice(client, writer):
    body = _two_companies_and_a_need(writer, new_organisations=["盛瑞传动股份有限公司"], needs=[])
    before = _count(Organisation)
    response = client.post("/api/v1/visits", json=body, headers=bearer(writer["token"]))
    assert response.status_code == 201, response.get_json()
    assert _count(Organisation) == before
    names = [o["name"] for o in response.get_json()["organisations"]]
    assert names == ["潍坊天恒检测科技有限公司", "盛瑞传动股份有限公司"]


@pytest.mark.parametrize(
    ("values", "field", "english"),
    [
        (
            {"organisation_ids": [], "new_organisations": [], "needs": []},
            "organisation_ids",
            "Choose at least one organisation visited.",
        ),
        ({"organisation_ids": ["org_b"], "needs": []}, "organisation_ids", "Not a valid choice"),
        (
            {"needs": [{"organisation": "org_a2", "title": "不在本次走访的企业"}]},
            "needs.0.organisation",
            "Choose one of the companies visited (select it above first).",
        ),
        (
            {"needs": [{"organisation": "没有列出的新企业", "title": "新企业"}]},
            "needs.0.organisation",
            "Choose one of the companies visited (select it above first).",
        ),
        (
            {"needs": [{"organisation": "org_a", "title": "x", "field_ids": [999999]}]},
            "needs.0.field_ids",
            "Not a valid choice: ",
        ),
    ],
)
def test_what_the_visit_form_refuses_is_422_in_the_callers_language_and_nothing_is_saved(
    client, writer, values, field, english
):
    # Another centre's organisation is no choice; a need must be for a company visited.
    def resolve(v: Any) -> Any:
        if isinstance(v, list):
            return [resolve(x) for x in v]
        if isinstance(v, dict):
            return {k: resolve(x) for k, x in v.items()}
        return writer[v].id if v in ("org_a", "org_a2", "org_b") else v

    body = _two_companies_and_a_need(writer, **resolve(values))
    counts = (_count(Visit), _count(Organisation), _count(Need), audit_count())
    zh = client.post("/api/v1/visits", json=body, headers=bearer(writer["token"]))
    en = client.post(
        "/api/v1/visits", json=body, headers=bearer(writer["token"], **{"Accept-Language": "en"})
    )
    for response in (zh, en):
        assert response.status_code == 422
        assert response.mimetype == "application/problem+json"
        assert [e["field"] for e in response.get_json()["errors"]] == [field]
    assert is_chinese(zh.get_json()["errors"][0]["message"])
    assert is_chinese(zh.get_json()["title"])
    assert en.get_json()["errors"][0]["message"].startswith(english)
    assert en.get_json()["title"] == "Unprocessable request"
    # All or nothing: not the visit, not its new company, not a need.
    assert (_count(Visit), _count(Organisation), _count(Need), audit_count()) == counts


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"visit_date": "30/11/2026"}, "visit_date"),
        ({"status": "cancelled"}, "status"),
        ({"team": [{"title": "没有姓名"}]}, "team.0.name"),
        ({"new_organisations": ["两行\n名称"]}, "new_organisations.0"),
        ({"needs": [{"organisation": 1}]}, "needs.0.title"),
    ],
)
def test_a_body_off_the_document_is_400_naming_the_field(client, writer, values, field):
    body = _two_companies_and_a_need(writer, **values)
    response = client.post("/api/v1/visits", json=body, headers=bearer(writer["token"]))
    assert response.status_code == 400
    assert field in [e["field"] for e in response.get_json()["errors"]]


def test_patch_changes_the_keys_sent_and_replaces_the_team(client, writer):
    path = f"/api/v1/visits/{writer['visit_a'].id}"
    tag = etag(client, path, writer["token"])
    response = client.patch(
        path,
        json={"summary": "企业希望尽快对接", "team": [{"name": "李娜", "title": "工程师"}]},
        headers=bearer(writer["token"], **{"If-Match": tag}),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["summary"] == "企业希望尽快对接"
    assert body["team"] == [{"name": "李娜", "title": "工程师", "organisation_name": ""}]
    # Keys not sent are kept: date, purpose, the two companies, the need collected.
    assert body["purpose"] == "需求征集"
    assert body["visit_date"] == "2021-03-18"
    assert [o["id"] for o in body["organisations"]] == [writer["org_a"].id, writer["org_a2"].id]
    assert body["need_ids"] == [writer["need_a"].id]
    assert response.headers["ETag"] != tag
    entry = db.session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.table_name == "visits",
            AuditEntry.action == "update",
            AuditEntry.record_id == writer["visit_a"].id,
        )
        .order_by(AuditEntry.id.desc())
    ).first()
    assert entry.via == "api:mini-program"
    assert entry.after["summary"] == "企业希望尽快对接"


def test_patch_may_not_add_another_centres_organisation(client, writer):
    path = f"/api/v1/visits/{writer['visit_a'].id}"
    response = client.patch(
        path,
        json={"organisation_ids": [writer["org_a"].id, writer["org_b"].id]},
        headers=bearer(writer["token"], **{"If-Match": etag(client, path, writer["token"])}),
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "organisation_ids"
    db.session.expire_all()
    assert [o.id for o in writer["visit_a"].organisations] == [
        writer["org_a"].id,
        writer["org_a2"].id,
    ]


def test_patch_refuses_null_for_a_value_a_visit_always_has(client, writer):
    path = f"/api/v1/visits/{writer['visit_a'].id}"
    response = client.patch(
        path,
        json={"status": None},
        headers=bearer(writer["token"], **{"If-Match": etag(client, path, writer["token"])}),
    )
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["field"] == "status"


def test_a_change_of_the_team_alone_is_a_new_version(client, writer):
    # The ORM counts versions of the row's own columns; a stale form (or two PATCHes racing
    # past the If-Match check) must not overwrite a team changed meanwhile.
    path = f"/api/v1/visits/{writer['visit_a'].id}"
    version = client.get(path, headers=bearer(writer["token"])).get_json()["version"]
    response = client.patch(
        path,
        json={"team": [{"name": "李娜"}]},
        headers=bearer(writer["token"], **{"If-Match": etag(client, path, writer["token"])}),
    )
    assert response.get_json()["version"] == version + 1
    unchanged = client.patch(
        path,
        json={"team": [{"name": "李娜"}]},
        headers=bearer(writer["token"], **{"If-Match": response.headers["ETag"]}),
    )
    assert unchanged.status_code == 200
    assert unchanged.get_json()["version"] == version + 1
