"""User administration form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from needs_tracker.common.choices import Role
from needs_tracker.common.forms import strip_filter


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class UserForm(FlaskForm):
    """Create or edit a user."""

    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Length(min=2, max=64),
            Regexp(r"^[A-Za-z0-9_.\-]+$", message=_l("Letters, digits, _ . - only.")),
        ],
        filters=[strip_filter],
    )
    display_name = StringField(
        _l("Display name"), validators=[DataRequired(), Length(max=100)], filters=[strip_filter]
    )
    role = SelectField(
        _l("Role"),
        choices=Role.choices,
        description=_l(
            "A centre administrator manages the users, imports and trash of their own centre; "
            "a system administrator manages every centre and the centres themselves. "
            "An observer reads their centre and changes nothing."
        ),
    )
    centre_id = SelectField(_l("Centre"), coerce=_int_or_none, validators=[Optional()])
    is_consortium = BooleanField(_l("Consortium-level (reads every centre; leaders only)"))
    active = BooleanField(_l("Active"), default=True)
    password = PasswordField(
        _l("Password"),
        validators=[Optional(), Length(min=8, max=256)],
        description=_l("Leave empty to generate one; the user must change it at first login."),
    )
    submit = SubmitField(_l("Save"))
