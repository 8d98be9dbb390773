"""Tasks in the global search box: each hit names its client ("Call back — Acme Ltd"), so that
the same title for two clients is not two identical lines."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from core import hookimpl
from core.auth import has_permission
from core.search import SearchHit
from crm_tasks import workflow
from crm_tasks.models import Task
from crm_tasks.permissions import READ


@hookimpl
def crm_search(session, query, user):
    if not has_permission(READ, user):
        return []
    tasks = session.scalars(
        select(Task)
        .options(joinedload(Task.client))  # in the same query: no query per hit
        .where(func.lower(Task.title).contains(query.lower(), autoescape=True))
        .order_by(Task.id.desc())
        .limit(10)
    )
    return [
        SearchHit(
            f"{t.title} — {t.client.name}" if t.client else t.title,
            url_for("crm_tasks.task_detail", task_id=t.id),
            "Task",
            workflow.label(t.status) + (f", due {t.due_date.isoformat()}" if t.due_date else ""),
            order=30,
        )
        for t in tasks
    ]
