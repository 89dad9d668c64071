"""Visit form: date, status, visited organisations, team and (on create) needs, in one form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from needs_tracker.common.choices import NeedType, Urgency, VisitStatus
from needs_tracker.common.forms import VersionedForm, strip_filter


class TeamMemberForm(FlaskForm):
    """One row of the team: name, title, organisation."""

    class Meta:
        csrf = False

    name = StringField(
        _l("Person name"), validators=[Optional(), Length(max=60)], filters=[strip_filter]
    )
    title = StringField(
        _l("Title / position"), validators=[Optional(), Length(max=120)], filters=[strip_filter]
    )
    organisation_name = StringField(
        _l("Organisation"),
        validators=[Optional(), Length(max=200)],
        filters=[strip_filter],
        # Suggestions from the page's <datalist id="team-orgs"> (partners, known organisations).
        render_kw={"list": "team-orgs", "autocomplete": "off"},
    )

    def validate_name(self, field):
        if not field.data and (self.title.data or self.organisation_name.data):
            raise ValidationError(str(_l("Give the team member's name.")))


class InlineNeedForm(FlaskForm):
    """One need collected on the visit."""

    class Meta:
        csrf = False

    organisation = SelectField(_l("Company"), validators=[Optional()], validate_choice=False)
    title = StringField(
        _l("Need"), validators=[Optional(), Length(max=200)], filters=[strip_filter]
    )
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=10000)], filters=[strip_filter]
    )
    field_ids = SelectMultipleField(_l("Technical fields"), coerce=int, validate_choice=True)
    need_type = SelectField(_l("Need type"), choices=NeedType.choices)
    urgency = SelectField(_l("Urgency"), choices=Urgency.choices)


class VisitForm(VersionedForm):
    """Create or edit a visit with its organisations and team."""

    visit_date = DateField(_l("Date"), validators=[DataRequired()])
    status = SelectField(_l("Status"), choices=VisitStatus.choices, default=VisitStatus.DONE.value)
    purpose = StringField(
        _l("Purpose"), validators=[Optional(), Length(max=300)], filters=[strip_filter]
    )
    organisation_ids = SelectMultipleField(
        _l("Organisations visited"), coerce=int, validate_choice=True
    )
    new_organisations = TextAreaField(
        _l("New companies (one per line)"),
        validators=[Optional(), Length(max=4000)],
        description=_l("Companies not yet in the list; they are created with the visit."),
    )
    summary = TextAreaField(
        _l("Summary / minutes"), validators=[Optional(), Length(max=20000)], filters=[strip_filter]
    )
    team = FieldList(FormField(TeamMemberForm), min_entries=3, max_entries=30)
    needs = FieldList(FormField(InlineNeedForm), min_entries=2, max_entries=30)
    submit = SubmitField(_l("Save visit"))
    # Idempotency key, made when the form is first shown and kept in the browser's draft.
    client_key = HiddenField(validators=[Optional(), Regexp(r"^[0-9a-f]{32}$")])

    def new_organisation_names(self) -> list[str]:
        """Distinct, trimmed names from the new-companies box."""
        names: list[str] = []
        for line in (self.new_organisations.data or "").splitlines():
            name = line.strip()[:200]
            if name and name not in names:
                names.append(name)
        return names
