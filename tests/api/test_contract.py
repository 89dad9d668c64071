"""Problem documents, ETags, cursor pagination, suggestions and the OpenAPI document."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from needs_tracker.extensions import db
from tests.api.conftest import bearer


@pytest.fixture
def token_a(world, make_token) -> str:
    """A read token of centre A."""
    return make_token(world["a"])


# --- problem+json ----------------------------------------------------------------------------


def test_a_bad_parameter_is_a_problem_naming_the_field_in_chinese_by_default(client, token_a):
    response = client.get("/api/v1/needs?limit=0", headers=bearer(token_a))
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert {"type", "title", "status", "detail", "instance"} <= set(body)
    assert body["status"] == 400
    assert body["instance"] == "/api/v1/needs"
    assert body["errors"][0]["field"] == "limit"
    assert body["title"] == "请求无效"
    assert "1" in body["errors"][0]["message"]
    assert "不能小于" in body["errors"][0]["message"]
    assert response.headers["Content-Language"] == "zh"


def test_the_problem_follows_accept_language(client, token_a):
    response = client.get(
        "/api/v1/needs?limit=abc", headers=bearer(token_a, **{"Accept-Language": "en-GB,en;q=0.8"})
    )
    body = response.get_json()
    assert body["title"] == "Invalid request"
    assert body["errors"] == [{"field": "limit", "message": "Must be a whole number."}]
    zh = client.get(
        "/api/v1/needs?limit=abc", headers=bearer(token_a, **{"Accept-Language": "zh-CN"})
    )
    assert zh.get_json()["errors"][0]["message"] == "须为整数。"


def test_unknown_parameters_and_bad_cursors_are_named(client, token_a):
    body = client.get("/api/v1/needs?colour=red", headers=bearer(token_a)).get_json()
    assert body["errors"][0]["field"] == "colour"
    body = client.get("/api/v1/needs?cursor=%%%", headers=bearer(token_a)).get_json()
    assert body["status"] == 400
    assert body["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/nothing-here", 404),
        ("GET", "/api/v1/needs/99999999999", 404),
        ("DELETE", "/api/v1/needs", 405),
    ],
)
def test_routing_errors_under_the_api_are_problems_not_html(client, token_a, method, path, status):
    response = client.open(path, method=method, headers=bearer(token_a))
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == status


def test_web_errors_stay_html(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


# --- ETag -------------------------------------------------------------------------------------


def test_detail_has_an_etag_that_answers_304_until_the_record_changes(client, world, token_a):
    path = f"/api/v1/needs/{world['need_a'].id}"
    first = client.get(path, headers=bearer(token_a))
    etag = first.headers["ETag"]
    assert first.status_code == 200
    assert etag.startswith('"')
    again = client.get(path, headers=bearer(token_a, **{"If-None-Match": etag}))
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag

    world["need_a"].title = "焊缝缺陷自动检测（二期）"
    db.session.commit()
    changed = client.get(path, headers=bearer(token_a, **{"If-None-Match": etag}))
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.get_json()["title"] == "焊缝缺陷自动检测（二期）"


def test_need_detail_carries_fields_and_status_history(client, world, token_a):
    body = client.get(f"/api/v1/needs/{world['need_a'].id}", headers=bearer(token_a)).get_json()
    assert body["fields"] == [{"id": world["field"].id, "name": "智能检测"}]
    assert body["organisation"]["name"] == "潍坊天恒检测科技有限公司"
    assert body["history"]
    assert body["history"][0]["to_status"] == body["status"]
    assert body["collected_on"] == "2021-03-18"


# --- cursor pagination ------------------------------------------------------------------------


def _walk(client, token: str, limit: int, on_page=None) -> list[int]:
    seen, cursor, pages = [], None, 0
    while True:
        url = f"/api/v1/needs?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=bearer(token)).get_json()
        seen.extend(item["id"] for item in body["items"])
        pages += 1
        if on_page:
            on_page(pages)
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


def test_cursor_pages_cover_every_row_once_even_when_rows_are_added_meanwhile(
    client, world, make_need, token_a
):
    for i in range(5):
        make_need(world["org_a"], f"需求{i}", collected_on=date(2021, 4, i + 1))
    before = _walk(client, token_a, limit=2)
    assert len(before) == 6
    assert len(set(before)) == 6
    assert before == sorted(before)

    added: list[int] = []

    def add_one(page: int) -> None:
        if page == 1:
            added.append(make_need(world["org_a"], "翻页时新增的需求").id)

    during = _walk(client, token_a, limit=2, on_page=add_one)
    # Nothing seen twice, nothing skipped; the row added meanwhile comes at the end.
    assert during == before + added


def test_the_last_page_has_no_cursor(client, world, token_a):
    body = client.get("/api/v1/needs?limit=100", headers=bearer(token_a)).get_json()
    assert body["next_cursor"] is None
    assert len(body["items"]) == 1


# --- suggestions --------------------------------------------------------------------------------


def test_suggestions_have_the_keys_and_values_of_the_cli(client, runner, world, token_a):
    need_id = world["need_a"].id
    cli = runner.invoke(args=["match", "suggest", str(need_id), "--json", "--top", "5"])
    assert cli.exit_code == 0, cli.output
    expected = json.loads(cli.output)
    assert expected, "the world's expert should be suggested"
    body = client.get(
        f"/api/v1/needs/{need_id}/suggestions?top=5", headers=bearer(token_a)
    ).get_json()
    assert body["need_id"] == need_id
    assert body["items"] == expected


# --- OpenAPI and docs -------------------------------------------------------------------------


def test_openapi_document_is_3_1_and_lists_every_endpoint_with_bearer_auth(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    operations = {f"{m.upper()} {p}" for p, ops in doc["paths"].items() for m in ops}
    assert operations == {
        "GET /api/v1/needs",
        "POST /api/v1/needs",
        "GET /api/v1/needs/{need_id}",
        "PATCH /api/v1/needs/{need_id}",
        "POST /api/v1/needs/{need_id}/status",
        "GET /api/v1/needs/{need_id}/suggestions",
        "GET /api/v1/organisations",
        "POST /api/v1/organisations",
        "GET /api/v1/organisations/{organisation_id}",
        "PATCH /api/v1/organisations/{organisation_id}",
        "GET /api/v1/experts",
        "GET /api/v1/experts/{expert_id}",
        "GET /api/v1/resources",
        "GET /api/v1/resources/{resource_id}",
        "GET /api/v1/visits",
        "POST /api/v1/visits",
        "GET /api/v1/visits/{visit_id}",
        "PATCH /api/v1/visits/{visit_id}",
        "GET /api/v1/matches",
        "POST /api/v1/matches",
        "GET /api/v1/matches/{match_id}",
        "POST /api/v1/matches/{match_id}/transitions",
    }
    for path, ops in doc["paths"].items():
        for method, operation in ops.items():
            if method == "get":
                continue
            # Every write: the token's scope, the body's schema and the app's rules answer.
            assert {"400", "401", "403", "415", "422"} <= set(operation["responses"]), path
            if "{" in path:
                assert {"404", "412", "428"} <= set(operation["responses"]), path
    not_found = doc["paths"]["/api/v1/needs/{need_id}"]["get"]["responses"]["404"]
    assert list(not_found["content"]) == ["application/problem+json"]


def test_docs_page_and_its_files_are_served_locally(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script>" not in html  # the CSP allows no inline script
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls
    assert all(u.startswith("/api/v1/docs/") for u in urls)
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200
        assert len(asset.data) > 100
        assert b"cdn.jsdelivr" not in asset.data
        assert b"unpkg.com" not in asset.data
