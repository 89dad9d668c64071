"""The suggestion index is built once per pool, shared by workers, and never awaited by a page."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import insert, select

from needs_tracker import create_app
from needs_tracker.common.choices import Role
from needs_tracker.common.scoping import Scope, set_scope
from needs_tracker.experts.models import Expert
from needs_tracker.extensions import db
from needs_tracker.matching import index as match_index
from needs_tracker.matching import semantic, services
from tests.conftest import PASSWORD

BUILDING = "推荐索引正在后台建立"
STALE = "以下推荐基于专家库最近一次更新之前的索引"


def _background_app(tmp_path: Path):
    """An app as a gunicorn worker runs it: builds in the background, waits for none."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/pool.db",
            "MATCH_INDEX_BUILD": "background",
            "MATCH_INDEX_WAIT": 0,
            "MATCH_INDEX_DIR": str(tmp_path / "match-index"),
        }
    )


def _seed(make_centre, make_user):
    """A coordinator, a need about laser cleaning, and an expert in another field."""
    from needs_tracker.needs.services import NeedData, create_need
    from needs_tracker.organisations.models import Organisation

    db.create_all()
    set_scope(db.session, Scope.system())
    centre = make_centre()
    make_user("coord", Role.COORDINATOR, centre)
    org = Organisation(centre_id=centre.id, name="潍坊某机械有限公司", district="高新区")
    db.session.add(org)
    db.session.add(Expert(name="王五", organisation="某大学", expertise="高分子材料改性"))
    db.session.commit()
    need = create_need(
        NeedData(organisation_id=org.id, title="模具激光清洗", description="模具表面积碳清除"),
        centre.id,
        None,
    )
    db.session.commit()
    return need.id


def _wait_for_build(pool_version: str, seconds: float = 120) -> None:
    """Until the background builder has stored the build of pool_version."""
    deadline = time.monotonic() + seconds
    while not match_index._builds(match_index.store_root(), pool_version):
        assert time.monotonic() < deadline, "the background builder stored nothing"
        time.sleep(0.1)


def _drop(app) -> None:
    with app.app_context():
        services.reset_index_cache()
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def test_a_changed_pool_is_answered_from_the_previous_index_then_the_new_one(
    tmp_path, make_centre, make_user
):
    app = _background_app(tmp_path)
    with app.app_context():
        need_id = _seed(make_centre, make_user)
        from needs_tracker.needs.models import Need

        services.reset_index_cache()
        services.get_index(block=True)  # the pool as it was, built and stored
        builds = services.index_builds()
        db.session.add(
            Expert(name="赵激光", organisation="某理工大学", expertise="激光清洗、激光除锈")
        )
        db.session.commit()
        new_pool = services.index_versions()[0]
        need = db.session.get(Need, need_id)
        stale, status = services.suggest_with_status(need)
        # Not awaited: the previous index answers at once, and says it is the previous one.
        assert status.state == "stale"
        assert "赵激光" not in [s.name for s in stale]
        _wait_for_build(new_pool)
        fresh, status = services.suggest_with_status(need)
        assert status.state == "fresh"
        assert status.source == "shared"
        assert fresh[0].name == "赵激光"
        # Built by the background builder, a process of its own: never in this worker.
        assert services.index_builds() == builds
    _drop(app)


def test_need_page_says_the_index_is_being_built_until_it_is(tmp_path, make_centre, make_user):
    app = _background_app(tmp_path)
    with app.app_context():
        need_id = _seed(make_centre, make_user)
        db.session.add(
            Expert(name="赵激光", organisation="某理工大学", expertise="激光清洗、激光除锈")
        )
        db.session.commit()
        pool_version = services.index_versions()[0]
        services.reset_index_cache()  # a worker just started: no index, none stored yet
    client = app.test_client()
    client.post("/login", data={"username": "coord", "password": PASSWORD})
    page = client.get(f"/needs/{need_id}").data.decode()
    assert BUILDING in page
    assert "专家库中暂无合适的专家或成果" not in page  # not "the pool has nothing good"
    with app.app_context():
        _wait_for_build(pool_version)
    page = client.get(f"/needs/{need_id}").data.decode()
    assert BUILDING not in page
    assert STALE not in page
    assert "赵激光" in page
    _drop(app)


def test_a_new_worker_loads_the_stored_index_instead_of_building_it(pool):
    services.suggest_for_need(pool["need_a"])
    builds, loads = services.index_builds(), services.index_loads()
    services.reset_index_cache()  # another worker process, same host
    names = [s.name for s in services.suggest_for_need(pool["need_a"])]
    assert "于晓东" in names
    assert services.index_builds() == builds
    assert services.index_loads() == loads + 1
    assert services.index_status().source == "shared"


def test_vectors_embedded_after_a_bulk_import_reach_the_workers(pool):
    # A bulk path writes with SQL: no vector yet, the job embeds it later.
    new_id = db.session.execute(
        insert(Expert)
        .values(name="赵激光", organisation="某理工大学", expertise="激光清洗、激光除锈")
        .returning(Expert.id)
    ).scalar_one()
    services.bump_pool_version()
    db.session.commit()
    index = services.get_index()
    assert services.index_status().missing_vectors == 1
    assert not index.vectors[index.position[("expert", new_id)]].any()
    loads = services.index_loads()
    semantic.embed_pending()  # the job: stores the vector, a new build, moves the stamp
    index = services.get_index()
    assert services.index_loads() == loads + 1
    assert services.index_status().missing_vectors == 0
    assert index.vectors[index.position[("expert", new_id)]].any()


def test_index_command_builds_and_stores_the_index(app, pool):
    result = app.test_cli_runner().invoke(args=["match", "index"])
    assert result.exit_code == 0, result.output
    n = len(services.load_candidates())
    assert f"{n} experts and resources indexed" in result.output
    folder = Path(result.output.split("stored in ")[1].strip().rstrip("."))
    assert (folder / "meta.json").exists()
    assert folder.name.startswith(services.index_versions()[0] + ".")


def test_candidates_are_read_with_fields_in_taxonomy_order(pool, make_field):
    second = make_field("机器人与自动化")
    second.position = pool["field"].position  # a tie: the id decides, in both places
    expert = pool["vision"]
    expert.fields.append(second)
    db.session.commit()
    cand = next(c for c in services.load_candidates() if c.id == expert.id and c.kind == "expert")
    assert cand.fields == semantic.expert_candidate(expert).fields
    assert db.session.scalar(select(Expert.id).where(Expert.id == expert.id)) == expert.id


def test_without_a_writable_index_folder_the_worker_builds_itself(tmp_path, pool):
    from flask import current_app

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    config = current_app.config
    saved = {k: config.get(k) for k in ("MATCH_INDEX_BUILD", "MATCH_INDEX_DIR")}
    config.update(MATCH_INDEX_BUILD="background", MATCH_INDEX_DIR=str(blocker / "index"))
    try:
        services.reset_index_cache()
        names = [s.name for s in services.suggest_for_need(pool["need_a"])]
        assert "于晓东" in names
        assert services.index_status().source == "built"
    finally:
        config.update(saved)
        services.reset_index_cache()
