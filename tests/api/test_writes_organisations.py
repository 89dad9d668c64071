"""POST /organisations and PATCH /organisations/{id}: the organisation form's rules, the
look-alike check of the web's create page, zh and en."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from needs_tracker.audit.models import AuditEntry
from needs_tracker.extensions import db
from needs_tracker.organisations.models import Organisation
from tests.api.conftest import audit_count, bearer, etag, is_chinese

# A valid unified social credit code (GB 32100-2015 check character).
CODE = "91370700MA3C5LRL80"


def _count() -> int:
    return db.session.scalar(select(func.count(Organisation.id)))


def _body(**values: Any) -> dict[str, Any]:
    return {
        "name": "潍坊雅士股份有限公司",
        "short_name": "雅士股份",
        "district": "奎文区",
        "industry": "家具制造",
        "size": "medium",
        "contact_name": "张伟",
        "contact_email": "zhangwei@example.cn",
        **values,
    }


def test_post_creates_an_organisation_of_the_tokens_centre(client, writer):
    response = client.post("/api/v1/organisations", json=_body(), headers=bearer(writer["token"]))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/organisations/{body['id']}"
    org = db.session.get(Organisation, body["id"])
    assert org.centre_id == writer["a"].id
    assert (org.name, org.kind, org.size, org.credit_code) == (
        "潍坊雅士股份有限公司",
        "company",
        "medium",
        None,
    )
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.table_name == "organisations", AuditEntry.record_id == org.id
        )
    )
    assert entry.action == "create"
    assert entry.via == "api:mini-program"


def test_a_credit_code_is_normalised_as_the_form_does(client, writer):
    spaced = " ".join([CODE[:6], CODE[6:12].lower(), CODE[12:]])
    response = client.post(
        "/api/v1/organisations", json=_body(credit_code=spaced), headers=bearer(writer["token"])
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["credit_code"] == CODE


@pytest.mark.parametrize(
    ("values", "field", "english"),
    [
        ({"credit_code": CODE[:-1] + "9"}, "credit_code", "The check digit"),
        ({"credit_code": "1234"}, "credit_code", "A unified social credit code has 18"),
        ({"contact_email": "不是邮箱"}, "contact_email", "Invalid email address."),
    ],
)
def test_what_the_form_refuses_is_422_in_the_callers_language(
    client, writer, values, field, english
):
    before = (_count(), audit_count())
    zh = client.post("/api/v1/organisations", json=_body(**values), headers=bearer(writer["token"]))
    en = client.post(
        "/api/v1/organisations",
        json=_body(**values),
        headers=bearer(writer["token"], **{"Accept-Language": "en-US,en;q=0.9"}),
    )
    for response in (zh, en):
        assert response.status_code == 422
        assert [e["field"] for e in response.get_json()["errors"]] == [field]
    assert is_chinese(zh.get_json()["errors"][0]["message"])
    assert en.get_json()["errors"][0]["message"].startswith(english)
    assert (_count(), audit_count()) == before


@pytest.mark.parametrize(
    ("values", "field"),
    [({"name": " "}, "name"), ({"kind": "club"}, "kind"), ({"size": "huge"}, "size")],
)
def test_a_body_off_the_document_is_400(client, writer, values, field):
    response = client.post(
        "/api/v1/organisations", json=_body(**values), headers=bearer(writer["token"])
    )
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["field"] == field


def test_a_look_alike_is_409_naming_it_unless_the_caller_confirms(client, writer):
    before = _count()
    body = _body(name="潍坊天恒检测科技有限公司 ")
    zh = client.post("/api/v1/organisations", json=body, headers=bearer(writer["token"]))
    assert zh.status_code == 409
    assert zh.mimetype == "application/problem+json"
    error = zh.get_json()["errors"][0]
    assert error["field"] == "name"
    assert f"（编号 {writer['org_a'].id}）" in error["message"]
    en = client.post(
        "/api/v1/organisations",
        json=body,
        headers=bearer(writer["token"], **{"Accept-Language": "en"}),
    )
    assert f"(id {writer['org_a'].id})" in en.get_json()["errors"][0]["message"]
    assert "allow_duplicate" in en.get_json()["errors"][0]["message"]
    assert _count() == before

    confirmed = client.post(
        "/api/v1/organisations",
        json={**body, "allow_duplicate": True},
        headers=bearer(writer["token"]),
    )
    assert confirmed.status_code == 201
    assert _count() == before + 1


def test_another_centres_organisation_is_no_look_alike(client, writer):
    # 青岛海尔集团 is centre B's: centre A may record its own, and is not told of B's.
    response = client.post(
        "/api/v1/organisations", json=_body(name="青岛海尔集团"), headers=bearer(writer["token"])
    )
    assert response.status_code == 201, response.get_json()


def test_patch_changes_the_keys_sent_and_null_removes_the_credit_code(client, writer):
    org = writer["org_a"]
    org.credit_code = CODE
    db.session.commit()
    path = f"/api/v1/organisations/{org.id}"
    tag = etag(client, path, writer["token"])
    response = client.patch(
        path,
        json={"credit_code": None, "contact_phone": "0536-8888888"},
        headers=bearer(writer["token"], **{"If-Match": tag}),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["credit_code"] is None
    assert body["contact_phone"] == "0536-8888888"
    assert body["short_name"] == "天恒检测"  # not sent, kept
    assert body["version"] == org.version + 1
    entry = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.table_name == "organisations", AuditEntry.record_id == org.id)
        .order_by(AuditEntry.id.desc())
    ).first()
    assert entry.via == "api:mini-program"
    assert entry.after["contact_phone"] == "0536-8888888"


def test_patch_refuses_what_the_form_refuses(client, writer):
    path = f"/api/v1/organisations/{writer['org_a'].id}"
    response = client.patch(
        path,
        json={"contact_email": "@"},
        headers=bearer(
            writer["token"],
            **{"If-Match": etag(client, path, writer["token"]), "Accept-Language": "en"},
        ),
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {"field": "contact_email", "message": "Invalid email address."}
    ]
