"""The task pages: my tasks, tasks I assigned, all tasks, the task form, the task with its history,
transitions and attachments, and deleting a task."""

from __future__ import annotations

import math
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core.attachments import AttachmentError, attach, attachments_of
from core.audit import history_for
from core.auth import has_permission
from core.db import db_session
from core.locking import check_version
from core.permissions import permission_required
from core.timezone import local_today
from crm_contacts.models import Client
from crm_tasks import workflow
from crm_tasks.blueprints import bp
from crm_tasks.models import PRIORITIES, Task, Transition
from crm_tasks.permissions import DELETE, READ, WRITE
from crm_tasks.schemas import TaskSchema
from crm_tasks.service import (
    active_types,
    count,
    create_task,
    link_options,
    load_values,
    update_task,
    urgent_first,
    with_details,
)
from crm_tasks.views.common import (
    PER_PAGE,
    filter_context,
    filters_from_args,
    form_errors,
    form_payload,
    int_arg,
    persons_and_contacts,
    task_or_404,
)

FORM_FIELDS = (
    "title",
    "description",
    "commitment_type_id",
    "client_id",
    "person_id",
    "contact_id",
    "assigned_to_id",
    "due_date",
    "priority",
)
VIEWS = {
    "mine": ("My tasks", "crm_tasks.task_list"),
    "by_me": ("Tasks I assigned", "crm_tasks.assigned_by_me"),
    "all": ("All tasks", "crm_tasks.all_tasks"),
}


@bp.app_template_global("crm_tasks_status_label")
def _status_label(status: str) -> str:
    return workflow.label(status)


@bp.app_template_global("crm_tasks_badge")
def _badge(status: str) -> str:
    return workflow.BADGES.get(status, "secondary")


def _list(view: str):
    filters = filters_from_args(view)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    stmt = filters.apply(select(Task), current_user.id, local_today())
    total = count(db_session, stmt)
    tasks = db_session.scalars(
        with_details(urgent_first(stmt)).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    title, endpoint = VIEWS[view]
    return render_template(
        "crm_tasks/task_list.html",
        title=title,
        endpoint=endpoint,
        view=view,
        tasks=tasks,
        page=page,
        pages=max(1, math.ceil(total / PER_PAGE)),
        total=total,
        today=local_today(),
        is_overdue=workflow.is_overdue,
        args={k: v for k, v in request.args.items() if k != "page" and v},
        **filter_context(filters),
    )


@bp.route("/")
@permission_required(READ)
def task_list():
    """My tasks: assigned to me, the overdue and most urgent first."""
    return _list("mine")


@bp.route("/assigned-by-me")
@permission_required(READ)
def assigned_by_me():
    return _list("by_me")


@bp.route("/all")
@permission_required(READ)
def all_tasks():
    """Every task the user may see (a representative: assigned to or by them; a manager: all)."""
    return _list("all")


# --- the form -------------------------------------------------------------------------------


def _form_values(task: Task | None) -> dict[str, Any]:
    if task is None:
        return {
            "client_id": int_arg("client_id"),
            "contact_id": int_arg("contact_id"),
            "person_id": int_arg("person_id"),
            "assigned_to_id": current_user.id,
            "priority": "normal",
            "commitment_type_id": int_arg("commitment_type_id"),
        }
    values = {name: getattr(task, name) for name in FORM_FIELDS}
    values["version"] = task.version
    return values


def _render_form(task: Task | None, values: dict[str, Any], errors: dict, status: int = 200):
    client_id = values.get("client_id")
    try:
        client_id = int(client_id) if client_id not in (None, "") else None
    except (TypeError, ValueError):
        client_id = None
    _, contacts = persons_and_contacts(client_id)
    if not values.get("priority"):
        values = {**values, "priority": "normal"}  # what the schema assumes
    fixed_client = db_session.get(Client, client_id) if client_id and task is None else None
    return (
        render_template(
            "crm_tasks/task_form.html",
            task=task,
            values=values,
            errors=errors,
            types=active_types(db_session, keep=task.commitment_type_id if task else None),
            fixed_client=fixed_client,
            contacts=contacts,
            priorities=[(p, p.capitalize()) for p in PRIORITIES],
        ),
        status,
    )


@bp.route("/new", methods=["GET", "POST"])
@permission_required(WRITE)
def task_new():
    if request.method == "GET":
        return _render_form(None, _form_values(None), {})
    payload = form_payload(FORM_FIELDS)
    try:
        values = load_values(db_session, TaskSchema(), payload)
    except ValidationError as error:
        db_session.rollback()
        return _render_form(None, payload, form_errors(error), 400)
    task = create_task(db_session, values, current_user)
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        try:
            attach(db_session, task, upload, current_user)
        except AttachmentError as error:
            # Nothing half-written: the task goes with its file, or neither does.
            db_session.rollback()
            return _render_form(None, payload, {"file": [str(error)]}, 400)
    db_session.commit()
    flash(f"Task “{task.title}” created.", "success")
    if request.form.get("back") == "client" and task.client_id is not None:
        # Opened from the client file: back to it, at the tasks section.
        return redirect(
            url_for(
                "crm_contacts.client_file",
                client_id=task.client_id,
                _anchor="section-crm_tasks.commitments",
            )
        )
    return redirect(url_for(".task_detail", task_id=task.id))


@bp.route("/<int:task_id>/edit", methods=["GET", "POST"])
@permission_required(WRITE)
def task_edit(task_id: int):
    task = task_or_404(task_id)
    if request.method == "GET":
        return _render_form(task, _form_values(task), {})
    payload = form_payload(FORM_FIELDS)
    try:
        values = load_values(db_session, TaskSchema(), payload, task=task)
    except ValidationError as error:
        db_session.rollback()
        return _render_form(task, {**payload, "version": task.version}, form_errors(error), 400)
    check_version(task, request.form.get("version"))
    update_task(db_session, task, values, current_user)
    db_session.commit()
    flash("Task saved.", "success")
    return redirect(url_for(".task_detail", task_id=task.id))


# --- the task -------------------------------------------------------------------------------


def _history(task: Task) -> list[Transition]:
    return list(
        db_session.scalars(
            select(Transition)
            .where(Transition.task_id == task.id)
            .options(joinedload(Transition.user))
            .order_by(Transition.at.desc(), Transition.id.desc())
        )
    )


def _render_detail(task: Task, errors: dict | None = None, values: dict | None = None, status=200):
    can_write = has_permission(WRITE)
    allowed = workflow.allowed(task) if can_write else ()
    options = link_options(task) if workflow.CONFIRMED in allowed else []
    return (
        render_template(
            "crm_tasks/task_detail.html",
            task=task,
            history=_history(task),
            files=attachments_of(db_session, task),
            changes=history_for(db_session, Task.__tablename__, task.id),
            allowed=allowed,
            action_label=workflow.action_label,
            link_options=options,
            can_write=can_write,
            can_delete=has_permission(DELETE),
            overdue=workflow.is_overdue(task, local_today()),
            errors=errors or {},
            values=values or {},
        ),
        status,
    )


@bp.route("/<int:task_id>")
@permission_required(READ)
def task_detail(task_id: int):
    return _render_detail(task_or_404(task_id))


@bp.route("/<int:task_id>/transition", methods=["POST"])
@permission_required(WRITE)
def task_transition(task_id: int):
    """A button of the task page or the board: move the task, if the workflow allows it."""
    task = task_or_404(task_id)
    change = workflow.Change(
        to=request.form.get("to", ""),
        comment=request.form.get("comment", ""),
        link=request.form.get("link", ""),
    )
    if request.form.get("version"):
        check_version(task, request.form.get("version"))
    options = link_options(task) if change.link else []
    try:
        workflow.transition(db_session, task, change, current_user, options)
    except workflow.WorkflowError as error:
        db_session.rollback()
        task = task_or_404(task_id)
        values = {"comment": change.comment, "link": change.link}
        return _render_detail(task, error.errors, values, 400)
    db_session.commit()
    flash(f"“{task.title}” is now {workflow.label(task.status)}.", "success")
    if request.form.get("next") == "board":
        return redirect(url_for(".board"))
    return redirect(url_for(".task_detail", task_id=task.id))


@bp.route("/<int:task_id>/delete", methods=["GET", "POST"])
@permission_required(DELETE)
def task_delete(task_id: int):
    task = task_or_404(task_id)
    if request.method == "POST":
        title = task.title
        db_session.delete(task)  # its history goes with it; its attachment rows too (core)
        db_session.commit()
        flash(f"Task “{title}” deleted.", "success")
        return redirect(url_for(".all_tasks"))
    files = attachments_of(db_session, task)
    return render_template("crm_tasks/task_delete.html", task=task, files=files)
