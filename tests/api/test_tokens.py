"""Token lifecycle: shown once, hashed at rest, expiring, revocable, last use recorded."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select, text

from needs_tracker.api.models import ApiToken
from needs_tracker.common.models import utcnow
from needs_tracker.extensions import db
from tests.api.conftest import bearer


def _create(runner, *args: str):
    return runner.invoke(args=["token", "create", *args])


def test_create_prints_the_token_once_on_its_last_line_and_stores_only_its_hash(
    runner, client, make_centre
):
    centre = make_centre()
    result = _create(runner, "erp-sync", "--centre", centre.name, "--scope", "read")
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("ntk_")
    assert len(secret) > 40

    row = db.session.scalar(select(ApiToken).where(ApiToken.name == "erp-sync"))
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    # The secret itself is nowhere in the table.
    dumped = " ".join(
        str(v) for r in db.session.execute(text("SELECT * FROM api_tokens")) for v in r
    )
    assert secret not in dumped
    assert row.expires_at is not None
    assert client.get("/api/v1/needs", headers=bearer(secret)).status_code == 200

    listing = runner.invoke(args=["token", "list"])
    assert "erp-sync" in listing.output
    assert secret not in listing.output
    assert row.prefix in listing.output


def test_create_refuses_an_unknown_centre_a_duplicate_name_and_a_bad_scope(runner, make_centre):
    centre = make_centre()
    assert _create(runner, "x", "--centre", "nowhere", "--scope", "read").exit_code != 0
    assert _create(runner, "x", "--centre", centre.name, "--scope", "admin").exit_code != 0
    assert _create(runner, "x", "--centre", centre.name, "--scope", "read").exit_code == 0
    again = _create(runner, "x", "--centre", centre.name, "--scope", "write")
    assert again.exit_code != 0
    assert "already exists" in again.output
    assert db.session.scalar(select(ApiToken.scope).where(ApiToken.name == "x")) == "read"


def test_days_sets_the_expiry_and_an_expired_token_is_refused(runner, client, make_centre):
    centre = make_centre()
    result = _create(runner, "short", "--centre", centre.name, "--scope", "read", "--days", "2")
    secret = result.output.strip().splitlines()[-1]
    row = db.session.scalar(select(ApiToken).where(ApiToken.name == "short"))
    expires = row.expires_at.replace(tzinfo=None) if row.expires_at.tzinfo else row.expires_at
    now = utcnow().replace(tzinfo=None)
    assert timedelta(days=1, hours=23) < expires - now <= timedelta(days=2)

    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.get("/api/v1/needs", headers=bearer(secret))
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_revoke_stops_the_token_at_once(runner, client, make_centre):
    centre = make_centre()
    secret = _create(runner, "gone", "--centre", centre.name, "--scope", "write").output
    secret = secret.strip().splitlines()[-1]
    assert client.get("/api/v1/needs", headers=bearer(secret)).status_code == 200
    result = runner.invoke(args=["token", "revoke", "gone"])
    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/needs", headers=bearer(secret)).status_code == 401
    assert "revoked" in runner.invoke(args=["token", "list"]).output
    assert runner.invoke(args=["token", "revoke", "nobody"]).exit_code != 0


def test_last_used_is_recorded_and_shown(runner, client, make_centre, make_token):
    centre = make_centre()
    secret = make_token(centre, name="mini-program")
    row = db.session.scalar(select(ApiToken).where(ApiToken.name == "mini-program"))
    assert row.last_used_at is None
    assert client.get("/api/v1/organisations", headers=bearer(secret)).status_code == 200
    db.session.expire_all()
    row = db.session.scalar(select(ApiToken).where(ApiToken.name == "mini-program"))
    assert row.last_used_at is not None
    listing = runner.invoke(args=["token", "list"]).output
    line = next(ln for ln in listing.splitlines() if ln.startswith("mini-program"))
    assert "last used -" not in line


def test_a_wrong_or_malformed_token_is_refused(client, make_centre, make_token):
    secret = make_token(make_centre())
    for header in (
        f"Bearer {secret}x",
        f"Basic {secret}",
        "Bearer ",
        secret,
        "Bearer ntk_" + "a" * 500,
    ):
        response = client.get("/api/v1/needs", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
