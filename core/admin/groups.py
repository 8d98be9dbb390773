"""Groups: their permissions and members."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from core.admin.blueprint import bp
from core.admin.forms import (
    ADMIN_GROUP,
    GROUP_LABELS,
    USERS,
    GroupCreateSchema,
    GroupEditSchema,
    add_error,
    load_form,
    posted,
)
from core.admin.queries import LOCKOUT, active_administrators, group_or_404
from core.db import db_session
from core.locking import check_version, touch
from core.models import Group, PermissionRecord, User, user_group
from core.permissions import permission_required
from core.state import current_state

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
        add_error(errors, "permissions", "Unknown permission; reload the page.")
    members = set(data["members"])
    if members:
        found = set(db_session.scalars(select(User.id).where(User.id.in_(members))))
        if found != members:
            add_error(errors, "members", "Unknown user; reload the page.")


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
    form = posted("permissions", "members")
    data, errors = load_form(GroupCreateSchema(), form)
    if not errors:
        if db_session.scalar(select(Group.id).where(Group.code == data["code"])) is not None:
            add_error(errors, "code", f"A group with the code “{data['code']}” exists already.")
        _check_group_choices(data, errors)
    if not errors:
        group = Group(code=data["code"], name=data["name"])
        db_session.add(group)
        _save_group(group, data)
        try:
            db_session.commit()
        except IntegrityError:  # the same code created concurrently
            db_session.rollback()
            add_error(errors, "code", f"A group with the code “{data['code']}” exists already.")
    if errors:
        return _group_form({"group": None, "form": form, "errors": errors}, 400)
    flash(f"Group {data['name']} created.", "success")
    return redirect(url_for("core_admin.group_list"))


@bp.route("/settings/groups/<int:group_id>", methods=["GET", "POST"])
@permission_required(USERS)
def group_edit(group_id: int):
    group = group_or_404(group_id)
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
    check_version(group)
    form = posted("permissions", "members")
    data, errors = load_form(GroupEditSchema(), form)
    if not errors:
        _check_group_choices(data, errors)
        if group.code == ADMIN_GROUP and USERS not in data["permissions"]:
            add_error(
                errors,
                "permissions",
                f"The Administrator group always keeps {USERS} (manage users and groups): "
                "without it nobody could manage users and groups any more.",
            )
    if not errors:
        before = active_administrators()
        _save_group(group, data)
        touch(group)  # its permissions and members live in other tables
        if before and not active_administrators():
            db_session.rollback()
            add_error(errors, "members", LOCKOUT)
        else:
            db_session.commit()
    if errors:
        return _group_form({"group": group, "form": form, "errors": errors}, 400)
    flash(f"Group {group.name} saved.", "success")
    return redirect(url_for("core_admin.group_list"))


@bp.route("/settings/groups/<int:group_id>/delete", methods=["GET", "POST"])
@permission_required(USERS)
def group_delete(group_id: int):

    group = group_or_404(group_id)
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
