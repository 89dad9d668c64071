"""Form helpers shared by features: optimistic-concurrency field, credit-code validator."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from needs_tracker.common.validators import credit_code_error, normalise_credit_code

D = TypeVar("D")

# For a multiple select (technical fields, organisations visited): WTForms' own Chinese for its
# message is marked fuzzy, so users (and API callers, who can send any id) would read English.
INVALID_CHOICES = _l("Not a valid choice: %(value)s.")


class VersionedForm(FlaskForm):
    """A form that carries the version of the record it edits."""

    version = HiddenField()

    def is_stale(self, obj: Any) -> bool:
        """True when the record changed since this form was rendered."""
        try:
            return int(self.version.data or 0) != obj.version
        except (TypeError, ValueError):
            return True


def data_from_form(cls: type[D], form: Any) -> D:
    """The dataclass cls (a service's typed input) from the form's fields of the same names.

    A value the form leaves empty (None) takes the dataclass's default, so a service gets the
    same input from a form as from a caller that leaves the argument out.
    """
    values: dict[str, Any] = {}
    for item in dataclasses.fields(cls):  # type: ignore[arg-type]
        field = getattr(form, item.name, None)
        if field is not None and field.data is not None:
            values[item.name] = field.data
    return cls(**values)


def select_choices(pairs: list[tuple[Any, Any]]) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def strip_filter(value: Any) -> Any:
    """Trim whitespace from submitted strings."""
    return value.strip() if isinstance(value, str) else value


class CreditCode:
    """WTForms validator: empty, or a valid GB 32100-2015 unified social credit code."""

    MESSAGES = {
        "length": _l("A unified social credit code has 18 characters."),
        "chars": _l("The code contains characters not allowed (I, O, Z, S, V are never used)."),
        "check": _l("The check digit (last character) is wrong; please check the code."),
    }

    def __call__(self, form: Any, field: Any) -> None:
        if not field.data:
            field.data = None
            return
        field.data = normalise_credit_code(field.data)
        reason = credit_code_error(field.data)
        if reason:
            raise ValidationError(str(self.MESSAGES[reason]))


def stale_message(changes: list[str]) -> str:
    """Message shown when a form was saved over a newer version of the record."""
    msg = _("Someone else saved this record while you were editing it. Nothing was saved.")
    if changes:
        msg += " " + _("Changed: %(fields)s.", fields="、".join(changes))
    return msg
