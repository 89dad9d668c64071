"""Bigram search terms of need texts (pure: no app)."""

from __future__ import annotations

from needs_tracker.needs.search import bigrams, search_terms


def test_chinese_text_gives_every_two_character_word():
    assert bigrams("焊接工艺") == ["焊接", "接工", "工艺"]


def test_runs_break_at_punctuation_and_spaces_and_latin_is_lower_cased():
    assert bigrams("焊接，轴承 AB-1") == ["焊接", "轴承", "ab"]


def test_one_character_has_no_bigram():
    assert bigrams("焊") == []
    assert bigrams("焊 接") == []


def test_terms_of_title_and_description_are_distinct_and_space_separated():
    assert search_terms("焊接焊接", "焊接头") == "焊接 接焊 接头"
    assert search_terms(None, "") == ""
