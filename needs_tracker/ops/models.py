"""Models of the ops feature: attachments of visits and needs (files kept outside the database)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from needs_tracker.common.models import CentreOwnedMixin, SoftDeleteMixin, TimestampMixin
from needs_tracker.extensions import db

# owner_type -> table of the record a file is attached to
OWNER_TABLES = {"visit": "visits", "need": "needs"}


class Attachment(CentreOwnedMixin, SoftDeleteMixin, TimestampMixin, db.Model):
    """A file (visit photo, minutes, signed agreement) attached to a visit or a need.

    The bytes live under ATTACHMENT_FOLDER with a random name; only the metadata is here.
    """

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(20), default="other")
    original_name: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def __repr__(self) -> str:
        return f"<Attachment {self.id} {self.owner_type}:{self.owner_id} {self.original_name}>"

    def audit_parent(self) -> tuple[str, int]:
        """The record whose history shows this attachment."""
        return OWNER_TABLES.get(self.owner_type, self.owner_type), self.owner_id
