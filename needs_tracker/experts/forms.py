"""Expert and resource forms."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from needs_tracker.common.choices import ResourceKind
from needs_tracker.common.forms import INVALID_CHOICES, VersionedForm, strip_filter


class ExpertForm(VersionedForm):
    """Create or edit an expert."""

    name = StringField(
        _l("Person name"), validators=[DataRequired(), Length(max=60)], filters=[strip_filter]
    )
    title = StringField(
        _l("Title (职称)"), validators=[Optional(), Length(max=60)], filters=[strip_filter]
    )
    organisation = StringField(
        _l("Organisation"), validators=[DataRequired(), Length(max=200)], filters=[strip_filter]
    )
    department = StringField(
        _l("Department"), validators=[Optional(), Length(max=200)], filters=[strip_filter]
    )
    expertise = TextAreaField(
        _l("Research areas"), validators=[DataRequired(), Length(max=10000)], filters=[strip_filter]
    )
    field_ids = SelectMultipleField(
        _l("Technical fields"), coerce=int, invalid_choice_message=INVALID_CHOICES
    )
    phone = StringField(
        _l("Phone"), validators=[Optional(), Length(max=40)], filters=[strip_filter]
    )
    email = EmailField(
        _l("Email"),
        validators=[Optional(), Email(check_deliverability=False), Length(max=120)],
        filters=[strip_filter],
    )
    region = StringField(
        _l("Region"), validators=[Optional(), Length(max=60)], filters=[strip_filter]
    )
    contact_source = StringField(
        _l("Source of the contact data"),
        validators=[Optional(), Length(max=200)],
        filters=[strip_filter],
        description=_l("Where the phone and e-mail came from, e.g. the expert's own card."),
    )
    contact_consent = BooleanField(_l("Agreed to be contacted"))
    consent_on = DateField(_l("Agreed on"), validators=[Optional()])
    consent_purpose = StringField(
        _l("Purpose agreed to"),
        validators=[Optional(), Length(max=200)],
        filters=[strip_filter],
        description=_l("e.g. docking meetings with companies of the centre's region"),
    )
    submit = SubmitField(_l("Save"))


class ResourceForm(VersionedForm):
    """Create or edit a resource."""

    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=200)], filters=[strip_filter]
    )
    kind = SelectField(_l("Kind"), choices=ResourceKind.choices)
    owner_organisation = StringField(
        _l("Owner organisation"), validators=[Optional(), Length(max=200)], filters=[strip_filter]
    )
    description = TextAreaField(
        _l("Description"), validators=[DataRequired(), Length(max=10000)], filters=[strip_filter]
    )
    field_ids = SelectMultipleField(
        _l("Technical fields"), coerce=int, invalid_choice_message=INVALID_CHOICES
    )
    maturity = StringField(
        _l("Maturity"), validators=[Optional(), Length(max=60)], filters=[strip_filter]
    )
    region = StringField(
        _l("Region"), validators=[Optional(), Length(max=60)], filters=[strip_filter]
    )
    contact = StringField(
        _l("Contact"), validators=[Optional(), Length(max=120)], filters=[strip_filter]
    )
    submit = SubmitField(_l("Save"))
