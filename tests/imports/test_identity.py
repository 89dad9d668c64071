"""Company identity: normalised names, blocking, fuzzy look-alikes."""

from __future__ import annotations

from needs_tracker.imports.identity import Candidate, CompanyIndex, normalise_name


def test_normalised_name_strips_region_and_legal_form():
    assert normalise_name("潍柴动力股份有限公司") == normalise_name("潍坊潍柴动力有限公司")
    assert normalise_name("山东省潍坊市盛瑞传动股份有限公司") == "盛瑞传动"
    assert normalise_name("ＡＢＣ 精工（潍坊）有限公司") == "abc精工"
    assert normalise_name("潍坊天恒检测科技有限公司") == normalise_name("天恒检测有限公司")
    assert normalise_name("潍坊学院") == "潍坊学院"


def test_exact_by_credit_code_then_name():
    index = CompanyIndex()
    index.add(Candidate(1, "潍柴动力股份有限公司", "91370700MA3C8J2X1B"))
    assert index.exact("别名", "91370700MA3C8J2X1B")[0].ref == 1
    assert index.exact(" 潍柴动力股份有限公司 ", None)[0].ref == 1
    # Same name, different credit code: not silently the same company.
    assert index.exact("潍柴动力股份有限公司", "91370700MA3C8J2X2C")[0] is None


def test_similar_flags_normalised_and_fuzzy_matches():
    index = CompanyIndex()
    index.add(Candidate(1, "潍柴动力股份有限公司"))
    index.add(Candidate(2, "潍坊华特磁电设备有限公司"))
    hits = index.similar("潍坊潍柴动力有限公司")
    assert [(h.candidate.ref, h.reason) for h in hits] == [(1, "normalised")]
    fuzzy = index.similar("华特磁电设备制造有限公司")
    assert fuzzy
    assert fuzzy[0].candidate.ref == 2
    assert fuzzy[0].reason == "fuzzy"
    assert index.similar("青岛啤酒股份有限公司") == []


def test_blocking_compares_far_fewer_than_all_pairs():
    index = CompanyIndex()
    index.extend(Candidate(i, f"测试{i:05d}号机械制造有限公司") for i in range(5000))
    index.comparisons = 0
    for i in range(100):
        index.similar(f"样例{i:05d}电子科技有限公司")
    assert index.comparisons < 100 * 5000 / 10
