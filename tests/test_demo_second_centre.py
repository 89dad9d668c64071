"""The demo seeds a second, smaller centre (issue 14), idempotently, so the consortium's
cross-centre views compare two centres."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from needs_tracker.centres.models import Centre
from needs_tracker.extensions import db
from needs_tracker.needs.models import Need
from needs_tracker.visits.models import Visit


def _second() -> tuple[int, int, int]:
    centre = db.session.scalar(select(Centre).where(Centre.name == "淄博服务中心"))
    assert centre is not None
    visits = db.session.scalar(select(func.count(Visit.id)).where(Visit.centre_id == centre.id))
    needs = db.session.scalar(select(func.count(Need.id)).where(Need.centre_id == centre.id))
    return centre.id, visits, needs


def test_second_centre_is_seeded_once(runner):
    assert runner.invoke(args=["demo", "seed", "--password", "demo passphrase"]).exit_code == 0
    first = _second()
    assert first[1:] == (1, 3)
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    assert _second() == first
    assert db.session.scalar(select(func.count(Centre.id))) == 2


def test_consortium_dashboard_compares_the_two_demo_centres(runner, client):
    runner.invoke(args=["demo", "seed", "--password", "demo passphrase"])
    client.post("/login", data={"username": "demo_consortium", "password": "demo passphrase"})
    html = client.get("/dashboard/?start=2021-03").get_data(as_text=True)
    payload = json.loads(html.split('id="dashboard-data">', 1)[1].split("</script>", 1)[0])
    names = [c["name"] for c in payload["centres"]]
    assert sorted(names) == sorted(["潍坊服务中心", "淄博服务中心"])
    zibo = next(c for c in payload["centres"] if c["name"] == "淄博服务中心")
    assert (zibo["visits"], zibo["needs"]) == (1, 3)
    # The member of the second centre sees only that centre's needs.
    client.post("/logout")
    client.post("/login", data={"username": "demo_zibo_member", "password": "demo passphrase"})
    page = client.get("/needs/").get_data(as_text=True)
    assert "陶瓷烧结缺陷在线检测" in page
    assert "焊缝缺陷超声相控阵自动检测" not in page
