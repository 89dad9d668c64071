"""Attachment pages: upload to a visit or need, download (same centre only), delete."""

from __future__ import annotations

import io
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from markupsafe import Markup
from wtforms import SelectField

from needs_tracker.common.forms import select_choices
from needs_tracker.common.permissions import (
    can_attach,
    can_delete_records,
    require,
)
from needs_tracker.common.queries import get_visible, get_visible_or_404
from needs_tracker.extensions import db
from needs_tracker.needs.models import Need
from needs_tracker.ops.models import Attachment
from needs_tracker.ops.storage import (
    AttachmentError,
    attachments_of,
    delete_attachment,
    file_path,
    store_attachment,
)
from needs_tracker.visits.models import Visit

bp = Blueprint("attachments", __name__, url_prefix="/attachments")

OWNERS: dict[str, tuple[Any, str]] = {
    "visit": (Visit, "visits.detail"),
    "need": (Need, "needs.detail"),
}

KIND_LABELS = {
    "photo": _l("Photo"),
    "minutes": _l("Minutes"),
    "agreement": _l("Signed agreement"),
    "other": _l("Other"),
}


class AttachmentForm(FlaskForm):
    """Upload one file."""

    file = FileField(_l("File"), validators=[FileRequired(message=_l("Choose a file."))])
    kind = SelectField(_l("Kind"), choices=select_choices(list(KIND_LABELS.items())))


def _owner_or_404(owner_type: str, owner_id: int) -> tuple[Any, str]:
    if owner_type not in OWNERS:
        abort(404)
    model, endpoint = OWNERS[owner_type]
    return get_visible_or_404(model, owner_id), endpoint


@bp.route("/<owner_type>/<int:owner_id>", methods=["POST"])
@login_required
def upload(owner_type: str, owner_id: int):
    """Attach a file to a visit or need of the user's centre."""
    owner, endpoint = _owner_or_404(owner_type, owner_id)
    require(can_attach(current_user))
    form = AttachmentForm()
    if not form.validate_on_submit():
        errors = [e for errs in form.errors.values() for e in errs]
        flash(" ".join(str(e) for e in errors) or _("The upload was not valid."), "danger")
        return redirect(url_for(endpoint, id=owner.id))
    upload_file = form.file.data
    max_bytes = current_app.config["ATTACHMENT_MAX_BYTES"]
    data = upload_file.stream.read(max_bytes + 1)
    try:
        att = store_attachment(
            owner,
            owner_type,
            upload_file.filename or "",
            data,
            form.kind.data,
            current_user,
            max_bytes,
        )
    except AttachmentError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for(endpoint, id=owner.id))
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        file_path(att).unlink(missing_ok=True)
        raise
    flash(_("Attached %(name)s.", name=att.original_name), "success")
    return redirect(url_for(endpoint, id=owner.id))


def _visible_attachment(att_id: int) -> Attachment:
    att = get_visible_or_404(Attachment, att_id)
    model = OWNERS.get(att.owner_type, (None, ""))[0]
    if model is None or get_visible(model, att.owner_id) is None:
        abort(404)
    return att


@bp.route("/<int:att_id>")
@login_required
def download(att_id: int):
    """The file, to users who see its visit or need; always as a download, never sniffed."""
    att = _visible_attachment(att_id)
    path = file_path(att)
    if not path.is_file():
        current_app.logger.error("attachment %s: file missing at %s", att.id, path)
        abort(404)
    # Files are small (ATTACHMENT_MAX_BYTES): read them whole, so no handle outlives the request.
    response = send_file(
        io.BytesIO(path.read_bytes()),
        mimetype=att.content_type,
        as_attachment=True,
        download_name=att.original_name,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:att_id>/delete", methods=["POST"])
@login_required
def delete(att_id: int):
    """Move an attachment to the trash (its uploader, coordinators and admins)."""
    att = _visible_attachment(att_id)
    require(
        can_delete_records(current_user)
        or (can_attach(current_user) and att.uploaded_by_id == current_user.id)
    )
    delete_attachment(att, current_user)
    db.session.commit()
    flash(_("Attachment deleted."), "success")
    endpoint = OWNERS[att.owner_type][1]
    return redirect(url_for(endpoint, id=att.owner_id))


def attachment_panel(owner_type: str):
    """Panel for a visit or need page: its files and, for editors, an upload form."""

    def panel(owner: Any, user: Any) -> Markup | None:
        if not user.is_authenticated:
            return None
        form = AttachmentForm() if can_attach(user) else None
        return Markup(
            render_template(
                "ops/_attachments_panel.html",
                owner=owner,
                owner_type=owner_type,
                attachments=attachments_of(owner_type, owner.id),
                form=form,
                kind_labels=KIND_LABELS,
                can_delete=lambda a: (
                    can_delete_records(user) or (can_attach(user) and a.uploaded_by_id == user.id)
                ),
            )
        )

    return panel
