"""In-app notifications: short messages to one user, shown behind the bell of the navigation bar.

For modules (documented in ``docs/plugins.md``):

- ``notify(session, user_id, text, url=None)`` adds a notification to ``session``; it is sent
  when the caller commits, with the change it tells about (a rollback sends nothing). ``url`` is
  where opening it leads: a path of this site (``url_for(...)``), anything else is ignored.
- ``unread_count(session, user_id)`` is the number on the bell: one query.

Pages: ``/notifications`` (the list, newest first, paginated), opening one marks it read and
follows its link, and "Mark all as read".
"""

from __future__ import annotations

import math

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.db import db_session
from core.models import Notification, utcnow
from core.permissions import AUTHENTICATED, permission_required

TEXT_LENGTH = 500
PER_PAGE = 25

bp = Blueprint("core_notifications", __name__, url_prefix="/notifications")


def _local_url(url: str | None) -> str | None:
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url[:500]
    return None


def notify(session: Session, user_id: int, text: str, url: str | None = None) -> Notification:
    """Tell ``user_id`` ``text`` (cut to 500 characters), linking to ``url`` (a local path)."""
    text = " ".join(text.split())
    if len(text) > TEXT_LENGTH:
        text = text[: TEXT_LENGTH - 1] + "…"
    notification = Notification(user_id=user_id, text=text, url=_local_url(url))
    session.add(notification)
    return notification


def unread_count(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def _mine(notification_id: int) -> Notification:
    notification = db_session.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404)
    return notification


@bp.route("/")
@permission_required(AUTHENTICATED)
def notification_list():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    unread_only = request.args.get("unread") == "1"
    stmt = select(Notification).where(Notification.user_id == current_user.id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    total = db_session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = db_session.scalars(
        stmt.order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return render_template(
        "core/notifications.html",
        items=items,
        page=page,
        pages=max(1, math.ceil(total / PER_PAGE)),
        total=total,
        unread_only=unread_only,
    )


@bp.route("/<int:notification_id>/open", methods=["POST"])
@permission_required(AUTHENTICATED)
def notification_open(notification_id: int):
    notification = _mine(notification_id)
    if notification.read_at is None:
        notification.read_at = utcnow()
        db_session.commit()
    return redirect(notification.url or url_for(".notification_list"))


@bp.route("/read-all", methods=["POST"])
@permission_required(AUTHENTICATED)
def notification_read_all():
    db_session.execute(
        update(Notification)
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db_session.commit()
    return redirect(url_for(".notification_list"))
