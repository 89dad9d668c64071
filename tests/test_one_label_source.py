"""One label per code (issue 15): a member added to an enum shows everywhere, with no other edit.

The form, the import, the list export, the monthly report's documents and page all read a
code's label from the enum and the zh catalogue; none keeps a dictionary of its own.
"""

from __future__ import annotations

import io

import pytest
from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook

from needs_tracker.common import choices
from needs_tracker.common.choices import NeedType
from needs_tracker.imports import parsing
from needs_tracker.imports.parsing import CHOICE_LABELS
from needs_tracker.imports.registry import KINDS, parse_table
from needs_tracker.matching.models import MatchStatus
from needs_tracker.reports import export
from needs_tracker.reports.kpis import KPIS, METRICS

# A msgid the zh catalogue already translates (专利), spelled by no NeedType member.
NEW_VALUE, NEW_MSGID, NEW_ZH = "patent_help", "Patent", "专利"


@pytest.fixture
def extra_need_type(monkeypatch: pytest.MonkeyPatch) -> NeedType:
    """NeedType with one more member, as a developer would add it (member + its label)."""
    member = str.__new__(NeedType, NEW_VALUE)
    member._name_, member._value_ = "PATENT_HELP", NEW_VALUE
    member.__objclass__ = NeedType
    monkeypatch.setitem(NeedType._member_map_, "PATENT_HELP", member)
    monkeypatch.setitem(NeedType._value2member_map_, NEW_VALUE, member)
    monkeypatch.setattr(NeedType, "_member_names_", [*NeedType._member_names_, "PATENT_HELP"])
    labels = {**choices._LABELS["NeedType"], NEW_VALUE: _l(NEW_MSGID)}
    monkeypatch.setitem(choices._LABELS, "NeedType", labels)
    return member


def test_a_new_need_type_appears_in_the_form(app, extra_need_type):
    from needs_tracker.needs.forms import NeedForm
    from needs_tracker.visits.forms import InlineNeedForm

    with app.test_request_context(headers={"Accept-Language": "zh"}):
        for form in (NeedForm(meta={"csrf": False}), InlineNeedForm(meta={"csrf": False})):
            offered = {c.value: str(c.label) for c in form.need_type.choices}
            assert offered[NEW_VALUE] == NEW_ZH


def test_a_new_need_type_is_accepted_by_the_import(extra_need_type):
    table = [
        (1, ["企业名称", "需求名称", "需求描述", "需求类型"]),
        (2, ["潍柴", "专利布局", "布局咨询", NEW_ZH]),
        (3, ["潍柴", "专利布局", "布局咨询", "Patent"]),
    ]
    parsed = parse_table("needs", table)
    assert parsed.problems == []
    assert [r.values["need_type"] for r in parsed.rows] == [NEW_VALUE, NEW_VALUE]


def test_a_new_need_type_is_named_by_the_list_export_and_the_report(extra_need_type):
    assert CHOICE_LABELS["need_type"][NEW_VALUE] == NEW_ZH
    assert export.code_labels(NeedType)[NEW_VALUE] == NEW_ZH
    data = {"centre": "潍坊服务中心", "needs_by_type": {NEW_VALUE: 2, "rnd": 1}}
    wb = load_workbook(io.BytesIO(export.to_xlsx(data)))
    rows = [[c.value for c in r] for r in wb["需求类型"].iter_rows(min_row=2)]
    assert [NEW_ZH, 2] in rows
    assert ["技术攻关", 1] in rows


def test_an_unknown_spelling_lists_the_new_label_as_allowed(extra_need_type):
    spec = next(s for s in KINDS["needs"] if s.name == "need_type")
    assert parsing.allowed_labels(spec)[-1] == NEW_ZH


def test_export_and_app_name_match_statuses_alike(app):
    """The workbook used to say 已对接 where the app says 已召开对接会."""
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        app_labels = {m.value: str(m.label) for m in MatchStatus}
    assert export.code_labels(MatchStatus) == app_labels
    assert app_labels["meeting_held"] == "已召开对接会"


def test_report_page_and_documents_name_each_figure_with_the_kpi_label(app):
    from needs_tracker.i18n import in_locale
    from needs_tracker.reports.views import METRIC_LABELS

    kpi_labels = {k.figure: in_locale(k.label) for k in KPIS.values()}
    rows = {r[0] for r in export.summary_rows({"previous": {}})}
    page = {figure: in_locale(label) for figure, label in METRIC_LABELS}
    for figure, label in kpi_labels.items():
        assert label in rows, figure
        assert page[figure] == label
    assert len(rows) == len(METRICS) + len(export.EXTRA_METRICS)
