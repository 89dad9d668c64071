"""The suggestion index: built once per pool, shared by the workers of a host, never in a request.

The index over every expert and resource (``engine.MatchIndex``) is built by one process and
stored in the instance folder (``MATCH_INDEX_DIR``, default ``instance/match-index``), one
folder per build named by the pool stamp it was built for; workers map its arrays into memory
(read-only, one copy in the page cache for all of them) in milliseconds instead of each
building its own in a minute.

Freshness: the pool stamp in ``match_index_state`` moves on every change of experts,
resources or fields (the flush listener in ``services``, and ``after_bulk_change`` for bulk
imports, merges, undo and deletes). A worker reads the stamps on each suggestion; when the
pool stamp has moved it loads the build for the new stamp if one is stored, and otherwise
starts a builder (a forked process: the request and the worker's memory stay out of it) and
waits at most ``MATCH_INDEX_WAIT`` seconds for it. Past that it answers from the index it has
(the pool as it was, and says so: ``IndexStatus``), or, when it has none at all, says the
index is being built. The signal stamp (resolved and declined matches, stored vectors) only
reloads per-candidate counts, or swaps in a newer build of the same pool.

``MATCH_INDEX_BUILD = "inline"`` (the tests) builds in the caller instead, as the CLI does
(``flask match index``); the embedding job and ``flask match embed`` store a new build once
they have stored new candidate vectors.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import signal
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from needs_tracker.common.scoping import Scope, scoped
from needs_tracker.experts.models import Expert, Resource, expert_fields, resource_fields
from needs_tracker.extensions import db
from needs_tracker.matching import semantic
from needs_tracker.matching.engine import (
    EXPERT,
    FIT_DECLINES,
    RESOURCE,
    Candidate,
    EngineConfig,
    MatchIndex,
    text_signature,
)
from needs_tracker.matching.models import Match, MatchIndexState, MatchStatus, new_stamp
from needs_tracker.needs.models import need_fields
from needs_tracker.taxonomy.models import TechField

log = logging.getLogger(__name__)

KEEP_BUILDS = 2  # stored builds kept per host (the newest); older folders are removed
RETRY_SECONDS = 5.0  # a worker starts a builder at most this often


@dataclass
class IndexStatus:
    """Which index answered: for the page to say when suggestions are not up to date.

    state: "fresh" (the pool as it is now), "stale" (as it was before its latest changes;
    the new index is being built) or "building" (no index yet: no suggestions).
    """

    state: str = "fresh"
    source: str = ""  # "memory", "shared" (loaded from the stored build) or "built"
    candidates: int = 0
    missing_vectors: int = 0

    @property
    def fresh(self) -> bool:
        """True when the suggestions reflect the pool as it is now."""
        return self.state == "fresh"


@dataclass
class _Cache:
    pool_version: str | None = None
    signal_version: str | None = None
    index: MatchIndex | None = None
    folder: Path | None = None  # the stored build the index was loaded from
    builds: int = 0  # built in this process
    loads: int = 0  # loaded from a stored build
    missing_vectors: int = 0
    status: IndexStatus = field(default_factory=IndexStatus)
    builder: object | None = None  # the forked builder process, while it runs
    builder_started: float = 0.0


_CACHE = _Cache()
_CACHE_LOCK = threading.RLock()


# --- stamps -------------------------------------------------------------------------------


def index_versions() -> tuple[str, str]:
    """(pool_version, signal_version) as stored in the database ("" before the first)."""
    row = db.session.execute(
        select(MatchIndexState.pool_version, MatchIndexState.signal_version).where(
            MatchIndexState.id == 1
        )
    ).first()
    return (row[0], row[1]) if row else ("", "")


def _ensure_versions() -> tuple[str, str]:
    """The stamps, creating the row (committed) when a bulk-loaded database has none.

    Only for a builder (a process of its own, or the CLI): a request never writes here.
    """
    versions = index_versions()
    if versions[0]:
        return versions
    try:
        db.session.add(MatchIndexState(id=1, pool_version=new_stamp(), signal_version=new_stamp()))
        db.session.commit()
    except IntegrityError:  # another builder made it first
        db.session.rollback()
    return index_versions()


# --- candidates ---------------------------------------------------------------------------


def load_candidates() -> list[Candidate]:
    """Every (not deleted) expert and resource, with their fields and signals.

    Read as plain rows (no ORM objects): 40,000 candidates in about a second instead of
    five. A candidate's fields come in the order of the taxonomy (position, then id), the
    order ``semantic.expert_candidate`` gives them for the embedding text.
    """
    signals = _load_signals()
    expert_fields_of = _fields_of(expert_fields, expert_fields.c.expert_id)
    resource_fields_of = _fields_of(resource_fields, resource_fields.c.resource_id)
    out: list[Candidate] = []
    rows = db.session.execute(
        select(
            Expert.id,
            Expert.name,
            Expert.organisation,
            Expert.expertise,
            Expert.department,
            Expert.region,
            Expert.title,
        ).order_by(Expert.id)
    )
    for ident, name, org, expertise, department, region, title in rows:
        resolved, declines = signals.get((EXPERT, ident), ((), 0))
        out.append(
            Candidate(
                kind=EXPERT,
                id=ident,
                name=name,
                organisation=org,
                text=expertise,
                department=department,
                fields=expert_fields_of.get(ident, ()),
                region=region,
                title=title,
                resolved_fields=resolved,
                fit_declines=declines,
            )
        )
    rows = db.session.execute(
        select(
            Resource.id,
            Resource.name,
            Resource.owner_organisation,
            Resource.description,
            Resource.region,
            Resource.kind,
        ).order_by(Resource.id)
    )
    for ident, name, org, description, region, kind in rows:
        resolved, declines = signals.get((RESOURCE, ident), ((), 0))
        out.append(
            Candidate(
                kind=RESOURCE,
                id=ident,
                name=name,
                organisation=org,
                text=description,
                fields=resource_fields_of.get(ident, ()),
                region=region,
                title=kind,
                resolved_fields=resolved,
                fit_declines=declines,
            )
        )
    return out


def _fields_of(table, owner) -> dict[int, tuple[str, ...]]:
    """owner id -> its field names, in taxonomy order."""
    out: dict[int, list[str]] = defaultdict(list)
    for ident, name in db.session.execute(
        select(owner, TechField.name)
        .join(TechField, TechField.id == table.c.field_id)
        .order_by(owner, TechField.position, TechField.id)
    ):
        out[ident].append(name)
    return {k: tuple(v) for k, v in out.items()}


def _load_signals() -> dict[tuple[str, int], tuple[tuple[tuple[str, int], ...], int]]:
    """Per candidate: resolved matches per field, and declines for not fitting (all centres).

    Only counts leave the centres, never which needs they were.
    """
    resolved: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    declines: dict[tuple[str, int], int] = defaultdict(int)
    with scoped(db.session, Scope.system()):
        rows = db.session.execute(
            select(Match.expert_id, Match.resource_id, TechField.name, func.count())
            .join(need_fields, need_fields.c.need_id == Match.need_id)
            .join(TechField, TechField.id == need_fields.c.field_id)
            .where(Match.status == MatchStatus.RESOLVED.value)
            .group_by(Match.expert_id, Match.resource_id, TechField.name)
        ).all()
        for expert_id, resource_id, field_name, n in rows:
            key = (EXPERT, expert_id) if expert_id else (RESOURCE, resource_id)
            resolved[key][field_name] += n
        rows = db.session.execute(
            select(Match.expert_id, Match.resource_id, func.count())
            .where(
                Match.status == MatchStatus.DECLINED.value, Match.decline_reason.in_(FIT_DECLINES)
            )
            .group_by(Match.expert_id, Match.resource_id)
        ).all()
        for expert_id, resource_id, n in rows:
            key = (EXPERT, expert_id) if expert_id else (RESOURCE, resource_id)
            declines[key] += n
    keys = set(resolved) | set(declines)
    return {k: (tuple(sorted(resolved[k].items())), declines[k]) for k in keys}


# --- stored builds ------------------------------------------------------------------------


def store_root(app: Flask | None = None) -> Path:
    """Where this database's builds live: MATCH_INDEX_DIR / (database, engine signature).

    The database's address (password left out) is part of the name, so two databases that
    share an instance folder never read each other's builds.
    """
    app = app or current_app
    base = app.config.get("MATCH_INDEX_DIR") or os.path.join(app.instance_path, "match-index")
    url = db.engine.url.render_as_string(hide_password=True)
    model = app.config.get("MATCH_EMBEDDING_MODEL", "") or ""
    digest = hashlib.sha256(f"{url}\n{model}".encode()).hexdigest()[:12]
    return Path(base) / f"{digest}-{text_signature(EngineConfig())}"


def _builds(root: Path, pool_version: str | None = None) -> list[Path]:
    """Complete stored builds (newest first), of pool_version only when given."""
    try:
        names = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith("tmp-")]
    except OSError:
        return []
    if pool_version is not None:
        names = [p for p in names if p.name.split(".", 1)[0] == pool_version]
    # Folder names are <pool stamp>.<time in ns>: newest first by that time.
    return sorted(names, key=lambda p: p.name.rsplit(".", 1)[-1], reverse=True)


def _store(index: MatchIndex, pool_version: str, missing: int) -> Path:
    """Write index as the newest build for pool_version (atomic: a folder renamed)."""
    root = store_root()
    root.mkdir(parents=True, exist_ok=True)
    name = f"{pool_version}.{time.time_ns():020d}"
    tmp = root / f"tmp-{name}-{os.getpid()}"
    index.save(tmp, meta={"pool_version": pool_version, "missing_vectors": missing})
    final = root / name
    os.replace(tmp, final)
    for old in _builds(root)[KEEP_BUILDS:]:
        # A worker still reading an old build keeps its mapped files (unlinked, not gone).
        shutil.rmtree(old, ignore_errors=True)
    return final


def _load(folder: Path) -> MatchIndex | None:
    """The build stored in folder (None if unreadable or of another engine)."""
    try:
        return MatchIndex.load(folder)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("stored match index %s not loaded: %s", folder, exc)
        return None


@contextlib.contextmanager
def _build_lock(root: Path, wait: bool):
    """The host's build lock (a file lock): one builder at a time. Yields False if busy."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "build.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_shared_index(wait_for_lock: bool = True) -> tuple[MatchIndex, Path | None]:
    """Build the index of the pool as it is now and store it for every worker.

    Returns (index, stored folder or None when nothing is stored).
    """
    index, folder, _versions = _build_and_store(wait_for_lock)
    return index, folder


def _build_and_store(wait_for_lock: bool) -> tuple[MatchIndex, Path | None, tuple[str, str]]:
    """(index, stored folder or None, the stamps it was built for).

    Reads the stamps first, then the candidates: a change committed in between is in the
    index (newer than its stamp says) or moves the stamp again; either way no worker keeps
    an index without it.
    """
    with scoped(db.session, Scope.system()):
        versions = _ensure_versions()
        pool_version = versions[0]
        root = store_root()
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("match index not stored, no folder %s: %s", root, exc)
            return _build(pool_version)[0], None, versions
        with _build_lock(root, wait_for_lock) as locked:
            if not locked:
                return _build(pool_version)[0], None, versions
            index, missing = _build(pool_version)
            try:
                folder = _store(index, pool_version, missing)
            except OSError as exc:
                log.warning("match index not stored in %s: %s", root, exc)
                folder = None
    return index, folder, versions


def _build(pool_version: str) -> tuple[MatchIndex, int]:
    """(the index of the pool, how many candidates have no stored vector yet)."""
    t0 = time.perf_counter()
    candidates = load_candidates()
    vectors, vectors2, missing = pool_vectors(candidates)
    index = MatchIndex(candidates, vectors=vectors, vectors2=vectors2)
    log.info(
        "match index for pool %s: %d candidates in %.1f s",
        pool_version,
        len(candidates),
        time.perf_counter() - t0,
    )
    return index, missing


def _builder_main(app: Flask) -> None:
    """The forked builder: a fresh database connection, the build, the store, exit."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1):
        signal.signal(sig, signal.SIG_DFL)  # not the web server's handlers
    with app.app_context():
        db.engine.dispose(close=False)  # the parent's connections stay the parent's
        try:
            pool_version = index_versions()[0]
            if pool_version and _builds(store_root(), pool_version):
                return  # another builder stored it meanwhile
            build_shared_index(wait_for_lock=False)
        finally:
            db.session.remove()
            db.engine.dispose()


def _start_builder() -> bool:
    """Start the background builder unless one runs or started a moment ago.

    False when there can be none: the index folder cannot be written, or no process can be
    forked (the caller builds in its own process then).
    """
    running = _CACHE.builder
    if running is not None and running.is_alive():
        limit = float(current_app.config.get("MATCH_INDEX_BUILD_TIMEOUT", 900))
        if time.monotonic() - _CACHE.builder_started < limit:
            return True
        log.warning("match index builder still running after %.0f s: stopped", limit)
        running.kill()
        running.join(5)
    if running is not None and running.exitcode:
        log.warning("match index builder exited with %s", running.exitcode)
    if time.monotonic() - _CACHE.builder_started < RETRY_SECONDS:
        return True
    import multiprocessing

    try:
        root = store_root()
        root.mkdir(parents=True, exist_ok=True)
        if not os.access(root, os.W_OK):
            raise PermissionError(f"{root} is not writable")
        app = current_app._get_current_object()
        process = multiprocessing.get_context("fork").Process(
            target=_builder_main, args=(app,), name="match-index-builder", daemon=True
        )
        process.start()
    except (OSError, ValueError) as exc:
        log.warning("no background build of the match index (%s): building in-process", exc)
        return False
    _CACHE.builder = process
    _CACHE.builder_started = time.monotonic()
    return True


# --- the process's index ------------------------------------------------------------------


def _use(index: MatchIndex, pool_version: str, folder: Path | None, source: str) -> None:
    """Make index the process's index, with the current signals."""
    signal_version = index_versions()[1]  # read before the signals themselves
    if folder is not None:
        meta = MatchIndex.stored_meta(folder) or {}
        missing = int(meta.get("meta", {}).get("missing_vectors", 0))
        # Stored with the signals of its build: counts may have moved since.
        index.update_signals(_load_signals())
        _CACHE.loads += 1
    else:
        missing = _CACHE.missing_vectors
    _CACHE.index = index
    _CACHE.folder = folder
    _CACHE.pool_version = pool_version
    _CACHE.signal_version = signal_version
    _CACHE.missing_vectors = missing
    _CACHE.status = IndexStatus("fresh", source, len(index), missing)


def _build_here(pool_version: str) -> MatchIndex:
    """Build in this process (inline mode, the CLI), storing the build when it can."""
    # Labelled with the stamps read before the candidates (a change during the build
    # moves them on, and the next suggestion sees it).
    if pool_version:
        index, folder, (pool_version, signal_version) = _build_and_store(True)
    else:
        signal_version = index_versions()[1]
        with scoped(db.session, Scope.system()):
            index, _missing = _build(pool_version)
        folder = None
    _CACHE.builds += 1
    _CACHE.missing_vectors = 0
    if folder is not None:
        meta = MatchIndex.stored_meta(folder) or {}
        _CACHE.missing_vectors = int(meta.get("meta", {}).get("missing_vectors", 0))
    else:
        _CACHE.missing_vectors = _count_missing(index)
    _CACHE.index = index
    _CACHE.folder = folder
    _CACHE.pool_version = pool_version
    _CACHE.signal_version = signal_version
    _CACHE.status = IndexStatus("fresh", "built", len(index), _CACHE.missing_vectors)
    return index


def pool_vectors(candidates: list) -> tuple[np.ndarray | None, np.ndarray | None, int]:
    """The candidates' stored vectors under the first and second model (None: that model is
    off or has none stored), and how many (candidate, model) vectors are still missing."""
    found = [semantic.candidate_vectors(candidates, m) for m in semantic.model_names()]
    vectors = [v for v, _missing in found] + [None, None]
    return vectors[0], vectors[1], sum(missing for _v, missing in found)


def _count_missing(index: MatchIndex) -> int:
    models = semantic.model_names()
    missing = 0
    for vectors in (index.vectors, index.vectors2)[: len(models)]:
        if vectors is None:
            missing += len(index)
        else:
            missing += int((~vectors.any(axis=1)).sum())
    return missing


def _refresh_signals(signal_version: str) -> None:
    """The signal stamp moved: new counts, and newer vectors if some were missing."""
    if _CACHE.signal_version == signal_version:
        return
    index = _CACHE.index
    if _CACHE.missing_vectors and _CACHE.pool_version:
        # The embedding job stores a new build of the same pool once it has new vectors.
        newer = _builds(store_root(), _CACHE.pool_version)
        if newer and newer[0] != _CACHE.folder:
            loaded = _load(newer[0])
            if loaded is not None:
                _use(loaded, _CACHE.pool_version, newer[0], "shared")
                return
        if _inline():
            # No stored build to swap in (the tests, a read-only instance folder).
            vectors, vectors2, missing = pool_vectors(list(index.candidates))
            index.set_vectors(vectors, vectors2)
            _CACHE.missing_vectors = missing
    index.update_signals(_load_signals())
    _CACHE.signal_version = signal_version


def _inline() -> bool:
    return current_app.config.get("MATCH_INDEX_BUILD", "background") == "inline"


def get_index(block: bool | None = None) -> MatchIndex | None:
    """The index to suggest from: the current pool's if it can be had without waiting.

    block=True (the CLI, the tests' inline mode) builds here when no build of the current
    pool exists. Otherwise a background builder is started and the call waits at most
    MATCH_INDEX_WAIT seconds before answering from the index it has (``index_status()``
    says "stale") or with None (nothing built yet: "building").
    """
    block = _inline() if block is None else block
    pool_version, signal_version = index_versions()
    with _CACHE_LOCK:
        if _CACHE.index is not None and _CACHE.pool_version == pool_version:
            _refresh_signals(signal_version)
            _CACHE.status = IndexStatus(
                "fresh", "memory", len(_CACHE.index), _CACHE.missing_vectors
            )
            return _CACHE.index
        if pool_version and _take_stored(pool_version):
            return _CACHE.index
        if block or (not pool_version and _CACHE.index is None and _small_pool()):
            return _build_here(pool_version)
        if not _start_builder():
            # No background build possible (no writable index folder, no fork): the old
            # way, in this process, rather than no suggestions ever.
            return _build_here(pool_version)
        # Worth waiting for only when the build takes about as long as the wait: a pool of
        # 40,000 takes 10-20 s, and a page that waits a second for nothing is a slower page.
        known = len(_CACHE.index) if _CACHE.index is not None else None
        small = (known if known is not None else _pool_size()) <= _inline_max()
    wait = float(current_app.config.get("MATCH_INDEX_WAIT", 1.0)) if small else 0.0
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        time.sleep(0.05)
        pool_version = index_versions()[0]
        with _CACHE_LOCK:
            if pool_version and _take_stored(pool_version):
                return _CACHE.index
    with _CACHE_LOCK:
        if _CACHE.index is None:
            # A worker started after the pool changed: the previous build is the next best.
            for folder in _builds(store_root())[:1]:
                loaded = _load(folder)
                if loaded is not None:
                    _use(loaded, folder.name.split(".", 1)[0], folder, "shared")
        if _CACHE.index is None:
            _CACHE.status = IndexStatus("building")
            return None
        _CACHE.status = IndexStatus(
            "stale", _CACHE.status.source or "memory", len(_CACHE.index), _CACHE.missing_vectors
        )
        return _CACHE.index


def _take_stored(pool_version: str) -> bool:
    """Load the newest stored build of pool_version, if there is one."""
    for folder in _builds(store_root(), pool_version)[:1]:
        loaded = _load(folder)
        if loaded is not None:
            _use(loaded, pool_version, folder, "shared")
            return True
    return False


def _pool_size() -> int:
    """How many experts and resources there are (two counts)."""
    n = db.session.scalar(select(func.count()).select_from(Expert)) or 0
    return n + (db.session.scalar(select(func.count()).select_from(Resource)) or 0)


def _inline_max() -> int:
    """The size of pool built within a request's wait (about a second on two cores)."""
    return int(current_app.config.get("MATCH_INDEX_INLINE_MAX", 2000))


def _small_pool() -> bool:
    """A pool small enough to build in the request (no stamp yet, e.g. a fresh database)."""
    return _pool_size() <= _inline_max()


def index_status() -> IndexStatus:
    """Which index the last ``get_index`` of this process answered with."""
    return _CACHE.status


def index_builds() -> int:
    """How many times this process built the index (for tests and diagnostics)."""
    return _CACHE.builds


def index_loads() -> int:
    """How many times this process loaded a stored build (for tests and diagnostics)."""
    return _CACHE.loads


def reset_index_cache() -> None:
    """Forget the process's index, as a new worker would start (tests).

    A builder still running is waited for (at most a minute): it belongs to the old state.
    """
    with _CACHE_LOCK:
        if _CACHE.builder is not None:
            _CACHE.builder.join(60)
        _CACHE.builder = None
        _CACHE.builder_started = 0.0
        _CACHE.index = None
        _CACHE.folder = None
        _CACHE.pool_version = None
        _CACHE.signal_version = None
        _CACHE.status = IndexStatus()
