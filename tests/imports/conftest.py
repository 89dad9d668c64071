"""Helpers for the import tests: spreadsheets written by the tests themselves."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import Workbook


def xlsx_bytes(rows: list[list[Any]], title: str = "Sheet1", merge: str | None = None) -> bytes:
    """An .xlsx file with rows (first = header)."""
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    if merge:
        ws.merge_cells(merge)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8-sig") -> bytes:
    """A CSV file with rows in encoding."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


# Valid unified social credit codes (check digit computed).
def credit_code(n: int) -> str:
    """A valid credit code derived from n."""
    from needs_tracker.common.validators import credit_code_check_char

    first = f"913707{n:011d}"[:17]
    return first + credit_code_check_char(first)


@pytest.fixture
def files():
    """Access to the helpers from tests."""
    return type(
        "Files",
        (),
        {
            "xlsx": staticmethod(xlsx_bytes),
            "csv": staticmethod(csv_bytes),
            "code": staticmethod(credit_code),
        },
    )
