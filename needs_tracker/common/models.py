"""Model mixins shared by every feature."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Integer
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


def utcnow() -> datetime:
    """Return the current time in UTC (aware)."""
    return datetime.now(UTC)


class TimestampMixin:
    """created_at / updated_at maintained by the ORM."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


def bump_version(obj: object) -> None:
    """Make the next flush UPDATE obj, and so move its version on, when only its collections
    changed (a visit's team, a need's fields): those are part of what a stale form or a stale
    If-Match would overwrite, and the ORM counts a version only for the row's own columns."""
    obj.updated_at = utcnow()  # type: ignore[attr-defined]


class VersionedMixin:
    """Optimistic concurrency: the ORM bumps `version` on each UPDATE and refuses stale ones."""

    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:  # noqa: N805 - SQLAlchemy declared_attr signature
        return {"version_id_col": cls.version}


class SoftDeleteMixin:
    """Rows are hidden, not removed; admins can restore them or delete them for good."""

    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    @property
    def is_deleted(self) -> bool:
        """True when the row has been soft-deleted."""
        return self.deleted_at is not None


def soft_delete(obj: SoftDeleteMixin) -> None:
    """Move obj to the trash: the scope's SELECT criteria hide it from then on.

    The one place a row is marked deleted (each feature's delete_x service calls it, then
    flushes): the audit trail records the flush as a soft delete, and the trash restores it.
    """
    obj.deleted_at = utcnow()


def restore(obj: SoftDeleteMixin) -> None:
    """Take obj out of the trash (the audit trail records the flush as a restore)."""
    obj.deleted_at = None


class CentreOwnedMixin:
    """Data that belongs to one service centre; the scoping layer filters on centre_id."""

    @declared_attr
    def centre_id(cls) -> Mapped[int]:  # noqa: N805 - SQLAlchemy declared_attr signature
        return mapped_column(ForeignKey("centres.id"), index=True, nullable=False)
