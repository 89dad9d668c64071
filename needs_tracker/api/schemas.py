"""Pydantic models of the API's requests and responses: the OpenAPI document is built from them."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict

from needs_tracker.common.choices import (
    CompanySize,
    NeedStatus,
    NeedType,
    OrganisationKind,
    Urgency,
    VisitStatus,
)
from needs_tracker.matching.models import DeclineReason, MatchStatus

MAX_PAGE = 100


class ListQuery(BaseModel):
    """Cursor pagination: pass back next_cursor to get the following page."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=MAX_PAGE, description="Rows per page (1-100).")
    cursor: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{1,8}$",
        description="next_cursor of the previous page (opaque); omit for the first page.",
    )


class SuggestQuery(BaseModel):
    """How many suggestions to return."""

    model_config = ConfigDict(extra="forbid")

    top: int = Field(10, ge=1, le=200, description="Number of suggestions (1-200).")


class FieldProblem(BaseModel):
    """One invalid value in a request."""

    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None
    request_id: str | None = None


class Ref(BaseModel):
    """A related record by id and name."""

    id: int
    name: str


class StatusChange(BaseModel):
    """One transition of a need's or a match's status."""

    from_status: str | None
    to_status: str
    at: datetime
    note: str


class NeedOut(BaseModel):
    """A company's technical need, with its fields and status history."""

    id: int
    centre_id: int
    organisation: Ref
    visit_id: int | None
    title: str
    description: str
    need_type: str
    urgency: str
    budget: str | None = Field(description="万元, as a decimal string")
    collected_on: date
    status: str
    close_reason: str
    status_changed_at: datetime
    fields: list[Ref]
    history: list[StatusChange]
    version: int
    created_at: datetime
    updated_at: datetime


class OrganisationOut(BaseModel):
    """A company or university of the centre."""

    id: int
    centre_id: int
    name: str
    short_name: str
    kind: str
    credit_code: str | None
    district: str
    industry: str
    size: str
    address: str
    contact_name: str
    contact_phone: str
    contact_email: str
    notes: str
    version: int
    created_at: datetime
    updated_at: datetime


class ExpertOut(BaseModel):
    """An expert of the shared pool (contact details are not served by the API)."""

    id: int
    name: str
    title: str
    organisation: str
    department: str
    expertise: str
    region: str
    fields: list[Ref]
    version: int
    created_at: datetime
    updated_at: datetime


class ResourceOut(BaseModel):
    """An achievement, lab or platform of the shared pool."""

    id: int
    name: str
    kind: str
    owner_organisation: str
    description: str
    maturity: str
    region: str
    fields: list[Ref]
    version: int
    created_at: datetime
    updated_at: datetime


class TeamMemberOut(BaseModel):
    """A member of a visit's service team."""

    name: str
    title: str
    organisation_name: str


class VisitOut(BaseModel):
    """A service team's visit to one or more organisations."""

    id: int
    centre_id: int
    visit_date: date
    status: str
    purpose: str
    summary: str
    organisations: list[Ref]
    team: list[TeamMemberOut]
    need_ids: list[int]
    version: int
    created_at: datetime
    updated_at: datetime


class MatchOut(BaseModel):
    """A need matched to an expert or a resource, with its transitions."""

    id: int
    centre_id: int
    need_id: int
    expert_id: int | None
    resource_id: int | None
    status: str
    score: float | None
    reasons: str
    declined_by: str
    decline_reason: str
    decline_note: str
    amount: str | None = Field(description="万元 at agreement, as a decimal string")
    docking_event_id: int | None
    keep_need_open: bool
    status_changed_at: datetime
    transitions: list[StatusChange]
    version: int
    created_at: datetime
    updated_at: datetime


class SuggestionOut(BaseModel):
    """One ranked candidate: the keys of `flask match suggest --json`."""

    rank: int
    kind: str
    id: int
    name: str
    organisation: str
    score: float
    reasons: list[str]


class SuggestionList(BaseModel):
    """Ranked candidates for a need."""

    need_id: int
    items: list[SuggestionOut]


def page_model(item: type[BaseModel], name: str) -> type[BaseModel]:
    """A page of items with the cursor of the next page (null on the last)."""
    from pydantic import create_model

    return create_model(
        name,
        __doc__=f"A page of {item.__name__.removesuffix('Out').lower()} records.",
        items=(list[item], ...),
        next_cursor=(str | None, None),
    )


NeedPage = page_model(NeedOut, "NeedPage")
OrganisationPage = page_model(OrganisationOut, "OrganisationPage")
ExpertPage = page_model(ExpertOut, "ExpertPage")
ResourcePage = page_model(ResourceOut, "ResourcePage")
VisitPage = page_model(VisitOut, "VisitPage")
MatchPage = page_model(MatchOut, "MatchPage")


def _literal(values: tuple[str, ...]) -> Any:
    return Literal.__getitem__(values)


NeedTypeValue = _literal(tuple(t.value for t in NeedType))
UrgencyValue = _literal(tuple(u.value for u in Urgency))
MAX_ID = 2**31 - 1
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    # JSON has no date type: only "YYYY-MM-DD" strings, not pydantic's lax 0 -> 1970-01-01.
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("a date as YYYY-MM-DD")
    return date.fromisoformat(value)


# Body values are exactly the JSON types the document states (no "1" for 1, no 1.0).
Id = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
JsonDate = Annotated[date, BeforeValidator(_iso_date)]


class NeedIn(BaseModel):
    """A new need. The web form's rules apply too: the organisation, visit and fields must be
    ones this token's centre may choose, and the title may not be blank."""

    model_config = ConfigDict(extra="forbid")

    organisation_id: Id
    title: str = Field(min_length=1, max_length=200, pattern=r"\S")
    description: str = Field("", max_length=10000)
    field_ids: list[Id] = Field(default_factory=list, max_length=50)
    need_type: NeedTypeValue = "rnd"  # type: ignore[valid-type]
    urgency: UrgencyValue = "low"  # type: ignore[valid-type]
    budget: Decimal | None = Field(None, ge=0, le=10_000_000, decimal_places=2)
    collected_on: JsonDate
    visit_id: Id | None = None


class IdempotencyHeaders(BaseModel):
    """Optional Idempotency-Key of a POST."""

    idempotency_key: str | None = Field(
        None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Any unique string per intended write; a retry with it replays the answer.",
    )


class NeedPatch(BaseModel):
    """Changes to a need: only the keys sent are changed (send If-Match with the ETag)."""

    model_config = ConfigDict(extra="forbid")

    organisation_id: Id | None = None
    title: str | None = Field(None, min_length=1, max_length=200, pattern=r"\S")
    description: str | None = Field(None, max_length=10000)
    field_ids: list[Id] | None = Field(None, max_length=50)
    need_type: NeedTypeValue | None = None  # type: ignore[valid-type]
    urgency: UrgencyValue | None = None  # type: ignore[valid-type]
    budget: Decimal | None = Field(None, ge=0, le=10_000_000, decimal_places=2)
    collected_on: JsonDate | None = None
    visit_id: Id | None = None


# --- writes of visits, organisations, need status and matches (issue 16) ---------------------

VisitStatusValue = _literal(tuple(v.value for v in VisitStatus))
OrganisationKindValue = _literal(tuple(k.value for k in OrganisationKind))
# "" leaves the size unknown, as the web form's blank choice does.
CompanySizeValue = _literal(("", *(c.value for c in CompanySize)))
NeedStatusValue = _literal(tuple(n.value for n in NeedStatus))
# A match is proposed by POST /matches; a transition takes it to one of the later steps.
MatchStepValue = _literal(tuple(m.value for m in MatchStatus if m != MatchStatus.PROPOSED))
DeclineReasonValue = _literal(tuple(r.value for r in DeclineReason))
# One line with some text: a new company's name (the web form takes one per line).
CompanyName = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\r\n]*\S[^\r\n]*$")]


class TeamMemberIn(BaseModel):
    """A member of the visit's service team."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=60, pattern=r"\S")
    title: str = Field("", max_length=120)
    organisation_name: str = Field("", max_length=200)


class VisitNeedIn(BaseModel):
    """A need collected on the visit (it starts collected, dated the visit's day)."""

    model_config = ConfigDict(extra="forbid")

    organisation: Id | CompanyName = Field(
        description="The id of one of the visit's organisation_ids, or a name given in its "
        "new_organisations."
    )
    title: str = Field(min_length=1, max_length=200, pattern=r"\S")
    description: str = Field("", max_length=10000)
    field_ids: list[Id] = Field(default_factory=list, max_length=50)
    need_type: NeedTypeValue = "rnd"  # type: ignore[valid-type]
    urgency: UrgencyValue = "low"  # type: ignore[valid-type]


class VisitIn(BaseModel):
    """A visit with the organisations visited (existing ones by id, new companies by name,
    created with it), its team and the needs collected on it, saved together or not at all.
    The web form's rules apply: at least one organisation; ids this token's centre may choose."""

    model_config = ConfigDict(extra="forbid")

    visit_date: JsonDate
    status: VisitStatusValue = "done"  # type: ignore[valid-type]
    purpose: str = Field("", max_length=300)
    summary: str = Field("", max_length=20000)
    organisation_ids: list[Id] = Field(default_factory=list, max_length=100)
    new_organisations: list[CompanyName] = Field(default_factory=list, max_length=30)
    team: list[TeamMemberIn] = Field(default_factory=list, max_length=30)
    needs: list[VisitNeedIn] = Field(default_factory=list, max_length=30)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def unset(**constraints: Any) -> Any:
    """A PATCH key that may be left out but not sent as null (the record has no null there)."""
    return Field(None, json_schema_extra=_no_default, **constraints)


class VisitPatch(BaseModel):
    """Changes to a visit: only the keys sent change; organisation_ids and team, when sent,
    replace the whole list (send If-Match with the ETag). Needs are added with POST /needs."""

    model_config = ConfigDict(extra="forbid")

    visit_date: JsonDate = unset()
    status: VisitStatusValue = unset()  # type: ignore[valid-type]
    purpose: str = unset(max_length=300)
    summary: str = unset(max_length=20000)
    organisation_ids: list[Id] = unset(max_length=100)
    new_organisations: list[CompanyName] = unset(max_length=30)
    team: list[TeamMemberIn] = unset(max_length=30)


class OrganisationIn(BaseModel):
    """A new company, university, institute or government body of the token's centre.

    The web form's rules apply (a valid unified social credit code, an e-mail address). One
    that looks like an existing organisation is refused (409, naming it) unless
    allow_duplicate is true, as the web form asks for a confirmation."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    short_name: str = Field("", max_length=60)
    kind: OrganisationKindValue = "company"  # type: ignore[valid-type]
    credit_code: str | None = Field(None, max_length=40)
    district: str = Field("", max_length=60)
    industry: str = Field("", max_length=120)
    size: CompanySizeValue = ""  # type: ignore[valid-type]
    address: str = Field("", max_length=300)
    contact_name: str = Field("", max_length=60)
    contact_phone: str = Field("", max_length=40)
    contact_email: str = Field("", max_length=120)
    notes: str = Field("", max_length=5000)
    allow_duplicate: bool = Field(
        False, description="Create it even if it looks like one on record."
    )


class OrganisationPatch(BaseModel):
    """Changes to an organisation: only the keys sent change (send If-Match with the ETag);
    credit_code null removes the code."""

    model_config = ConfigDict(extra="forbid")

    name: str = unset(min_length=1, max_length=200, pattern=r"\S")
    short_name: str = unset(max_length=60)
    kind: OrganisationKindValue = unset()  # type: ignore[valid-type]
    credit_code: str | None = Field(None, max_length=40)
    district: str = unset(max_length=60)
    industry: str = unset(max_length=120)
    size: CompanySizeValue = unset()  # type: ignore[valid-type]
    address: str = unset(max_length=300)
    contact_name: str = unset(max_length=60)
    contact_phone: str = unset(max_length=40)
    contact_email: str = unset(max_length=120)
    notes: str = unset(max_length=5000)


class NeedStatusIn(BaseModel):
    """Move a need along its workflow, as on the need page: only the moves the workflow allows;
    a note is required to close it; a move back to an earlier step needs confirm_back."""

    model_config = ConfigDict(extra="forbid")

    to_status: NeedStatusValue  # type: ignore[valid-type]
    note: str = Field("", max_length=500)
    confirm_back: bool = False


class MatchIn(BaseModel):
    """Propose an expert or a resource for a need of the token's centre (status proposed)."""

    model_config = ConfigDict(extra="forbid")

    need_id: Id
    kind: Literal["expert", "resource"]
    candidate_id: Id = Field(description="The expert's or the resource's id.")
    note: str = Field("", max_length=300)


class MatchTransitionIn(BaseModel):
    """One step of a match, with the record the step needs: meeting_held its date (held_on, not
    after today) and place, attendees, minutes; agreement its amount (万元); declined who
    declined and why (a note when the reason is other); resolved whether the need stays open."""

    model_config = ConfigDict(extra="forbid")

    to_status: MatchStepValue  # type: ignore[valid-type]
    note: str = Field("", max_length=2000)
    held_on: JsonDate | None = None
    place: str = Field("", max_length=200)
    attendees: str = Field("", max_length=2000)
    minutes: str = Field("", max_length=10000)
    amount: Decimal | None = Field(None, ge=0, le=1_000_000, decimal_places=2)
    declined_by: Literal["company", "expert"] | None = None
    decline_reason: DeclineReasonValue | None = None  # type: ignore[valid-type]
    keep_need_open: bool = False


class ChangeHeaders(BaseModel):
    """If-Match (required) and an optional Idempotency-Key, for a POST that changes a record."""

    if_match: str | None = Field(
        None,
        alias="If-Match",
        description="The ETag of the version you read (required: 428 without, 412 if stale).",
    )
    idempotency_key: str | None = Field(
        None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Any unique string per intended write; a retry with it replays the answer.",
    )


class IfMatchHeaders(BaseModel):
    """If-Match, required by a PATCH."""

    if_match: str | None = Field(
        None,
        alias="If-Match",
        description="The ETag of the version you read (required: 428 without, 412 if stale).",
    )
