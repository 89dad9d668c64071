"""`flask import KIND FILE --centre NAME [--dry-run]` and `flask export KIND -o FILE [--centre NAME]`."""

from __future__ import annotations

import time
from pathlib import Path

import click
from sqlalchemy import select

from needs_tracker.centres.models import Centre
from needs_tracker.common.scoping import Scope, set_scope
from needs_tracker.extensions import db
from needs_tracker.imports.base import ImportError_, limits_from_config
from needs_tracker.imports.commit import commit_import
from needs_tracker.imports.export import (
    count_export_rows,
    headers_of,
    iter_csv,
    iter_export_rows,
    write_xlsx,
)
from needs_tracker.imports.messages import file_error_message
from needs_tracker.imports.parsing import FileError
from needs_tracker.imports.plan import plan_import
from needs_tracker.imports.registry import KINDS, adapter, parse_file

KIND_CHOICE = click.Choice(list(KINDS))


def _centre(name: str | None) -> Centre | None:
    if not name:
        return None
    centre = db.session.scalar(select(Centre).where(Centre.name == name))
    if centre is None:
        raise click.ClickException(f"No centre named {name!r}.")
    return centre


@click.command("import")
@click.argument("kind", type=KIND_CHOICE)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--centre", "centre_name", help="Centre to import into (organisations, needs, visits)."
)
@click.option("--sheet", default=None, help="Worksheet name (default: the first).")
@click.option("--dry-run", is_flag=True, help="Check and summarise; write nothing.")
@click.option(
    "--on-duplicate",
    type=click.Choice(["ask", "merge", "keep", "fail"]),
    default="fail",
    show_default=True,
    help="Possible duplicates (similar names, at least one side without a credit code): "
    "ask for each, merge each into the company it resembles, keep both, or fail listing them.",
)
@click.option(
    "--allow-skip",
    is_flag=True,
    help="Accept that rows repeating an earlier row are skipped (otherwise: exit 1, nothing written).",
)
@click.option("--create-duplicates", is_flag=True, hidden=True, help="Same as --on-duplicate keep.")
def import_command(
    kind: str,
    file: Path,
    centre_name: str | None,
    sheet: str | None,
    dry_run: bool,
    on_duplicate: str,
    allow_skip: bool,
    create_duplicates: bool,
) -> None:
    """Import a spreadsheet (.xlsx or .csv) of KIND; all rows or none.

    Exits 1, writing nothing, when a row has errors, when a possible duplicate has no
    decision (--on-duplicate fail, the default), or when rows would be skipped without
    --allow-skip; a dry run exits with the same status as the import would.
    """
    set_scope(db.session, Scope.system())
    centre = _centre(centre_name)
    if adapter(kind).centre_owned and centre is None:
        raise click.ClickException("--centre is required for " + kind)
    if create_duplicates:
        on_duplicate = "keep"
    started = time.perf_counter()
    centre_id = centre.id if centre else None
    choice = on_duplicate if on_duplicate in ("merge", "keep") else None
    try:
        parsed = parse_file(kind, file.name, file.read_bytes(), sheet, limits_from_config())
        plan = plan_import(parsed, centre_id, on_duplicate=choice)
        if plan.ok and plan.undecided and on_duplicate == "ask":
            decisions = {}
            for row in plan.undecided:
                click.echo(f"row {row.number}: {row.label} — {row.duplicate_note}")
                decisions[row.number] = click.prompt(
                    "  merge or keep both?", type=click.Choice(["merge", "keep"])
                )
            plan = plan_import(parsed, centre_id, decisions=decisions)
    except FileError as exc:
        raise click.ClickException(file_error_message(exc)) from exc
    except ImportError_ as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{file.name}: {len(plan.rows)} rows. {plan.summary()}")
    for row in plan.by_action("merged"):
        click.echo(f"  merged row {row.number}: {row.label} — {row.duplicate_note}")
    failed = False
    if not plan.ok:
        for message in plan.errors:
            click.echo(message, err=True)
        failed = True
    elif plan.undecided:
        click.echo(
            f"{len(plan.undecided)} possible duplicates; choose with --on-duplicate "
            "ask|merge|keep (nothing written):",
            err=True,
        )
        for row in plan.undecided:
            click.echo(f"  row {row.number}: {row.label} — {row.duplicate_note}", err=True)
        failed = True
    skipped = plan.by_action("skip")
    if skipped and not failed:
        for row in skipped:
            click.echo(f"  skipped row {row.number}: {row.label} — {row.duplicate_note}")
        if not allow_skip:
            click.echo(
                f"{len(skipped)} rows would be skipped; pass --allow-skip to import the rest "
                "(nothing written).",
                err=True,
            )
            failed = True
    if failed:
        db.session.rollback()
        raise SystemExit(1)
    if dry_run:
        db.session.rollback()
        click.echo("Dry run: nothing written.")
        return
    batch = commit_import(plan, None, file.name)
    db.session.commit()
    click.echo(
        f"Imported as batch {batch.id}: {batch.created_count} created, "
        f"{batch.updated_count} updated, {batch.merged_count} merged, "
        f"{batch.skipped_count} skipped ({time.perf_counter() - started:.1f} s)."
    )


@click.command("export")
@click.argument("kind", type=KIND_CHOICE)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--centre", "centre_name", help="Only this centre's data (default: every centre).")
def export_command(kind: str, output: Path, centre_name: str | None) -> None:
    """Export KIND to an .xlsx or .csv file (by the file's extension)."""
    centre = _centre(centre_name)
    if centre is not None:
        ids = frozenset({centre.id})
        set_scope(db.session, Scope(read_centres=ids, write_centres=frozenset()))
    else:
        set_scope(db.session, Scope.system())
    suffix = output.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise click.ClickException("The output file must end in .xlsx or .csv")
    total = count_export_rows(kind)
    click.echo(f"Exporting {total} {kind} to {output} ...", err=True)
    written = 0

    def progress():
        # Rows are read in batches and written as they come: memory stays constant.
        nonlocal written
        for row in iter_export_rows(kind):
            written += 1
            if written % 10_000 == 0:
                click.echo(f"  {written:,} / {total:,}", err=True)
            yield row

    if suffix == ".xlsx":
        write_xlsx(output, headers_of(kind), progress(), kind)
    else:
        with output.open("wb") as fh:
            for piece in iter_csv(headers_of(kind), progress()):
                fh.write(piece)
    click.echo(f"Exported {written} {kind} to {output}.")
