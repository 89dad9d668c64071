"""The user's words for what went wrong in a file: one cell (a Problem) or the whole file."""

from __future__ import annotations

from flask_babel import gettext as _

from needs_tracker.imports.parsing import FileError, Problem


def problem_message(p: Problem) -> str:
    """Translate a cell problem, e.g. 第 12 行「统一社会信用代码」校验位错误."""
    args = {"row": p.row, "column": p.column, "value": "", **p.params}
    texts = {
        "required": lambda: _("Row %(row)s, “%(column)s”: a value is required", **args),
        "credit_check": lambda: _("Row %(row)s, “%(column)s”: the check digit is wrong", **args),
        "credit_length": lambda: _(
            "Row %(row)s, “%(column)s”: a credit code has 18 characters", **args
        ),
        "credit_chars": lambda: _(
            "Row %(row)s, “%(column)s”: characters not allowed in a credit code", **args
        ),
        "bad_date": lambda: _("Row %(row)s, “%(column)s”: not a date (%(value)s)", **args),
        "impossible_date": lambda: _(
            "Row %(row)s, “%(column)s”: %(value)s is not a valid date (there is no such day)",
            **args,
        ),
        "bad_char": lambda: _(
            "Row %(row)s, “%(column)s”: contains a character that cannot be stored (a NUL byte or an invalid character)",
            **args,
        ),
        "bad_number": lambda: _(
            "Row %(row)s, “%(column)s”: not a valid amount (%(value)s)", **args
        ),
        "bad_choice": lambda: (
            _(
                "Row %(row)s, “%(column)s” must be one of %(allowed)s (not “%(value)s”)",
                **args,
            )
            if args.get("allowed")
            else _("Row %(row)s, “%(column)s”: not one of the allowed values (%(value)s)", **args)
        ),
        "too_long": lambda: (
            _(
                "Row %(row)s, “%(column)s”: the text is too long (at most %(max)s characters)",
                **args,
            )
            if args.get("max")
            else _("Row %(row)s, “%(column)s”: the text is too long", **args)
        ),
        "formula_no_value": lambda: _(
            "Row %(row)s, “%(column)s”: a formula without a computed value; open and save the file in Excel first",
            **args,
        ),
        "unknown_company": lambda: _(
            "Row %(row)s, “%(column)s”: no organisation named “%(value)s” in this centre", **args
        ),
        "ambiguous_company": lambda: _(
            "Row %(row)s, “%(column)s”: several organisations in this centre are named “%(value)s”; rename one or merge them first",
            **args,
        ),
        "unknown_field": lambda: _(
            "Row %(row)s, “%(column)s”: unknown technical field “%(value)s”", **args
        ),
        "bad_team": lambda: _(
            "Row %(row)s, “%(column)s”: write team members as name/title/organisation (%(value)s)",
            **args,
        ),
    }
    if p.code in texts:
        return texts[p.code]()
    return _("Row %(row)s, “%(column)s”: invalid value", **args)


def file_error_message(exc: FileError) -> str:
    """Translate a whole-file error."""
    p = exc.params
    if exc.code == "too_big":
        size, limit = "{:.1f}".format(p["size"] / 1048576), "{:.1f}".format(p["max"] / 1048576)
        return _("The file is too large (%(size)s MB; at most %(max)s MB).", size=size, max=limit)
    texts = {
        "empty": _("The file is empty."),
        "no_rows": _("The file has a header row but no data rows."),
        "wrong_type": _("Only .xlsx and .csv files can be imported (not .xls or other types)."),
        "encoding": _("The CSV file is neither UTF-8 nor GB18030/GBK text."),
        "unknown_kind": _("Unknown kind of data."),
    }
    if exc.code in texts:
        return texts[exc.code]
    if exc.code == "too_many_rows":
        return _("The file has %(rows)s rows; at most %(max)s can be imported at once.", **p)
    if exc.code == "unknown_sheet":
        return _("There is no sheet named “%(sheet)s” (sheets: %(sheets)s).", **p)
    if exc.code == "merged_header":
        return _(
            "The header row has merged cells (%(cells)s); unmerge them so that each column has its own header.",
            **p,
        )
    if exc.code == "missing_columns":
        return _("Required columns are missing: %(columns)s.", **p)
    if exc.code == "duplicate_header":
        return _("The column “%(header)s” appears twice.", **p)
    return _("The file could not be read (%(detail)s).", detail=p.get("detail", exc.code))
