"""The board: a column per status, a card per task, a button per allowed transition; cards can
also be dragged to another column (static/board.js, through the JSON API)."""

from __future__ import annotations

from datetime import timedelta

from flask import render_template
from flask_login import current_user
from sqlalchemy import select

from core.auth import has_permission
from core.db import db_session
from core.models import utcnow
from core.permissions import permission_required
from core.timezone import local_today
from crm_tasks import workflow
from crm_tasks.blueprints import bp
from crm_tasks.models import Task
from crm_tasks.permissions import READ, WRITE
from crm_tasks.service import urgent_first, with_details
from crm_tasks.views.common import filter_context, filters_from_args

OPEN_CARDS = 300
CLOSED_CARDS = 150
CLOSED_DAYS = 30


@bp.route("/board")
@permission_required(READ)
def board():
    filters = filters_from_args("all")
    filters.status = "any"
    base = filters.apply(select(Task), current_user.id, local_today())
    open_tasks = db_session.scalars(
        with_details(urgent_first(base.where(Task.status.in_(workflow.OPEN)))).limit(OPEN_CARDS)
    ).all()
    since = utcnow() - timedelta(days=CLOSED_DAYS)
    closed_tasks = db_session.scalars(
        with_details(base.where(Task.status.in_(workflow.CLOSED), Task.status_changed_at >= since))
        .order_by(Task.status_changed_at.desc(), Task.id.desc())
        .limit(CLOSED_CARDS)
    ).all()
    columns = {status: [] for status in workflow.STATUSES}
    for task in [*open_tasks, *closed_tasks]:
        columns[task.status].append(task)
    return render_template(
        "crm_tasks/board.html",
        columns=columns,
        today=local_today(),
        is_overdue=workflow.is_overdue,
        allowed=workflow.allowed if has_permission(WRITE) else (lambda task: ()),
        action_label=workflow.action_label,
        closed_days=CLOSED_DAYS,
        truncated=len(open_tasks) >= OPEN_CARDS,
        **filter_context(filters),
    )
