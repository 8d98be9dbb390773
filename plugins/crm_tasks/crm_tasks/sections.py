"""The client file's section of crm_tasks: the client's open tasks and how its commitments stand.

Three queries at most whatever the number of tasks: the open tasks (limited), their count (when
there are more than the list shows), and the commitments by type and status.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import render_template
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from core import hookimpl
from core.auth import has_permission
from core.db import db_session
from core.models import User
from core.timezone import local_today
from crm_contacts.hookspecs import ClientFileSection
from crm_contacts.models import Client
from crm_tasks import workflow
from crm_tasks.models import CommitmentType, Task
from crm_tasks.permissions import READ, WRITE
from crm_tasks.service import count, open_tasks_of_client, urgent_first

SHOWN = 8
# What a row of the section shows beside the task: its type and the name of whom it is assigned
# to. Not the lists' ``with_details``, which joined the client (the file's own, already loaded)
# and both users' whole rows into a statement the file runs for every client.
ROW_DETAILS = (
    joinedload(Task.commitment_type),
    joinedload(Task.assigned_to).load_only(User.id, User.name),
)


@hookimpl
def crm_client_file_sections(client: Client, user: Any) -> list[ClientFileSection]:
    if not has_permission(READ, user):
        return []
    stmt = open_tasks_of_client(client.id)
    tasks = db_session.scalars(urgent_first(stmt).options(*ROW_DETAILS).limit(SHOWN)).all()
    # Counted only when the list is full: a shorter list is all there is.
    total_open = count(db_session, stmt) if len(tasks) == SHOWN else len(tasks)
    rows = db_session.execute(
        select(CommitmentType.name, Task.status, func.count())
        .join(CommitmentType, CommitmentType.id == Task.commitment_type_id)
        .where(Task.client_id == client.id)
        .group_by(CommitmentType.name, CommitmentType.sort_order, Task.status)
        .order_by(CommitmentType.sort_order, CommitmentType.name)
    ).all()
    summary: dict[str, Counter[str]] = {}
    for name, status, number in rows:
        summary.setdefault(name, Counter())["open" if status in workflow.OPEN else status] += number
    html = Markup(  # noqa: S704 - a template rendered by Jinja with autoescaping
        render_template(
            "crm_tasks/section_client.html",
            client=client,
            tasks=tasks,
            total_open=total_open,
            summary=summary,
            today=local_today(),
            is_overdue=workflow.is_overdue,
            can_write=has_permission(WRITE, user),
        )
    )
    return [ClientFileSection("crm_tasks.commitments", "Open tasks and commitments", html, 65)]
