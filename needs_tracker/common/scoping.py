"""The one place where centre-owned data is scoped to what the acting user may see and change.

Every ORM SELECT (including those that the report queries hand to pandas) passes through
`_scope_select`, which adds `centre_id IN (...)` for centre-owned models and hides
soft-deleted rows. Every flush passes through `_guard_writes`, which refuses to write a
centre-owned row outside the actor's writable centres. Views and services therefore never
repeat the filter; they set the scope once (per request, per CLI command).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from needs_tracker.common.models import CentreOwnedMixin, SoftDeleteMixin

SCOPE_KEY = "needs_tracker.scope"


class ScopeViolation(PermissionError):
    """Raised when a flush would write centre data outside the actor's centres."""


@dataclass(frozen=True)
class Scope:
    """What the acting user may read and write; None means every centre."""

    read_centres: frozenset[int] | None
    write_centres: frozenset[int] | None
    user_id: int | None = None
    # Who acts when no user does (e.g. "api:erp-sync" for an API token): the audit names it.
    via: str | None = None

    @classmethod
    def system(cls) -> Scope:
        """Unrestricted scope for CLI commands and maintenance jobs."""
        return cls(read_centres=None, write_centres=None)

    @classmethod
    def nobody(cls) -> Scope:
        """Scope of an anonymous request: sees no centre data."""
        return cls(read_centres=frozenset(), write_centres=frozenset())

    def can_read(self, centre_id: int | None) -> bool:
        """True when rows of centre_id are visible."""
        return self.read_centres is None or centre_id in self.read_centres

    def can_write(self, centre_id: int | None) -> bool:
        """True when rows of centre_id may be written."""
        return self.write_centres is None or centre_id in self.write_centres


def set_scope(session: Session, scope: Scope) -> None:
    """Attach scope to a session (the request's or a CLI command's)."""
    session.info[SCOPE_KEY] = scope


def get_scope(session: Session) -> Scope | None:
    """Return the scope attached to session, if any."""
    return session.info.get(SCOPE_KEY)


@contextmanager
def scoped(session: Session, scope: Scope) -> Iterator[None]:
    """Temporarily run with another scope (e.g. a system job inside a request)."""
    previous = session.info.get(SCOPE_KEY)
    session.info[SCOPE_KEY] = scope
    try:
        yield
    finally:
        if previous is None:
            session.info.pop(SCOPE_KEY, None)
        else:
            session.info[SCOPE_KEY] = previous


@event.listens_for(Session, "do_orm_execute")
def _scope_select(state: ORMExecuteState) -> None:
    if not state.is_select or state.is_column_load:
        return
    options = []
    scope: Scope | None = state.session.info.get(SCOPE_KEY)
    if scope is not None and scope.read_centres is not None:
        centre_ids = tuple(sorted(scope.read_centres)) or (-1,)
        options.append(
            with_loader_criteria(
                CentreOwnedMixin,
                lambda cls: cls.centre_id.in_(centre_ids),
                include_aliases=True,
            )
        )
    # Soft-deleted rows stay reachable through relationships (a need's company that was
    # deleted later), but never appear in lists or lookups unless asked for.
    if not state.is_relationship_load and not state.execution_options.get("include_deleted"):
        options.append(
            with_loader_criteria(
                SoftDeleteMixin, lambda cls: cls.deleted_at.is_(None), include_aliases=True
            )
        )
    if options:
        state.statement = state.statement.options(*options)


@event.listens_for(Session, "before_flush")
def _guard_writes(session: Session, flush_context, instances) -> None:
    scope: Scope | None = session.info.get(SCOPE_KEY)
    if scope is None or scope.write_centres is None:
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, CentreOwnedMixin) and not scope.can_write(obj.centre_id):
            raise ScopeViolation(
                f"{type(obj).__name__} of centre {obj.centre_id} is outside the actor's centres"
            )
