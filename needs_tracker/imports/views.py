"""Import pages (upload -> preview -> confirm, undo), exports, duplicates and merges."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import delete, select

from needs_tracker.audit.labels import column_label, value_label
from needs_tracker.centres.models import Centre
from needs_tracker.common.models import utcnow
from needs_tracker.common.permissions import (
    can_export,
    can_import,
    can_see_contacts,
    require,
)
from needs_tracker.common.queries import get_visible_or_404
from needs_tracker.common.scoping import get_scope
from needs_tracker.extensions import db
from needs_tracker.imports.base import ImportError_, limits_from_config
from needs_tracker.imports.commit import commit_import
from needs_tracker.imports.export import (
    EXPORT_KINDS,
    annotated_xlsx,
    count_export_rows,
    headers_of,
    iter_csv,
    iter_export_rows,
    template_bytes,
    write_xlsx,
)
from needs_tracker.imports.forms import (
    ConfirmForm,
    UndoForm,
    UploadForm,
    merge_choices,
    merge_field_labels,
    merge_form_class,
)
from needs_tracker.imports.merge import (
    MERGE_FIELDS,
    duplicate_pairs,
    find_duplicates,
    merge_organisations,
    unmerge_organisations,
)
from needs_tracker.imports.messages import file_error_message
from needs_tracker.imports.models import ImportBatch, ImportUpload, OrganisationMerge
from needs_tracker.imports.parsing import (
    FileError,
    ParsedFile,
    ParsedRow,
    Problem,
    row_from_json,
    row_to_json,
)
from needs_tracker.imports.plan import DUPLICATE_CHOICES, plan_import
from needs_tracker.imports.registry import adapter, kind_labels, parse_file
from needs_tracker.imports.undo import undo_import, undo_problems
from needs_tracker.organisations.models import Organisation
from needs_tracker.taxonomy.models import TechField

bp = Blueprint("imports", __name__, url_prefix="/imports")
export_bp = Blueprint("exports", __name__, url_prefix="/export")

UPLOAD_TTL = timedelta(hours=24)
PREVIEW_ROWS = 200
MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def _require_importer() -> None:
    require(can_import(current_user))


def _require_posted(form_class: type[FlaskForm]) -> None:
    """400 unless a button's form (CSRF only) was posted with a valid token."""
    if not form_class().validate_on_submit():
        abort(400)


def _require_writable(centre_id: int) -> None:
    """403 unless the user may write the centre's data (merges change two organisations)."""
    scope = get_scope(db.session)
    require(scope is None or scope.can_write(centre_id))


def _refused(exc: ImportError_) -> None:
    """A service refused: drop what it wrote and tell the user why."""
    db.session.rollback()
    flash(str(exc), "danger")


def _centre_choices() -> list[tuple[int, str]]:
    scope = get_scope(db.session)
    stmt = select(Centre.id, Centre.name).order_by(Centre.name)
    centres = [(i, n) for i, n in db.session.execute(stmt) if scope is None or scope.can_write(i)]
    return centres


def _serialise(parsed: ParsedFile) -> dict:
    return {
        "kind": parsed.kind,
        "rows": [[r.number, row_to_json(r.values)] for r in parsed.rows],
        "problems": [[p.code, p.row, p.column, p.params] for p in parsed.problems],
        "headers": parsed.headers,
        "ignored": parsed.ignored_headers,
        "header_cells": parsed.header_cells,
        "cells": [r.cells for r in parsed.rows],
    }


def _deserialise(payload: dict) -> ParsedFile:
    cells = payload.get("cells") or []
    return ParsedFile(
        kind=payload["kind"],
        rows=[
            ParsedRow(n, row_from_json(v), cells[i] if i < len(cells) else [])
            for i, (n, v) in enumerate(payload["rows"])
        ],
        problems=[Problem(c, r, col, params) for c, r, col, params in payload["problems"]],
        headers=payload["headers"],
        ignored_headers=payload["ignored"],
        header_cells=payload.get("header_cells") or [],
    )


def _purge_old_uploads() -> None:
    db.session.execute(delete(ImportUpload).where(ImportUpload.created_at < utcnow() - UPLOAD_TTL))


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    """Upload a spreadsheet (step 1), and the recent imports with their undo buttons."""
    _require_importer()
    form = UploadForm()
    centres = _centre_choices()
    form.set_choices(centres)
    if request.method == "GET":
        form.kind.data = request.args.get("kind") or next(iter(kind_labels()))
        form.centre_id.data = current_user.centre_id
    error = None
    if form.validate_on_submit():
        kind = form.kind.data
        centre_owned = adapter(kind).centre_owned
        centre_id = form.centre_id.data or current_user.centre_id
        if centre_owned and centre_id not in {c for c, _ in centres}:
            error = _("Choose the centre to import into.")
        else:
            upload = form.file.data
            data = upload.read(limits_from_config().max_bytes + 1)
            try:
                parsed = parse_file(
                    kind, upload.filename or "", data, form.sheet.data or None, limits_from_config()
                )
            except FileError as exc:
                error = file_error_message(exc)
            else:
                _purge_old_uploads()
                staged = ImportUpload(
                    token=secrets.token_urlsafe(24),
                    user_id=current_user.id,
                    centre_id=centre_id if centre_owned else None,
                    kind=kind,
                    filename=(upload.filename or "")[:200],
                    options={"create_duplicates": bool(form.create_duplicates.data)},
                    payload=_serialise(parsed),
                )
                db.session.add(staged)
                db.session.commit()
                return redirect(url_for(".preview", token=staged.token))
    batches = _visible_batches(limit=20)
    return render_template(
        "imports/index.html",
        form=form,
        error=error,
        batches=batches,
        kinds=kind_labels(),
        undo_form=UndoForm(),
    )


def _visible_batches(limit: int) -> list[ImportBatch]:
    scope = get_scope(db.session)
    stmt = select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit)
    if scope is not None and scope.read_centres is not None:
        stmt = stmt.where(
            ImportBatch.centre_id.in_(scope.read_centres) | ImportBatch.centre_id.is_(None)
        )
    return list(db.session.scalars(stmt))


def _upload_or_404(token: str) -> ImportUpload:
    staged = db.session.scalar(select(ImportUpload).where(ImportUpload.token == token))
    if staged is None or staged.user_id != current_user.id:
        abort(404)
    return staged


def _plan(staged: ImportUpload, form=None):
    """Plan a staged upload; with the confirm form, each possible duplicate's merge-or-keep
    (field dup-<row>, else dup-all for every row without its own choice)."""
    decisions: dict[int, str] = {}
    on_duplicate = None
    if form is not None:
        for key, value in form.items():
            number = key.removeprefix("dup-")
            if number.isdigit() and value in DUPLICATE_CHOICES:
                decisions[int(number)] = value
        if form.get("dup-all") in DUPLICATE_CHOICES:
            on_duplicate = form["dup-all"]
    return plan_import(
        _deserialise(staged.payload),
        staged.centre_id,
        create_duplicates=bool((staged.options or {}).get("create_duplicates")),
        on_duplicate=on_duplicate,
        decisions=decisions,
    )


def describe_changes(kind: str, changes: dict[str, tuple[Any, Any]]) -> list[tuple[str, str, str]]:
    """A row's changes as (label, before, after) in the user's language, not keys and codes.

    Column names and code labels come from the audit trail's catalogue (one source); technical
    fields show by name; anything else the kind's adapter shows (a visit's team).
    """
    a = adapter(kind)
    field_names: dict[int, str] = {}
    if "fields" in changes:
        ids = {i for pair in changes["fields"] for i in (pair or [])}
        rows = db.session.execute(select(TechField.id, TechField.name).where(TechField.id.in_(ids)))
        field_names = {fid: name for fid, name in rows}

    def show(key: str, value: Any) -> str:
        if value is None or value == "" or value == []:
            return "—"
        if key == "fields":
            return "、".join(field_names.get(i, str(i)) for i in value)
        shown = a.show_value(key, value)
        return shown if shown is not None else value_label(kind, key, value)

    return [
        (str(a.change_labels.get(key) or column_label(key, kind)), show(key, old), show(key, new))
        for key, (old, new) in changes.items()
    ]


@bp.route("/preview/<token>")
@login_required
def preview(token: str):
    """Step 2: what confirming will create and update; duplicates; every error."""
    _require_importer()
    staged = _upload_or_404(token)
    if staged.batch_id:
        return redirect(url_for(".batch", id=staged.batch_id))
    try:
        plan = _plan(staged)
    except ImportError_ as exc:
        abort(400, str(exc))
    db.session.rollback()
    centre = db.session.get(Centre, staged.centre_id) if staged.centre_id else None
    return render_template(
        "imports/preview.html",
        staged=staged,
        plan=plan,
        centre=centre,
        kinds=kind_labels(),
        form=ConfirmForm(),
        limit=PREVIEW_ROWS,
        describe_changes=describe_changes,
    )


@bp.route("/preview/<token>/confirm", methods=["POST"])
@login_required
def confirm(token: str):
    """Step 3: write the import, all rows or none."""
    _require_importer()
    staged = _upload_or_404(token)
    _require_posted(ConfirmForm)
    if staged.batch_id:
        return redirect(url_for(".batch", id=staged.batch_id))
    try:
        plan = _plan(staged, request.form)
        batch = commit_import(plan, current_user, staged.filename)
    except ImportError_ as exc:
        _refused(exc)
        return redirect(url_for(".preview", token=token))
    staged.batch_id = batch.id
    staged.payload = {}
    db.session.commit()
    counts = {"created": batch.created_count, "updated": batch.updated_count}
    flash(_("Imported: %(created)s created, %(updated)s updated.", **counts), "success")
    return redirect(url_for(".batch", id=batch.id))


@bp.route("/preview/<token>/rejected.xlsx")
@login_required
def rejected(token: str):
    """The rows with errors, as written in the file, each error in a last column and as a
    comment on its cell: fix them all, then upload this file (or the corrected original)."""
    _require_importer()
    staged = _upload_or_404(token)
    if staged.batch_id:
        abort(404)
    try:
        plan = _plan(staged)
    except ImportError_ as exc:
        abort(400, str(exc))
    db.session.rollback()
    header = plan.header_cells or headers_of(plan.kind)
    rows = [
        (r.cells, list(zip(r.error_columns, r.errors, strict=True))) for r in plan.rows if r.errors
    ]
    data = annotated_xlsx(header, rows, _("Errors"))
    return _download(data, f"rejected-{plan.kind}.xlsx", "xlsx")


def _batch_or_404(id: int) -> ImportBatch:
    batch = db.session.get(ImportBatch, id)
    scope = get_scope(db.session)
    if batch is None or (
        batch.centre_id is not None and scope and not scope.can_read(batch.centre_id)
    ):
        abort(404)
    return batch


@bp.route("/batches/<int:id>")
@login_required
def batch(id: int):
    """One import: counts, its records, and whether it can still be undone."""
    _require_importer()
    b = _batch_or_404(id)
    problems = undo_problems(b) if b.undone_at is None else []
    return render_template(
        "imports/batch.html",
        batch=b,
        kinds=kind_labels(),
        problems=list(dict.fromkeys(problems))[:20],
        form=UndoForm(),
    )


@bp.route("/batches/<int:id>/skipped.xlsx")
@login_required
def skipped(id: int):
    """The rows an import skipped, as written in the file, with the reason in a last column."""
    _require_importer()
    b = _batch_or_404(id)
    payload = b.skipped_rows or {}
    if not payload.get("rows"):
        abort(404)
    header = payload.get("header") or headers_of(b.kind)
    rows = [(r["cells"], [(None, r["reason"])]) for r in payload["rows"]]
    data = annotated_xlsx(header, rows, _("Why skipped"))
    return _download(data, f"skipped-{b.kind}-{b.id}.xlsx", "xlsx")


@bp.route("/batches/<int:id>/undo", methods=["POST"])
@login_required
def undo(id: int):
    """Undo an import as a unit."""
    _require_importer()
    b = _batch_or_404(id)
    _require_posted(UndoForm)
    try:
        undo_import(b, current_user)
    except ImportError_ as exc:
        _refused(exc)
        return redirect(url_for(".batch", id=id))
    db.session.commit()
    flash(_("The import was undone."), "success")
    return redirect(url_for(".batch", id=id))


@bp.route("/template/<kind>.<fmt>")
@login_required
def template(kind: str, fmt: str):
    """An empty spreadsheet with the headers of kind."""
    if kind not in EXPORT_KINDS or fmt not in MIMETYPES:
        abort(404)
    return _download(template_bytes(kind, fmt), f"template-{kind}.{fmt}", fmt)


def _chunks(spool: Any) -> Iterator[bytes]:
    """The file's bytes in 64 KiB pieces; closes the file when done (or abandoned)."""
    try:
        while piece := spool.read(64 * 1024):
            yield piece
    finally:
        spool.close()


def _download(data: Any, filename: str, fmt: str) -> Response:
    response = Response(data, mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# The path variable is not called "kind": organisations and resources filter on a
# query-string "kind" (company, university, ...) that must pass through untouched.
@export_bp.route("/<what>.<fmt>")
@login_required
def export(what: str, fmt: str):
    """Export a list with the list page's filters (same query string)."""
    kind = what
    if kind not in EXPORT_KINDS or fmt not in MIMETYPES:
        abort(404)
    require(can_export(current_user))
    # Counted first, so the response says how many rows it will write before it starts.
    total = count_export_rows(kind, request.args)
    headers = headers_of(kind)
    rows = iter_export_rows(kind, request.args)
    private = adapter(kind).contact_columns
    if private and not can_see_contacts(current_user):
        # Contact columns (an expert's phone and e-mail) go only to the roles that contact them.
        hidden = {i for i, spec in enumerate(EXPORT_KINDS[kind]) if spec.name in private}
        rows = (["" if i in hidden else v for i, v in enumerate(row)] for row in rows)
    stamp = utcnow().strftime("%Y%m%d")
    # Rows are read in batches and written to a temporary file (spilled to disk past 1 MiB),
    # which is then sent in pieces: memory stays constant for 300,000 rows, and the
    # database work is over before the response starts.
    spool = tempfile.SpooledTemporaryFile(max_size=1 << 20)  # noqa: SIM115 closed by _chunks
    if fmt == "xlsx":
        write_xlsx(spool, headers, rows, kind)
    else:
        for piece in iter_csv(headers, rows):
            spool.write(piece)
    spool.seek(0)
    response = _download(_chunks(spool), f"{kind}-{stamp}.{fmt}", fmt)
    response.headers["X-Export-Rows"] = str(total)
    return response


# ---------------------------------------------------------------- duplicates and merge


def duplicate_warning(data: dict, centre_id: int) -> Markup | None:
    """Hook for the organisation create view: a warning when the company may already exist.

    Returns None when there is no look-alike or the user ticked "create anyway"
    (form field confirm_duplicate); else HTML to show inside the form, with that checkbox.
    """
    if request.form.get("confirm_duplicate"):
        return None
    hits = find_duplicates(data.get("name") or "", data.get("credit_code"), centre_id)
    if not hits:
        return None
    return Markup(render_template("imports/_duplicate_warning.html", hits=hits))


@bp.route("/duplicates")
@login_required
def duplicates():
    """Possible duplicate organisations in the user's centre, with merge links and past merges."""
    _require_importer()
    centre_id = request.args.get("centre", type=int) or current_user.centre_id
    if centre_id is None or centre_id not in {c for c, _ in _centre_choices()}:
        abort(404)
    pairs = duplicate_pairs(centre_id)
    merges = db.session.scalars(
        select(OrganisationMerge)
        .where(OrganisationMerge.centre_id == centre_id)
        .order_by(OrganisationMerge.id.desc())
        .limit(50)
    ).all()
    org_ids = {m.survivor_id for m in merges} | {m.merged_id for m in merges}
    names = dict(
        db.session.execute(
            select(Organisation.id, Organisation.name)
            .where(Organisation.id.in_(org_ids))
            .execution_options(include_deleted=True)
        ).all()
    )
    return render_template(
        "imports/duplicates.html", pairs=pairs, merges=merges, names=names, form=UndoForm()
    )


@bp.route("/merge", methods=["GET", "POST"])
@login_required
def merge():
    """Merge ?merged=<id> into ?survivor=<id>: choose the surviving values, then confirm."""
    _require_importer()
    survivor = get_visible_or_404(Organisation, request.args.get("survivor"))
    merged = get_visible_or_404(Organisation, request.args.get("merged"))
    if survivor.id == merged.id or survivor.centre_id != merged.centre_id:
        abort(404)
    _require_writable(survivor.centre_id)
    fields = [f for f in MERGE_FIELDS if getattr(survivor, f) != getattr(merged, f)]
    form = merge_form_class(fields)()
    if form.validate_on_submit():
        picks = merge_choices(form, fields)
        values = {f: getattr(merged, f) for f, pick in picks.items() if pick == "merged"}
        try:
            record = merge_organisations(survivor, merged, values, current_user)
        except ImportError_ as exc:
            _refused(exc)
        else:
            db.session.commit()
            names = {"merged": merged.name, "survivor": survivor.name}
            flash(_("Merged %(merged)s into %(survivor)s.", **names), "success")
            return redirect(url_for(".duplicates", centre=record.centre_id))
    return render_template(
        "imports/merge.html",
        form=form,
        survivor=survivor,
        merged=merged,
        fields=fields,
        labels=merge_field_labels(),
    )


@bp.route("/merges/<int:id>/undo", methods=["POST"])
@login_required
def unmerge(id: int):
    """Reverse a merge."""
    _require_importer()
    record = get_visible_or_404(OrganisationMerge, id)
    _require_writable(record.centre_id)
    _require_posted(UndoForm)
    try:
        merged = unmerge_organisations(record, current_user)
    except ImportError_ as exc:
        _refused(exc)
    else:
        db.session.commit()
        flash(_("The merge was reversed: %(name)s is back.", name=merged.name), "success")
    return redirect(url_for(".duplicates", centre=record.centre_id))
