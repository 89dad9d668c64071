"""`flask match suggest NEED`, `flask match evaluate GOLD.csv` (a stable contract), embed, index."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from needs_tracker.common.scoping import Scope, set_scope
from needs_tracker.extensions import db
from needs_tracker.matching import semantic, services
from needs_tracker.matching.engine import evaluate_rankings
from needs_tracker.needs.models import Need

match_cli = AppGroup("match", help="Suggest experts and resources for needs; evaluate.")


def _find_need(ref: str) -> Need | None:
    stmt = select(Need).options(selectinload(Need.fields), selectinload(Need.organisation))
    if ref.isdigit():
        need = db.session.scalar(stmt.where(Need.id == int(ref)))
        if need is not None:
            return need
    return db.session.scalar(stmt.where(Need.title == ref).order_by(Need.id))


@match_cli.command("suggest")
@click.argument("need")
@click.option("--top", "top", default=10, show_default=True, type=click.IntRange(1, 200))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def suggest_command(need: str, top: int, as_json: bool) -> None:
    """Rank experts and resources for NEED (an id or an exact title)."""
    set_scope(db.session, Scope.system())
    found = _find_need(need)
    if found is None:
        raise click.ClickException(f"No need with id or title {need!r}.")
    # A command can wait for the index: it builds it here if no build of the pool exists.
    suggestions = services.suggest_for_need(found, top=top, block=True)
    if as_json:
        click.echo(json.dumps([s.as_dict() for s in suggestions], ensure_ascii=False, indent=2))
        return
    click.echo(f"{found.id} {found.title}")
    for s in suggestions:
        click.echo(
            f"{s.rank:>3}  {s.score:.3f}  {s.kind:<8} {s.id:>5}  {s.name}（{s.organisation}）"
            f"  {s.reason_text}"
        )


@match_cli.command("evaluate")
@click.argument("gold", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--k", "k", default=5, show_default=True, type=click.IntRange(1, 100))
def evaluate_command(gold: Path, k: int) -> None:
    """precision@k, recall@k and MRR against GOLD.csv (columns need_title, expert_name)."""
    set_scope(db.session, Scope.system())
    wanted: dict[str, set[str]] = defaultdict(set)
    with gold.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"need_title", "expert_name"} <= set(reader.fieldnames):
            raise click.ClickException("GOLD.csv needs the columns need_title, expert_name.")
        for row in reader:
            if row["need_title"].strip() and row["expert_name"].strip():
                wanted[row["need_title"].strip()].add(row["expert_name"].strip())
    ranked: dict[str, list[str]] = {}
    missing = []
    depth = max(k, 50)
    index = services.get_index(block=True)
    for title in wanted:
        need = _find_need(title)
        if need is None:
            missing.append(title)
            continue
        # Judge the engine's ranking as such: matches already made are not excluded here.
        query = services.need_query(need)
        ranked[title] = [
            s.name for s in index.suggest(query, top=depth, **semantic.need_vectors(query))
        ]
    for title in missing:
        click.echo(f"warning: no need titled {title!r}; skipped", err=True)
    result = evaluate_rankings(ranked, {t: wanted[t] for t in ranked}, k=k)
    click.echo(f"needs evaluated: {result.needs}")
    click.echo(f"precision@{k}: {result.precision:.3f}")
    click.echo(f"recall@{k}: {result.recall:.3f}")
    click.echo(f"MRR: {result.mrr:.3f}")


@match_cli.command("embed")
@click.option("--batch", default=64, show_default=True, type=click.IntRange(1, 1024))
def embed_command(batch: int) -> None:
    """Compute the sentence vectors still missing (experts, resources, needs), with progress."""
    set_scope(db.session, Scope.system())
    model = semantic.model_name()
    if not model:
        raise click.ClickException("MATCH_EMBEDDING_MODEL is empty: the semantic signal is off.")
    total = len(semantic.pending_texts(model))
    click.echo(f"{total} texts to embed with {model}.")
    if not total:
        return
    with click.progressbar(length=total, label="embedding", show_pos=True, show_eta=True) as bar:
        seen = [0]

        def tick(done: int, _total: int) -> None:
            bar.update(done - seen[0])
            seen[0] = done

        semantic.embed_pending(batch=batch, on_batch=tick)
    click.echo(f"Done: {semantic.stored_count(model)} vectors stored for {model}.")


@match_cli.command("index")
def index_command() -> None:
    """Build the suggestion index of the pool as it is now and store it for every worker.

    Workers build it themselves in the background when the pool changes; this is for a
    deployment (after a bulk load made outside the app) and for measuring the build.
    """
    import time

    from needs_tracker.matching.index import build_shared_index

    set_scope(db.session, Scope.system())
    start = time.perf_counter()
    index, folder = build_shared_index()
    took = time.perf_counter() - start
    where = f"stored in {folder}" if folder else "NOT stored (see the log)"
    click.echo(f"{len(index)} experts and resources indexed in {took:.1f} s; {where}.")


@match_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker_command(burst: bool) -> None:
    """Run background jobs from the RQ queue on REDIS_URL (embedding)."""
    from flask import current_app
    from redis import Redis
    from rq import SimpleWorker

    from needs_tracker.matching import jobs

    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: jobs run inline, no worker is needed.")
    # SimpleWorker: jobs run in this process, inside the app context, and the sentence
    # model is loaded once for all of them instead of once per forked job.
    SimpleWorker([jobs.queue()], connection=Redis.from_url(current_app.config["REDIS_URL"])).work(
        burst=burst
    )
