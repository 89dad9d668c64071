"""Reading spreadsheets: header aliases, encodings, dates, multi-value cells and file errors."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest

from needs_tracker.imports.parsing import (
    FileError,
    Limits,
    parse_date,
    split_multi,
)
from needs_tracker.imports.registry import KINDS, parse_file
from tests.imports.conftest import credit_code, csv_bytes, xlsx_bytes


@pytest.mark.parametrize(
    ("kind", "spec_name", "alias"),
    [(k, s.name, a) for k, specs in KINDS.items() for s in specs for a in s.aliases],
)
def test_every_header_alias_is_recognised(kind, spec_name, alias):
    specs = KINDS[kind]
    required = [s for s in specs if s.required and s.name != spec_name]
    header = [f"  {alias.upper()} " if alias.isascii() else f" {alias}"] + [
        s.aliases[0] for s in required
    ]
    values = {
        "visit_date": "2021-03-18",
        "collected_on": "2021/3/26",
        "budget": "20",
        "credit_code": credit_code(7),
        "kind": "企业" if kind == "organisations" else "平台",
        "size": "小型",
        "need_type": "技术攻关",
        "urgency": "一般",
        "status": "已完成",
    }
    row = [values.get(spec_name, "值")] + [values.get(s.name, "值") for s in required]
    parsed = parse_file(kind, "f.xlsx", xlsx_bytes([header, row]))
    assert spec_name in parsed.headers
    assert not parsed.problems
    assert parsed.rows[0].values[spec_name] not in (None, "")


def test_gbk_and_bom_csv_are_read():
    rows = [["企业名称", "所属区县"], ["潍坊天恒检测科技有限公司", "高新区"]]
    for encoding in ("gbk", "gb18030", "utf-8-sig", "utf-8"):
        parsed = parse_file("organisations", "a.csv", csv_bytes(rows, encoding))
        assert parsed.rows[0].values == {"name": "潍坊天恒检测科技有限公司", "district": "高新区"}


def test_multi_value_cells_split_on_every_separator():
    assert split_multi("工业互联网、智能检测，热管理,新材料；工业软件;传动与控制\n人才培养") == [
        "工业互联网",
        "智能检测",
        "热管理",
        "新材料",
        "工业软件",
        "传动与控制",
        "人才培养",
    ]


@pytest.mark.parametrize(
    "value", ["2021-03-26", "2021/3/26", "2021年3月26日", 44281, "44281", "2021.3.26"]
)
def test_dates_as_text_or_excel_serial(value):
    assert parse_date(value) == date(2021, 3, 26)


def test_xlsx_date_cells_and_numbers():
    parsed = parse_file(
        "needs",
        "n.xlsx",
        xlsx_bytes(
            [
                ["企业名称", "需求名称", "需求描述", "预算（万元）", "征集日期"],
                ["甲公司", "标题", "描述", 12.5, date(2021, 3, 26)],
                ["甲公司", "标题2", "描述", "30万元", 44281],
            ]
        ),
    )
    assert not parsed.problems
    assert parsed.rows[0].values["budget"] == Decimal("12.50")
    assert parsed.rows[0].values["collected_on"] == date(2021, 3, 26)
    assert parsed.rows[1].values["budget"] == Decimal("30.00")
    assert parsed.rows[1].values["collected_on"] == date(2021, 3, 26)


def _codes(kind, rows, name="f.xlsx"):
    parsed = parse_file(kind, name, xlsx_bytes(rows))
    return [(p.code, p.row, p.column) for p in parsed.problems]


def test_cell_errors_carry_row_and_header():
    bad_check = credit_code(5)[:-1] + ("0" if credit_code(5)[-1] != "0" else "1")
    problems = _codes(
        "organisations",
        [
            ["企业名称", "统一社会信用代码", "企业规模"],
            ["A", credit_code(1), "小型"],
            ["", "", ""],  # blank rows are skipped but keep numbering
            ["B", bad_check, "小型"],
            ["C", "12345", "巨型"],
            ["", "91370700MA3C8J2XIO", ""],
        ],
    )
    assert ("credit_check", 4, "统一社会信用代码") in problems
    assert ("credit_length", 5, "统一社会信用代码") in problems
    assert ("bad_choice", 5, "企业规模") in problems
    assert ("required", 6, "企业名称") in problems
    assert ("credit_chars", 6, "统一社会信用代码") in problems


def test_bad_dates_and_amounts():
    problems = _codes(
        "needs",
        [
            ["企业名称", "需求名称", "需求描述", "预算（万元）", "征集日期"],
            ["甲", "t", "d", "很多", "下个月"],
        ],
    )
    assert ("bad_number", 2, "预算（万元）") in problems
    assert ("bad_date", 2, "征集日期") in problems


def test_file_errors():
    with pytest.raises(FileError) as e:
        parse_file("organisations", "a.csv", b"")
    assert e.value.code == "empty"
    with pytest.raises(FileError) as e:
        parse_file("organisations", "a.csv", csv_bytes([["企业名称"]]))
    assert e.value.code == "no_rows"
    with pytest.raises(FileError) as e:
        parse_file("organisations", "a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"0" * 100)
    assert e.value.code == "wrong_type"
    with pytest.raises(FileError) as e:
        parse_file("organisations", "a.pdf", b"%PDF-1.4")
    assert e.value.code == "wrong_type"
    with pytest.raises(FileError) as e:
        parse_file("organisations", "a.csv", b"x" * 2000, limits=Limits(max_bytes=1000))
    assert e.value.code == "too_big"
    rows = [["企业名称"]] + [[f"公司{i}"] for i in range(11)]
    with pytest.raises(FileError) as e:
        parse_file("organisations", "a.csv", csv_bytes(rows), limits=Limits(max_rows=10))
    assert e.value.code == "too_many_rows"
    with pytest.raises(FileError) as e:
        parse_file("organisations", "a.xlsx", xlsx_bytes([["企业名称"], ["A"]]), sheet="企业")
    assert e.value.code == "unknown_sheet"
    with pytest.raises(FileError) as e:
        parse_file("organisations", "a.csv", csv_bytes([["行业"], ["制造"]]))
    assert e.value.code == "missing_columns"
    assert e.value.params["columns"] == "企业名称"


def test_named_sheet_is_used():
    parsed = parse_file(
        "organisations", "a.xlsx", xlsx_bytes([["企业名称"], ["A"]], title="企业"), sheet="企业"
    )
    assert parsed.rows[0].values["name"] == "A"


def test_merged_header_cells_are_refused():
    data = xlsx_bytes([["企业名称", "", "行业"], ["A", "", "制造"]], merge="A1:B1")
    with pytest.raises(FileError) as e:
        parse_file("organisations", "a.xlsx", data)
    assert e.value.code == "merged_header"
    assert e.value.params["cells"] == "A1:B1"


def _with_cached_value(data: bytes, formula: str, value: str) -> bytes:
    """Rewrite the sheet XML so a formula cell carries a cached value, as Excel saves it."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(
                    f"<f>{formula}</f><v></v>".encode(), f"<f>{formula}</f><v>{value}</v>".encode()
                ).replace(
                    f"<f>{formula}</f><v />".encode(), f"<f>{formula}</f><v>{value}</v>".encode()
                )
            dst.writestr(item, content)
    return out.getvalue()


def test_formulas_use_the_computed_value_never_the_formula():
    data = xlsx_bytes([["企业名称", "行业"], ["A", "=1+1"]])
    parsed = parse_file("organisations", "a.xlsx", _with_cached_value(data, "1+1", "2"))
    assert not parsed.problems
    assert parsed.rows[0].values["industry"] == "2"


def test_formula_without_value_is_an_error():
    parsed = parse_file("organisations", "a.xlsx", xlsx_bytes([["企业名称", "行业"], ["A", "=B1"]]))
    assert [(p.code, p.row, p.column) for p in parsed.problems] == [("formula_no_value", 2, "行业")]
