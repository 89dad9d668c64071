"""Need forms: the full form, the inline row of the visit form, the status form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from needs_tracker.common.choices import NeedStatus, NeedType, Urgency
from needs_tracker.common.forms import INVALID_CHOICES, VersionedForm, strip_filter


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class NeedForm(VersionedForm):
    """Create or edit a need."""

    organisation_id = SelectField(
        _l("Company"), coerce=int, validators=[DataRequired(message=_l("Choose a company."))]
    )
    visit_id = SelectField(_l("Collected on visit"), coerce=_int_or_none, validators=[Optional()])
    title = StringField(
        _l("Title"), validators=[DataRequired(), Length(max=200)], filters=[strip_filter]
    )
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=10000)], filters=[strip_filter]
    )
    field_ids = SelectMultipleField(
        _l("Technical fields"), coerce=int, invalid_choice_message=INVALID_CHOICES
    )
    need_type = SelectField(_l("Need type"), choices=NeedType.choices)
    urgency = SelectField(_l("Urgency"), choices=Urgency.choices)
    budget = DecimalField(
        _l("Budget (10k CNY)"),
        places=2,
        validators=[Optional(), NumberRange(min=0, max=10_000_000)],
    )
    collected_on = DateField(_l("Collected on"), validators=[DataRequired()])
    submit = SubmitField(_l("Save"))


class NeedStatusForm(VersionedForm):
    """Move a need to another status."""

    # No status is preselected: a careless click must not reset the need (see set_targets).
    to_status = SelectField(
        _l("New status"), choices=NeedStatus.choices, validators=[DataRequired()]
    )
    confirm_back = BooleanField(_l("Yes, move this need back to an earlier status"))
    note = TextAreaField(
        _l("Note / reason"),
        validators=[Optional(), Length(max=500)],
        description=_l("Required when closing a need."),
    )
    submit = SubmitField(_l("Change status"))

    def set_targets(self, current: str) -> None:
        """Offer only the statuses the workflow allows from current, with an empty first choice."""
        from needs_tracker.needs.services import allowed_targets

        self.to_status.choices = [
            SelectChoice("", _l("— choose —")),
            *(SelectChoice(s.value, s.label) for s in allowed_targets(current)),
        ]
