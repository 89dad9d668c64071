"""Forms of the import pages: upload, confirm, undo, merge."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from needs_tracker.common.forms import select_choices, strip_filter
from needs_tracker.imports.merge import MERGE_FIELDS
from needs_tracker.imports.registry import kind_labels
from needs_tracker.organisations.forms import OrganisationForm


def merge_field_labels() -> dict[str, Any]:
    """Each organisation field's label, as the organisation form shows it (one label each)."""
    labels = {}
    for name in MERGE_FIELDS:
        field = getattr(OrganisationForm, name)
        labels[name] = field.kwargs.get("label", field.args[0] if field.args else name)
    return labels


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
        self.kind.choices = select_choices(list(kind_labels().items()))
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

    labels = merge_field_labels()
    for name in fields:
        setattr(
            MergeForm,
            f"pick_{name}",
            RadioField(
                labels[name],
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
