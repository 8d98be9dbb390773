"""Look-ups and rules the users and groups pages share."""

from __future__ import annotations

from collections.abc import Iterable

from flask import abort, request
from sqlalchemy import func, select

from core.admin.forms import ADMIN_GROUP
from core.db import db_session
from core.models import Group, User, user_group

LOCKOUT = (
    "At least one active user must stay in the Administrator group: without one, nobody could "
    "manage users and groups any more."
)


def like_pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def current_page() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


def active_administrators() -> int:
    return db_session.scalar(
        select(func.count())
        .select_from(user_group)
        .join(Group, Group.id == user_group.c.group_id)
        .join(User, User.id == user_group.c.user_id)
        .where(Group.code == ADMIN_GROUP, User.active.is_(True))
    )


def groups_by_id(ids: Iterable[int]) -> dict[int, Group]:
    ids = set(ids)
    if not ids:
        return {}
    return {g.id: g for g in db_session.scalars(select(Group).where(Group.id.in_(ids)))}


def all_groups() -> list[Group]:
    return list(db_session.scalars(select(Group).order_by(Group.name, Group.id)))


def user_or_404(user_id: int) -> User:
    return db_session.get(User, user_id) or abort(404, "No such user.")


def group_or_404(group_id: int) -> Group:
    return db_session.get(Group, group_id) or abort(404, "No such group.")
