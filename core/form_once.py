"""One click, one record: a create form carries a one-time token, and a repeated post of it (the
Back button and Send again, a double click, a browser's retry) answers with what the first post
made instead of making it twice.

A template puts ``{{ once_field() }}`` inside its ``<form>``. When such a form is posted, the
token is written in the request's own transaction, before the view runs:

- if the view commits, the token is committed with the record, all or nothing; after the view
  answers with a redirect (to the record made), that address is stored beside the token;
- if the view does not commit (the form had errors), the token is rolled back with the rest, and
  the corrected form may be sent again;
- a token already stored answers at once with a redirect to the stored address and a message,
  before the view runs. Two posts racing each other meet on the table's primary key: on
  PostgreSQL the second waits for the first and then finds its token taken; on SQLite write
  requests are serialised anyway.

A form that carries a record's ``version`` (an edit in place) is left to the optimistic lock,
which answers a repeated or stale post with 409. Tokens are per user and forgotten after a day by
the hourly clean-up job.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

from flask import Flask, flash, g, redirect, request
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import DateTime, String, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, db_session

FIELD = "_once"
KEEP = timedelta(days=1)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
ALREADY = "This form was sent already: here is what it saved (nothing was saved twice)."


class FormSubmission(Base):
    """A create form's one-time token, once its post was saved, and where that post led."""

    __tablename__ = "core_form_submission"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column()
    location: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


def once_field() -> Markup:
    """The hidden field of a create form (a Jinja global)."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        FIELD, secrets.token_urlsafe(24)
    )


def _posted_token() -> str | None:
    if request.method != "POST" or request.mimetype not in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        return None
    # A form that edits a record in place carries its version: posting it again is answered by
    # the optimistic lock (409, "changed since you opened it"), which says more than "sent already".
    if request.form.get("version"):
        return None
    token = request.form.get(FIELD, "")
    return token if _TOKEN.fullmatch(token) else None


def _repeat(location: str):
    flash(ALREADY, "info")
    return redirect(location or request.path, 303)


def claim_token():
    """Before the view (after the gate: the user is known): claim the posted token, or answer a
    repeated post."""
    token = _posted_token()
    if token is None or not current_user.is_authenticated:
        return None
    existing = db_session.scalars(
        select(FormSubmission.location).where(
            FormSubmission.token == token, FormSubmission.user_id == current_user.id
        )
    ).first()
    if existing is not None:
        return _repeat(existing)
    db_session.add(
        FormSubmission(token=token, user_id=current_user.id, created_at=datetime.now(UTC))
    )
    try:
        db_session.flush()
    except IntegrityError:
        # Another post of the same form saved it meanwhile (or another user's token: refused alike).
        db_session.rollback()
        return _repeat("")
    g.form_once_token = token
    return None


def remember_location(response):
    """After the view: a redirect is where the saved post led; a repeat goes there too."""
    token = g.pop("form_once_token", None)
    # Not committed (``g.crm_committed``, core/concurrency.py): the view saved nothing, and the
    # token goes with the rollback at the end of the request.
    if token is None or not g.get("crm_committed"):
        return response
    if response.status_code not in (301, 302, 303, 307, 308):
        return response
    location = response.headers.get("Location", "")[:500]
    # A new transaction: the view committed its own (or rolled back, and the token with it).
    db_session.execute(
        update(FormSubmission).where(FormSubmission.token == token).values(location=location)
    )
    db_session.commit()
    return response


def forget_old(session: Session, now: datetime | None = None) -> int:
    """Tokens older than a day: nobody goes Back that far (the hourly clean-up job)."""
    cutoff = (now or datetime.now(UTC)) - KEEP
    return session.execute(
        delete(FormSubmission).where(FormSubmission.created_at < cutoff)
    ).rowcount


def init_form_once(app: Flask) -> None:
    """Registered after the request gate, so that the user is known when the token is claimed."""
    app.jinja_env.globals["once_field"] = once_field
    app.before_request(claim_token)
    app.after_request(remember_location)
