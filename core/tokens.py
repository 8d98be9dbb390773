"""Personal API tokens: created and revoked by their owner in the UI, used as ``Authorization:
Bearer <token>`` on the JSON API.

- Only the SHA-256 of a token is stored; the token itself is shown once, on the page that creates
  it. Looking a token up by its hash is the comparison, so it takes no secret-dependent time.
- A token opens the JSON API (``/api/...``) only: it cannot drive the HTML pages, and so cannot
  create more tokens.
- A request authenticated by a token is stateless: flask-login's request loader marks it, the
  session interface below then saves no session (no cookie is ever set in answer to a token), and
  the request gate does not ask it for a CSRF token, since a browser never adds an ``Authorization``
  header on its own. A browser using the API with its session cookie still sends ``X-CSRFToken``.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from flask import (
    Blueprint,
    Flask,
    Request,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_login import current_user
from marshmallow import ValidationError, fields, pre_load, validate
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from core.auth import login_manager
from core.db import db_session
from core.models import ApiToken, User
from core.permissions import AUTHENTICATED, permission_required
from core.schemas import Schema

bp = Blueprint("core_tokens", __name__, url_prefix="/account/tokens")

TOKEN_PREFIX = "crm_"  # noqa: S105 - tells tokens apart in logs and secret scanners
# Writing last_used_at at every call would turn each API read into a write.
TOUCH_INTERVAL = timedelta(minutes=1)
REFUSAL = "The API token is unknown or revoked, or its user is deactivated."
_VIA_TOKEN = "crm_login_via_token"  # noqa: S105 - names of g attributes
_REFUSED = "crm_token_refused"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session, user: User | int, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the record and the token, which is not stored."""
    token = new_token()
    user_id = user if isinstance(user, int) else user.id
    record = ApiToken(user_id=user_id, name=name, token_hash=token_hash(token), prefix=token[:12])
    session.add(record)
    session.flush()
    return record, token


def _aware(moment: datetime) -> datetime:
    # SQLite hands timezone-aware columns back naive; every stored time is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@login_manager.request_loader
def load_user_from_token(req: Request) -> User | None:
    """flask-login calls this when the request carries no session user."""
    scheme, _, credential = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not req.path.startswith("/api/"):
        return None
    credential = credential.strip()
    token = (
        db_session.scalar(
            select(ApiToken)
            .options(joinedload(ApiToken.user))
            .where(ApiToken.token_hash == token_hash(credential))
        )
        if credential
        else None
    )
    if token is None or token.revoked_at is not None or not token.user.active:
        g.setdefault(_REFUSED, REFUSAL)
        return None
    now = datetime.now(UTC)
    if token.last_used_at is None or _aware(token.last_used_at) <= now - TOUCH_INTERVAL:
        # A statement rather than an attribute change: bookkeeping, not an edit of the record.
        db_session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
        db_session.commit()
    setattr(g, _VIA_TOKEN, True)
    return token.user


def authenticated_by_token() -> bool:
    """Whether the user of this request was authenticated by an API token (loads the user)."""
    return bool(current_user.is_authenticated and g.get(_VIA_TOKEN))


def refusal() -> str | None:
    """Why the API token of this request was refused, if it carried one that was."""
    return g.get(_REFUSED)


class TokenAwareSessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, except that a token-authenticated request saves none."""

    def save_session(self, app: Flask, session: SessionMixin, response) -> None:
        if g.get(_VIA_TOKEN):
            return None
        return super().save_session(app, session, response)


class TokenSchema(Schema):
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "What the token is for, to recognise it later"},
    )

    @pre_load
    def strip(self, data, **_kwargs):
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            data = {**data, "name": data["name"].strip()}
        return data


def _own_tokens() -> list[ApiToken]:
    return list(
        db_session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == current_user.id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id)
        )
    )


def _own_token(token_id: int) -> ApiToken:
    token = db_session.get(ApiToken, token_id)
    # Somebody else's token is as unknown as a missing one.
    if token is None or token.user_id != current_user.id:
        abort(404)
    return token


@bp.route("", methods=["GET"])
@permission_required(AUTHENTICATED)
def tokens():
    return render_template("core/tokens.html", tokens=_own_tokens(), errors={}, name="")


@bp.route("", methods=["POST"])
@permission_required(AUTHENTICATED)
def token_create():
    try:
        data = TokenSchema().load({"name": request.form.get("name", "")})
    except ValidationError as error:
        return render_template(
            "core/tokens.html",
            tokens=_own_tokens(),
            errors=error.messages,
            name=request.form.get("name", ""),
        ), 400
    record, token = issue_token(db_session, current_user.id, data["name"])
    db_session.commit()
    response = make_response(
        render_template("core/tokens_created.html", record=record, token=token)
    )
    # The page holds the secret: no cache, shared or private, may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:token_id>/revoke", methods=["GET", "POST"])
@permission_required(AUTHENTICATED)
def token_revoke(token_id: int):
    token = _own_token(token_id)
    if request.method == "GET":
        return render_template("core/tokens_revoke.html", token=token)
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        db_session.commit()
        flash(f"The token “{token.name}” is revoked: it opens nothing any more.", "success")
    else:
        flash(f"The token “{token.name}” was already revoked.", "info")
    return redirect(url_for("core_tokens.tokens"))
