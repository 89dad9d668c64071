"""Matching forms: propose, dismiss, one workflow step, a group docking event."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional

from needs_tracker.common.forms import VersionedForm, select_choices, strip_filter
from needs_tracker.matching.models import DeclineReason, MatchStatus


class CandidateForm(FlaskForm):
    """Propose a candidate, or mark it not relevant (the same hidden fields)."""

    kind = HiddenField(validators=[AnyOf(["expert", "resource"])])
    candidate_id = IntegerField(validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)], filters=[strip_filter])


class TransitionForm(VersionedForm):
    """One step of a match, with the record that step needs."""

    to_status = SelectField(_l("Next step"), validators=[DataRequired()])
    note = TextAreaField(
        _l("Note"), validators=[Optional(), Length(max=2000)], filters=[strip_filter]
    )
    held_on = DateField(_l("Meeting date"), validators=[Optional()])
    place = StringField(
        _l("Place"), validators=[Optional(), Length(max=200)], filters=[strip_filter]
    )
    attendees = TextAreaField(
        _l("Attendees"), validators=[Optional(), Length(max=2000)], filters=[strip_filter]
    )
    minutes = TextAreaField(
        _l("Minutes"), validators=[Optional(), Length(max=10000)], filters=[strip_filter]
    )
    amount = DecimalField(
        _l("Amount (10k CNY)"),
        places=2,
        validators=[Optional(), NumberRange(min=0, max=1_000_000)],
    )
    declined_by = SelectField(_l("Declined by"), validators=[Optional()])
    decline_reason = SelectField(_l("Reason for declining"), validators=[Optional()])
    keep_need_open = BooleanField(_l("Keep the need open"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.to_status.choices = select_choices(
            [(s.value, s.label) for s in MatchStatus if s != MatchStatus.PROPOSED]
        )
        self.declined_by.choices = select_choices(
            [("", "—"), ("company", _l("The company")), ("expert", _l("The expert / resource"))]
        )
        self.decline_reason.choices = [SelectChoice("", "—"), *DeclineReason.choices()]

    def step_record(self, target: str) -> dict[str, Any]:
        """transition_match's keyword arguments for a step to target: the meeting (when one
        is held and dated), the amount, who declined and why, whether the need stays open."""
        from needs_tracker.matching.services import MeetingData

        meeting = None
        if target == MatchStatus.MEETING_HELD.value and self.held_on.data:
            meeting = MeetingData(
                held_on=self.held_on.data,
                place=self.place.data or "",
                attendees=self.attendees.data or "",
                minutes=self.minutes.data or "",
            )
        return {
            "meeting": meeting,
            "amount": self.amount.data,
            "declined_by": self.declined_by.data or "",
            "decline_reason": self.decline_reason.data or "",
            "keep_need_open": bool(self.keep_need_open.data),
        }


class GroupEventForm(FlaskForm):
    """One docking event for several needs with one expert."""

    need_ids = StringField(validators=[DataRequired()])
    expert_id = IntegerField(validators=[DataRequired()])
    title = StringField(
        _l("Event title"), validators=[Optional(), Length(max=200)], filters=[strip_filter]
    )
    held_on = DateField(_l("Planned date"), validators=[Optional()])
    place = StringField(
        _l("Place"), validators=[Optional(), Length(max=200)], filters=[strip_filter]
    )


class EventNeedForm(FlaskForm):
    """One more need for an existing docking event."""

    need_id = IntegerField(_l("Add a need"), validators=[DataRequired()])
