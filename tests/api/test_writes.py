"""API writes: the form's validation, Idempotency-Key, If-Match/412, audit, no CSRF by cookie."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from needs_tracker.audit.models import AuditEntry
from needs_tracker.extensions import db
from needs_tracker.needs.models import Need
from tests.api.conftest import bearer


def _body(w: dict[str, Any], **values: Any) -> dict[str, Any]:
    return {
        "organisation_id": w["org_a2"].id,
        "title": "变速箱壳体铸造气孔",
        "description": "铸件气孔率高",
        "field_ids": [w["field"].id],
        "urgency": "high",
        "budget": "30.50",
        "collected_on": "2026-11-30",
        **values,
    }


def _count() -> int:
    return db.session.scalar(select(func.count(Need.id)))


def test_post_creates_a_need_like_the_form_and_audits_it_with_the_token_name(client, writer):
    before = _count()
    response = client.post("/api/v1/needs", json=_body(writer), headers=bearer(writer["token"]))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/needs/{body['id']}"
    assert response.headers["ETag"]
    assert _count() == before + 1
    need = db.session.get(Need, body["id"])
    assert need.centre_id == writer["a"].id
    assert need.status == "collected"
    assert [f.id for f in need.fields] == [writer["field"].id]
    assert str(need.budget) == "30.50"
    assert body["budget"] == "30.50"
    assert [h.to_status for h in need.history] == ["collected"]
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.table_name == "needs",
            AuditEntry.record_id == need.id,
            AuditEntry.action == "create",
        )
    )
    assert entry is not None
    assert entry.via == "api:mini-program"


def test_the_same_idempotency_key_replays_the_first_answer_and_creates_nothing(client, writer):
    headers = bearer(writer["token"], **{"Idempotency-Key": "visit-2026-11-30-1"})
    first = client.post("/api/v1/needs", json=_body(writer), headers=headers)
    count = _count()
    again = client.post("/api/v1/needs", json=_body(writer), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert _count() == count

    reused = client.post("/api/v1/needs", json=_body(writer, title="另一个需求"), headers=headers)
    assert reused.status_code == 422
    assert reused.get_json()["errors"][0]["field"] == "Idempotency-Key"
    assert _count() == count

    # Without a key (or with another one) each POST is a new need.
    client.post("/api/v1/needs", json=_body(writer), headers=bearer(writer["token"]))
    assert _count() == count + 1


def test_a_key_is_per_token(client, writer, make_token):
    other = make_token(writer["a"], scope="write", name="erp")
    key = {"Idempotency-Key": "same-key"}
    client.post("/api/v1/needs", json=_body(writer), headers=bearer(writer["token"], **key))
    count = _count()
    second = client.post("/api/v1/needs", json=_body(writer), headers=bearer(other, **key))
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert _count() == count + 1


@pytest.mark.parametrize(
    ("values", "field", "status"),
    [
        # 400: the body does not match the document.
        ({"title": "   "}, "title", 400),
        ({"budget": "-1"}, "budget", 400),
        ({"collected_on": "2026-13-01"}, "collected_on", 400),
        ({"need_type": "magic"}, "need_type", 400),
        ({"colour": "red"}, "colour", 400),
        # 422: it does, but the form refuses it: another centre's organisation or visit is
        # not a choice, exactly as in the web form, nor is a field that does not exist.
        ({"organisation_id": "org_b"}, "organisation_id", 422),
        ({"visit_id": "visit_b"}, "visit_id", 422),
        ({"field_ids": [999999]}, "field_ids", 422),
    ],
)
def test_invalid_needs_are_refused_naming_the_field_and_nothing_is_stored(
    client, writer, values, field, status
):
    values = {k: writer[v].id if v in ("org_b", "visit_b") else v for k, v in values.items()}
    before = _count()
    response = client.post(
        "/api/v1/needs", json=_body(writer, **values), headers=bearer(writer["token"])
    )
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert [e["field"] for e in response.get_json()["errors"]] == [field]
    assert _count() == before


def test_form_messages_follow_accept_language(client, writer):
    body = _body(writer, organisation_id=writer["org_b"].id)
    zh = client.post("/api/v1/needs", json=body, headers=bearer(writer["token"]))
    en = client.post(
        "/api/v1/needs", json=body, headers=bearer(writer["token"], **{"Accept-Language": "en"})
    )
    zh_msg, en_msg = zh.get_json()["errors"][0]["message"], en.get_json()["errors"][0]["message"]
    assert zh_msg != en_msg
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh_msg)
    assert en_msg.isascii()


def test_csrf_does_not_apply_to_bearer_writes_but_still_guards_web_forms(
    app, client, auth, writer, monkeypatch
):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post("/api/v1/needs", json=_body(writer), headers=bearer(writer["token"]))
    assert response.status_code == 201
    web = client.post("/login", data={"username": "admin", "password": "x"})
    assert web.status_code == 400  # the web login form still requires its CSRF token


def test_a_logged_in_session_cannot_write_through_the_api(client, auth, writer):
    auth.login("admin")
    before = _count()
    response = client.post("/api/v1/needs", json=_body(writer))
    assert response.status_code == 401
    assert _count() == before


# --- PATCH with If-Match ------------------------------------------------------------------------


def test_patch_needs_the_current_etag(client, writer):
    path = f"/api/v1/needs/{writer['need_a'].id}"
    etag = client.get(path, headers=bearer(writer["token"])).headers["ETag"]

    missing = client.patch(path, json={"urgency": "high"}, headers=bearer(writer["token"]))
    assert missing.status_code == 428

    ok = client.patch(
        path, json={"urgency": "high"}, headers=bearer(writer["token"], **{"If-Match": etag})
    )
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["urgency"] == "high"
    assert ok.get_json()["title"] == "焊缝缺陷自动检测"  # keys not sent are kept
    assert ok.headers["ETag"] != etag

    stale = client.patch(
        path, json={"urgency": "low"}, headers=bearer(writer["token"], **{"If-Match": etag})
    )
    assert stale.status_code == 412
    assert stale.mimetype == "application/problem+json"
    db.session.refresh(writer["need_a"])
    assert writer["need_a"].urgency == "high"
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.table_name == "needs",
            AuditEntry.record_id == writer["need_a"].id,
            AuditEntry.action == "update",
        )
    )
    assert entry is not None
    assert entry.via == "api:mini-program"
    assert entry.after["urgency"] == "high"


def test_patch_of_another_centres_need_is_404(client, writer):
    path = f"/api/v1/needs/{writer['need_b'].id}"
    response = client.patch(
        path, json={"title": "越权修改"}, headers=bearer(writer["token"], **{"If-Match": "*"})
    )
    assert response.status_code == 404
    db.session.refresh(writer["need_b"])
    assert writer["need_b"].title == "青岛的保密需求"


def test_patch_validates_like_the_form(client, writer):
    path = f"/api/v1/needs/{writer['need_a'].id}"
    etag = client.get(path, headers=bearer(writer["token"])).headers["ETag"]
    response = client.patch(
        path,
        json={"organisation_id": writer["org_b"].id},
        headers=bearer(writer["token"], **{"If-Match": etag}),
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "organisation_id"
    db.session.refresh(writer["need_a"])
    assert writer["need_a"].organisation_id == writer["org_a"].id


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_body_that_is_not_json_is_415(client, writer, method):
    path = "/api/v1/needs" if method == "POST" else f"/api/v1/needs/{writer['need_a'].id}"
    before = _count()
    response = client.open(
        path,
        method=method,
        data={"title": "表单提交"},
        headers=bearer(writer["token"], **{"If-Match": "*"}),
    )
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"
    assert _count() == before


def test_a_change_of_the_fields_alone_is_a_new_version(client, writer, make_field):
    second = make_field("工业机器人", position=1)
    path = f"/api/v1/needs/{writer['need_a'].id}"
    before = client.get(path, headers=bearer(writer["token"]))
    version = before.get_json()["version"]
    response = client.patch(
        path,
        json={"field_ids": [second.id, writer["field"].id]},
        headers=bearer(writer["token"], **{"If-Match": before.headers["ETag"]}),
    )
    assert response.status_code == 200
    assert [f["id"] for f in response.get_json()["fields"]] == [writer["field"].id, second.id]
    assert response.get_json()["version"] == version + 1
    # The same fields in another order are no change.
    again = client.patch(
        path,
        json={"field_ids": [writer["field"].id, second.id]},
        headers=bearer(writer["token"], **{"If-Match": response.headers["ETag"]}),
    )
    assert again.get_json()["version"] == version + 1
