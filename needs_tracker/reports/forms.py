"""Report forms: the period picker and the text editor."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

MONTH = Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", message=_l("Enter a month as YYYY-MM."))


class PeriodForm(FlaskForm):
    """GET form: centre and months."""

    class Meta:
        csrf = False

    # a centre's id, or "all" (every centre) for those who read every centre
    centre = SelectField(_l("Centre"), validators=[Optional()])
    start = StringField(
        _l("From month"), validators=[DataRequired(), MONTH], render_kw={"placeholder": "2021-01"}
    )
    end = StringField(
        _l("To month"), validators=[Optional(), MONTH], render_kw={"placeholder": "2021-03"}
    )


class GenerateForm(FlaskForm):
    """POST: save the generated report as a new revision."""

    centre = HiddenField()
    start = HiddenField(validators=[DataRequired(), MONTH])
    end = HiddenField(validators=[Optional(), MONTH])
    confirm = BooleanField(_l("Replace the edited text with a newly generated one"))


class EditForm(FlaskForm):
    """POST: save edited text as a new revision."""

    centre = HiddenField()
    start = HiddenField(validators=[DataRequired(), MONTH])
    end = HiddenField(validators=[Optional(), MONTH])
    narrative = TextAreaField(
        _l("Industry–academia cooperation (产学融合)"),
        validators=[DataRequired(), Length(max=8000)],
    )
    plan = TextAreaField(
        _l("Next month's plan (产学融合)"), validators=[DataRequired(), Length(max=4000)]
    )
