"""API writes of matches: POST /matches (propose an expert or a resource for a need) and
POST /matches/{id}/transitions (one step), with the need page's forms and the matching
service's workflow (allowed steps, each step's record, the need following its match)."""

from __future__ import annotations

from flask import Response
from spectree import Response as Resp
from sqlalchemy import select

from needs_tracker.api import schemas as s
from needs_tracker.api import serializers as ser
from needs_tracker.api.problems import ApiProblem, FieldError
from needs_tracker.api.views import _MATCHES, _get_or_404, bp, spec
from needs_tracker.api.writes import (
    CHANGE_ERRORS,
    WRITE_ERRORS,
    form_data,
    idempotent,
    in_caller_language,
    refuse,
    require_if_match,
    require_json,
    validate_form,
    written,
)
from needs_tracker.extensions import db
from needs_tracker.matching.models import Match
from needs_tracker.needs.models import Need


def _match_written(match_id: int, status: int) -> Response:
    return written(_MATCHES, Match, match_id, ser.match_json, status, f"/api/v1/matches/{match_id}")


@bp.post("/matches")
@spec.validate(
    json=s.MatchIn,
    headers=s.IdempotencyHeaders,
    resp=Resp(HTTP_201=s.MatchOut, **WRITE_ERRORS),
    tags=["matches"],
)
def create_match_view(json: s.MatchIn):
    """Propose an expert or a resource for a need of the token's centre (write token), as the
    need page does: the need moves to matching; a pair already active is refused (422).
    Idempotency-Key makes retries safe."""
    from needs_tracker.matching.forms import CandidateForm
    from needs_tracker.matching.services import MatchError, propose_match, suggestion_for

    require_json(json)

    def write() -> Response:
        # Another centre's need is no choice of this token's: named, as a form would.
        need = db.session.scalar(select(Need).where(Need.id == json.need_id))
        if need is None:
            raise ApiProblem(422, [FieldError("need_id", "reference")])
        with in_caller_language():
            form = CandidateForm(formdata=form_data(json.model_dump()), meta={"csrf": False})
            validate_form(form)
            kind, candidate_id = form.kind.data, form.candidate_id.data
            try:
                match = propose_match(
                    need,
                    kind,
                    candidate_id,
                    None,
                    form.note.data or "",
                    suggestion_for(need, kind, candidate_id),
                )
            except MatchError as exc:
                raise refuse(exc.field or "candidate_id", exc) from None
        return _match_written(match.id, 201)

    return idempotent(write)


@bp.post("/matches/<int:match_id>/transitions")
@spec.validate(
    json=s.MatchTransitionIn,
    headers=s.ChangeHeaders,
    resp=Resp(HTTP_200=s.MatchOut, **CHANGE_ERRORS),
    tags=["matches"],
)
def transition_match_view(match_id: int, json: s.MatchTransitionIn):
    """Move a match one step (write token; If-Match required), as the need page does: only
    the workflow's next steps, each with its record (a held meeting's date, not after today;
    who declined and why); the need follows. Answers the match with its new transition."""
    from needs_tracker.matching.forms import TransitionForm
    from needs_tracker.matching.services import MatchError, transition_match

    require_json(json)

    def write() -> Response:
        match = _get_or_404(_MATCHES, Match, match_id)
        require_if_match(ser.match_json(match))
        with in_caller_language():
            form = TransitionForm(
                formdata=form_data(json.model_dump(mode="json")), meta={"csrf": False}
            )
            validate_form(form)
            target = form.to_status.data
            try:
                transition_match(
                    match, target, None, form.note.data or "", **form.step_record(target)
                )
            except MatchError as exc:
                raise refuse(exc.field or "to_status", exc) from None
        return _match_written(match.id, 200)

    return idempotent(write)
