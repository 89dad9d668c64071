"""Visit form: date, status, visited organisations, team and (on create) needs, in one form."""

from __future__ import annotations

from flask_babel import gettext as _
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
from needs_tracker.common.forms import (
    INVALID_CHOICES,
    VersionedForm,
    select_choices,
    strip_filter,
)
from needs_tracker.visits.services import InlineNeed, TeamMemberData, VisitData

# An inline need's company is an organisation id, or "new:" + a name from the new-companies box.
NEW_PREFIX = "new:"


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
    field_ids = SelectMultipleField(
        _l("Technical fields"),
        coerce=int,
        validate_choice=True,
        invalid_choice_message=INVALID_CHOICES,
    )
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
        _l("Organisations visited"),
        coerce=int,
        validate_choice=True,
        invalid_choice_message=INVALID_CHOICES,
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

    def set_choices(self) -> None:
        """Offer the organisations and fields this user's centre may choose (the scope limits
        the queries); call before validating, on the web page and in the API alike."""
        from needs_tracker.organisations.services import organisation_choices
        from needs_tracker.taxonomy.services import field_choices

        orgs = organisation_choices()
        self.organisation_ids.choices = select_choices(orgs)
        fields = field_choices()
        new_names = self.new_organisation_names()
        # A need belongs to one of the companies visited: once some are chosen, only they are
        # offered (the page's script keeps the list in step as the choice changes).
        chosen = set(self.organisation_ids.data or [])
        visit_orgs = [(i, n) for i, n in orgs if i in chosen] if chosen else orgs
        need_orgs = (
            [("", "—")]
            + [(str(i), n) for i, n in visit_orgs]
            + [(NEW_PREFIX + n, n) for n in new_names]
        )
        for entry in self.needs:
            entry.form.organisation.choices = select_choices(need_orgs)
            entry.form.field_ids.choices = select_choices(fields)

    def check_has_organisation(self) -> bool:
        """True when an organisation is chosen or named; else False, with the field's error."""
        if self.organisation_ids.data or self.new_organisation_names():
            return True
        self.organisation_ids.errors.append(_("Choose at least one organisation visited."))
        return False

    def visit_data(self) -> VisitData:
        """The validated visit (team rows without a name are left out)."""
        return VisitData(
            visit_date=self.visit_date.data,
            status=self.status.data,
            purpose=self.purpose.data or "",
            summary=self.summary.data or "",
            organisation_ids=list(self.organisation_ids.data or []),
            new_organisation_names=self.new_organisation_names(),
            team=[
                TeamMemberData(
                    name=e.form.name.data,
                    title=e.form.title.data or "",
                    organisation_name=e.form.organisation_name.data or "",
                )
                for e in self.team
                if e.form.name.data
            ],
        )

    def inline_needs(self) -> list[InlineNeed] | None:
        """The needs collected on the visit; None (with field errors set) when one is invalid.

        A need must name one of the companies visited, or one of the new companies.
        """
        from needs_tracker.needs.services import need_data_from_form

        allowed_ids = set(self.organisation_ids.data or [])
        new_names = set(self.new_organisation_names())
        items: list[InlineNeed] = []
        ok = True
        for entry in self.needs:
            sub = entry.form
            if not sub.title.data:
                if sub.organisation.data or sub.description.data:
                    sub.title.errors.append(_("Give the need a title."))
                    ok = False
                continue
            raw = sub.organisation.data or ""
            org: int | str | None = None
            if raw.startswith(NEW_PREFIX) and raw[len(NEW_PREFIX) :] in new_names:
                org = raw[len(NEW_PREFIX) :]
            elif raw.isdigit() and int(raw) in allowed_ids:
                org = int(raw)
            if org is None:
                sub.organisation.errors.append(
                    _("Choose one of the companies visited (select it above first).")
                )
                ok = False
                continue
            items.append(
                InlineNeed(
                    organisation=org,
                    # the company is set once the visit's new companies exist
                    data=need_data_from_form(sub, organisation_id=0),
                )
            )
        return items if ok else None
