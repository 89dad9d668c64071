"""Centre form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from needs_tracker.common.forms import strip_filter


class CentreForm(FlaskForm):
    """Create or edit a centre."""

    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=120)], filters=[strip_filter]
    )
    region = StringField(
        _l("Region"), validators=[Optional(), Length(max=120)], filters=[strip_filter]
    )
    partners = TextAreaField(
        _l("Co-building organisations (one per line)"),
        validators=[Optional(), Length(max=4000)],
    )
    submit = SubmitField(_l("Save"))
