"""JSON API of tasks: /api/v1/tasks, their transitions, completion links and attachments, and
/api/v1/commitment-types."""

from __future__ import annotations

from dataclasses import asdict

from flask import abort, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import select

from core.api import ApiError, api_doc, created, json_body, paginate, query_date, query_int
from core.attachment_views import download
from core.attachments import AttachmentError, attach, attachments_of, detach
from core.db import db_session
from core.locking import check_version
from core.models import Attachment
from core.permissions import permission_required
from core.timezone import local_today
from crm_tasks import workflow
from crm_tasks.blueprints import api
from crm_tasks.models import CommitmentType, Task, Transition
from crm_tasks.permissions import DELETE, READ, WRITE
from crm_tasks.schemas import (
    AttachmentSchema,
    CommitmentTypeSchema,
    TaskSchema,
    TaskUpdateSchema,
    TransitionSchema,
)
from crm_tasks.service import (
    Filters,
    create_task,
    link_options,
    load_values,
    update_task,
    with_details,
)
from crm_tasks.views.common import task_or_404

# A PATCH may leave out any field but the version.
_PARTIAL = tuple(name for name in TaskUpdateSchema().fields if name != "version")


def _dump(task: Task) -> dict:
    return TaskSchema().dump(task)


@api.route("/tasks")
@permission_required(READ)
@api_doc(
    "List the tasks you may see (yours and those you assigned; a manager: all)",
    response_schema=TaskSchema,
    many=True,
    query=(
        "view", "status", "commitment_type", "commitment_type_id", "client_id", "assigned_to_id",
        "assigned_by_id", "overdue", "due_from", "due_to", "page", "per_page", "sort",
    ),
)  # fmt: skip
def api_task_list():
    view = request.args.get("view", "")
    if view not in ("", "mine", "by_me"):
        raise ApiError({"view": ["Must be one of: mine, by_me."]})
    ids = {n: query_int(n) for n in ("commitment_type_id", "client_id", "assigned_to_id")}
    assigned_by_id = query_int("assigned_by_id")
    status = request.args.get("status", "")
    if status not in ("", "open", "closed", *workflow.STATUSES):
        choices = ", ".join(("open", "closed", *workflow.STATUSES))
        raise ApiError({"status": [f"Must be one of: {choices}."]})
    filters = Filters(
        view=view or "all",
        status=status or "any",
        due="overdue" if request.args.get("overdue") in ("1", "true") else "",
        due_from=query_date("due_from"),
        due_to=query_date("due_to"),
        **ids,
    )
    stmt = filters.apply(with_details(select(Task)), current_user.id, local_today())
    if assigned_by_id is not None:
        stmt = stmt.where(Task.assigned_by_id == assigned_by_id)
    code = request.args.get("commitment_type", "")
    if code:
        stmt = stmt.where(
            Task.commitment_type_id.in_(
                select(CommitmentType.id).where(CommitmentType.code == code)
            )
        )
    return jsonify(
        paginate(
            stmt,
            TaskSchema(),
            model=Task,
            sortable=("due_date", "created_at", "status_changed_at", "id", "priority"),
            default_sort="-id",
        )
    )


@api.route("/tasks", methods=["POST"])
@permission_required(WRITE)
@api_doc(
    "Create a task; assigned_to_id defaults to you, you are its assigner",
    request_schema=TaskSchema,
    response_schema=TaskSchema,
)
def api_task_create():
    values = load_values(db_session, TaskSchema(), json_body())
    task = create_task(db_session, values, current_user)
    db_session.commit()
    return created(_dump(task), url_for(".api_task_get", task_id=task.id))


@api.route("/tasks/<int:task_id>")
@permission_required(READ)
@api_doc("Read a task, with the transitions allowed now", response_schema=TaskSchema)
def api_task_get(task_id: int):
    return jsonify(_dump(task_or_404(task_id)))


@api.route("/tasks/<int:task_id>", methods=["PATCH"])
@permission_required(WRITE)
@api_doc(
    "Change a task's fields (not its status: POST a transition); send the version you read",
    request_schema=TaskUpdateSchema,
    response_schema=TaskSchema,
)
def api_task_update(task_id: int):
    task = task_or_404(task_id)
    payload = json_body()
    values = load_values(db_session, TaskUpdateSchema(), payload, task=task, partial=_PARTIAL)
    check_version(task, payload.get("version"))
    update_task(db_session, task, values, current_user)
    db_session.commit()
    return jsonify(_dump(task))


@api.route("/tasks/<int:task_id>", methods=["DELETE"])
@permission_required(DELETE)
@api_doc("Delete a task with its history and attachments (to stop one, cancel it instead)")
def api_task_delete(task_id: int):
    db_session.delete(task_or_404(task_id))
    db_session.commit()
    return "", 204


@api.route("/tasks/<int:task_id>/transitions")
@permission_required(READ)
@api_doc("The task's history of transitions, oldest first", response_schema=TransitionSchema)
def api_transition_list(task_id: int):
    task = task_or_404(task_id)
    steps = db_session.scalars(
        select(Transition).where(Transition.task_id == task.id).order_by(Transition.id)
    ).all()
    return jsonify(items=TransitionSchema().dump(steps, many=True))


@api.route("/tasks/<int:task_id>/transitions", methods=["POST"])
@permission_required(WRITE)
@api_doc(
    'Move the task: {"to": "in_progress"}; "rejected" needs the client\'s reason in "comment"; '
    '"confirmed" may carry "link" (a key of /completion-links); "version" is checked if sent',
    request_schema=TransitionSchema,
    response_schema=TaskSchema,
)
def api_transition_create(task_id: int):
    task = task_or_404(task_id)
    data = TransitionSchema().load(json_body())
    if data.get("version") is not None:
        check_version(task, data["version"])
    change = workflow.Change(to=data["to"], comment=data["comment"], link=data["link"])
    options = link_options(task) if change.link else []
    try:
        step = workflow.transition(db_session, task, change, current_user, options)
    except workflow.WorkflowError as error:
        status = 409 if "to" in error.errors else 400
        raise ApiError(error.errors, status=status) from None
    db_session.commit()
    return created(
        {**_dump(task), "transition": TransitionSchema().dump(step)},
        url_for(".api_task_get", task_id=task.id),
    )


@api.route("/tasks/<int:task_id>/completion-links")
@permission_required(READ)
@api_doc("Records other modules offer to complete this task with (key, label, model, record_id)")
def api_completion_links(task_id: int):
    options = link_options(task_or_404(task_id))
    return jsonify(
        items=[{**asdict(o), "key": o.key, "record_id": str(o.record_id)} for o in options]
    )


def _attachment_of(task: Task, attachment_id: int) -> Attachment:
    attachment = db_session.get(Attachment, attachment_id)
    if (
        attachment is None
        or attachment.model != Task.__tablename__
        or attachment.record_id != str(task.id)
    ):
        abort(404)
    return attachment


@api.route("/tasks/<int:task_id>/attachments")
@permission_required(READ)
@api_doc("The task's attachments", response_schema=AttachmentSchema, many=True)
def api_attachment_list(task_id: int):
    task = task_or_404(task_id)
    return jsonify(items=AttachmentSchema().dump(attachments_of(db_session, task), many=True))


@api.route("/tasks/<int:task_id>/attachments", methods=["POST"])
@permission_required(WRITE)
@api_doc(
    "Attach a file: multipart/form-data with the field 'file' (any format, up to the size limit)",
    response_schema=AttachmentSchema,
)
def api_attachment_create(task_id: int):
    task = task_or_404(task_id)
    upload = request.files.get("file")
    if upload is None:
        raise ApiError({"file": ["Send the file as multipart/form-data in the field 'file'."]})
    try:
        attachment = attach(db_session, task, upload, current_user)
    except AttachmentError as error:
        raise ApiError({"file": [str(error)]}) from None
    db_session.commit()
    return created(
        AttachmentSchema().dump(attachment),
        url_for(".api_attachment_get", task_id=task.id, attachment_id=attachment.id),
    )


@api.route("/tasks/<int:task_id>/attachments/<int:attachment_id>")
@permission_required(READ)
@api_doc("Download an attachment of the task (its content, as an attachment)")
def api_attachment_get(task_id: int, attachment_id: int):
    # The core's download: the same headers, and a 404 when the stored file is missing.
    return download(_attachment_of(task_or_404(task_id), attachment_id).id)


@api.route("/tasks/<int:task_id>/attachments/<int:attachment_id>", methods=["DELETE"])
@permission_required(WRITE)
@api_doc("Delete an attachment of the task")
def api_attachment_delete(task_id: int, attachment_id: int):
    detach(db_session, _attachment_of(task_or_404(task_id), attachment_id))
    db_session.commit()
    return "", 204


@api.route("/commitment-types")
@permission_required(READ)
@api_doc("The commitment types", response_schema=CommitmentTypeSchema, many=True)
def api_commitment_types():
    types = db_session.scalars(
        select(CommitmentType).order_by(CommitmentType.sort_order, CommitmentType.name)
    ).all()
    return jsonify(items=CommitmentTypeSchema().dump(types, many=True))
