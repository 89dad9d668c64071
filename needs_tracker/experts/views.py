"""Expert pages (the shared pool): list, detail, create, edit, delete, personal data."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from needs_tracker.common.hooks import EXPERT_PANELS
from needs_tracker.common.listing import ListSpec
from needs_tracker.common.permissions import can_handle_personal_data, require
from needs_tracker.common.queries import get_visible_or_404
from needs_tracker.experts.forms import ExpertForm
from needs_tracker.experts.models import Expert
from needs_tracker.experts.pool_views import PoolKind, add_pool_pages
from needs_tracker.experts.services import (
    EXPERT_FIELDS,
    EXPERT_SEARCH_COLUMNS,
    ExpertData,
    create_expert,
    delete_expert,
    erase_personal_data,
    filter_experts,
    personal_data,
    update_expert,
)
from needs_tracker.extensions import db

experts_bp = Blueprint("experts", __name__, url_prefix="/experts")

EXPERT_LIST = ListSpec(
    sortable={
        "name": Expert.name,
        "organisation": Expert.organisation,
        "created": Expert.created_at,
    },
    default_sort="name",
    search_columns=list(EXPERT_SEARCH_COLUMNS),
)

add_pool_pages(
    PoolKind(
        blueprint=experts_bp,
        model=Expert,
        noun="expert",
        form=ExpertForm,
        data=ExpertData,
        list_spec=EXPERT_LIST,
        filter_list=filter_experts,
        create=create_expert,
        update=update_expert,
        delete=delete_expert,
        stale_fields=EXPERT_FIELDS,
        panels=EXPERT_PANELS,
    )
)


@experts_bp.route("/<int:id>/personal-data")
@login_required
def personal_data_export(id: int):
    """Admins: everything held about the person, as JSON (a request under 个人信息保护法)."""
    require(can_handle_personal_data(current_user))
    expert = get_visible_or_404(Expert, id, selectinload(Expert.fields))
    body = json.dumps(personal_data(expert), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="expert-{expert.id}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@experts_bp.route("/<int:id>/erase", methods=["POST"])
@login_required
def erase(id: int):
    """Admins: erase the person's data on request; matches keep their history."""
    require(can_handle_personal_data(current_user))
    expert = get_visible_or_404(Expert, id)
    erase_personal_data(expert)
    db.session.commit()
    flash(_("The personal data of expert #%(id)d has been erased.", id=expert.id), "success")
    return redirect(url_for(".index"))
