"""Centre scoping, authentication and read-only tokens on every API endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from needs_tracker.extensions import db
from tests.api.conftest import bearer


@pytest.fixture
def api_world(world, make_token) -> dict[str, Any]:
    """world plus a match in each centre and a read token per centre."""
    from needs_tracker.matching.services import propose_match

    match_a = propose_match(world["need_a"], "expert", world["expert"].id, world["users"]["member"])
    match_b = propose_match(world["need_b"], "expert", world["expert"].id, world["users"]["other"])
    db.session.commit()
    return {
        **world,
        "match_a": match_a,
        "match_b": match_b,
        "token_a": make_token(world["a"]),
        "token_b": make_token(world["b"]),
    }


# (list path, detail path template, key of centre A's record, key of centre B's record)
CENTRE_OWNED = [
    ("/api/v1/needs", "/api/v1/needs/{}", "need_a", "need_b"),
    ("/api/v1/needs", "/api/v1/needs/{}/suggestions", "need_a", "need_b"),
    ("/api/v1/organisations", "/api/v1/organisations/{}", "org_a", "org_b"),
    ("/api/v1/visits", "/api/v1/visits/{}", "visit_a", "visit_b"),
    ("/api/v1/matches", "/api/v1/matches/{}", "match_a", "match_b"),
]
ALL_GETS = [
    "/api/v1/needs",
    "/api/v1/needs/1",
    "/api/v1/needs/1/suggestions",
    "/api/v1/organisations",
    "/api/v1/organisations/1",
    "/api/v1/experts",
    "/api/v1/experts/1",
    "/api/v1/resources",
    "/api/v1/resources/1",
    "/api/v1/visits",
    "/api/v1/visits/1",
    "/api/v1/matches",
    "/api/v1/matches/1",
]


@pytest.mark.parametrize(("list_path", "detail", "own", "other"), CENTRE_OWNED)
def test_a_token_sees_its_centre_and_gets_404_for_another_centres_record(
    client, api_world, list_path, detail, own, other
):
    headers = bearer(api_world["token_a"])
    own_id, other_id = api_world[own].id, api_world[other].id
    assert client.get(detail.format(own_id), headers=headers).status_code == 200
    response = client.get(detail.format(other_id), headers=headers)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    # And the other way round: centre B's token sees B's record, not A's.
    headers_b = bearer(api_world["token_b"])
    assert client.get(detail.format(other_id), headers=headers_b).status_code == 200
    assert client.get(detail.format(own_id), headers=headers_b).status_code == 404

    listed = client.get(list_path, headers=headers).get_json()["items"]
    assert all(item.get("centre_id", api_world["a"].id) == api_world["a"].id for item in listed)
    assert own_id in {item["id"] for item in listed}
    assert other_id not in {item["id"] for item in listed}


@pytest.mark.parametrize("path", ["/api/v1/experts/{}", "/api/v1/resources/{}"])
def test_the_shared_pool_is_readable_by_every_centre_without_contact_details(
    client, api_world, path
):
    key = "expert" if "experts" in path else "resource"
    for token in (api_world["token_a"], api_world["token_b"]):
        response = client.get(path.format(api_world[key].id), headers=bearer(token))
        assert response.status_code == 200
        body = response.get_json()
        assert "phone" not in body
        assert "email" not in body
        assert "contact" not in body


@pytest.mark.parametrize("path", ALL_GETS)
def test_every_endpoint_needs_a_token(client, api_world, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("path", ALL_GETS)
def test_a_logged_in_session_cookie_does_not_authorise_the_api(client, auth, api_world, path):
    auth.login("admin")
    assert client.get("/").status_code == 200
    assert client.get(path).status_code == 401


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/api/v1/needs"), ("PATCH", "/api/v1/needs/{}")]
)
def test_a_read_token_may_not_write(client, api_world, method, path):
    from sqlalchemy import func, select

    from needs_tracker.needs.models import Need

    before = db.session.scalar(select(func.count(Need.id)))
    response = client.open(
        path.format(api_world["need_a"].id),
        method=method,
        json={"title": "只读令牌不能写"},
        headers=bearer(api_world["token_a"], **{"If-Match": "*"}),
    )
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert db.session.scalar(select(func.count(Need.id))) == before
    db.session.refresh(api_world["need_a"])
    assert api_world["need_a"].title == "焊缝缺陷自动检测"


def test_soft_deleted_records_are_not_served(client, api_world):
    from needs_tracker.common.models import utcnow

    api_world["need_a"].deleted_at = utcnow()
    db.session.commit()
    headers = bearer(api_world["token_a"])
    assert client.get(f"/api/v1/needs/{api_world['need_a'].id}", headers=headers).status_code == 404
    assert client.get("/api/v1/needs", headers=headers).get_json()["items"] == []


def test_rate_limit_counts_per_token(app, client, make_centre, make_token, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    centre = make_centre()
    first, second = make_token(centre), make_token(centre)
    for _ in range(3):
        assert client.get("/api/v1/experts", headers=bearer(first)).status_code == 200
    limited = client.get("/api/v1/experts", headers=bearer(first))
    assert limited.status_code == 429
    assert limited.mimetype == "application/problem+json"
    assert limited.get_json()["status"] == 429
    assert client.get("/api/v1/experts", headers=bearer(second)).status_code == 200
