"""Technical field form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from needs_tracker.common.forms import strip_filter


class TechFieldForm(FlaskForm):
    """Create or edit a technical field."""

    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=60)], filters=[strip_filter]
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    position = IntegerField(
        _l("Order"), default=0, validators=[Optional(), NumberRange(min=0, max=10000)]
    )
    active = BooleanField(_l("In use"), default=True)
    submit = SubmitField(_l("Save"))
