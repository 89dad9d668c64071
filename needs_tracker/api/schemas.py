"""Pydantic models of the API's requests and responses: the OpenAPI document is built from them."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict

from needs_tracker.common.choices import NeedType, Urgency

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
