"""Every write of the API by token and centre: read token 403, no token 401, another centre's
record 404 (both ways), If-Match 428/412, a body that is not JSON 415, an idempotent retry,
and the audit entry naming the token. A refused write leaves no audit entry, so nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from needs_tracker.audit.models import AuditEntry
from needs_tracker.extensions import db
from tests.api.conftest import audit_count, bearer, etag


@dataclass
class Write:
    """One write operation: its method, path (with {} for a record's id) and a valid body."""

    method: str
    path: str
    body: Callable[[dict[str, Any]], dict[str, Any]]
    # For a write to a record: the world's keys of centre A's and centre B's record.
    own: str = ""
    other: str = ""
    # How someone else changes the record meanwhile (makes an ETag stale).
    touch: Callable[[Any], None] | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    def url(self, w: dict[str, Any], key: str | None = None) -> str:
        key = key or self.own
        return self.path.format(w[key].id) if key else self.path

    def detail(self, w: dict[str, Any], key: str | None = None) -> str:
        """The GET path of the record written (for its ETag)."""
        url = self.url(w, key)
        return url.removesuffix("/status").removesuffix("/transitions")


def _set(attr: str, value: str) -> Callable[[Any], None]:
    def touch(obj: Any) -> None:
        setattr(obj, attr, value)

    return touch


WRITES = [
    Write(
        "POST",
        "/api/v1/visits",
        lambda w: {
            "visit_date": "2026-11-30",
            "organisation_ids": [w["org_a"].id],
            "team": [{"name": "胡志强"}],
        },
    ),
    Write(
        "PATCH",
        "/api/v1/visits/{}",
        lambda w: {"purpose": "回访"},
        "visit_a",
        "visit_b",
        _set("purpose", "别人改过的目的"),
    ),
    Write(
        "POST",
        "/api/v1/organisations",
        lambda w: {"name": "潍坊雅士股份有限公司", "district": "奎文区"},
    ),
    Write(
        "PATCH",
        "/api/v1/organisations/{}",
        lambda w: {"notes": "已回访"},
        "org_a",
        "org_b",
        _set("notes", "别人改过的备注"),
    ),
    Write(
        "POST",
        "/api/v1/needs/{}/status",
        # The fixture's matches moved both needs to matching.
        lambda w: {"to_status": "matched"},
        "need_a",
        "need_b",
        _set("title", "别人改过的标题"),
    ),
    Write(
        "POST",
        "/api/v1/matches",
        lambda w: {"need_id": w["need_a"].id, "kind": "resource", "candidate_id": w["resource"].id},
    ),
    Write(
        "POST",
        "/api/v1/matches/{}/transitions",
        lambda w: {"to_status": "contacted"},
        "match_a",
        "match_b",
        _set("reasons", "别人改过的理由"),
    ),
]
ON_RECORDS = [w for w in WRITES if w.own]
POSTS = [w for w in WRITES if w.method == "POST"]


@pytest.fixture
def w(writer, make_token) -> dict[str, Any]:
    """writer plus a match in each centre, a read token of A and a write token of B."""
    from needs_tracker.matching.services import propose_match

    match_a = propose_match(
        writer["need_a"], "expert", writer["expert"].id, writer["users"]["member"]
    )
    match_b = propose_match(
        writer["need_b"], "expert", writer["expert"].id, writer["users"]["other"]
    )
    db.session.commit()
    return {
        **writer,
        "match_a": match_a,
        "match_b": match_b,
        "read": make_token(writer["a"], name="dashboard-read"),
        "writer_b": make_token(writer["b"], scope="write", name="qingdao-erp"),
    }


def _send(client, op: Write, w: dict[str, Any], secret: str | None, key: str | None = None, **h):
    headers = bearer(secret, **h) if secret else h
    if op.own and "If-Match" not in headers:
        headers["If-Match"] = etag(client, op.detail(w, key), w["token"] if secret else w["read"])
    return client.open(op.url(w, key), method=op.method, json=op.body(w), headers=headers)


@pytest.mark.parametrize("op", WRITES, ids=lambda op: op.id)
def test_a_write_token_writes_and_the_audit_names_it(client, w, op):
    before = audit_count()
    response = _send(client, op, w, w["token"])
    assert response.status_code == (201 if op.method == "POST" and not op.own else 200), (
        response.get_json()
    )
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["centre_id"] == w["a"].id
    # The answer is the record as a GET gives it, ETag included.
    location = response.headers.get("Location") or op.detail(w)
    again = client.get(location, headers=bearer(w["token"]))
    assert again.get_json() == body
    assert again.headers["ETag"] == response.headers["ETag"]
    new = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()[before:]
    assert new
    assert {e.via for e in new} == {"api:mini-program"}


@pytest.mark.parametrize("op", WRITES, ids=lambda op: op.id)
def test_a_read_token_may_not_write(client, w, op):
    before = audit_count()
    response = _send(client, op, w, w["read"])
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert audit_count() == before


@pytest.mark.parametrize("op", WRITES, ids=lambda op: op.id)
def test_no_token_is_401_and_a_session_cookie_is_no_token(client, auth, w, op):
    auth.login("admin")
    before = audit_count()
    response = client.open(op.url(w), method=op.method, json=op.body(w), headers={"If-Match": "*"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert audit_count() == before


@pytest.mark.parametrize("op", ON_RECORDS, ids=lambda op: op.id)
def test_another_centres_record_is_404_both_ways(client, w, op):
    before = audit_count()
    a_on_b = client.open(
        op.url(w, op.other),
        method=op.method,
        json=op.body(w),
        headers=bearer(w["token"], **{"If-Match": "*"}),
    )
    assert a_on_b.status_code == 404
    assert a_on_b.mimetype == "application/problem+json"
    b_on_a = client.open(
        op.url(w, op.own),
        method=op.method,
        json=op.body(w),
        headers=bearer(w["writer_b"], **{"If-Match": "*"}),
    )
    assert b_on_a.status_code == 404
    assert audit_count() == before
    # B's own token may write B's record.
    tag = etag(client, op.detail(w, op.other), w["writer_b"])
    own = client.open(
        op.url(w, op.other),
        method=op.method,
        json=op.body(w),
        headers=bearer(w["writer_b"], **{"If-Match": tag}),
    )
    assert own.status_code == 200, own.get_json()


@pytest.mark.parametrize("op", ON_RECORDS, ids=lambda op: op.id)
def test_if_match_is_required_and_a_stale_one_is_412(client, w, op):
    before = audit_count()
    missing = client.open(op.url(w), method=op.method, json=op.body(w), headers=bearer(w["token"]))
    assert missing.status_code == 428
    assert missing.mimetype == "application/problem+json"

    old = etag(client, op.detail(w), w["token"])
    op.touch(w[op.own])  # someone else saves the record meanwhile
    db.session.commit()
    after_touch = audit_count()
    assert after_touch > before
    stale = client.open(
        op.url(w),
        method=op.method,
        json=op.body(w),
        headers=bearer(w["token"], **{"If-Match": old}),
    )
    assert stale.status_code == 412
    assert stale.mimetype == "application/problem+json"
    assert audit_count() == after_touch
    # Read again, and the same write goes through.
    fresh = etag(client, op.detail(w), w["token"])
    ok = client.open(
        op.url(w),
        method=op.method,
        json=op.body(w),
        headers=bearer(w["token"], **{"If-Match": fresh}),
    )
    assert ok.status_code == 200, ok.get_json()


@pytest.mark.parametrize("op", POSTS, ids=lambda op: op.id)
def test_an_idempotent_retry_replays_the_answer_and_writes_nothing(client, w, op):
    headers = bearer(w["token"], **{"Idempotency-Key": f"retry-{op.id}"})
    if op.own:
        headers["If-Match"] = etag(client, op.detail(w), w["token"])
    first = client.open(op.url(w), method=op.method, json=op.body(w), headers=headers)
    assert first.status_code in (200, 201), first.get_json()
    count = audit_count()
    # The retry carries the same headers (its If-Match is stale by now: the replay wins).
    again = client.open(op.url(w), method=op.method, json=op.body(w), headers=headers)
    assert again.status_code == first.status_code
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["ETag"] == first.headers["ETag"]
    assert audit_count() == count

    # The same key with another request is refused: it cannot be the same write.
    text = {"POST /api/v1/visits": "purpose", "POST /api/v1/organisations": "notes"}
    other = {**op.body(w), text.get(op.id, "note"): "另一个请求"}
    reused = client.open(op.url(w), method=op.method, json=other, headers=headers)
    assert reused.status_code == 422
    assert reused.get_json()["errors"][0]["field"] == "Idempotency-Key"
    assert audit_count() == count


@pytest.mark.parametrize("op", WRITES, ids=lambda op: op.id)
def test_a_body_that_is_not_json_is_415(client, w, op):
    before = audit_count()
    response = client.open(
        op.url(w),
        method=op.method,
        data={"name": "表单提交"},
        headers=bearer(w["token"], **{"If-Match": "*"}),
    )
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"
    assert audit_count() == before
