"""The ranking engine on its own: segmentation, scores, reasons, exclusions, ties, metrics."""

from __future__ import annotations

import pytest

from needs_tracker.matching.engine import (
    Candidate,
    EngineConfig,
    MatchIndex,
    NeedQuery,
    Segmenter,
    evaluate_rankings,
    region_relation,
)


@pytest.fixture(scope="module")
def pool() -> list[Candidate]:
    return [
        Candidate(
            "expert",
            1,
            "邢卫东",
            "山东大学",
            "超声相控阵无损检测、焊缝缺陷识别与评定",
            ("智能检测",),
            "济南",
        ),
        Candidate(
            "expert",
            2,
            "于晓东",
            "潍坊学院",
            "机器视觉测量、视觉检测系统集成、图像处理",
            ("智能检测",),
            "潍坊",
        ),
        Candidate(
            "expert",
            3,
            "吕冬梅",
            "重庆大学",
            "机械传动、减速器齿轮设计、传动系统可靠性",
            ("传动与控制",),
            "重庆",
        ),
        Candidate(
            "expert", 4, "顾海宁", "同济大学", "数字孪生、产线仿真、虚拟调试", ("工业软件",), "上海"
        ),
        Candidate(
            "resource",
            5,
            "同济大学智能制造学习工厂",
            "同济大学",
            "工业4.0学习工厂与实训课程",
            ("人才培养",),
            "上海",
        ),
        Candidate(
            "resource",
            6,
            "相控阵检测实验室",
            "山东大学",
            "相控阵超声无损检测设备与焊缝缺陷数据库",
            ("智能检测",),
            "济南",
        ),
    ]


@pytest.fixture(scope="module")
def index(pool) -> MatchIndex:
    return MatchIndex(pool)


WELD = NeedQuery(
    "焊缝缺陷自动检测",
    "压力容器焊缝需要无损检测，希望结合机器视觉实现缺陷自动识别",
    ("智能检测",),
    region="山东省潍坊市",
)


def test_segmentation_keeps_domain_terms_whole():
    words = Segmenter()("对减速器开展无损检测，并建立数字孪生模型，用机器视觉检测表面缺陷")
    for term in ("减速器", "无损检测", "数字孪生", "机器视觉"):
        assert term in words
    assert "无损" not in words
    assert "孪生" not in words


def test_plain_segmentation_splits_them_and_keeps_stopwords():
    words = Segmenter(domain_dict=False, use_stopwords=False)("需要无损检测和数字孪生")
    assert "无损检测" not in words
    assert "数字孪生" not in words
    assert "需要" in words
    assert "需要" not in Segmenter()("需要无损检测")


def test_ascii_terms_are_lowercased_and_kept():
    assert {"mes", "agv"} <= set(Segmenter()("MES系统与AGV调度"))


def test_best_candidate_first_with_reasons_naming_terms_and_fields(index):
    result = index.suggest(WELD, top=3)
    assert result[0].kind == "resource" or result[0].id == 1
    top_ids = {(s.kind, s.id) for s in result}
    assert ("expert", 1) in top_ids
    assert ("resource", 6) in top_ids
    xing = next(s for s in result if s.id == 1 and s.kind == "expert")
    assert xing.reasons[0].startswith("研究方向含")
    assert "「无损检测」" in xing.reasons[0]
    assert "领域一致：智能检测" in xing.reasons
    assert all(0.0 <= s.score <= 1.0 for s in result)
    assert [s.rank for s in result] == [1, 2, 3]


def test_local_university_is_named_and_boosted(index):
    result = {s.id: s for s in index.suggest(WELD, top=6) if s.kind == "expert"}
    assert "本地高校" in result[2].reasons
    assert "研究方向含「机器视觉」" in result[2].reasons[0]


def test_scores_are_bounded_even_for_identical_text(pool):
    ix = MatchIndex(pool)
    same = NeedQuery(pool[0].text, pool[0].text, ("智能检测",), region="济南")
    assert all(0.0 <= s.score <= 1.0 for s in ix.suggest(same, top=6))


def test_excluded_candidate_never_returns(index):
    result = index.suggest(WELD, top=10, exclude={("expert", 1)})
    assert ("expert", 1) not in {(s.kind, s.id) for s in result}
    assert ("resource", 6) in {(s.kind, s.id) for s in result}


def test_kinds_filter(index):
    assert {s.kind for s in index.suggest(WELD, top=10, kinds=["expert"])} == {"expert"}


def test_unrelated_candidates_are_not_suggested(index):
    result = index.suggest(NeedQuery("减速器齿轮噪声", "减速器齿轮啸叫", ("传动与控制",)), top=10)
    assert [s.id for s in result] == [3]


def test_ties_are_stable_experts_first_then_by_id():
    text = "液冷板流道优化与电池热管理"
    pool = [
        Candidate("resource", 9, "甲", "", text, ("热管理",)),
        Candidate("expert", 7, "乙", "", text, ("热管理",)),
        Candidate("expert", 3, "丙", "", text, ("热管理",)),
    ]
    # Names differ, so give every candidate the same name to make the text identical.
    pool = [Candidate(c.kind, c.id, "同名", "", text, c.fields) for c in pool]
    need = NeedQuery("电池热管理", text, ("热管理",))
    orders = {
        tuple((s.kind, s.id) for s in MatchIndex(p).suggest(need)) for p in (pool, pool[::-1])
    }
    assert orders == {(("expert", 3), ("expert", 7), ("resource", 9))}


def test_fit_declines_lower_the_score_and_are_explained(pool):
    need = NeedQuery("减速器齿轮设计", "减速器可靠性", ("传动与控制",))
    before = MatchIndex(pool).suggest(need, top=1)[0]
    ix = MatchIndex(pool)
    ix.update_signals({("expert", 3): ((), 2)})
    after = ix.suggest(need, top=1)[0]
    assert after.id == before.id == 3
    assert after.score < before.score
    assert any("被婉拒 2 次" in r for r in after.reasons)


def test_past_resolved_matches_in_the_field_boost(pool):
    need = NeedQuery("图像检测", "视觉检测", ("智能检测",))
    ix = MatchIndex(pool)
    plain = {s.id: s.score for s in ix.suggest(need, top=6, kinds=["expert"])}
    ix.update_signals({("expert", 2): ((("智能检测", 3),), 0)})
    boosted = {s.id: s for s in ix.suggest(need, top=6, kinds=["expert"])}
    assert boosted[2].score > plain[2]
    assert "曾在同领域成功对接 3 项" in boosted[2].reasons


def test_plain_baseline_config_runs_without_fields_or_boosts(pool):
    ix = MatchIndex(pool, EngineConfig.plain_tfidf())
    result = ix.suggest(WELD, top=3)
    assert result
    assert all(not any(r.startswith("领域一致") for r in s.reasons) for s in result)


def test_empty_pool_and_zero_top():
    assert MatchIndex([]).suggest(WELD) == []
    assert MatchIndex([Candidate("expert", 1, "a", "", "无损检测")]).suggest(WELD, top=0) == []


@pytest.mark.parametrize(
    ("need", "cand", "expected"),
    [
        ("山东省潍坊市", "潍坊", "city"),
        ("山东省潍坊市", "山东省潍坊市高新区", "city"),
        ("山东省潍坊市", "济南", ""),
        ("山东省潍坊市", "山东济南", "province"),
        ("山东省潍坊市", "山东省青岛市", "province"),
        ("山东省潍坊市", "上海", ""),
        ("", "潍坊", ""),
    ],
)
def test_region_relation(need, cand, expected):
    assert region_relation(need, cand) == expected


def test_evaluate_rankings():
    ranked = {"a": ["x", "y", "z"], "b": ["p", "q", "r"]}
    gold = {"a": {"x", "z"}, "b": {"r"}}
    result = evaluate_rankings(ranked, gold, k=2)
    assert result.needs == 2
    assert result.precision == pytest.approx((1 / 2 + 0) / 2)
    assert result.recall == pytest.approx((1 / 2 + 0) / 2)
    assert result.mrr == pytest.approx((1 + 1 / 3) / 2)


def test_related_terms_are_found_whole_and_ascii_only_as_words():
    from needs_tracker.matching.engine import related_terms

    assert "减速器" in related_terms("减速机回差变大")
    assert "排程" in related_terms("车间排产靠表格")
    assert not related_terms("caps lock")  # "aps" inside a word is not APS
    assert "排程" in related_terms("需要APS系统")
    assert "减速机" not in related_terms("减速机")  # never the need's own word


def test_short_domain_words_are_indexed_not_cut_into_characters():
    words = Segmenter()("车间排产混乱，减速机下线异响，铸件缩松")
    for term in ("排产", "异响", "缩松"):
        assert term in words


def test_a_need_in_plain_words_finds_the_expert_in_technical_words():
    pool = [
        Candidate("expert", 1, "甲", "", "谐波减速器与RV减速器精度保持性", ("传动与控制",)),
        Candidate("expert", 2, "乙", "", "液压缸与阀的动态特性", ("传动与控制",)),
    ]
    need = NeedQuery("减速机用久了回差变大", "", ("传动与控制",))
    result = MatchIndex(pool).suggest(need, top=2)
    assert result[0].id == 1
    assert "研究方向含相关词「减速器」" in result[0].reasons
    plain = MatchIndex(pool, EngineConfig(related_terms=False)).suggest(need, top=2)
    assert plain[0].score < result[0].score


def test_feedback_reorders_but_never_adds_unrelated_candidates():
    pool = [
        Candidate("expert", 1, "甲", "", "机器视觉表面缺陷检测、工业相机标定", ("智能检测",)),
        Candidate("expert", 2, "乙", "", "工业相机选型与光源设计", ("智能检测",)),
        Candidate("expert", 3, "丙", "", "机器视觉表面缺陷检测算法", ("人工智能与大数据",)),
        Candidate("expert", 4, "丁", "", "机器视觉表面缺陷检测系统", ("新材料",)),
    ]
    need = NeedQuery("工业相机拍照检查表面缺陷", "", ("智能检测",))
    with_fb = MatchIndex(pool).suggest(need, top=10)
    without = MatchIndex(pool, EngineConfig(feedback=False)).suggest(need, top=10)
    assert {s.id for s in with_fb} == {s.id for s in without}
    for s in with_fb:
        assert 0.0 <= s.score <= 1.0
        assert s.parts["feedback"] >= 0.0


def test_the_title_outweighs_a_side_remark_in_the_description():
    pool = [
        Candidate("expert", 1, "甲", "", "齿轮啮合噪声分析与齿面修形", ("传动与控制",)),
        Candidate("expert", 2, "乙", "", "液压泵站节能改造与油温控制", ("传动与控制",)),
    ]
    need = NeedQuery("减速机齿轮啮合噪声降低", "另外液压泵站油温偏高", ("传动与控制",))
    result = MatchIndex(pool).suggest(need, top=2)
    assert [s.id for s in result] == [1, 2]
    assert "「啮合」" in result[0].reasons[0] or "「噪声」" in result[0].reasons[0]
