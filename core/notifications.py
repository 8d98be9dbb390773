"""In-app notifications: short messages to one user, shown behind the bell of the navigation bar.

For modules (documented in ``docs/plugins.md``):

- ``notify(session, user_id, text, url=None)`` adds a notification to ``session``; it is sent
  when the caller commits, with the change it tells about (a rollback sends nothing). ``url`` is
  where opening it leads: a path of this site (``url_for(...)``), anything else is ignored.
- ``unread_count(session, user_id)`` is the number on the bell: one query.
- ``newest_unread(session, user_id, limit)``: the newest unread ones and how many are unread in
  all, in one query (the home page's widget, which spares the bell its own query).

Pages: ``/notifications`` (the list, newest first, paginated), opening one marks it read and
follows its link, and "Mark all as read".
"""

from __future__ import annotations

import math
from datetime import UTC

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import fields
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.api import api_doc, paginate
from core.auth import local_path
from core.db import db_session
from core.models import Notification, utcnow
from core.permissions import AUTHENTICATED, permission_required
from core.schemas import Schema

TEXT_LENGTH = 500
PER_PAGE = 25

bp = Blueprint("core_notifications", __name__, url_prefix="/notifications")
api = Blueprint("core_notifications_api", __name__, url_prefix="/api/v1/notifications")


class NotificationSchema(Schema):
    id = fields.Integer(dump_only=True)
    text = fields.String(dump_only=True)
    url = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True, default_timezone=UTC)
    read_at = fields.AwareDateTime(dump_only=True, default_timezone=UTC)


def notify(session: Session, user_id: int, text: str, url: str | None = None) -> Notification:
    """Tell ``user_id`` ``text`` (cut to 500 characters), linking to ``url`` (a local path)."""
    text = " ".join(text.split())
    if len(text) > TEXT_LENGTH:
        text = text[: TEXT_LENGTH - 1] + "…"
    local = local_path(url)
    notification = Notification(user_id=user_id, text=text, url=local[:500] if local else None)
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


def newest_unread(session: Session, user_id: int, limit: int = 5) -> tuple[list[Notification], int]:
    """The user's ``limit`` newest unread notifications and the number unread in all: one query
    (the count is a window over the rows before the limit)."""
    rows = session.execute(
        select(Notification, func.count().over().label("unread"))
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    ).all()
    return [row[0] for row in rows], (rows[0][1] if rows else 0)


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


@api.route("")
@permission_required(AUTHENTICATED)
@api_doc(
    "Your notifications, newest first (?unread=1 for the unread ones); meta.unread is the bell's "
    "number",
    response_schema=NotificationSchema,
    many=True,
    query=("unread", "page", "per_page"),
)
def api_notification_list():
    stmt = select(Notification).where(Notification.user_id == current_user.id)
    if request.args.get("unread") in ("1", "true"):
        stmt = stmt.where(Notification.read_at.is_(None))
    answer = paginate(
        stmt.order_by(Notification.created_at.desc(), Notification.id.desc()),
        NotificationSchema(),
    )
    answer["meta"]["unread"] = unread_count(db_session, current_user.id)
    return jsonify(answer)


@api.route("/<int:notification_id>/read", methods=["POST"])
@permission_required(AUTHENTICATED)
@api_doc("Mark one of your notifications read", response_schema=NotificationSchema)
def api_notification_read(notification_id: int):
    notification = _mine(notification_id)
    if notification.read_at is None:
        notification.read_at = utcnow()
        db_session.commit()
    return jsonify(NotificationSchema().dump(notification))
