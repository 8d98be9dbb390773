"""Reminders of tasks due tomorrow and overdue: a periodic job every morning at 07:00 in the
installation's time zone (run by ``crm worker``), and ``crm tasks remind`` for those who prefer
cron."""

from __future__ import annotations

from datetime import date, timedelta

import click
from flask import url_for
from flask.cli import with_appcontext
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core import hookimpl
from core.notifications import notify
from crm_tasks import workflow
from crm_tasks.models import Task

BATCH = 500


def remind(session: Session, today: date) -> tuple[int, int]:
    """Notify the assignee of every open task due tomorrow or overdue, at most once a day per
    task; returns (due tomorrow, overdue). Reads in batches of 500, whatever the number of tasks."""
    tomorrow = today + timedelta(days=1)
    due_tomorrow = overdue = 0
    last_id = 0
    while True:
        tasks = session.scalars(
            select(Task)
            .where(
                Task.id > last_id,
                Task.status.in_(workflow.OPEN),
                Task.assigned_to_id.is_not(None),
                # Due today is not reminded: the morning list shows it.
                or_(Task.due_date < today, Task.due_date == tomorrow),
                or_(Task.reminded_on.is_(None), Task.reminded_on < today),
            )
            .order_by(Task.id)
            .limit(BATCH)
        ).all()
        if not tasks:
            break
        for task in tasks:
            url = url_for("crm_tasks.task_detail", task_id=task.id)
            if task.due_date == tomorrow:
                text = f"Due tomorrow: “{task.title}”"
                due_tomorrow += 1
            else:
                text = f"Overdue since {task.due_date.isoformat()}: “{task.title}”"
                overdue += 1
            notify(session, task.assigned_to_id, text, url)
            task.reminded_on = today
        last_id = tasks[-1].id
        session.commit()
    return due_tomorrow, overdue


@click.group("tasks")
def tasks_cli() -> None:
    """Tasks and commitments."""


@tasks_cli.command("remind")
@with_appcontext
def remind_command() -> None:
    """Notify assignees of tasks due tomorrow and overdue (run daily from cron)."""
    from flask import current_app

    from core.db import db_session
    from core.timezone import local_today

    # url_for outside a request: the links are paths, the server name does not matter.
    with current_app.test_request_context("/"):
        tomorrow, late = remind(db_session, local_today())
    click.echo(f"Reminded: {tomorrow} due tomorrow, {late} overdue.")


@hookimpl
def crm_commands():
    return [tasks_cli]


def remind_job(ctx) -> None:
    from core.timezone import local_today

    tomorrow, late = remind(ctx.session, local_today())
    ctx.result_summary(f"Reminded: {tomorrow} due tomorrow, {late} overdue.")


@hookimpl
def crm_jobs():
    from core.jobs import JobDef

    return [JobDef("crm_tasks.remind", remind_job, "Reminders of tasks")]


@hookimpl
def crm_periodic_jobs():
    from core.jobs import PeriodicJob, crontab

    return [PeriodicJob("crm_tasks.remind", "crm_tasks.remind", crontab(minute="0", hour="7"))]
