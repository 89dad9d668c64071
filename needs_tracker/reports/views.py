"""Report pages: preview a period, edit the text (a new revision), download docx/xlsx/md/json."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from needs_tracker.centres.models import Centre
from needs_tracker.common.forms import select_choices
from needs_tracker.common.permissions import can_edit_reports, can_export, require
from needs_tracker.extensions import db
from needs_tracker.reports.access import is_cross_centre, pick_centre, visible_centres
from needs_tracker.reports.builder import Period
from needs_tracker.reports.export import FORMATS, render
from needs_tracker.reports.forms import EditForm, GenerateForm, PeriodForm
from needs_tracker.reports.kpis import METRICS
from needs_tracker.reports.services import (
    EditedSnapshotExists,
    edit_snapshot,
    generate_snapshot,
    list_snapshots,
    report_bundle,
    report_scope,
)
from needs_tracker.visits.models import Visit

bp = Blueprint("reports", __name__, url_prefix="/reports")

MIME = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "md": "text/markdown; charset=utf-8",
    "json": "application/json; charset=utf-8",
}


# the report page's summary: the figures the documents show, named alike (one label source)
METRIC_LABELS = [(m.figure, m.label) for m in METRICS if m.on_page]


ALL_CENTRES = "all"


def _default_month(centre: Centre | None) -> str:
    last = db.session.scalar(
        select(func.max(Visit.visit_date)).where(
            report_scope(centre).where(Visit.centre_id), Visit.status == "done"
        )
    )
    day = last or date.today()
    return f"{day.year:04d}-{day.month:02d}"


def _period_args(source) -> tuple[str | None, Period | None, str, str]:
    centre = (source.get("centre") or "").strip() or None
    start = (source.get("start") or "").strip()
    end = (source.get("end") or "").strip()
    try:
        period = Period.months(start, end or None) if start else None
    except ValueError:
        abort(400)
    return centre, period, start, end


def _target(raw: str | None) -> Centre | None:
    """The centre asked for (404 unless visible), or None: every centre's report, for those
    who read every centre."""
    if raw == ALL_CENTRES:
        if not is_cross_centre(current_user):
            abort(404)
        return None
    if raw is not None and not raw.isdigit():
        abort(404)
    return pick_centre(current_user, int(raw) if raw is not None else None)


def _centre_choices() -> list:
    pairs = [(str(c.id), c.name) for c in visible_centres(current_user)]
    if is_cross_centre(current_user):
        pairs.insert(0, (ALL_CENTRES, _("All centres")))
    return select_choices(pairs)


def _centre_arg(centre: Centre | None) -> str:
    return ALL_CENTRES if centre is None else str(centre.id)


@bp.route("/")
@login_required
def index():
    """Pick a centre (or every centre) and months; preview the report and its revisions."""
    raw_centre, _period, start, end = _period_args(request.args)
    centre = _target(raw_centre)
    form = PeriodForm(request.args, meta={"csrf": False})
    form.centre.choices = _centre_choices()
    if not start:
        start = _default_month(centre)
        form.start.data = start
    form.centre.data = _centre_arg(centre)
    if request.args and not form.validate():
        return render_template(
            "reports/index.html", form=form, centre=centre, title=_title(centre), data=None
        ), 400
    period = Period.months(start, end or None)
    revisions = list_snapshots(centre, period) if centre is not None else []
    data, _raw = report_bundle(centre, period, revisions[0] if revisions else None)
    args = {"centre": _centre_arg(centre), "start": start, "end": end or start}
    edit = EditForm(data={**args, "narrative": data["narrative"], "plan": data["next_month_plan"]})
    generate = GenerateForm(data=args)
    page = render_template(
        "reports/index.html",
        form=form,
        centre=centre,
        title=_title(centre),
        data=data,
        revisions=revisions,
        edit_form=edit,
        generate_form=generate,
        args=args,
        # a consortium report is read and downloaded, not saved: revisions belong to a centre
        can_edit=centre is not None and can_edit_reports(current_user),
        formats=FORMATS,
        metrics=METRIC_LABELS,
    )
    # The closed months counted for this page are kept for the next one (reports/cache.py);
    # after rendering, since a commit expires the objects the page shows.
    db.session.commit()
    return page


def _title(centre: Centre | None) -> str:
    return centre.name if centre is not None else _("All centres")


def _post_target(form) -> tuple:
    raw = form.centre.data or None
    if raw is not None and not str(raw).isdigit():
        abort(404)  # revisions belong to one centre
    centre = pick_centre(current_user, int(raw) if raw is not None else None)
    period = Period.months(form.start.data, form.end.data or None)
    args = {"centre": centre.id, "start": form.start.data, "end": form.end.data or form.start.data}
    return centre, period, args


@bp.route("/generate", methods=["POST"])
@login_required
def generate():
    """Save the generated text as a new revision (asks first when the latest was edited)."""
    require(can_edit_reports(current_user))
    form = GenerateForm()
    if not form.validate():
        abort(400)
    centre, period, args = _post_target(form)
    try:
        snap = generate_snapshot(centre, period, current_user, confirm=form.confirm.data)
    except EditedSnapshotExists as exc:
        flash(
            _(
                "Revision %(rev)s was edited by hand. Tick the confirmation box to generate a "
                "new revision; the edited one is kept.",
                rev=exc.args[0],
            ),
            "warning",
        )
        return redirect(url_for("reports.index", **args))
    db.session.commit()
    flash(_("Saved revision %(rev)s.", rev=snap.revision), "success")
    return redirect(url_for("reports.index", **args))


@bp.route("/edit", methods=["POST"])
@login_required
def edit():
    """Save edited text as a new revision."""
    require(can_edit_reports(current_user))
    form = EditForm()
    if not form.validate():
        flash(_("The text could not be saved: %(errors)s", errors=_errors(form)), "danger")
        if form.start.errors:
            abort(400)
        _c, _p, args = _post_target(form)
        return redirect(url_for("reports.index", **args))
    centre, period, args = _post_target(form)
    snap = edit_snapshot(centre, period, form.narrative.data, form.plan.data, current_user)
    db.session.commit()
    flash(_("Saved revision %(rev)s.", rev=snap.revision), "success")
    return redirect(url_for("reports.index", **args))


def _errors(form) -> str:
    return "; ".join(
        f"{form[name].label.text}: {' '.join(errs)}" for name, errs in form.errors.items()
    )


@bp.route("/download.<fmt>")
@login_required
def download(fmt: str):
    """The report as a file; the latest revision's text, or ?revision=N."""
    if fmt not in FORMATS:
        abort(404)
    require(can_export(current_user))  # it names the visit team: nothing personal to observers
    raw_centre, period, start, end = _period_args(request.args)
    if period is None:
        abort(400)
    centre = _target(raw_centre)
    revisions = list_snapshots(centre, period) if centre is not None else []
    snapshot = revisions[0] if revisions else None
    wanted = request.args.get("revision", type=int)
    if wanted is not None:
        snapshot = next((r for r in revisions if r.revision == wanted), None)
        if snapshot is None:
            abort(404)
    data, raw = report_bundle(centre, period, snapshot, raw=fmt == "xlsx")
    partners = [p.name for p in centre.partners] if centre is not None else []
    style = centre.report_style if centre is not None else None
    content = render(fmt, data, raw, partners, style)
    db.session.commit()  # keep the closed months counted (reports/cache.py)
    label = f"{period.start:%Y-%m}" + (f"_{period.end:%Y-%m}" if period.n_months > 1 else "")
    filename = f"{data['centre']}月报_{label}.{fmt}"
    disposition = f"attachment; filename=report.{fmt}; filename*=UTF-8''{quote(filename)}"
    return Response(content, mimetype=MIME[fmt], headers={"Content-Disposition": disposition})
