"""The core's own contributions, registered in every plugin manager under the name ``core``."""

from __future__ import annotations

from sqlalchemy import select

from core.hookspecs import hookimpl
from core.menus import MenuItem
from core.permissions import Permission
from core.state import current_state


@hookimpl
def crm_permissions() -> list[Permission]:
    return [
        Permission("core.modules", "Install and uninstall modules", groups=("admin",)),
        Permission("core.users", "Manage users and groups", groups=("admin",)),
        # What modules store, field by field, is not for an account that belongs to no group.
        Permission(
            "core.models",
            "Read the description of the models (API)",
            groups=("admin", "sales_manager", "sales_rep", "back_office"),
        ),
        Permission("core.jobs", "See and cancel every user's background jobs", groups=("admin",)),
    ]


@hookimpl
def crm_menus() -> list[MenuItem]:
    return [
        MenuItem("core.settings", "Settings", order=1000),
        MenuItem(
            "core.apps",
            "Apps",
            endpoint="core.apps",
            parent="core.settings",
            order=10,
            permission="core.modules",
        ),
        MenuItem(
            "core.users",
            "Users",
            endpoint="core_admin.user_list",
            parent="core.settings",
            order=20,
            permission="core.users",
        ),
        MenuItem(
            "core.groups",
            "Groups",
            endpoint="core_admin.group_list",
            parent="core.settings",
            order=25,
            permission="core.users",
        ),
        MenuItem(
            "core.record_rules",
            "Record rules",
            endpoint="core.record_rules",
            parent="core.settings",
            order=30,
            permission="core.users",
        ),
        # Everybody's own password: permission None, like the API tokens.
        MenuItem(
            "core.account_password",
            "Change my password",
            endpoint="core_admin.account_password",
            parent="core.settings",
            order=95,
        ),
        # Everybody's own background jobs; holders of core.jobs see everybody's there.
        MenuItem(
            "core.my_jobs",
            "My jobs",
            endpoint="core_jobs.job_list",
            parent="core.settings",
            order=80,
        ),
        # Every logged-in user manages their own tokens: permission None.
        MenuItem(
            "core.api_tokens",
            "API tokens",
            endpoint="core_tokens.tokens",
            parent="core.settings",
            order=90,
        ),
    ]


DEMO_PASSWORD = "demo"  # noqa: S105 - the published password of the demo users
DEMO_USERS = (
    ("maria", "Maria Petrova", ("sales_rep",)),
    ("peter", "Peter Ivanov", ("sales_rep",)),
    ("georgi", "Georgi Dimitrov", ("sales_manager",)),
    ("elena", "Elena Stoyanova", ("admin",)),
    ("vera", "Vera Koleva", ("back_office",)),
)


@hookimpl
def crm_demo_data(session, scale):
    """The people of the journeys, so that every module's demo data has owners to belong to."""
    from core.auth import create_user
    from core.models import User

    existing = set(session.scalars(select(User.login)))
    for login, name, groups in DEMO_USERS:
        if login not in existing:
            user = create_user(session, login, DEMO_PASSWORD, name=name, groups=groups)
            user.email = f"{login}@example.com"


HOME_NOTIFICATIONS = 5


@hookimpl
def crm_home_widgets(user):
    """The user's newest unread notifications: one query, which also gives the bell its number."""
    from flask import g, render_template
    from markupsafe import Markup

    from core.db import db_session
    from core.home import HomeWidget
    from core.notifications import newest_unread

    items, unread = newest_unread(db_session, user.id, HOME_NOTIFICATIONS)
    g.crm_unread_notifications = unread  # the bell of this page needs no query of its own
    html = Markup(  # noqa: S704 - a template rendered by Jinja with autoescaping
        render_template("core/_home_notifications.html", items=items, unread=unread)
    )
    return [HomeWidget("core.notifications", "Notifications", html, order=30)]


def _collect_attachments(ctx) -> None:
    """The hourly clean-up of the attachment storage (what ``crm attachments gc`` does), after
    forgetting create forms' one-time tokens older than a day and the jobs that ended more than
    ``JOBS_KEEP_DAYS`` ago (their uploads and results
    become unreferenced files, deleted by a later clean-up)."""
    from datetime import timedelta

    from flask import current_app

    from core.attachments import collect_garbage
    from core.form_once import forget_old as forget_old_form_tokens
    from core.jobs.api import forget_old_jobs

    forgotten = forget_old_jobs(ctx.session, timedelta(days=current_app.config["JOBS_KEEP_DAYS"]))
    forget_old_form_tokens(ctx.session)
    ctx.session.commit()

    report = collect_garbage(
        ctx.session,
        grace=timedelta(seconds=current_app.config["ATTACHMENT_GRACE_SECONDS"]),
        registry=current_state().models,
    )
    ctx.result_summary(
        f"{forgotten} old jobs forgotten. Files: {report.files_deleted} deleted, "
        f"{report.files_noted} newly unreferenced, "
        f"{report.files_kept} kept; {report.rows_of_deleted_records} rows of deleted records."
    )


@hookimpl
def crm_jobs():
    from core.jobs import JobDef

    return [JobDef("core.attachments_gc", _collect_attachments, "Attachment clean-up")]


@hookimpl
def crm_periodic_jobs():
    from core.jobs import PeriodicJob, crontab

    return [PeriodicJob("core.attachments_gc", "core.attachments_gc", crontab(minute="17"))]
