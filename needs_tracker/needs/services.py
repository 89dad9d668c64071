"""Need services: create, update, delete and move through the status workflow (flush, not
commit)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, or_, select

from needs_tracker.auth.models import User
from needs_tracker.common.choices import NeedStatus, NeedType, Urgency
from needs_tracker.common.listing import filter_date_range, filter_field
from needs_tracker.common.models import bump_version, soft_delete, utcnow
from needs_tracker.extensions import db
from needs_tracker.needs.models import Need, NeedStatusChange, need_fields
from needs_tracker.needs.search import need_text_clause
from needs_tracker.organisations.models import Organisation
from needs_tracker.taxonomy.models import TechField

S = NeedStatus

# The manual workflow. Matching moves needs along the same edges through transition_need.
ALLOWED_TRANSITIONS: dict[NeedStatus, set[NeedStatus]] = {
    S.COLLECTED: {S.ASSESSING, S.MATCHING, S.CLOSED},
    S.ASSESSING: {S.MATCHING, S.COLLECTED, S.CLOSED},
    S.MATCHING: {S.MATCHED, S.ASSESSING, S.CLOSED},
    S.MATCHED: {S.IN_PROGRESS, S.MATCHING, S.CLOSED},
    S.IN_PROGRESS: {S.RESOLVED, S.MATCHED, S.CLOSED},
    S.RESOLVED: {S.IN_PROGRESS},
    S.CLOSED: {S.COLLECTED},
}


# The forward order of the manual workflow; closing and reopening stand outside it.
FORWARD_ORDER = [S.COLLECTED, S.ASSESSING, S.MATCHING, S.MATCHED, S.IN_PROGRESS, S.RESOLVED]


def allowed_targets(current: NeedStatus | str) -> list[NeedStatus]:
    """Statuses a need in current may move to by hand, in workflow order."""
    allowed = ALLOWED_TRANSITIONS[NeedStatus(current)]
    return [s for s in NeedStatus if s in allowed]


def is_backward_move(current: NeedStatus | str, target: NeedStatus | str) -> bool:
    """True when target is an earlier step than current (undoing progress needs a confirmation)."""
    cur, tgt = NeedStatus(current), NeedStatus(target)
    if cur not in FORWARD_ORDER or tgt not in FORWARD_ORDER:
        return False
    return FORWARD_ORDER.index(tgt) < FORWARD_ORDER.index(cur)


class TransitionError(ValueError):
    """A status change that the workflow does not allow; the message is for the user.

    field names the value at fault (the target status, the note, the confirmation), so that
    the API can name it in its error document.
    """

    def __init__(self, message: str, field: str = "to_status") -> None:
        super().__init__(message)
        self.field = field


# What a need gets when its source leaves a value out (a blank import cell, a CLI call).
DEFAULT_NEED_TYPE = NeedType.RND.value
DEFAULT_URGENCY = Urgency.LOW.value
INITIAL_STATUS = S.COLLECTED.value


@dataclass
class NeedData:
    """Validated values of a need, as forms, imports and the CLI provide them."""

    organisation_id: int
    title: str
    description: str = ""
    field_ids: list[int] | None = None
    need_type: str = DEFAULT_NEED_TYPE
    urgency: str = DEFAULT_URGENCY
    budget: Decimal | None = None
    collected_on: date | None = None
    visit_id: int | None = None


def need_values(data: Mapping[str, Any], centre_id: int | None, actor_id: int | None) -> dict:
    """The stored columns of a new need, from any source: the one place defaults are applied.

    create_need (forms, the visit's inline rows, the CLI, the demo) and the import's bulk
    INSERT both build a need's row here, so a field added to needs is stored by both or by
    neither. Blank values take the defaults; a new need starts collected.
    """
    return {
        "centre_id": centre_id,
        "organisation_id": data["organisation_id"],
        "visit_id": data.get("visit_id") or None,
        "title": data["title"],
        "description": data.get("description") or "",
        "need_type": data.get("need_type") or DEFAULT_NEED_TYPE,
        "urgency": data.get("urgency") or DEFAULT_URGENCY,
        "budget": data.get("budget"),
        "collected_on": data.get("collected_on") or date.today(),
        "status": INITIAL_STATUS,
        "created_by_id": actor_id,
    }


def first_status_change(actor_id: int | None, note: str = "") -> dict[str, Any]:
    """The history entry every new need starts with (from nothing to collected)."""
    return {
        "from_status": None,
        "to_status": INITIAL_STATUS,
        "changed_by_id": actor_id,
        "note": note,
    }


def _fields(ids: list[int] | None) -> list[TechField]:
    if not ids:
        return []
    return list(db.session.scalars(select(TechField).where(TechField.id.in_(ids))))


def create_need(data: NeedData, centre_id: int, actor: User | None) -> Need:
    """Create a need in status collected, with its first history entry."""
    actor_id = actor.id if actor else None
    need = Need(**need_values(asdict(data), centre_id, actor_id))
    need.fields = _fields(data.field_ids)
    need.history.append(NeedStatusChange(**first_status_change(actor_id)))
    db.session.add(need)
    db.session.flush()
    return need


def update_need(need: Need, data: NeedData, actor: User | None) -> None:
    """Overwrite a need's editable values (status is changed by transition_need only)."""
    need.organisation_id = data.organisation_id
    need.visit_id = data.visit_id
    need.title = data.title
    need.description = data.description or ""
    need.need_type = data.need_type
    need.urgency = data.urgency
    need.budget = data.budget
    if data.collected_on:
        need.collected_on = data.collected_on
    before = sorted(f.id for f in need.fields)
    need.fields = _fields(data.field_ids)
    if sorted(f.id for f in need.fields) != before:
        bump_version(need)
    db.session.flush()


def delete_need(need: Need, actor: User | None) -> None:
    """Move need to the trash (its history, matches and attachments stay with it)."""
    soft_delete(need)
    db.session.flush()


def transition_need(
    need: Need,
    to_status: NeedStatus | str,
    actor: User | None,
    note: str = "",
    *,
    force: bool = False,
) -> NeedStatusChange:
    """Move need to to_status, recording who and why; refuse moves the workflow forbids.

    force skips the edge check (used when the matching workflow drives the status).
    """
    target = NeedStatus(to_status)
    current = NeedStatus(need.status)
    if target == current:
        raise TransitionError(_("The need is already in this status."))
    if not force and target not in ALLOWED_TRANSITIONS[current]:
        raise TransitionError(
            _(
                "A need cannot go from “%(from)s” to “%(to)s”.",
                **{"from": current.label, "to": target.label},
            )
        )
    if target == S.CLOSED and not note.strip():
        raise TransitionError(_("Give a reason for closing the need."), field="note")
    change = NeedStatusChange(
        from_status=current.value,
        to_status=target.value,
        changed_by_id=actor.id if actor else None,
        note=note.strip()[:500],
    )
    need.history.append(change)
    need.status = target.value
    need.status_changed_at = utcnow()
    need.close_reason = note.strip()[:300] if target == S.CLOSED else ""
    db.session.flush()
    return change


def change_need_status(
    need: Need,
    to_status: NeedStatus | str,
    actor: User | None,
    note: str = "",
    *,
    confirm_back: bool = False,
) -> NeedStatusChange:
    """A hand-made status change (the need page, the API): a move back to an earlier step
    undoes progress and is refused unless confirmed; then transition_need's rules apply."""
    if is_backward_move(need.status, to_status) and not confirm_back:
        raise TransitionError(
            _(
                "Moving the need back from “%(from)s” to “%(to)s” undoes progress: "
                "tick the confirmation to do it.",
                **{"from": NeedStatus(need.status).label, "to": NeedStatus(to_status).label},
            ),
            field="confirm_back",
        )
    return transition_need(need, to_status, actor, note)


def need_data_from_form(form: Any, organisation_id: int | None = None) -> NeedData:
    """Build NeedData from a NeedForm-like form (a visit's inline row passes its company)."""
    return NeedData(
        organisation_id=form.organisation_id.data if organisation_id is None else organisation_id,
        title=form.title.data,
        description=form.description.data or "",
        field_ids=list(form.field_ids.data or []),
        need_type=form.need_type.data,
        urgency=form.urgency.data,
        budget=getattr(form, "budget", None) and form.budget.data,
        collected_on=getattr(form, "collected_on", None) and form.collected_on.data,
        visit_id=(getattr(form, "visit_id", None) and form.visit_id.data) or None,
    )


def filter_needs(stmt: Select, args: Mapping[str, str], errors: list[str]) -> Select:
    """The need list's filters (status, field, district, date range); stmt joins Organisation.

    Shared by the list page and its export; unreadable dates are reported in errors.
    """
    status = args.get("status", "")
    if status in NeedStatus.labels():
        stmt = stmt.where(Need.status == status)
    stmt = filter_field(stmt, args, need_fields, Need)
    district = args.get("district", "").strip()
    if district:
        stmt = stmt.where(Organisation.district == district)
    return filter_date_range(stmt, Need.collected_on, errors, args)


def search_needs(stmt: Select, q: str) -> Select:
    """Needs whose title or description contains q (through the search index) or whose
    company's name does; the list page's and the export's search."""
    dialect = db.session.get_bind().dialect.name
    companies = select(Organisation.id).where(Organisation.name.icontains(q, autoescape=True))
    return stmt.where(or_(need_text_clause(dialect, q), Need.organisation_id.in_(companies)))
