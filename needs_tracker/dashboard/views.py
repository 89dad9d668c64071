"""The leadership dashboard at /dashboard."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from needs_tracker.common.choices import NeedStatus
from needs_tracker.dashboard.metrics import KPIS, SERIES, build_dashboard, latest_month
from needs_tracker.extensions import db
from needs_tracker.reports import kpis as K
from needs_tracker.reports.access import is_cross_centre, pick_centre, visible_centres
from needs_tracker.reports.builder import Period

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

# labels and definitions come from the one KPI module (reports/kpis.py)
KPI_LABELS = {key: kpi.label for key, kpi in K.KPIS.items()}
SERIES_LABELS = {key: K.KPIS[key].label for key in SERIES}
FUNNEL_LABELS = {
    "collected": _l("Collected"),
    "matched": _l("Matched"),
    "in_progress": _l("In progress"),
    "resolved": _l("Resolved"),
}


MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_months(raw_start: str, raw_end: str, default: str) -> tuple[str, str | None, str]:
    """The period asked for as (start, end or None, message): a month that cannot be read, or
    an end before the start, gives the default month and a message for the page (not a 400).
    """
    start, end = raw_start.strip()[:20], raw_end.strip()[:20]
    for value in (start, end):
        if value and not MONTH.match(value):
            return default, None, _("“%(value)s” is not a month (use YYYY-MM).", value=value)
    if not start:
        start = default
    if end and end < start:
        return (
            default,
            None,
            _(
                "The end month %(end)s is before the start month %(start)s.",
                start=start,
                end=end,
            ),
        )
    return start, end or None, ""


@bp.route("/")
@login_required
def index():
    """KPIs with change, trend, needs by field/status, funnel, districts, stale needs."""
    centres = visible_centres(current_user)
    if not centres:
        abort(404)
    centre_id = request.args.get("centre", type=int)
    ids: list[int] | None
    if centre_id is None and is_cross_centre(current_user):
        # every centre: no list of ids to filter on (the user's scope reads them all)
        selected, ids = None, None
    else:
        selected = pick_centre(current_user, centre_id)
        ids = [selected.id]
    start, end, error = parse_months(
        request.args.get("start", ""), request.args.get("end", ""), latest_month(ids)
    )
    period = Period.months(start, end)
    board = build_dashboard(
        ids, period, centres if selected is None else [], K.stale_days(current_app.config)
    )
    payload = board.payload()
    payload["labels"] = {
        "series": {k: str(v) for k, v in SERIES_LABELS.items()},
        "funnel": {k: str(v) for k, v in FUNNEL_LABELS.items()},
        "status": {m.value: str(m.label) for m in NeedStatus},
        "by_field": str(_l("Needs by field")),
        "by_status": str(_l("Needs by status")),
        "by_district": str(_l("Needs by district")),
        "trend": str(_l("Monthly trend")),
        "funnel_title": str(_l("From collection to resolution")),
        "centres": str(_l("Centres compared")),
    }
    # The page's JSON has its keys sorted (Flask's default), so the charts take the order of
    # series, funnel stages and statuses from these lists: the funnel must read collected ->
    # matched -> in progress -> resolved, not alphabetically.
    payload["order"] = {
        "series": list(SERIES_LABELS),
        "funnel": list(FUNNEL_LABELS),
        "status": [m.value for m in NeedStatus],
    }
    page = render_template(
        "dashboard/index.html",
        board=board,
        payload=payload,
        kpi_keys=KPIS,
        kpi_labels=KPI_LABELS,
        kpi_definitions={key: kpi.definition for key, kpi in K.KPIS.items()},
        stale_definition=K.STALE_DEFINITION % {"days": board.stale_days},
        centres=centres,
        selected=selected,
        cross=is_cross_centre(current_user),
        start=start,
        end=end or start,
        period_error=error,
    )
    # The closed months counted for this page are kept for the next one (reports/cache.py).
    # After rendering: a commit expires the page's objects (300 centres would be read again).
    db.session.commit()
    return page
