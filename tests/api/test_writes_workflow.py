"""POST /needs/{id}/status, POST /matches and POST /matches/{id}/transitions: the need page's
workflow rules (allowed moves, a note to close, a confirmation to move back; a match's steps
in order, each with its record) with the history entries the web writes, zh and en."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from needs_tracker.audit.models import AuditEntry
from needs_tracker.extensions import db
from needs_tracker.matching.models import DockingEvent, Match
from needs_tracker.needs.models import Need
from tests.api.conftest import audit_count, bearer, etag, is_chinese


def _status(client, w: dict[str, Any], body: dict[str, Any], language: str = "zh"):
    path = f"/api/v1/needs/{w['need_a'].id}"
    tag = etag(client, path, w["token"])
    return client.post(
        f"{path}/status",
        json=body,
        headers=bearer(w["token"], **{"If-Match": tag, "Accept-Language": language}),
    )


def _need(w: dict[str, Any]) -> Need:
    db.session.expire_all()
    return db.session.get(Need, w["need_a"].id)


# --- need status ----------------------------------------------------------------------------


def test_a_status_change_is_the_web_one_with_its_history_entry(client, writer):
    response = _status(client, writer, {"to_status": "assessing", "note": "技术评估中"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "assessing"
    assert body["history"][-1]["from_status"] == "collected"
    assert body["history"][-1]["to_status"] == "assessing"
    assert body["history"][-1]["note"] == "技术评估中"
    need = _need(writer)
    assert need.status == "assessing"
    assert [h.to_status for h in need.history] == ["collected", "assessing"]
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.via == "api:mini-program")
    ).all()
    assert {(e.table_name, e.action) for e in entries} >= {
        ("needs", "update"),
        ("need_status_changes", "create"),
    }


@pytest.mark.parametrize(
    ("body", "field", "english"),
    [
        ({"to_status": "resolved"}, "to_status", "A need cannot go from"),
        ({"to_status": "collected"}, "to_status", "The need is already in this status."),
        ({"to_status": "closed", "note": "  "}, "note", "Give a reason for closing the need."),
    ],
)
def test_moves_the_workflow_refuses_are_422_naming_the_field(client, writer, body, field, english):
    before = audit_count()
    zh = _status(client, writer, body)
    en = _status(client, writer, body, "en")
    for response in (zh, en):
        assert response.status_code == 422
        assert [e["field"] for e in response.get_json()["errors"]] == [field]
    assert is_chinese(zh.get_json()["errors"][0]["message"])
    assert en.get_json()["errors"][0]["message"].startswith(english)
    assert audit_count() == before
    assert _need(writer).status == "collected"


def test_closing_with_a_reason_records_it(client, writer):
    response = _status(client, writer, {"to_status": "closed", "note": "企业已自行解决"})
    assert response.status_code == 200
    assert response.get_json()["close_reason"] == "企业已自行解决"


def test_a_move_back_needs_confirm_back(client, writer):
    assert _status(client, writer, {"to_status": "assessing"}).status_code == 200
    refused = _status(client, writer, {"to_status": "collected"}, "en")
    assert refused.status_code == 422
    error = refused.get_json()["errors"][0]
    assert error["field"] == "confirm_back"
    assert "undoes progress" in error["message"]
    assert _need(writer).status == "assessing"
    confirmed = _status(client, writer, {"to_status": "collected", "confirm_back": True})
    assert confirmed.status_code == 200
    assert _need(writer).status == "collected"


# --- matches --------------------------------------------------------------------------------


def _propose(client, w: dict[str, Any], language: str = "zh", **values: Any):
    body = {"need_id": w["need_a"].id, "kind": "expert", "candidate_id": w["expert"].id, **values}
    return client.post(
        "/api/v1/matches", json=body, headers=bearer(w["token"], **{"Accept-Language": language})
    )


def test_a_proposal_is_the_web_one_and_moves_the_need_to_matching(client, writer):
    response = _propose(client, writer, note="邢教授做过相控阵检测")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/matches/{body['id']}"
    assert (body["need_id"], body["expert_id"], body["status"]) == (
        writer["need_a"].id,
        writer["expert"].id,
        "proposed",
    )
    # The engine suggests this expert for the need: its score and reasons are kept, as on the
    # need page.
    assert body["score"] is not None
    assert body["reasons"]
    assert [t["to_status"] for t in body["transitions"]] == ["proposed"]
    assert body["transitions"][0]["note"] == "邢教授做过相控阵检测"
    assert _need(writer).status == "matching"
    match = db.session.get(Match, body["id"])
    assert match.centre_id == writer["a"].id
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.table_name == "matches", AuditEntry.action == "create")
    )
    assert entry.via == "api:mini-program"


@pytest.mark.parametrize(
    ("values", "field", "english"),
    [
        ({"need_id": "need_b"}, "need_id", "No such record, or this token may not use it."),
        ({"candidate_id": 999999}, "candidate_id", "This expert or resource does not exist."),
        # An expert taken out of the pool (soft-deleted) is no candidate any more.
        ({"candidate_id": "deleted_expert"}, "candidate_id", "This expert or resource"),
    ],
)
def test_a_proposal_of_what_the_token_may_not_use_is_422(client, writer, values, field, english):
    from needs_tracker.common.models import utcnow
    from needs_tracker.experts.models import Expert

    gone = Expert(name="已退出的专家", organisation="某大学", deleted_at=utcnow())
    db.session.add(gone)
    db.session.commit()
    known = {"need_b": writer["need_b"].id, "deleted_expert": gone.id}
    values = {k: known.get(v, v) if isinstance(v, str) else v for k, v in values.items()}
    before = audit_count()
    zh = _propose(client, writer, **values)
    en = _propose(client, writer, "en", **values)
    for response in (zh, en):
        assert response.status_code == 422
        assert [e["field"] for e in response.get_json()["errors"]] == [field]
    assert is_chinese(zh.get_json()["errors"][0]["message"])
    assert en.get_json()["errors"][0]["message"].startswith(english)
    assert audit_count() == before


def test_the_same_candidate_twice_is_refused_while_the_first_is_active(client, writer):
    assert _propose(client, writer).status_code == 201
    again = _propose(client, writer, "en")
    assert again.status_code == 422
    assert again.get_json()["errors"][0]["field"] == "candidate_id"
    assert "already proposed" in again.get_json()["errors"][0]["message"]
    assert db.session.scalar(select(func.count(Match.id))) == 1


@pytest.fixture
def match(client, writer) -> dict[str, Any]:
    """writer with a match of need A to the expert, proposed through the API."""
    response = _propose(client, writer)
    assert response.status_code == 201
    return {**writer, "match": response.get_json()["id"]}


def _step(client, w: dict[str, Any], body: dict[str, Any], language: str = "zh"):
    path = f"/api/v1/matches/{w['match']}"
    return client.post(
        f"{path}/transitions",
        json=body,
        headers=bearer(
            w["token"], **{"If-Match": etag(client, path, w["token"]), "Accept-Language": language}
        ),
    )


def test_a_match_goes_step_by_step_and_the_need_follows(client, match):
    contacted = _step(client, match, {"to_status": "contacted", "note": "已电话联系"})
    assert contacted.status_code == 200, contacted.get_json()
    assert contacted.get_json()["status"] == "contacted"
    assert _need(match).status == "matched"

    held = _step(
        client,
        match,
        {
            "to_status": "meeting_held",
            "held_on": date.today().isoformat(),
            "place": "潍坊高新区",
            "attendees": "邢卫东；天恒检测 张总",
            "minutes": "确定先做样件检测",
        },
    )
    assert held.status_code == 200, held.get_json()
    event_id = held.get_json()["docking_event_id"]
    event = db.session.get(DockingEvent, event_id)
    assert (event.held_on, event.place) == (date.today(), "潍坊高新区")
    assert _need(match).status == "in_progress"

    agreed = _step(client, match, {"to_status": "agreement", "amount": "45.00"})
    assert agreed.status_code == 200
    assert agreed.get_json()["amount"] == "45.00"

    resolved = _step(client, match, {"to_status": "resolved", "keep_need_open": True})
    assert resolved.status_code == 200
    body = resolved.get_json()
    assert [t["to_status"] for t in body["transitions"]] == [
        "proposed",
        "contacted",
        "meeting_held",
        "agreement",
        "resolved",
    ]
    assert body["keep_need_open"] is True
    assert _need(match).status == "in_progress"  # kept open, as asked
    vias = db.session.scalars(
        select(AuditEntry.via).where(AuditEntry.table_name == "match_transitions")
    ).all()
    assert set(vias) == {"api:mini-program"}


@pytest.mark.parametrize(
    ("body", "field", "english"),
    [
        ({"to_status": "meeting_held"}, "to_status", "A match cannot go from"),
        ({"to_status": "agreement", "amount": "1"}, "to_status", "A match cannot go from"),
        ({"to_status": "declined"}, "declined_by", "Say who declined"),
        (
            {"to_status": "declined", "declined_by": "company"},
            "decline_reason",
            "Choose a reason for the decline.",
        ),
        (
            {"to_status": "declined", "declined_by": "expert", "decline_reason": "other"},
            "note",
            "Describe the reason in the note.",
        ),
    ],
)
def test_steps_the_workflow_refuses_are_422_naming_the_field(client, match, body, field, english):
    before = audit_count()
    zh = _step(client, match, body)
    en = _step(client, match, body, "en")
    for response in (zh, en):
        assert response.status_code == 422
        assert [e["field"] for e in response.get_json()["errors"]] == [field]
    assert is_chinese(zh.get_json()["errors"][0]["message"])
    assert en.get_json()["errors"][0]["message"].startswith(english)
    assert audit_count() == before


@pytest.mark.parametrize(
    ("held_on", "english"),
    [
        (None, "Record the docking meeting: its date at least."),
        ((date.today() + timedelta(days=1)).isoformat(), "The meeting date"),
    ],
)
def test_a_held_meeting_needs_its_date_and_not_one_ahead(client, match, held_on, english):
    assert _step(client, match, {"to_status": "contacted"}).status_code == 200
    body = {"to_status": "meeting_held", "held_on": held_on}
    response = _step(client, match, body, "en")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "held_on"
    assert response.get_json()["errors"][0]["message"].startswith(english)
    assert db.session.scalar(select(func.count(DockingEvent.id))) == 0


def test_a_declined_match_records_who_and_why(client, match):
    response = _step(
        client,
        match,
        {"to_status": "declined", "declined_by": "company", "decline_reason": "cost"},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["declined_by"], body["decline_reason"]) == (
        "declined",
        "company",
        "cost",
    )
    again = _step(client, match, {"to_status": "contacted"}, "en")
    assert again.status_code == 422
    assert "cannot change" in again.get_json()["errors"][0]["message"]


def test_proposed_is_no_step_of_a_transition(client, match):
    response = _step(client, match, {"to_status": "proposed"})
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["field"] == "to_status"
