"""crm_tasks' card of the home page (the core's ``crm_home_widgets``): the user's open tasks, the
overdue ones first, then by due date.

Two queries whatever the number of tasks: the first few open tasks (client and type joined), and
the counts of open and overdue ones.
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from markupsafe import Markup
from sqlalchemy import case, func, select

from core import HomeWidget, hookimpl
from core.auth import has_permission
from core.db import db_session
from core.timezone import local_today
from crm_tasks import workflow
from crm_tasks.models import Task
from crm_tasks.permissions import READ
from crm_tasks.service import urgent_first, with_details

SHOWN = 8


@hookimpl
def crm_home_widgets(user: Any) -> list[HomeWidget]:
    if not has_permission(READ, user):
        return []
    today = local_today()
    mine_open = select(Task).where(Task.assigned_to_id == user.id, Task.status.in_(workflow.OPEN))
    # Open tasks only, so "earliest due first" puts the overdue ones first; no due date last.
    tasks = db_session.scalars(with_details(urgent_first(mine_open)).limit(SHOWN)).all()
    mine = mine_open.subquery()
    total, overdue = db_session.execute(
        select(func.count(), func.count(case((mine.c.due_date < today, 1)))).select_from(mine)
    ).one()
    html = Markup(  # noqa: S704 - a template rendered by Jinja with autoescaping
        render_template(
            "crm_tasks/home_tasks.html",
            tasks=tasks,
            total=total,
            overdue=overdue,
            today=today,
            is_overdue=workflow.is_overdue,
        )
    )
    return [HomeWidget("crm_tasks.mine", "My open tasks", html, order=20)]
