"""Domain validators: the unified social credit code (GB 32100-2015)."""

from __future__ import annotations

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def normalise_credit_code(code: str) -> str:
    """Upper-case and strip spaces (including full-width ones) from a credit code."""
    return "".join(code.split()).replace("\u3000", "").upper()


def credit_code_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters."""
    total = sum(CREDIT_CODE_CHARS.index(ch) * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    value = 31 - total % 31
    return CREDIT_CODE_CHARS[0 if value == 31 else value]


def credit_code_error(code: str) -> str | None:
    """Return None when code is a valid credit code, else a short reason key.

    Reasons: "length", "chars", "check".
    """
    code = normalise_credit_code(code)
    if len(code) != 18:
        return "length"
    if any(ch not in CREDIT_CODE_CHARS for ch in code):
        return "chars"
    if credit_code_check_char(code[:17]) != code[17]:
        return "check"
    return None
