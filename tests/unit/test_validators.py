"""Unified social credit code (GB 32100-2015) and safe redirect checks."""

import pytest

from needs_tracker.common.urls import is_safe_next
from needs_tracker.common.validators import credit_code_check_char, credit_code_error


@pytest.mark.parametrize(
    "code", ["91350100M000100Y43", "91110000802100433B", " 91350100m000100y43 "]
)
def test_valid_codes_pass(code):
    assert credit_code_error(code) is None


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y4", "length"),
        ("91350100M000100Y434", "length"),
        ("91350100M00010OY43", "chars"),  # letter O is never used
        ("91350100M000100Y44", "check"),
        ("91110000802100433C", "check"),
    ],
)
def test_invalid_codes_give_the_reason(code, reason):
    assert credit_code_error(code) == reason


def test_check_char_for_known_code():
    assert credit_code_check_char("91350100M000100Y4") == "3"


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/needs/1", True),
        ("/visits/?status=done", True),
        ("//evil.example/x", False),
        ("https://evil.example/", False),
        ("/\\evil.example", False),
        ("javascript:alert(1)", False),
        ("", False),
        (None, False),
    ],
)
def test_safe_next(target, safe):
    assert is_safe_next(target) is safe
