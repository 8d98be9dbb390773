"""Logging in and out, password hashing, and the permission check behind every route."""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    has_app_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import AnonymousUserMixin, LoginManager, current_user, login_user, logout_user
from sqlalchemy import event, func, select

from core.db import db_session
from core.models import (
    Group,
    Notification,
    PermissionRecord,
    User,
    group_permission,
    user_group,
)
from core.permissions import AUTHENTICATED, PUBLIC, permission_required

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"


def _hasher() -> PasswordHasher:
    """argon2id with the library's recommended parameters, unless ``ARGON2_PARAMETERS`` says
    otherwise (the test suite uses a cheap profile; verification reads them from the hash)."""
    params = current_app.config.get("ARGON2_PARAMETERS") if has_app_context() else None
    return PasswordHasher(**params) if params else _DEFAULT_HASHER


_DEFAULT_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(user: User, password: str) -> bool:
    try:
        return bool(user.password_hash) and _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """``user_id`` is ``User.get_id()``: "<id>:<session token>". A session or remember cookie
    issued before the token was rotated, or of a deactivated user, no longer loads anybody."""
    number, _, token = user_id.partition(":")
    if not (number.isascii() and number.isdigit()):
        return None
    # The bell's number comes with the user: every page shows it, and it is one statement fewer.
    unread = (
        select(func.count())
        .where(Notification.user_id == User.id, Notification.read_at.is_(None))
        .scalar_subquery()
    )
    row = db_session.execute(select(User, unread).where(User.id == int(number))).first()
    if row is None or not row[0].active:
        return None
    user = row[0]
    if not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    g.crm_unread_notifications = row[1]
    return user


def user_permissions(user) -> frozenset[str]:
    """The permission codes ``user`` holds through its groups; loaded once per request (until a
    flush changes groups or grants: see ``forget_permissions``)."""
    return _access(user)[0]


def user_groups(user) -> frozenset[str]:
    """The codes of the groups ``user`` belongs to; loaded once per request (until a flush
    changes them: see ``forget_permissions``)."""
    return _access(user)[1]


def _access(user) -> tuple[frozenset[str], frozenset[str]]:
    """``user``'s permissions and groups, read together: one statement, not one each, on
    every request (the gate asks for both)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset(), frozenset()
    cache = g.setdefault("crm_access", {})
    if user.id not in cache:
        # Outer joins one after the other, not nested: SQLite scans a nested join's tables.
        rows = db_session.execute(
            select(Group.code, PermissionRecord.code)
            .join(user_group, user_group.c.group_id == Group.id)
            .outerjoin(group_permission, group_permission.c.group_id == Group.id)
            .outerjoin(
                PermissionRecord, PermissionRecord.code == group_permission.c.permission_code
            )
            .where(user_group.c.user_id == user.id)
        ).all()
        cache[user.id] = (
            frozenset(code for _, code in rows if code is not None),
            frozenset(group for group, _ in rows),
        )
    return cache[user.id]


def has_permission(code: str | None, user=None) -> bool:
    if code in (None, PUBLIC):
        return True
    if user is None:
        # Templates ask hundreds of times a page: resolve flask-login's proxy once per call,
        # not once per attribute.
        user = current_user._get_current_object()  # type: ignore[attr-defined]
    if not getattr(user, "is_authenticated", False):
        return False
    return code == AUTHENTICATED or code in user_permissions(user)


#: What a request keeps of who holds what; dropped whenever that may have changed.
_PERMISSION_CACHES = ("crm_access", "crm_template_context")
#: Tables whose rows decide who holds what.
_PERMISSION_TABLES = frozenset({"core_user_group", "core_group_permission", "core_permission"})


def forget_permissions() -> None:
    """Drop this request's memo of users' permissions and groups, and the menu built from them:
    the next check reads them again. Called by the listeners below when a flush or a statement
    changes groups or grants; code that changes them behind the session's back calls it itself."""
    if has_app_context():
        for name in _PERMISSION_CACHES:
            g.pop(name, None)


def install_permission_listeners(factory) -> None:
    """Keep the per-request memo right within the request that changes it (an administrator who
    removes a group from herself sees the menu of what she keeps on the page rendered next)."""

    @event.listens_for(factory, "after_flush")
    def grants_flushed(session, _context) -> None:
        changed = (*session.new, *session.dirty, *session.deleted)
        if any(isinstance(obj, User | Group | PermissionRecord) for obj in changed):
            forget_permissions()

    @event.listens_for(factory, "do_orm_execute")
    def grants_written(state) -> None:
        if state.is_select:
            return
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in _PERMISSION_TABLES:
            forget_permissions()

    @event.listens_for(factory, "after_soft_rollback")
    def grants_rolled_back(_session, _previous) -> None:
        # What was read after a change that is now undone would be wrong.
        forget_permissions()


class Anonymous(AnonymousUserMixin):
    name = "Anonymous"


login_manager.anonymous_user = Anonymous


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None: never a redirect or a link to somebody
    else's host (``//host``, ``/\\host`` and ``scheme:`` included)."""
    if not target or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@permission_required(PUBLIC)
def login():
    error = None
    if request.method == "POST":
        login_name = request.form.get("login", "").strip()
        user = db_session.scalar(select(User).where(User.login == login_name))
        if (
            user is not None
            and user.active
            and verify_password(user, request.form.get("password", ""))
        ):
            login_user(user, remember=bool(request.form.get("remember")))
            user.last_login = datetime.now(UTC)
            db_session.commit()
            return redirect(local_path(request.args.get("next")) or url_for("core.home"))
        error = "Wrong login or password, or the account is deactivated."
    return render_template("core/login.html", error=error), 200 if error is None else 401


@bp.route("/logout", methods=["POST"])
@permission_required(AUTHENTICATED)
def logout():
    # The session cookie is signed, not stored: a copy saved before logout would still carry a
    # valid "<id>:<token>". A new token makes every such copy, and the remember cookie, worthless.
    # It ends the user's sessions in other browsers too: the price of keeping no session table.
    end_sessions(current_user._get_current_object())  # type: ignore[attr-defined]
    db_session.commit()
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


def end_sessions(user: User) -> None:
    """End every session and "remember me" cookie of ``user`` at its next request (a new session
    token: cookies carry the old one). The caller commits."""
    user.session_token = secrets.token_hex(16)


def create_user(
    session, login: str, password: str, name: str | None = None, groups: tuple[str, ...] = ()
) -> User:
    user = User(
        login=login,
        name=name or login,
        email="",
        password_hash=hash_password(password),
        session_token=secrets.token_hex(16),
    )
    if groups:
        user.groups = list(session.scalars(select(Group).where(Group.code.in_(groups))))
    session.add(user)
    session.flush()
    announce_user_saved(session, user)
    return user


def announce_user_saved(session, user: User) -> None:
    """``crm_user_saved`` to the installed modules, when there is an installation to ask (not
    while ``crm init`` creates the first administrator before any module exists)."""
    if not has_app_context() or "crm" not in current_app.extensions:
        return
    state = current_app.extensions["crm"].runtime.current(session)
    state.pm.hook.crm_user_saved(session=session, user=user)
