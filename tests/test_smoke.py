"""A first walk through the main pages as each role."""

import pytest


@pytest.mark.parametrize("role", ["member", "coordinator", "leader", "admin", "consortium"])
def test_pages_render(client, auth, world, role):
    auth.login(role)
    for url in [
        "/",
        "/visits/",
        "/needs/",
        "/organisations/",
        "/experts/",
        "/resources/",
        f"/needs/{world['need_a'].id}",
        f"/visits/{world['visit_a'].id}",
        f"/organisations/{world['org_a'].id}",
        f"/experts/{world['expert'].id}",
        f"/resources/{world['resource'].id}",
        "/fields/",
    ]:
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
