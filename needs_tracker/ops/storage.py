"""Attachment files: type sniffing, size limits, random names, storage outside the database."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from needs_tracker.common.models import soft_delete
from needs_tracker.extensions import db
from needs_tracker.ops.models import OWNER_TABLES, Attachment

# extension -> (sniffed type, MIME type)
ALLOWED_EXTENSIONS = {
    "jpg": ("jpeg", "image/jpeg"),
    "jpeg": ("jpeg", "image/jpeg"),
    "png": ("png", "image/png"),
    "pdf": ("pdf", "application/pdf"),
    "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


class AttachmentError(ValueError):
    """A file refused, with a message for the user."""


@dataclass(frozen=True)
class Checked:
    """A file that passed the checks."""

    extension: str
    content_type: str
    data: bytes


def sniff(data: bytes) -> str | None:
    """The file type from its first bytes (and, for zip files, their members)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, ValueError):
            return None
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return "docx"
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return "xlsx"
    return None


def check_file(filename: str, data: bytes, max_bytes: int) -> Checked:
    """Accept a JPEG, PNG, PDF, DOCX or XLSX whose content matches its extension."""
    from flask_babel import gettext as _

    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in ALLOWED_EXTENSIONS:
        raise AttachmentError(
            _("Only JPEG, PNG, PDF, Word (.docx) and Excel (.xlsx) files can be attached.")
        )
    if not data:
        raise AttachmentError(_("The file is empty."))
    if len(data) > max_bytes:
        raise AttachmentError(
            _("The file is larger than %(mb)s MB.", mb=round(max_bytes / 1024 / 1024, 1))
        )
    expected, mime = ALLOWED_EXTENSIONS[ext]
    if sniff(data) != expected:
        raise AttachmentError(
            _("The file's content is not a .%(ext)s file; it was refused.", ext=ext)
        )
    return Checked(
        extension="jpg" if expected == "jpeg" else expected, content_type=mime, data=data
    )


def attachment_folder() -> Path:
    """Where files are kept: ATTACHMENT_FOLDER (tests: UPLOAD_FOLDER/attachments)."""
    config = current_app.config
    if config.get("TESTING") and config.get("UPLOAD_FOLDER"):
        return Path(config["UPLOAD_FOLDER"]) / "attachments"
    folder = config.get("ATTACHMENT_FOLDER") or config.get("UPLOAD_FOLDER")
    return Path(folder or Path(current_app.instance_path) / "attachments")


def file_path(att: Attachment) -> Path:
    """Path of an attachment's bytes."""
    return attachment_folder() / att.stored_name[:2] / att.stored_name


def clean_name(filename: str) -> str:
    """The uploaded name for display and download: no path, no control characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>')
    return name.strip()[:200] or "file"


def store_attachment(
    owner: Any,
    owner_type: str,
    filename: str,
    data: bytes,
    kind: str,
    actor: Any,
    max_bytes: int,
) -> Attachment:
    """Check and write the file under a random name; add its row (caller commits)."""
    checked = check_file(filename, data, max_bytes)
    stored = f"{secrets.token_hex(16)}.{checked.extension}"
    att = Attachment(
        centre_id=owner.centre_id,
        owner_type=owner_type,
        owner_id=owner.id,
        kind=kind,
        original_name=clean_name(filename),
        stored_name=stored,
        content_type=checked.content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=actor.id if actor is not None else None,
    )
    path = file_path(att)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    db.session.add(att)
    db.session.flush()
    return att


def delete_attachment(att: Attachment, actor: Any) -> None:
    """Move an attachment to the trash; its file stays until the owner is purged."""
    soft_delete(att)
    db.session.flush()


def attachments_of(owner_type: str, owner_id: int) -> list[Attachment]:
    """Attachments of one record visible to the current scope."""
    return list(
        db.session.scalars(
            select(Attachment)
            .where(Attachment.owner_type == owner_type, Attachment.owner_id == owner_id)
            .order_by(Attachment.id)
        )
    )


def purge_attachments(owner: Any) -> int:
    """Delete for good the attachments (rows and files) of a record being purged."""
    table = owner.__table__.name
    owner_type = next((k for k, v in OWNER_TABLES.items() if v == table), None)
    if owner_type is None:
        return 0
    rows = list(
        db.session.scalars(
            select(Attachment)
            .where(Attachment.owner_type == owner_type, Attachment.owner_id == owner.id)
            .execution_options(include_deleted=True)
        )
    )
    for att in rows:
        file_path(att).unlink(missing_ok=True)
        db.session.delete(att)
    return len(rows)
