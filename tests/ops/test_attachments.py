"""Attachments: type and size checks, random names outside the DB, access by role and centre."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from needs_tracker.extensions import db
from needs_tracker.ops.models import Attachment
from needs_tracker.ops.storage import AttachmentError, check_file, file_path, sniff

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def _office(member: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr(member, "<x/>")
    return buf.getvalue()


DOCX = _office("word/document.xml")
XLSX = _office("xl/workbook.xml")


@pytest.mark.parametrize(
    ("data", "kind"),
    [(JPEG, "jpeg"), (PNG, "png"), (PDF, "pdf"), (DOCX, "docx"), (XLSX, "xlsx"), (b"MZ", None)],
)
def test_sniffing(data, kind):
    assert sniff(data) == kind


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("photo.exe", JPEG, "Only JPEG"),
        ("page.html", b"<html>", "Only JPEG"),
        ("noextension", JPEG, "Only JPEG"),
        ("photo.png", JPEG, "not a .png"),
        ("minutes.pdf", b"<script>alert(1)</script>", "not a .pdf"),
        ("agreement.docx", XLSX, "not a .docx"),
        ("zip.xlsx", b"PK\x03\x04garbage", "not a .xlsx"),
        ("empty.pdf", b"", "empty"),
        ("big.pdf", PDF + b"0" * 2000, "larger than"),
    ],
)
def test_refused_files(app, name, data, message):
    with (
        app.test_request_context(),
        force_locale("en"),
        pytest.raises(AttachmentError, match=message),
    ):
        check_file(name, data, max_bytes=1000)


def _upload(client, owner, data, name, kind="photo", owner_type="visit"):
    return client.post(
        f"/attachments/{owner_type}/{owner.id}",
        data={"file": (io.BytesIO(data), name), "kind": kind},
        content_type="multipart/form-data",
    )


def _count() -> int:
    return db.session.scalar(
        select(func.count(Attachment.id)).execution_options(include_deleted=True)
    )


@pytest.mark.parametrize(
    ("name", "data", "mime"),
    [
        ("现场照片.JPG", JPEG, "image/jpeg"),
        ("photo.png", PNG, "image/png"),
        ("会议纪要.pdf", PDF, "application/pdf"),
        ("协议.docx", DOCX, "application/vnd.openxmlformats-officedocument"),
        ("清单.xlsx", XLSX, "application/vnd.openxmlformats-officedocument"),
    ],
)
def test_upload_and_download(client, auth, world, name, data, mime):
    auth.login("member")
    resp = _upload(client, world["visit_a"], data, name)
    assert resp.status_code == 302
    att = db.session.scalar(select(Attachment))
    assert att.original_name == name
    assert att.centre_id == world["a"].id
    path = file_path(att)
    assert path.read_bytes() == data
    assert name.split(".")[0] not in path.name  # random name on disk
    assert len(path.stem) == 32
    resp = client.get(f"/attachments/{att.id}")
    assert resp.status_code == 200
    assert resp.data == data
    assert resp.headers["Content-Type"].startswith(mime)
    assert resp.headers["Content-Disposition"].startswith("attachment")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    page = client.get(f"/visits/{world['visit_a'].id}").get_data(as_text=True)
    assert f"/attachments/{att.id}" in page


def test_refused_upload_writes_nothing(client, auth, world, app):
    auth.login("member")
    folder = Path(app.config["UPLOAD_FOLDER"]) / "attachments"
    before = sorted(folder.rglob("*")) if folder.exists() else []
    resp = _upload(client, world["visit_a"], b"<html><script>x</script>", "photo.jpg")
    assert resp.status_code == 302
    assert _count() == 0
    after = sorted(folder.rglob("*")) if folder.exists() else []
    assert after == before
    page = client.get(f"/visits/{world['visit_a'].id}").get_data(as_text=True)
    assert "photo.jpg" not in page


def test_oversized_upload_is_refused(client, auth, world, app):
    auth.login("member")
    app.config["ATTACHMENT_MAX_BYTES"] = 1000
    try:
        _upload(client, world["visit_a"], PDF + b"0" * 5000, "big.pdf")
    finally:
        app.config["ATTACHMENT_MAX_BYTES"] = 10 * 1024 * 1024
    assert _count() == 0


def test_attach_to_a_need(client, auth, world):
    auth.login("member")
    assert _upload(client, world["need_a"], PDF, "评估.pdf", owner_type="need").status_code == 302
    att = db.session.scalar(select(Attachment))
    assert (att.owner_type, att.owner_id) == ("need", world["need_a"].id)
    page = client.get(f"/needs/{world['need_a'].id}").get_data(as_text=True)
    assert "评估.pdf" in page


ROLES = [
    "member",
    "member2",
    "coordinator",
    "leader",
    "admin",
    "centre_admin",
    "observer",
    "consortium",
    "other",
]
READERS = {
    "member",
    "member2",
    "coordinator",
    "leader",
    "admin",
    "centre_admin",
    "observer",
    "consortium",
}
UPLOADERS = {"member", "member2", "coordinator", "admin", "centre_admin"}


@pytest.mark.parametrize("role", ROLES)
def test_routes_by_role_and_centre(client, auth, world, role, make_user):
    auth.login("member")
    _upload(client, world["visit_a"], JPEG, "a.jpg")
    att = db.session.scalar(select(Attachment))
    client.post("/logout")
    auth.login(role)
    assert client.get(f"/attachments/{att.id}").status_code == (200 if role in READERS else 404)
    resp = _upload(client, world["visit_a"], PNG, "b.png")
    if role == "other":
        assert resp.status_code == 404
    else:
        assert resp.status_code == (302 if role in UPLOADERS else 403)
    assert _count() == (2 if role in UPLOADERS else 1)
    resp = client.post(f"/attachments/{att.id}/delete")
    if role == "other":
        assert resp.status_code == 404
    elif role in {
        "member",
        "coordinator",
        "admin",
        "centre_admin",
    }:  # uploader, coordinators, admins
        assert resp.status_code == 302
    else:
        assert resp.status_code == 403


def test_deleted_attachment_is_gone_for_users(client, auth, world):
    auth.login("member")
    _upload(client, world["visit_a"], JPEG, "a.jpg")
    att = db.session.scalar(select(Attachment))
    client.post(f"/attachments/{att.id}/delete")
    assert client.get(f"/attachments/{att.id}").status_code == 404
    assert file_path(att).exists()  # kept: a deletion can be undone by an admin


def test_attachment_of_a_deleted_visit_is_hidden(client, auth, world):
    auth.login("member")
    _upload(client, world["visit_a"], JPEG, "a.jpg")
    att = db.session.scalar(select(Attachment))
    client.post(f"/visits/{world['visit_a'].id}/delete")
    assert client.get(f"/attachments/{att.id}").status_code == 404


def test_unknown_owner_and_attachment(client, auth, world):
    auth.login("member")
    assert _upload(client, world["visit_a"], JPEG, "a.jpg", owner_type="user").status_code == 404
    assert _upload(client, world["visit_b"], JPEG, "a.jpg").status_code == 404
    assert client.get("/attachments/999999").status_code == 404


def test_upload_without_a_file_says_so(client, auth, world):
    auth.login("member")
    resp = client.post(
        f"/attachments/visit/{world['visit_a'].id}", data={"kind": "photo"}, follow_redirects=True
    )
    assert resp.status_code == 200
    assert _count() == 0
    page = resp.get_data(as_text=True)
    assert "Choose a file." in page or "请选择文件" in page


def test_purging_a_visit_removes_its_files(client, auth, world, make_visit):
    from needs_tracker.common.models import utcnow

    auth.login("admin")
    bare = make_visit(world["a"], [world["org_a2"]], world["users"]["member"])
    _upload(client, bare, JPEG, "a.jpg")
    att = db.session.scalar(select(Attachment))
    path = file_path(att)
    bare.deleted_at = utcnow()
    db.session.commit()
    client.post(f"/trash/visits/{bare.id}/purge")
    assert not path.exists()
    assert _count() == 0


def test_anonymous_is_sent_to_login(client, world):
    resp = client.get("/attachments/1")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]
