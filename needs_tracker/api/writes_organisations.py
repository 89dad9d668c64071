"""API writes of organisations: POST /organisations and PATCH /organisations/{id}, checked by
the web's OrganisationForm and saved by the organisations service."""

from __future__ import annotations

from typing import Any

from flask import Response, g
from flask_babel import gettext as _
from spectree import Response as Resp

from needs_tracker.api import schemas as s
from needs_tracker.api import serializers as ser
from needs_tracker.api.views import _ORGS, _get_or_404, bp, spec
from needs_tracker.api.writes import (
    CHANGE_ERRORS,
    WRITE_ERRORS,
    committed,
    form_data,
    idempotent,
    in_caller_language,
    refuse,
    require_if_match,
    require_json,
    validate_form,
    written,
)
from needs_tracker.common import hooks
from needs_tracker.common.forms import data_from_form
from needs_tracker.organisations.forms import OrganisationForm
from needs_tracker.organisations.models import Organisation
from needs_tracker.organisations.services import FIELDS, OrganisationData


def organisation_form(values: dict[str, Any]) -> OrganisationForm:
    """The web's OrganisationForm filled with values, validated (422 naming refused fields)."""
    form = OrganisationForm(
        formdata=form_data({k: values.get(k) for k in FIELDS}), meta={"csrf": False}
    )
    validate_form(form)
    return form


def refuse_lookalikes(name: str, credit_code: str | None) -> None:
    """409 naming the organisations on record that this one may be (the web form asks the
    user to confirm such a create; the API asks for allow_duplicate)."""
    for find in hooks.ORGANISATION_LOOKALIKES.items():
        hits = find(name, credit_code, g.api_token_centre_id)
        if hits:
            names = "、".join(_("%(name)s (id %(id)s)", name=o.name, id=o.id) for o in hits[:5])
            raise refuse(
                "name",
                _(
                    "This organisation may already exist: %(names)s. If it is a different "
                    'one, send "allow_duplicate": true.',
                    names=names,
                ),
                status=409,
            )


def _organisation_written(org_id: int, status: int) -> Response:
    return written(
        _ORGS,
        Organisation,
        org_id,
        ser.organisation_json,
        status,
        f"/api/v1/organisations/{org_id}",
    )


@bp.post("/organisations")
@spec.validate(
    json=s.OrganisationIn,
    headers=s.IdempotencyHeaders,
    resp=Resp(HTTP_201=s.OrganisationOut, HTTP_409=s.Problem, **WRITE_ERRORS),
    tags=["organisations"],
)
def create_organisation_view(json: s.OrganisationIn):
    """Create a company, university, institute or government body of the token's centre
    (write token). One that looks like an organisation on record is 409, naming it, unless
    allow_duplicate is true. Idempotency-Key makes retries safe."""
    from needs_tracker.organisations.services import create_organisation

    require_json(json)

    def write() -> Response:
        with in_caller_language():
            form = organisation_form(json.model_dump(mode="json"))
            if not json.allow_duplicate:
                refuse_lookalikes(form.name.data, form.credit_code.data)
            org = create_organisation(
                data_from_form(OrganisationData, form), g.api_token_centre_id, None
            )
        return _organisation_written(org.id, 201)

    return idempotent(write)


@bp.patch("/organisations/<int:organisation_id>")
@spec.validate(
    json=s.OrganisationPatch,
    headers=s.IfMatchHeaders,
    resp=Resp(HTTP_200=s.OrganisationOut, **CHANGE_ERRORS),
    tags=["organisations"],
)
def update_organisation_view(organisation_id: int, json: s.OrganisationPatch):
    """Change an organisation (write token; If-Match required): only the keys sent change."""
    from needs_tracker.organisations.services import update_organisation

    require_json(json)
    org = _get_or_404(_ORGS, Organisation, organisation_id)
    current = ser.organisation_json(org)
    require_if_match(current)
    values = {k: current[k] for k in FIELDS}
    values.update(json.model_dump(mode="json", exclude_unset=True))

    def write() -> Response:
        with in_caller_language():
            update_organisation(
                org, data_from_form(OrganisationData, organisation_form(values)), None
            )
        return _organisation_written(org.id, 200)

    return committed(write)
