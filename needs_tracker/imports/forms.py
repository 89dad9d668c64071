"""Forms of the import pages: upload, confirm, undo, merge."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from needs_tracker.common.forms import select_choices, strip_filter

KIND_LABELS = {
    "organisations": _l("Organisations"),
    "experts": _l("Experts"),
    "resources": _l("Resources"),
    "needs": _l("Needs"),
    "visits": _l("Visits"),
}

MERGE_FIELD_LABELS = {
    "name": _l("Full name"),
    "short_name": _l("Short name"),
    "kind": _l("Kind"),
    "credit_code": _l("Unified social credit code"),
    "district": _l("District"),
    "industry": _l("Industry"),
    "size": _l("Size"),
    "address": _l("Address"),
    "contact_name": _l("Contact person"),
    "contact_phone": _l("Contact phone"),
    "contact_email": _l("Contact e-mail"),
    "notes": _l("Notes"),
}


class UploadForm(FlaskForm):
    """Step 1: choose the kind of data and the file."""

    kind = SelectField(_l("Kind of data"), validators=[DataRequired()])
    file = FileField(
        _l("Spreadsheet (.xlsx or .csv)"), validators=[FileRequired(_l("Choose a file."))]
    )
    sheet = StringField(
        _l("Worksheet"),
        validators=[Optional(), Length(max=100)],
        filters=[strip_filter],
        description=_l("Leave empty to read the first worksheet."),
    )
    centre_id = SelectField(_l("Centre"), coerce=int, validators=[Optional()])
    create_duplicates = BooleanField(
        _l("Also create companies that look like existing ones (possible duplicates)")
    )

    def set_choices(self, centres: list[tuple[int, str]]) -> None:
        """Fill the select fields."""
        self.kind.choices = select_choices(list(KIND_LABELS.items()))
        self.centre_id.choices = select_choices(centres)


class ConfirmForm(FlaskForm):
    """Step 2: confirm (CSRF only)."""


class UndoForm(FlaskForm):
    """Undo an import or a merge (CSRF only)."""


def merge_form_class(fields: list[str]) -> type[FlaskForm]:
    """A form with one radio per field: keep the survivor's value or take the other's."""

    class MergeForm(FlaskForm):
        confirm = BooleanField(
            _l("I have checked that these are the same organisation"),
            validators=[DataRequired(_l("Please confirm."))],
        )

    for name in fields:
        setattr(
            MergeForm,
            f"pick_{name}",
            RadioField(
                MERGE_FIELD_LABELS[name],
                choices=select_choices(
                    [("survivor", _l("Keep this value")), ("merged", _l("Take the other value"))]
                ),
                default="survivor",
            ),
        )
    return MergeForm


def merge_choices(form: Any, fields: list[str]) -> dict[str, str]:
    """field -> 'survivor' | 'merged' from a submitted merge form."""
    return {name: getattr(form, f"pick_{name}").data or "survivor" for name in fields}
