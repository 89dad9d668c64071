"""The engine's issue-11 ingredients: semantic fusion, whole profile, kind mix, floor, generic words."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from needs_tracker.matching.embeddings import FakeEncoder, clip, text_key
from needs_tracker.matching.engine import (
    Candidate,
    EngineConfig,
    MatchIndex,
    NeedQuery,
    candidate_embed_text,
    need_embed_text,
    with_weights,
)


def _index(pool, config=None, vectors=None):
    return MatchIndex(pool, config or EngineConfig(), vectors)


def test_generic_only_overlap_is_neither_a_match_nor_a_reason():
    pool = [
        Candidate("expert", 1, "甲", text="纺织印染工艺技术研究与表面处理试验"),
        Candidate("expert", 2, "乙", text="激光清洗工艺与激光除锈装备"),
    ]
    need = NeedQuery(title="激光清洗工艺改进", description="表面清洗试验验证")
    result = _index(pool, replace(EngineConfig(), floor=False)).suggest(need)
    assert [s.id for s in result] == [2]
    assert "「清洗」" in result[0].reason_text
    for word in ("工艺", "表面", "试验", "验证", "技术"):
        assert f"「{word}」" not in result[0].reason_text
    # Without the filter, the generic words alone did bring candidate 1 in.
    plain = _index(pool, replace(EngineConfig(), floor=False, generic_filter=False))
    assert 1 in [s.id for s in plain.suggest(need)]


def test_semantic_link_ranks_and_is_named_in_the_reason():
    pool = [
        Candidate("expert", 1, "甲", text="图像处理；工业相机标定", department="信息学院"),
        Candidate("expert", 2, "乙", text="高分子材料改性", department="材料学院"),
    ]
    need = NeedQuery(title="产品外观瑕疵自动识别")
    # Vectors say expert 1 is close to the need though no word is shared.
    vectors = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    index = _index(pool, with_weights(EngineConfig(), semantic=0.5), vectors=vectors)
    result = index.suggest(need, need_vector=np.array([0.9, 0.1], dtype=np.float32))
    assert result[0].id == 1
    assert result[0].reasons[0].startswith("语义相近：")
    assert "图像处理" in result[0].reasons[0] or "工业相机标定" in result[0].reasons[0]
    # Without the need's vector (not embedded yet), nothing is suggested on words alone.
    assert index.suggest(need) == []


def test_whole_profile_uses_department_and_fields():
    pool = [
        Candidate("expert", 1, "甲", text="表面强化", department="材料科学与工程学院"),
        Candidate("expert", 2, "乙", text="表面强化", department="外国语学院"),
    ]
    need = NeedQuery(title="材料科学问题：轴承表面强化")
    whole = _index(pool, replace(EngineConfig(), floor=False)).suggest(need)
    assert whole[0].id == 1
    assert whole[0].score > whole[1].score


def test_kind_mix_per_kind_normalisation_keeps_both_kinds_in_the_list():
    """With per-kind normalisation on, neither kind floods (off by default: see matching.md)."""
    text = "齿轮箱减速器传动系统振动噪声诊断"
    # Long resource texts repeating the need's words outscore short expert profiles.
    resources = [
        Candidate("resource", i, f"成果{i}", text=(text + f"，型号{i}") * 6) for i in range(1, 9)
    ]
    experts = [
        Candidate("expert", i, f"专家{i}", text=f"减速器振动分析，课题{i}") for i in (1, 2, 3)
    ]
    need = NeedQuery(title="减速器齿轮箱振动噪声大", description="传动系统诊断")
    mixed = _index(experts + resources, replace(EngineConfig(), floor=False, kind_norm=True))
    top = [s.kind for s in mixed.suggest(need, top=5)]
    assert "expert" in top
    assert "resource" in top
    flat = _index(experts + resources, replace(EngineConfig(), floor=False, kind_norm=False))
    assert [s.kind for s in flat.suggest(need, top=5)] == ["resource"] * 5


def test_floor_leaves_an_off_topic_need_with_nothing():
    pool = [
        Candidate("expert", 1, "甲", text="激光清洗与激光除锈"),
        Candidate("expert", 2, "乙", text="中药材种植"),
    ]
    index = _index(pool, with_weights(EngineConfig(), floor=0.2))
    assert index.suggest(NeedQuery(title="银行贷款利率咨询")) == []
    assert [s.id for s in index.suggest(NeedQuery(title="激光清洗设备"))] == [1]


def test_fake_encoder_vectors_are_unit_and_stable():
    enc = FakeEncoder()
    a = enc.passages(["激光清洗", "激光清洗", "中药材"])
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0)
    assert np.allclose(a[0], a[1])
    assert a[0] @ a[1] > a[0] @ a[2]


def test_embedding_texts_are_clipped_and_keys_depend_on_model_and_text():
    long = "激光" * 400
    c = Candidate("resource", 1, "成果", text=long, fields=("装备制造",))
    assert len(candidate_embed_text(c)) == len(clip(long))
    assert candidate_embed_text(c).startswith("成果；装备制造；")
    assert need_embed_text(NeedQuery(title="标题", description="描述")) == "标题。描述"
    assert text_key("usem3", "x") != text_key("e5small", "x") != text_key("usem3", "y")
    assert len(text_key("usem3", "x")) == 64


def test_second_model_fuses_beside_the_first_and_its_absence_rescales_the_shares():
    pool = [
        Candidate("expert", 1, "甲", text="图像处理；工业相机标定", department="信息学院"),
        Candidate("expert", 2, "乙", text="高分子材料改性", department="材料学院"),
    ]
    need = NeedQuery(title="产品外观瑕疵自动识别")
    first = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32)  # first model: expert 2
    second = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)  # second model: expert 1
    config = with_weights(replace(EngineConfig(), floor=False), semantic=0.2, semantic2=0.5)
    index = MatchIndex(pool, config, first, second)
    q1 = np.array([1.0, 0.0], dtype=np.float32)
    both = index.suggest(need, need_vector=q1, need_vector2=np.array([1.0, 0.0], np.float32))
    # The second model has the larger share, so its choice leads.
    assert both[0].id == 1
    assert both[0].parts["semantic2"] > 0.9
    # Without the second model's vectors, the first model ranks alone, at a share of
    # 0.2 / (1 - 0.5): the lexical share keeps its proportion to it.
    alone = MatchIndex(pool, config, first).suggest(need, need_vector=q1)
    assert alone[0].id == 2
    assert index.shares(np.zeros(2), None) == (0.4, 0.0)
    assert index.shares(np.zeros(2), np.zeros(2)) == (0.2, 0.5)
    assert index.shares(None, None) == (0.0, 0.0)
