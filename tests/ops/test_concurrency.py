"""Two saves racing past the version check: the loser is refused with a message, never a 500."""

from __future__ import annotations

from sqlalchemy import select, update

from needs_tracker.extensions import db
from needs_tracker.needs import views as need_views
from needs_tracker.needs.models import Need


def test_save_that_loses_the_race_gets_the_stale_message(client, auth, world, monkeypatch):
    need = world["need_a"]
    original = need_views.update_need

    def racing_update(obj, data, actor):
        # Another request saves the same need between this one's check and its UPDATE.
        db.session.connection().execute(
            update(Need.__table__)
            .where(Need.__table__.c.id == obj.id)
            .values(version=Need.__table__.c.version + 1, title="另一个人保存的标题")
        )
        return original(obj, data, actor)

    monkeypatch.setattr(need_views, "update_need", racing_update)
    auth.login("coordinator")
    form = {
        "organisation_id": str(world["org_a"].id),
        "visit_id": "",
        "title": "会被拒绝的标题",
        "description": "x",
        "need_type": "rnd",
        "urgency": "low",
        "budget": "",
        "collected_on": "2021-03-18",
        "version": str(need.version),
    }
    resp = client.post(f"/needs/{need.id}/edit", data=form)
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/needs/{need.id}/edit")
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Nothing was saved" in page or "没有保存" in page or "未保存" in page
    db.session.expire_all()
    title = db.session.scalar(select(Need.title).where(Need.id == need.id))
    assert title != "会被拒绝的标题"


def test_nul_characters_are_refused_with_400(client, auth, world):
    from sqlalchemy import func

    from needs_tracker.centres.models import Centre

    auth.login("admin")
    before = db.session.scalar(select(func.count(Centre.id)))
    resp = client.post("/centres/new", data={"name": "烟台\x00中心", "region": "", "partners": ""})
    assert resp.status_code == 400
    assert client.get("/needs/?q=a%00b").status_code == 400
    assert db.session.scalar(select(func.count(Centre.id))) == before
