"""Reading spreadsheets into typed rows: the pure core of the import (no app, no SQLAlchemy).

A file (xlsx, or csv in UTF-8 / UTF-8 with BOM / GB18030) becomes a list of ParsedRow whose
values are keyed by canonical field name, plus a list of Problem (row, column, code, params)
that `messages` turns into translated messages such as "第 12 行「统一社会信用代码」校验位错误".
The columns of each kind (FieldSpec) are declared by its feature's adapter; this module is
given them (`registry.parse_file` looks them up by kind).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from needs_tracker.common.choices import (
    CompanySize,
    LabelledEnum,
    NeedType,
    OrganisationKind,
    ResourceKind,
    Urgency,
    VisitStatus,
)
from needs_tracker.common.validators import credit_code_error, normalise_credit_code

# Field types
TEXT = "text"
LIST = "list"
DATE = "date"
DECIMAL = "decimal"
CREDIT_CODE = "credit_code"
CHOICE = "choice"

MULTI_SPLIT = re.compile(r"[、，,；;\n\r]+")
EXCEL_EPOCH = date(1899, 12, 30)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class FieldSpec:
    """One column of a kind: canonical name, header aliases (first = Chinese label)."""

    name: str
    aliases: tuple[str, ...]
    required: bool = False
    type: str = TEXT
    max_len: int | None = None
    choices: type[LabelledEnum] | None = None  # the enum a choice column takes

    @property
    def label(self) -> str:
        """The Chinese header used in templates and exports."""
        return self.aliases[0]


def header_key(text: Any) -> str:
    """Compare headers and choice spellings case-, width- and space-insensitively."""
    s = unicodedata.normalize("NFKC", str(text or ""))
    return "".join(s.split()).lower()


# Which enum each choice column takes; its labels and import spellings live beside it.
CHOICE_ENUMS: dict[str, type[LabelledEnum]] = {
    "org_kind": OrganisationKind,
    "size": CompanySize,
    "resource_kind": ResourceKind,
    "need_type": NeedType,
    "urgency": Urgency,
    "visit_status": VisitStatus,
}


class _ChoiceLabels(Mapping[str, dict[str, str]]):
    """Chinese label written by exports for each stored value, read from the catalogue."""

    def __getitem__(self, key: str) -> dict[str, str]:
        return CHOICE_ENUMS[key].labels_in("zh")

    def __iter__(self):
        return iter(CHOICE_ENUMS)

    def __len__(self) -> int:
        return len(CHOICE_ENUMS)


CHOICE_LABELS: Mapping[str, dict[str, str]] = _ChoiceLabels()


def choice_map(enum: type[LabelledEnum]) -> dict[str, str]:
    """Accepted spelling (normalised) -> stored value, for one enum."""
    # keyed by the members too, so a member added to the enum is accepted at once
    return _choice_map(enum, tuple(enum))


@lru_cache(maxsize=64)
def _choice_map(enum: type[LabelledEnum], _members: tuple[Any, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value, spellings in enum.spellings().items():
        for s in spellings:
            out.setdefault(header_key(s), value)
    return out


@dataclass
class Problem:
    """A problem with the file or one cell; row is the spreadsheet row number (1-based)."""

    code: str
    row: int | None = None
    column: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


class FileError(ValueError):
    """The file as a whole cannot be read (wrong type, empty, too big, merged headers …)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass
class ParsedRow:
    """One data row: its number in the file, typed values by field name, and its cells as text.

    The cells (every column of the file, as written) are kept so that rejected and skipped
    rows can be handed back to the user in their original form.
    """

    number: int
    values: dict[str, Any]
    cells: list[str] = field(default_factory=list)


@dataclass
class ParsedFile:
    """The outcome of parsing: rows, cell problems, and which header each field came from."""

    kind: str
    rows: list[ParsedRow]
    problems: list[Problem]
    headers: dict[str, str]  # field name -> header text as written in the file
    ignored_headers: list[str]
    header_cells: list[str] = field(default_factory=list)  # the header row, every column


@dataclass
class Limits:
    """Configurable limits."""

    max_bytes: int = 10 * 1024 * 1024
    max_rows: int = 50_000


# ---------------------------------------------------------------- reading raw tables


def sniff_type(filename: str, data: bytes) -> str:
    """'xlsx' or 'csv'; FileError('wrong_type') for anything else."""
    name = (filename or "").lower()
    if data[:4] == b"PK\x03\x04" and not name.endswith(".csv"):
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # legacy .xls (OLE2)
        raise FileError("wrong_type", filename=filename)
    if name.endswith((".csv", ".txt")):
        return "csv"
    raise FileError("wrong_type", filename=filename)


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK and GB2312)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileError("encoding")


def read_csv_table(data: bytes) -> list[tuple[int, list[Any]]]:
    """(row number, cells) of a CSV file."""
    text = decode_csv(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise FileError("bad_csv", detail=str(exc)) from exc


_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


def _merged_ranges(data: bytes, worksheet_path: str) -> list[tuple[str, int, int]]:
    """(ref, first row, last row) of each merged range of a worksheet, from its XML."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        xml = zf.read(worksheet_path.lstrip("/"))
    out = []
    for m in _MERGE_REF.finditer(xml):
        c1, r1, c2, r2 = (g.decode() if g else None for g in m.groups())
        ref = f"{c1}{r1}:{c2}{r2}" if c2 else f"{c1}{r1}"
        out.append((ref, int(r1), int(r2 or r1)))
    return out


def read_xlsx_table(data: bytes, sheet: str | None) -> tuple[list[tuple[int, list[Any]]], list]:
    """(row number, cells) of one worksheet, and the problems found (formulas without values).

    Cached formula results are used, never the formula text. Merged cells in the header row
    are refused (FileError), since a merged header hides which column a value belongs to.
    The workbook is read in read-only (streaming) mode.
    """
    from openpyxl import load_workbook

    def open_book(data_only: bool):
        try:
            return load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
            raise FileError("wrong_type", filename="") from exc

    wb = open_book(False)
    if sheet:
        if sheet not in wb.sheetnames:
            raise FileError("unknown_sheet", sheet=sheet, sheets="、".join(wb.sheetnames))
        ws = wb[sheet]
    else:
        ws = wb.worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header_index = next((i for i, r in enumerate(rows) if any(_present(c) for c in r)), None)
    if header_index is not None:
        header_row = header_index + 1
        for ref, first, last in _merged_ranges(data, ws._worksheet_path):
            if first <= header_row <= last:
                raise FileError("merged_header", cells=ref)
    problems: list[Problem] = []
    formula_cells = [
        (r, c)
        for r, row in enumerate(rows)
        for c, v in enumerate(row)
        if isinstance(v, str) and v.startswith("=") and len(v) > 1
    ]
    if formula_cells:
        values_wb = open_book(True)
        cached = [list(r) for r in values_wb[ws.title].iter_rows(values_only=True)]
        for r, c in formula_cells:
            value = cached[r][c] if r < len(cached) and c < len(cached[r]) else None
            if value is None:
                problems.append(Problem("formula_no_value", row=r + 1, params={"col": c}))
            rows[r][c] = value
    wb.close()
    return [(i + 1, r) for i, r in enumerate(rows)], problems


def _present(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


# ---------------------------------------------------------------- cell conversion

# PostgreSQL text cannot hold NUL, and no database stores lone surrogates as UTF-8.
_REFUSED = re.compile("[\x00\ud800-\udfff]")
# What an .xlsx cell cannot hold (XML 1.0): control characters other than tab and newlines.
_NOT_IN_XLSX = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def refused_by_database(text: str) -> bool:
    """True when a database would refuse to store text (a NUL byte, a lone surrogate)."""
    return bool(_REFUSED.search(text))


def printable_cell(value: Any) -> str:
    """A cell as text that can be written back to .xlsx (refused characters shown as �)."""
    return _NOT_IN_XLSX.sub("\ufffd", clean_text(value))


def allowed_labels(spec: FieldSpec) -> list[str]:
    """The Chinese labels a choice column accepts, in their usual order (大型、中型、小型、微型)."""
    return list(spec.choices.labels_in("zh").values()) if spec.choices else []


def clean_text(value: Any) -> str:
    """A cell as trimmed text (numbers without a spurious .0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).replace("\r\n", "\n").strip()
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START:
        text = text[1:]  # undo the neutralisation that exports apply
    return text


def split_multi(value: Any) -> list[str]:
    """Split a multi-value cell on 、，,；; and newlines; drop blanks and repeats."""
    out: list[str] = []
    for part in MULTI_SPLIT.split(clean_text(value)):
        part = part.strip()
        if part and part not in out:
            out.append(part)
    return out


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)


class ImpossibleDate(ValueError):
    """Text written as a date, but no such day exists (2024-02-30)."""


def parse_date(value: Any) -> date:
    """A date from a date cell, an Excel serial, or text 2021-03-26 / 2021/3/26 / 2021年3月26日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2_958_466:
            return EXCEL_EPOCH + timedelta(days=int(value))
        raise ValueError("serial out of range")
    text = unicodedata.normalize("NFKC", clean_text(value)).replace(" ", "")
    text = re.sub(r"[T ]?00:00(:00)?$", "", text)
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        return EXCEL_EPOCH + timedelta(days=int(float(text)))
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError as exc:
                raise ImpossibleDate(text) from exc
    raise ValueError("not a date")


def convert(spec: FieldSpec, raw: Any) -> tuple[Any, str | None]:
    """(value, problem code or None) for one cell. Empty cells give None (or [] for lists)."""
    if isinstance(raw, str) and refused_by_database(raw):
        return ([] if spec.type == LIST else None), "bad_char"
    if spec.type == LIST:
        return split_multi(raw), None
    if not _present(raw):
        return None, None
    if spec.type == DATE:
        try:
            return parse_date(raw), None
        except ImpossibleDate:
            return None, "impossible_date"
        except (ValueError, OverflowError):
            return None, "bad_date"
    if spec.type == DECIMAL:
        text = unicodedata.normalize("NFKC", clean_text(raw)).replace(",", "")
        text = text.removesuffix("万元").removesuffix("万").strip()
        try:
            value = Decimal(text)
        except InvalidOperation:
            return None, "bad_number"
        if not value.is_finite() or value < 0 or value >= Decimal("1e10"):
            return None, "bad_number"
        return value.quantize(Decimal("0.01")), None
    if spec.type == CREDIT_CODE:
        code = normalise_credit_code(unicodedata.normalize("NFKC", clean_text(raw)))
        reason = credit_code_error(code)
        if reason:
            return None, f"credit_{reason}"
        return code, None
    text = clean_text(raw)
    if spec.type == CHOICE:
        assert spec.choices is not None
        value = choice_map(spec.choices).get(header_key(text))
        if value is None:
            return None, "bad_choice"
        return value, None
    if spec.max_len and len(text) > spec.max_len:
        return None, "too_long"
    return text, None


# ---------------------------------------------------------------- the whole file


def match_headers(
    columns: Sequence[FieldSpec], header_cells: list[Any]
) -> tuple[dict[int, FieldSpec], dict[str, str], list[str]]:
    """Map column index -> field; return also field -> header text, and unknown headers."""
    lookup = {header_key(a): spec for spec in columns for a in spec.aliases}
    columns: dict[int, FieldSpec] = {}
    seen: dict[str, str] = {}
    ignored: list[str] = []
    for index, cell in enumerate(header_cells):
        text = clean_text(cell)
        if not text:
            continue
        spec = lookup.get(header_key(text.rstrip("*＊")))
        if spec is None:
            ignored.append(printable_cell(text))
            continue
        if spec.name in seen:
            raise FileError("duplicate_header", header=text)
        seen[spec.name] = text
        columns[index] = spec
    return columns, seen, ignored


def parse_rows(
    kind: str,
    columns: Sequence[FieldSpec],
    table: list[tuple[int, list[Any]]],
    limits: Limits | None = None,
) -> ParsedFile:
    """Typed rows of kind from a raw table whose first non-blank row is the header."""
    limits = limits or Limits()
    body = [(n, cells) for n, cells in table if any(_present(c) for c in cells)]
    if not body:
        raise FileError("empty")
    (_, header_cells), data = body[0], body[1:]
    by_index, headers, ignored = match_headers(columns, header_cells)
    missing = [s for s in columns if s.required and s.name not in headers]
    if missing:
        raise FileError("missing_columns", columns="、".join(s.label for s in missing))
    if not data:
        raise FileError("no_rows")
    if len(data) > limits.max_rows:
        raise FileError("too_many_rows", rows=len(data), max=limits.max_rows)
    rows: list[ParsedRow] = []
    problems: list[Problem] = []
    width = len(header_cells)
    for number, cells in data:
        values: dict[str, Any] = {}
        for index, spec in by_index.items():
            raw = cells[index] if index < len(cells) else None
            value, code = convert(spec, raw)
            if code:
                params: dict[str, Any] = {"value": printable_cell(raw)[:40]}
                if code == "bad_choice":
                    params["allowed"] = "、".join(allowed_labels(spec))
                elif code == "too_long":
                    params["max"] = spec.max_len
                problems.append(Problem(code, number, headers[spec.name], params))
            elif spec.required and (value is None or value == []):
                problems.append(Problem("required", number, headers[spec.name]))
            values[spec.name] = value
        texts = [printable_cell(c) for c in cells]
        rows.append(ParsedRow(number, values, texts + [""] * (width - len(texts))))
    header_texts = [printable_cell(c) for c in header_cells]
    return ParsedFile(kind, rows, problems, headers, ignored, header_texts)


def parse_upload(
    kind: str,
    columns: Sequence[FieldSpec],
    filename: str,
    data: bytes,
    sheet: str | None = None,
    limits: Limits | None = None,
) -> ParsedFile:
    """Parse an uploaded file of kind, whose columns are given."""
    limits = limits or Limits()
    if len(data) > limits.max_bytes:
        raise FileError("too_big", size=len(data), max=limits.max_bytes)
    if not data.strip():
        raise FileError("empty")
    if sniff_type(filename, data) == "xlsx":
        table, formula_problems = read_xlsx_table(data, sheet)
    else:
        if sheet:
            raise FileError("unknown_sheet", sheet=sheet, sheets="")
        table, formula_problems = read_csv_table(data), []
    parsed = parse_rows(kind, columns, table, limits)
    if formula_problems:
        header = next(cells for _, cells in table if any(_present(c) for c in cells))
        for p in formula_problems:
            p.column = clean_text(header[p.params.pop("col")]) or "?"
        parsed.problems = formula_problems + parsed.problems
    return parsed


# ---------------------------------------------------------------- JSON round trip for staging


def row_to_json(values: dict[str, Any]) -> dict[str, Any]:
    """Values made JSON-safe (dates ISO, decimals as strings)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, date):
            out[key] = {"d": value.isoformat()}
        elif isinstance(value, Decimal):
            out[key] = {"n": str(value)}
        else:
            out[key] = value
    return out


def row_from_json(values: dict[str, Any]) -> dict[str, Any]:
    """Inverse of row_to_json."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict) and "d" in value:
            out[key] = date.fromisoformat(value["d"])
        elif isinstance(value, dict) and "n" in value:
            out[key] = Decimal(value["n"])
        else:
            out[key] = value
    return out
