"""Users: list, create, edit, deactivate, reset a password; and one's own password."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core.admin.blueprint import bp
from core.admin.forms import (
    MIN_PASSWORD,
    PER_PAGE,
    USER_LABELS,
    USERS,
    OwnPasswordSchema,
    PasswordResetSchema,
    UserCreateSchema,
    UserEditSchema,
    add_error,
    load_form,
    posted,
)
from core.admin.queries import (
    LOCKOUT,
    active_administrators,
    all_groups,
    current_page,
    groups_by_id,
    like_pattern,
    user_or_404,
)
from core.auth import (
    announce_user_saved,
    create_user,
    end_sessions,
    hash_password,
    verify_password,
)
from core.db import db_session
from core.locking import check_version, touch
from core.models import User
from core.permissions import AUTHENTICATED, permission_required


def _relogin_if_self(user: User) -> None:
    """The token of the current user changed: keep this session (and its "remember me" cookie,
    if there was one) alive with the new token, while every other session of the user ends."""
    if current_user.is_authenticated and current_user.id == user.id:
        cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        login_user(user, remember=cookie in request.cookies)


# --- users ---------------------------------------------------------------------------------------


@bp.route("/settings/users")
@permission_required(USERS)
def user_list():
    query = request.args.get("q", "").strip()
    page = current_page()
    stmt = select(User)
    if query:
        like = like_pattern(query)
        stmt = stmt.where(
            or_(
                func.lower(User.login).like(like, escape="\\"),
                func.lower(User.name).like(like, escape="\\"),
            )
        )
    total = db_session.scalar(select(func.count()).select_from(stmt.subquery()))
    users = db_session.scalars(
        stmt.options(selectinload(User.groups))
        .order_by(User.login, User.id)
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return render_template(
        "core/admin/users.html",
        users=users,
        query=query,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        total=total,
    )


def _user_form(template_args: dict[str, Any], status: int = 200):
    return (
        render_template(
            "core/admin/user_form.html",
            all_groups=all_groups(),
            labels=USER_LABELS,
            min_password=MIN_PASSWORD,
            **template_args,
        ),
        status,
    )


@bp.route("/settings/users/new", methods=["GET", "POST"])
@permission_required(USERS)
def user_create():
    if request.method == "GET":
        return _user_form({"user": None, "form": {"groups": []}, "errors": {}})
    form = posted("groups")
    data, errors = load_form(UserCreateSchema(), form)
    if not errors:
        taken = db_session.scalar(
            select(User.id).where(func.lower(User.login) == data["login"].lower())
        )
        if taken is not None:
            add_error(errors, "login", f"“{data['login']}” is already taken.")
        groups = groups_by_id(data["groups"])
        if len(groups) != len(set(data["groups"])):
            add_error(errors, "groups", "Unknown group; reload the page.")
    if not errors:
        user = create_user(
            db_session,
            data["login"],
            data["password"],
            name=data["name"],
            groups=tuple(g.code for g in groups.values()),
        )
        user.email = data["email"]
        try:
            db_session.commit()
        except IntegrityError:  # the same login created concurrently
            db_session.rollback()
            add_error(errors, "login", f"“{data['login']}” is already taken.")
    if errors:
        return _user_form({"user": None, "form": form, "errors": errors}, 400)
    flash(f"User {data['login']} created.", "success")
    return redirect(url_for("core_admin.user_list"))


@bp.route("/settings/users/<int:user_id>", methods=["GET", "POST"])
@permission_required(USERS)
def user_edit(user_id: int):
    user = user_or_404(user_id)
    if request.method == "GET":
        form = {"name": user.name, "email": user.email, "groups": [str(g.id) for g in user.groups]}
        return _user_form({"user": user, "form": form, "errors": {}})
    check_version(user)
    form = posted("groups")
    data, errors = load_form(UserEditSchema(), form)
    if not errors:
        groups = groups_by_id(data["groups"])
        if len(groups) != len(set(data["groups"])):
            add_error(errors, "groups", "Unknown group; reload the page.")
    if not errors:
        before = active_administrators()
        user.name, user.email = data["name"], data["email"]
        user.groups = list(groups.values())
        touch(user)  # its groups live in another table
        announce_user_saved(db_session, user)
        if before and not active_administrators():
            db_session.rollback()
            add_error(errors, "groups", LOCKOUT)
        else:
            db_session.commit()
    if errors:
        return _user_form({"user": user, "form": form, "errors": errors}, 400)
    flash(f"User {user.login} saved.", "success")
    return redirect(url_for("core_admin.user_list"))


@bp.route(
    "/settings/users/<int:user_id>/<any(deactivate, reactivate):action>", methods=["GET", "POST"]
)
@permission_required(USERS)
def user_active(user_id: int, action: str):
    user = user_or_404(user_id)
    error = None
    if request.method == "POST":
        if action == "deactivate" and user.id == current_user.id:
            error = "You cannot deactivate your own account; another administrator can."
        elif action == "deactivate":
            before = active_administrators()
            user.active = False
            # Ends every session and "remember me" cookie of the user at their next request.
            end_sessions(user)
            if before and not active_administrators():
                db_session.rollback()
                error = LOCKOUT
        else:
            user.active = True
        if error is None:
            db_session.commit()
            done = "deactivated: their sessions have ended" if action == "deactivate" else "active"
            flash(f"User {user.login} is {done}.", "success")
            return redirect(url_for("core_admin.user_list"))
    return (
        render_template("core/admin/user_active.html", user=user, action=action, error=error),
        200 if error is None else 400,
    )


@bp.route("/settings/users/<int:user_id>/password", methods=["GET", "POST"])
@permission_required(USERS)
def user_password(user_id: int):
    user = user_or_404(user_id)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data, errors = load_form(PasswordResetSchema(), posted())
        if not errors:
            user.password_hash = hash_password(data["password"])
            end_sessions(user)
            db_session.commit()
            _relogin_if_self(user)
            flash(f"The password of {user.login} was reset; their sessions have ended.", "success")
            return redirect(url_for("core_admin.user_edit", user_id=user.id))
    return (
        render_template(
            "core/admin/user_password.html",
            user=user,
            errors=errors,
            labels=USER_LABELS,
            min_password=MIN_PASSWORD,
        ),
        400 if errors else 200,
    )


@bp.route("/account/password", methods=["GET", "POST"])
@permission_required(AUTHENTICATED)
def account_password():
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data, errors = load_form(OwnPasswordSchema(), posted())
        user: User = current_user._get_current_object()  # type: ignore[attr-defined]
        if not errors and not verify_password(user, data["current_password"]):
            add_error(errors, "current_password", "This is not your current password.")
        if not errors:
            user.password_hash = hash_password(data["password"])
            end_sessions(user)
            db_session.commit()
            _relogin_if_self(user)
            flash("Your password was changed; your other sessions have ended.", "success")
            return redirect(url_for("core.home"))
    return (
        render_template(
            "core/admin/account_password.html",
            errors=errors,
            labels=USER_LABELS,
            min_password=MIN_PASSWORD,
        ),
        400 if errors else 200,
    )
