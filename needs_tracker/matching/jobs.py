"""Background jobs on RQ (Redis), or inline when there is no Redis (`make run` on SQLite).

The same job function runs in both cases: with REDIS_URL set (and JOBS_INLINE off) a job
is enqueued after the commit that calls for it and ``flask match worker`` runs it; without
Redis the job runs at once in the caller's transaction, bounded so a request stays short
(the rest waits for ``flask match embed``). Only the job worker loads the sentence model,
never the web workers, when a queue is configured.
"""

from __future__ import annotations

from flask import current_app, has_app_context

EMBED_JOB = "needs_tracker.matching.jobs.embed_job"
# Inline (no queue), a bulk path embeds at most this many texts in the request itself.
INLINE_BULK_LIMIT = 300


def inline() -> bool:
    """True when jobs run inline (no REDIS_URL, or JOBS_INLINE set)."""
    cfg = current_app.config
    return bool(cfg.get("JOBS_INLINE")) or not cfg.get("REDIS_URL")


def queue():
    """The RQ queue on REDIS_URL."""
    from redis import Redis
    from rq import Queue

    cfg = current_app.config
    return Queue(cfg.get("JOB_QUEUE", "needs_tracker"), connection=Redis.from_url(cfg["REDIS_URL"]))


def enqueue_embedding(after_commit: bool = False) -> None:
    """Ask for the embedding job: enqueued after the commit, or run inline now (bounded)."""
    from needs_tracker.extensions import db
    from needs_tracker.matching import semantic

    if not semantic.model_name():
        return
    if inline():
        if not after_commit:  # after a commit the session cannot run SQL any more
            semantic.embed_pending(commit=False, limit=INLINE_BULK_LIMIT)
        return
    if after_commit:
        queue().enqueue(EMBED_JOB, job_timeout=4 * 3600, description="embed texts")
    else:
        db.session.info["embed_after_commit"] = True


def embed_job() -> int:
    """The embedding job: every missing vector, committed batch by batch."""
    from needs_tracker.matching import semantic

    if has_app_context():
        return semantic.embed_pending()
    from needs_tracker import create_app

    with create_app().app_context():
        return semantic.embed_pending()
