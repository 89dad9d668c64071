"""`flask report monthly --centre NAME --from YYYY-MM [--to YYYY-MM] --format F -o FILE`, and
`flask report warm --from YYYY-MM [--to YYYY-MM] [--each-centre]` (count closed months ahead)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from needs_tracker.centres.models import Centre
from needs_tracker.common.scoping import Scope, scoped
from needs_tracker.extensions import db
from needs_tracker.reports import export
from needs_tracker.reports.builder import Period
from needs_tracker.reports.services import latest_snapshot, report_bundle, warm_facts

report_cli = AppGroup("report", help="Reports.")


@report_cli.command("monthly")
@click.option("--centre", "centre_name", required=True, help="Centre name, e.g. 潍坊服务中心.")
@click.option("--from", "first", required=True, help="First month, YYYY-MM.")
@click.option("--to", "last", default=None, help="Last month, YYYY-MM (default: --from).")
@click.option(
    "--format", "fmt", type=click.Choice(export.FORMATS), default="json", show_default=True
)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--generated", is_flag=True, help="Ignore saved (possibly edited) text; use the generated one."
)
def monthly_command(
    centre_name: str, first: str, last: str | None, fmt: str, output: Path, generated: bool
) -> None:
    """Write the monthly (or multi-month) report of a centre to a file ("-" for stdout)."""
    try:
        period = Period.months(first, last)
    except ValueError as exc:
        raise click.BadParameter(f"months are YYYY-MM and in order ({exc})") from exc
    with scoped(db.session, Scope.system()):
        centre = db.session.scalar(select(Centre).where(Centre.name == centre_name))
        if centre is None:
            raise click.ClickException(f"No centre named {centre_name!r}.")
        snapshot = None if generated else latest_snapshot(centre, period)
        data, raw = report_bundle(centre, period, snapshot, raw=fmt == "xlsx")
        content = export.render(
            fmt, data, raw, [p.name for p in centre.partners], centre.report_style
        )
        db.session.commit()  # keep the closed months counted (reports/cache.py)
    if str(output) == "-":
        click.echo(content.decode("utf-8") if fmt in ("md", "json") else content, nl=False)
        return
    output.write_bytes(content)
    click.echo(f"Wrote {output} ({len(content)} bytes).", err=True)


@report_cli.command("warm")
@click.option("--from", "first", required=True, help="First month, YYYY-MM.")
@click.option("--to", "last", default=None, help="Last month, YYYY-MM (default: last month).")
@click.option(
    "--each-centre", is_flag=True, help="Each centre's months too, not only all centres'."
)
def warm_command(first: str, last: str | None, each_centre: bool) -> None:
    """Count the closed months' facts that are not cached yet (after a deploy, or nightly), so
    that the first dashboard and report of the day read them from the cache."""
    try:
        period = Period.months(first, last or first)
    except ValueError as exc:
        raise click.BadParameter(f"months are YYYY-MM and in order ({exc})") from exc
    with scoped(db.session, Scope.system()):
        counted = warm_facts(period.start, period.end if last else None, each_centre)
        db.session.commit()
    click.echo(f"Counted {counted} month(s) of facts; the other closed months were cached.")
