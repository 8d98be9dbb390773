"""Administration of users and groups (``core.users``), and every user's own password.

Forms are validated by the marshmallow schemas below; a refused form is shown again with a message
per field and status 400, and nothing is written. Rotating ``User.session_token`` (deactivation, a
new password) ends every session and "remember me" cookie of the user: see ``core.auth.load_user``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_user
from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validates_schema,
)
from marshmallow import validate as v
from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core.auth import create_user, hash_password, verify_password
from core.db import db_session
from core.models import Group, PermissionRecord, User, user_group
from core.permissions import AUTHENTICATED, permission_required

bp = Blueprint("core_admin", __name__)

USERS = "core.users"
ADMIN_GROUP = "admin"
PER_PAGE = 50
MIN_PASSWORD = 10
PASSWORD_FIELDS = frozenset({"password", "password_confirm", "current_password"})


# --- schemas -------------------------------------------------------------------------------------


def _text(max_length: int, *, required: bool = True, extra: Any = None) -> fields.String:
    def check(value: str) -> None:
        if required and not value:
            raise ValidationError("Required.")
        if len(value) > max_length:
            raise ValidationError(f"At most {max_length} characters.")
        if extra is not None and value:
            extra(value)

    if required:
        return fields.String(
            required=True, validate=check, error_messages={"required": "Required."}
        )
    return fields.String(load_default="", validate=check)


_email = v.Email(error="Not a valid email address.")


def _password() -> fields.String:
    return fields.String(
        required=True,
        error_messages={"required": "Required."},
        validate=v.Length(
            min=MIN_PASSWORD, max=200, error="Between {min} and {max} characters, please."
        ),
    )


class FormSchema(Schema):
    """Shared by the forms of this module: posted HTML forms carry extras (the CSRF token)."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def strip(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        # Spaces around a name or login are typing accidents; around a password they are not.
        return {
            key: value.strip() if isinstance(value, str) and key not in PASSWORD_FIELDS else value
            for key, value in data.items()
        }


class NewPasswordMixin(Schema):
    password = _password()
    password_confirm = fields.String(required=True, error_messages={"required": "Required."})

    @validates_schema
    def passwords_match(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("password") != data.get("password_confirm"):
            raise ValidationError("The two passwords differ.", field_name="password_confirm")


class UserEditSchema(FormSchema):
    name = _text(200)
    email = _text(200, required=False, extra=_email)
    groups = fields.List(fields.Integer(), load_default=list)


class UserCreateSchema(UserEditSchema, NewPasswordMixin):
    login = _text(
        100,
        extra=v.Regexp(
            r"^[A-Za-z0-9._@+-]+$", error="Letters, digits and . _ @ + - only, without spaces."
        ),
    )


class PasswordResetSchema(FormSchema, NewPasswordMixin):
    pass


class OwnPasswordSchema(FormSchema, NewPasswordMixin):
    current_password = fields.String(required=True, error_messages={"required": "Required."})


class GroupEditSchema(FormSchema):
    name = _text(100)
    permissions = fields.List(fields.String(), load_default=list)
    members = fields.List(fields.Integer(), load_default=list)


class GroupCreateSchema(GroupEditSchema):
    code = _text(
        50,
        extra=v.Regexp(
            r"^[a-z][a-z0-9_]*$",
            error="Lowercase letters, digits and _ only, starting with a letter.",
        ),
    )


USER_LABELS = {
    "current_password": "Current password",
    "login": "Login",
    "name": "Name",
    "email": "Email",
    "groups": "Groups",
    "password": "Password",
    "password_confirm": "Password again",
    "_schema": "Form",
}
GROUP_LABELS = {
    "code": "Code",
    "name": "Name",
    "permissions": "Permissions",
    "members": "Members",
    "_schema": "Form",
}


# --- helpers -------------------------------------------------------------------------------------


def _posted(*lists: str) -> dict[str, Any]:
    """The posted form as a dict: one value per field, all values for the ``lists``."""
    data: dict[str, Any] = {k: v for k, v in request.form.items() if k not in lists}
    for name in lists:
        data[name] = request.form.getlist(name)
    return data


def _flatten(messages: Any) -> list[str]:
    if isinstance(messages, dict):  # errors of list items come keyed by position
        return [m for value in messages.values() for m in _flatten(value)]
    if isinstance(messages, list | tuple):
        return [m for value in messages for m in _flatten(value)]
    return [str(messages)]


def _load(schema: Schema, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    try:
        return schema.load(data), {}
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return {}, {field: _flatten(value) for field, value in messages.items()}


def _add(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _page() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


def _rotate_session_token(user: User) -> None:
    user.session_token = secrets.token_hex(16)


def _relogin_if_self(user: User) -> None:
    """The token of the current user changed: keep this session (and its "remember me" cookie,
    if there was one) alive with the new token, while every other session of the user ends."""
    if current_user.is_authenticated and current_user.id == user.id:
        cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        login_user(user, remember=cookie in request.cookies)


def _active_administrators() -> int:
    return db_session.scalar(
        select(func.count())
        .select_from(user_group)
        .join(Group, Group.id == user_group.c.group_id)
        .join(User, User.id == user_group.c.user_id)
        .where(Group.code == ADMIN_GROUP, User.active.is_(True))
    )


LOCKOUT = (
    "At least one active user must stay in the Administrator group: without one, nobody could "
    "manage users and groups any more."
)


def _groups_by_id(ids: Iterable[int]) -> dict[int, Group]:
    ids = set(ids)
    if not ids:
        return {}
    return {g.id: g for g in db_session.scalars(select(Group).where(Group.id.in_(ids)))}


def _all_groups() -> list[Group]:
    return list(db_session.scalars(select(Group).order_by(Group.name, Group.id)))


def _user_or_404(user_id: int) -> User:
    return db_session.get(User, user_id) or abort(404, "No such user.")


def _group_or_404(group_id: int) -> Group:
    return db_session.get(Group, group_id) or abort(404, "No such group.")


# --- users ---------------------------------------------------------------------------------------


@bp.route("/settings/users")
@permission_required(USERS)
def user_list():
    query = request.args.get("q", "").strip()
    page = _page()
    stmt = select(User)
    if query:
        like = _like(query)
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
            all_groups=_all_groups(),
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
    form = _posted("groups")
    data, errors = _load(UserCreateSchema(), form)
    if not errors:
        taken = db_session.scalar(
            select(User.id).where(func.lower(User.login) == data["login"].lower())
        )
        if taken is not None:
            _add(errors, "login", f"“{data['login']}” is already taken.")
        groups = _groups_by_id(data["groups"])
        if len(groups) != len(set(data["groups"])):
            _add(errors, "groups", "Unknown group; reload the page.")
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
            _add(errors, "login", f"“{data['login']}” is already taken.")
    if errors:
        return _user_form({"user": None, "form": form, "errors": errors}, 400)
    flash(f"User {data['login']} created.", "success")
    return redirect(url_for("core_admin.user_list"))


@bp.route("/settings/users/<int:user_id>", methods=["GET", "POST"])
@permission_required(USERS)
def user_edit(user_id: int):
    user = _user_or_404(user_id)
    if request.method == "GET":
        form = {"name": user.name, "email": user.email, "groups": [str(g.id) for g in user.groups]}
        return _user_form({"user": user, "form": form, "errors": {}})
    form = _posted("groups")
    data, errors = _load(UserEditSchema(), form)
    if not errors:
        groups = _groups_by_id(data["groups"])
        if len(groups) != len(set(data["groups"])):
            _add(errors, "groups", "Unknown group; reload the page.")
    if not errors:
        before = _active_administrators()
        user.name, user.email = data["name"], data["email"]
        user.groups = list(groups.values())
        if before and not _active_administrators():
            db_session.rollback()
            _add(errors, "groups", LOCKOUT)
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
    user = _user_or_404(user_id)
    error = None
    if request.method == "POST":
        if action == "deactivate" and user.id == current_user.id:
            error = "You cannot deactivate your own account; another administrator can."
        elif action == "deactivate":
            before = _active_administrators()
            user.active = False
            # Ends every session and "remember me" cookie of the user at their next request.
            _rotate_session_token(user)
            if before and not _active_administrators():
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
    user = _user_or_404(user_id)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data, errors = _load(PasswordResetSchema(), _posted())
        if not errors:
            user.password_hash = hash_password(data["password"])
            _rotate_session_token(user)
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
        data, errors = _load(OwnPasswordSchema(), _posted())
        user: User = current_user._get_current_object()  # type: ignore[attr-defined]
        if not errors and not verify_password(user, data["current_password"]):
            _add(errors, "current_password", "This is not your current password.")
        if not errors:
            user.password_hash = hash_password(data["password"])
            _rotate_session_token(user)
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


# --- groups --------------------------------------------------------------------------------------


@bp.route("/settings/groups")
@permission_required(USERS)
def group_list():
    rows = db_session.execute(
        select(Group, func.count(user_group.c.user_id))
        .outerjoin(user_group, user_group.c.group_id == Group.id)
        .group_by(Group.id)
        .order_by(Group.name, Group.id)
    ).all()
    return render_template("core/admin/groups.html", rows=rows, admin_code=ADMIN_GROUP)


def _group_form(template_args: dict[str, Any], status: int = 200):
    by_module: dict[str, list[PermissionRecord]] = {}
    for record in db_session.scalars(
        select(PermissionRecord).order_by(PermissionRecord.module, PermissionRecord.code)
    ):
        by_module.setdefault(record.module, []).append(record)
    plugins = current_app.extensions["crm"].plugins
    summaries = {name: info.summary for name, info in plugins.items()}
    summaries["core"] = "Users, groups and modules"
    users = db_session.scalars(select(User).order_by(User.name, User.login)).all()
    return (
        render_template(
            "core/admin/group_form.html",
            by_module=by_module,
            summaries=summaries,
            users=users,
            labels=GROUP_LABELS,
            admin_code=ADMIN_GROUP,
            kept_permission=USERS,
            **template_args,
        ),
        status,
    )


def _check_group_choices(data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    known = set(
        db_session.scalars(
            select(PermissionRecord.code).where(PermissionRecord.code.in_(data["permissions"]))
        )
    )
    if known != set(data["permissions"]):
        _add(errors, "permissions", "Unknown permission; reload the page.")
    members = set(data["members"])
    if members:
        found = set(db_session.scalars(select(User.id).where(User.id.in_(members))))
        if found != members:
            _add(errors, "members", "Unknown user; reload the page.")


def _save_group(group: Group, data: dict[str, Any]) -> None:
    group.name = data["name"]
    group.permissions = list(
        db_session.scalars(
            select(PermissionRecord).where(PermissionRecord.code.in_(data["permissions"]))
        )
    )
    db_session.flush()
    members = set(data["members"])
    # Set-based on the link table: two statements whatever the number of users.
    db_session.execute(
        delete(user_group).where(
            user_group.c.group_id == group.id, user_group.c.user_id.not_in(members)
        )
    )
    present = set(
        db_session.scalars(select(user_group.c.user_id).where(user_group.c.group_id == group.id))
    )
    missing = members - present
    if missing:
        db_session.execute(
            insert(user_group), [{"user_id": uid, "group_id": group.id} for uid in missing]
        )


@bp.route("/settings/groups/new", methods=["GET", "POST"])
@permission_required(USERS)
def group_create():
    empty = {"permissions": [], "members": []}
    if request.method == "GET":
        return _group_form({"group": None, "form": empty, "errors": {}})
    form = _posted("permissions", "members")
    data, errors = _load(GroupCreateSchema(), form)
    if not errors:
        if db_session.scalar(select(Group.id).where(Group.code == data["code"])) is not None:
            _add(errors, "code", f"A group with the code “{data['code']}” exists already.")
        _check_group_choices(data, errors)
    if not errors:
        group = Group(code=data["code"], name=data["name"])
        db_session.add(group)
        _save_group(group, data)
        try:
            db_session.commit()
        except IntegrityError:  # the same code created concurrently
            db_session.rollback()
            _add(errors, "code", f"A group with the code “{data['code']}” exists already.")
    if errors:
        return _group_form({"group": None, "form": form, "errors": errors}, 400)
    flash(f"Group {data['name']} created.", "success")
    return redirect(url_for("core_admin.group_list"))


@bp.route("/settings/groups/<int:group_id>", methods=["GET", "POST"])
@permission_required(USERS)
def group_edit(group_id: int):
    group = _group_or_404(group_id)
    if request.method == "GET":
        members = db_session.scalars(
            select(user_group.c.user_id).where(user_group.c.group_id == group.id)
        )
        form = {
            "name": group.name,
            "permissions": [p.code for p in group.permissions],
            "members": [str(uid) for uid in members],
        }
        return _group_form({"group": group, "form": form, "errors": {}})
    form = _posted("permissions", "members")
    data, errors = _load(GroupEditSchema(), form)
    if not errors:
        _check_group_choices(data, errors)
        if group.code == ADMIN_GROUP and USERS not in data["permissions"]:
            _add(
                errors,
                "permissions",
                f"The Administrator group always keeps {USERS} (manage users and groups): "
                "without it nobody could manage users and groups any more.",
            )
    if not errors:
        before = _active_administrators()
        _save_group(group, data)
        if before and not _active_administrators():
            db_session.rollback()
            _add(errors, "members", LOCKOUT)
        else:
            db_session.commit()
    if errors:
        return _group_form({"group": group, "form": form, "errors": errors}, 400)
    flash(f"Group {group.name} saved.", "success")
    return redirect(url_for("core_admin.group_list"))


@bp.route("/settings/groups/<int:group_id>/delete", methods=["GET", "POST"])
@permission_required(USERS)
def group_delete(group_id: int):
    from core.app import current_state

    group = _group_or_404(group_id)
    refused = None
    if group.code == ADMIN_GROUP:
        refused = (
            "The Administrator group cannot be deleted: it holds the permission to manage users "
            "and groups, and every module grants its permissions to it when it is installed."
        )
    if request.method == "POST" and refused is None:
        name = group.name
        db_session.execute(delete(user_group).where(user_group.c.group_id == group.id))
        db_session.delete(group)
        db_session.commit()
        flash(f"Group {name} deleted.", "success")
        return redirect(url_for("core_admin.group_list"))
    members = db_session.scalar(
        select(func.count()).select_from(user_group).where(user_group.c.group_id == group.id)
    )
    rules = [r for r in current_state().record_rules if group.code in r.groups]
    return (
        render_template(
            "core/admin/group_delete.html",
            group=group,
            members=members,
            rules=rules,
            refused=refused,
        ),
        400 if refused and request.method == "POST" else 200,
    )
