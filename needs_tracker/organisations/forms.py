"""Organisation form."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from needs_tracker.common.choices import CompanySize, OrganisationKind
from needs_tracker.common.forms import CreditCode, VersionedForm, strip_filter


class OrganisationForm(VersionedForm):
    """Create or edit a company / university / institute / government body."""

    name = StringField(
        _l("Full name"), validators=[DataRequired(), Length(max=200)], filters=[strip_filter]
    )
    short_name = StringField(
        _l("Short name"),
        validators=[Optional(), Length(max=60)],
        filters=[strip_filter],
        description=_l("As used in reports, e.g. 华特磁电"),
    )
    kind = SelectField(_l("Kind"), choices=OrganisationKind.choices)
    credit_code = StringField(
        _l("Unified social credit code"),
        validators=[Optional(), CreditCode()],
        filters=[strip_filter],
    )
    district = StringField(
        _l("District"), validators=[Optional(), Length(max=60)], filters=[strip_filter]
    )
    industry = StringField(
        _l("Industry"), validators=[Optional(), Length(max=120)], filters=[strip_filter]
    )
    size = SelectField(_l("Size"), choices=CompanySize.optional_choices, validate_choice=True)
    address = StringField(
        _l("Address"), validators=[Optional(), Length(max=300)], filters=[strip_filter]
    )
    contact_name = StringField(
        _l("Contact person"), validators=[Optional(), Length(max=60)], filters=[strip_filter]
    )
    contact_phone = StringField(
        _l("Contact phone"), validators=[Optional(), Length(max=40)], filters=[strip_filter]
    )
    contact_email = EmailField(
        _l("Contact email"),
        validators=[Optional(), Email(check_deliverability=False), Length(max=120)],
        filters=[strip_filter],
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    submit = SubmitField(_l("Save"))
