from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from core.db import db_session
from core.permissions import permission_required
from crm_tasks.models import Task

bp = Blueprint("crm_tasks", __name__, template_folder="templates", url_prefix="/tasks")

PER_PAGE = 50


@bp.route("/")
@permission_required("crm_tasks.read")
def task_list() -> str:
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    total = db_session.scalar(select(func.count()).select_from(Task))
    # Open tasks first, the most urgent on top; the client comes in the same query (no N+1).
    tasks = db_session.scalars(
        select(Task)
        .options(joinedload(Task.client))
        .order_by(Task.done, Task.due_date.asc().nulls_last(), Task.id)
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return render_template(
        "crm_tasks/task_list.html",
        tasks=tasks,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        total=total,
    )
