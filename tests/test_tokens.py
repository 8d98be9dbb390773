"""Personal API tokens: created once and shown once, stored hashed, used as Bearer credentials on
the JSON API without a session cookie, and refused once revoked or when their user is
deactivated."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Blueprint, flash, session
from sqlalchemy import select

from core.db import db_session
from core.models import ApiToken, User
from core.permissions import AUTHENTICATED, permission_required
from core.testing import logged_in, make_user
from core.tokens import REFUSAL, issue_token

CLIENTS = "/api/v1/clients"


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    make_user(app, "maria", groups=("sales_rep",))
    make_user(app, "peter", groups=("sales_rep",))
    return app


@pytest.fixture
def maria(app):
    return logged_in(app, "maria")


def _create_in_ui(client, name="Nightly export") -> str:
    response = client.post("/account/tokens", data={"name": name})
    assert response.status_code == 200
    token = re.search(r'value="(crm_[A-Za-z0-9_-]+)"[^>]*data-testid="token"', response.text)
    assert token, response.text
    return token.group(1)


def _token(app, login: str, name: str = "script") -> str:
    with app.app_context():
        user = db_session.scalar(select(User).where(User.login == login))
        _record, token = issue_token(db_session, user, name)
        db_session.commit()
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _record(app, token: str) -> ApiToken:
    with app.app_context():
        digest = hashlib.sha256(token.encode()).hexdigest()
        record = db_session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
        assert record is not None
        db_session.expunge(record)
        return record


def test_created_in_the_ui_shown_once_and_stored_hashed(app, maria):
    assert "You have no API token." in maria.get("/account/tokens").text
    response = maria.post("/account/tokens", data={"name": "  Nightly export  "})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    token = re.search(r'value="(crm_[A-Za-z0-9_-]+)"', response.text).group(1)
    assert len(token) > 40

    record = _record(app, token)
    assert record.name == "Nightly export"
    assert record.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token.startswith(record.prefix) and len(record.prefix) < len(token) // 3
    assert record.last_used_at is None and record.revoked_at is None

    listing = maria.get("/account/tokens").text
    assert token not in listing
    assert "Nightly export" in listing and f"{record.prefix}…" in listing
    assert "never" in listing and "active" in listing


def test_a_name_is_required(app, maria):
    for name in ("", "   ", "x" * 101):
        response = maria.post("/account/tokens", data={"name": name})
        assert response.status_code == 400
        assert 'data-field-error="name"' in response.text
    with app.app_context():
        assert db_session.scalars(select(ApiToken)).all() == []


def test_bearer_token_opens_the_api_and_records_its_use(app, maria):
    token = _create_in_ui(maria)
    client = app.test_client()  # no session
    created = client.post(CLIENTS, json={"name": "Bioprom"}, headers=_bearer(token))
    assert created.status_code == 201, created.get_json()
    listed = client.get(CLIENTS, headers=_bearer(token))
    assert listed.status_code == 200 and listed.get_json()["meta"]["total"] == 1

    first_use = _record(app, token).last_used_at
    assert first_use is not None
    client.get(CLIENTS, headers=_bearer(token))
    assert _record(app, token).last_used_at == first_use  # at most one write a minute

    with app.app_context():
        record = db_session.get(ApiToken, _record(app, token).id)
        record.last_used_at = datetime.now(UTC) - timedelta(minutes=2)
        db_session.commit()
    client.get(CLIENTS, headers=_bearer(token))
    last = _record(app, token).last_used_at
    last = last if last.tzinfo else last.replace(tzinfo=UTC)
    assert datetime.now(UTC) - last < timedelta(seconds=30)
    assert "never" not in maria.get("/account/tokens").text


def test_token_requests_set_no_session_cookie(app):
    token = _token(app, "maria")
    client = app.test_client()
    for response in (
        client.get(CLIENTS, headers=_bearer(token)),
        client.post(CLIENTS, json={"name": "Agrotech"}, headers=_bearer(token)),
        client.post(CLIENTS, json={"name": ""}, headers=_bearer(token)),
        client.get(f"{CLIENTS}/999", headers=_bearer(token)),
    ):
        assert response.status_code in (200, 201, 400, 404)
        assert "Set-Cookie" not in response.headers
    assert client.get_cookie("session") is None


def test_the_token_carries_its_users_permissions_and_record_rules(app):
    make_user(app, "vera", groups=())
    assert app.test_client().get(CLIENTS, headers=_bearer(_token(app, "vera"))).status_code == 403

    maria, peter = _token(app, "maria"), _token(app, "peter")
    client = app.test_client()
    client.post(CLIENTS, json={"name": "Maria's client"}, headers=_bearer(maria))
    client.post(CLIENTS, json={"name": "Peter's client"}, headers=_bearer(peter))
    names = [c["name"] for c in client.get(CLIENTS, headers=_bearer(peter)).get_json()["items"]]
    assert names == ["Peter's client"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer crm_unknown-token",
        "Bearer ",
        "bearer crm_unknown-token",
    ],
)
def test_an_unknown_token_is_a_401_json(app, header):
    response = app.test_client().get(CLIENTS, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json() == {"errors": {"_schema": [REFUSAL]}}
    assert "Set-Cookie" not in response.headers


def test_other_schemes_are_simply_anonymous(app):
    response = app.test_client().get(CLIENTS, headers={"Authorization": "Basic bWFyaWE6eA=="})
    assert response.status_code == 401
    assert response.get_json() == {"errors": {"_schema": ["Authentication required."]}}


def test_revoked_after_confirmation(app, maria):
    token = _create_in_ui(maria)
    record = _record(app, token)
    confirm = maria.get(f"/account/tokens/{record.id}/revoke")
    assert confirm.status_code == 200 and "Revoke the token" in confirm.text
    assert _record(app, token).revoked_at is None  # showing the question changes nothing

    done = maria.post(f"/account/tokens/{record.id}/revoke")
    assert done.status_code == 302 and done.headers["Location"].endswith("/account/tokens")
    assert _record(app, token).revoked_at is not None
    assert "revoked" in maria.get("/account/tokens").text

    response = app.test_client().get(CLIENTS, headers=_bearer(token))
    assert response.status_code == 401
    assert response.get_json() == {"errors": {"_schema": [REFUSAL]}}


def test_a_deactivated_users_token_is_refused(app):
    token = _token(app, "maria")
    client = app.test_client()
    assert client.get(CLIENTS, headers=_bearer(token)).status_code == 200
    with app.app_context():
        db_session.scalar(select(User).where(User.login == "maria")).active = False
        db_session.commit()
    response = client.get(CLIENTS, headers=_bearer(token))
    assert response.status_code == 401 and response.get_json()["errors"]["_schema"] == [REFUSAL]


def test_nobody_sees_or_revokes_somebody_elses_token(app, maria):
    token = _token(app, "peter", name="Peter's script")
    record = _record(app, token)
    assert "Peter&#39;s script" not in maria.get("/account/tokens").text
    assert maria.get(f"/account/tokens/{record.id}/revoke").status_code == 404
    assert maria.post(f"/account/tokens/{record.id}/revoke").status_code == 404
    assert _record(app, token).revoked_at is None


def test_a_token_opens_the_api_only(app):
    """Not the HTML pages, and so not the page that creates more tokens."""
    token = _token(app, "maria")
    client = app.test_client()
    for path in ("/contacts/clients", "/account/tokens", "/"):
        response = client.get(path, headers=_bearer(token))
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.post("/account/tokens", data={"name": "more"}, headers=_bearer(token))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_session_wins_over_a_token(app, maria):
    """A browser with its session cookie is that session's user, whatever header it adds."""
    token = _token(app, "peter")
    maria.post(CLIENTS, json={"name": "Maria's client"})
    names = [c["name"] for c in maria.get(CLIENTS, headers=_bearer(token)).get_json()["items"]]
    assert names == ["Maria's client"]


def test_every_user_finds_the_tokens_page_in_the_menu(app):
    make_user(app, "vera", groups=())
    client = logged_in(app, "vera")
    home = client.get("/")
    assert 'data-menu-id="core.api_tokens"' in home.text
    assert client.get("/account/tokens").status_code == 200
    anonymous = app.test_client().get("/account/tokens")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_no_cookie_even_when_a_view_writes_to_the_session(crm_app_factory):
    """Without the token-aware session interface, this view would hand the script a cookie."""
    app = crm_app_factory()
    writer = Blueprint("test_session_writer", __name__)

    @writer.route("/api/v1/test-session-writer", methods=["POST"])
    @permission_required(AUTHENTICATED)
    def write():
        session["seen"] = True
        flash("noted")
        return {"ok": True}

    app.register_blueprint(writer)
    make_user(app, "maria")
    token = _token(app, "maria")
    by_token = app.test_client().post("/api/v1/test-session-writer", headers=_bearer(token))
    assert by_token.status_code == 200 and "Set-Cookie" not in by_token.headers

    by_session = logged_in(app, "maria").post("/api/v1/test-session-writer")
    assert by_session.status_code == 200 and "Set-Cookie" in by_session.headers
