"""Manifest and hook implementations of crm_fixture: one implementation of every hook."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
from flask import url_for
from flask.cli import with_appcontext
from markupsafe import Markup
from sqlalchemy import func, select, text

from core import HomeWidget, Manifest, MenuItem, ModelDef, Permission, hookimpl
from core.auth import has_permission
from core.db import db_session
from core.pricing import Adjustment, PricingRuleKind
from core.record_rules import RecordRule
from core.reports import ReportDefinition
from core.search import SearchHit
from crm_contacts.hookspecs import ClientFileSection
from crm_contacts.models import Client

# Imported at the top, not inside a hook, so that the model is in the metadata that
# `crm db revision` compares with the database.
from crm_fixture.models import Note
from crm_fixture.schemas import NoteSchema, VolumeDiscountSchema

MANIFEST = Manifest(
    name="crm_fixture",
    summary="Test fixture implementing every hook",
    depends=("crm_contacts",),
    application=True,
)

INSTALL_NOTE = "Written by crm_install"
#: crm_uninstall appends a line to the file this variable names (tests check it was called).
UNINSTALL_LOG_ENV = "CRM_FIXTURE_UNINSTALL_LOG"
#: When this variable is set, crm_home_widgets runs a failing statement (tests of the home page).
HOME_WIDGET_FAIL_ENV = "CRM_FIXTURE_FAIL_HOME_WIDGET"
EXTRA_CONTRIBUTION = "contributed by crm_fixture_user"


@hookimpl
def crm_addhooks(pluginmanager):
    from crm_fixture import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def crm_models():
    return [ModelDef(Note, label="Fixture note", schema=NoteSchema)]


@hookimpl
def crm_blueprints():
    from crm_fixture.views import api, bp

    return [bp, api]


@hookimpl
def crm_menus():
    return [
        MenuItem("crm_fixture.root", "Fixture", order=900),
        MenuItem(
            "crm_fixture.notes",
            "Fixture notes",
            endpoint="crm_fixture.note_list",
            parent="crm_fixture.root",
            permission="crm_fixture.read",
        ),
    ]


@hookimpl
def crm_permissions():
    return [
        Permission("crm_fixture.read", "Read fixture notes", groups=("sales_rep", "sales_manager")),
        Permission("crm_fixture.write", "Write fixture notes", groups=("sales_manager",)),
    ]


@hookimpl
def crm_record_rules():
    return [
        RecordRule(
            "crm_fixture.no_confidential",
            "Sales representatives do not see confidential notes",
            Note,
            groups=("sales_rep",),
            criteria=lambda user: Note.title.not_like("Confidential%"),
        )
    ]


def evaluate_volume_discount(context: Any, params: dict[str, Any]) -> Adjustment | str:
    if context.quantity < params["min_quantity"]:
        return f"fewer than {params['min_quantity']} units"
    return Adjustment(
        reason=f"{params['percent']}% off from {params['min_quantity']} units",
        discount_percent=params["percent"],
    )


@hookimpl
def crm_pricing_rules():
    return [
        PricingRuleKind(
            name="crm_fixture.volume_discount",
            label="Volume discount (fixture)",
            schema=VolumeDiscountSchema,
            evaluate=evaluate_volume_discount,
            order=50,
        )
    ]


@hookimpl
def crm_reports():
    return [
        ReportDefinition(
            id="crm_fixture.notes_per_client",
            title="Fixture notes per client",
            model="crm_fixture_note",
            columns=("client_id", "title"),
            filters=("client_id",),
            group_by=("client_id",),
            aggregates={"id": "count"},
            chart="bar",
        )
    ]


@click.group("fixture")
def fixture_cli():
    """Commands of the fixture plugin."""


@fixture_cli.command("count")
@with_appcontext
def count_notes():
    """Print how many notes there are."""
    click.echo(f"{db_session.scalar(select(func.count()).select_from(Note))} notes")


@hookimpl
def crm_commands():
    return [fixture_cli]


@hookimpl
def crm_demo_data(session, scale):
    clients = session.scalars(select(Client).order_by(Client.id).limit(5)).all()
    for i in range(3 * scale):
        client = clients[i % len(clients)] if clients else None
        session.add(
            Note(
                title=f"Demo note {i + 1}",
                body="Call back next week about the order.",
                client_id=client.id if client else None,
            )
        )


@hookimpl
def crm_search(session, query, user):
    if not has_permission("crm_fixture.read", user):
        return []
    notes = session.scalars(
        select(Note)
        .where(func.lower(Note.title).like(f"%{query.lower()}%"))
        .order_by(Note.title)
        .limit(5)
    )
    return [
        SearchHit(n.title, url_for("crm_fixture.note_list", q=n.title), "Note", n.body[:80])
        for n in notes
    ]


@hookimpl
def crm_home_widgets(user):
    """A card of the home page: the latest notes, for users who may read them."""
    if not has_permission("crm_fixture.read", user):
        return []
    if os.environ.get(HOME_WIDGET_FAIL_ENV):
        db_session.execute(text("SELECT no_such_column FROM crm_fixture_note"))
    titles = db_session.scalars(select(Note.title).order_by(Note.id.desc()).limit(3)).all()
    items = Markup("").join(Markup("<li>{}</li>").format(title) for title in titles)
    html = Markup("<ul>{}</ul>").format(items) if titles else Markup("<p>No note yet.</p>")
    return [HomeWidget(id="crm_fixture.latest_notes", title="Latest fixture notes", html=html)]


@hookimpl
def crm_install(session):
    session.add(Note(title=INSTALL_NOTE, body="The install hook ran in the install transaction."))
    session.flush()


@hookimpl
def crm_uninstall(session):
    # Called before the table is dropped: the notes can still be counted.
    count = session.scalar(select(func.count()).select_from(Note))
    target = os.environ.get(UNINSTALL_LOG_ENV)
    if target:
        with Path(target).open("a", encoding="utf-8") as log:
            log.write(f"crm_fixture uninstalled with {count} notes\n")


@hookimpl
def crm_client_file_sections(client, user):
    """A hook of crm_contacts (not of the core): the client's notes, as a section of its file."""
    if not has_permission("crm_fixture.read", user):
        return []
    titles = db_session.scalars(
        select(Note.title).where(Note.client_id == client.id).order_by(Note.title).limit(20)
    ).all()
    items = Markup("").join(Markup("<li>{}</li>").format(title) for title in titles)
    html = Markup("<ul>{}</ul>").format(items) if titles else Markup("<p>No note yet.</p>")
    return [ClientFileSection(id="crm_fixture.notes", title="Fixture notes", html=html, order=70)]


#: Set to a file name: ``crm_fixture.add_notes`` appends one line per attempt (tests count runs).
JOB_LOG_ENV = "CRM_FIXTURE_JOB_LOG"


def add_notes(
    ctx, count: int, pause: float = 0.0, fail_times: int = 0, refuse: str = "", title="Job note"
):
    """Adds ``count`` notes, reporting progress; fails its first ``fail_times`` attempts with an
    unexpected error, or refuses with ``JobError(refuse)``."""
    import time

    from core.jobs import Job, JobError

    attempt = ctx.session.get(Job, ctx.job_id).attempts
    target = os.environ.get(JOB_LOG_ENV)
    if target:
        with Path(target).open("a", encoding="utf-8") as log:
            log.write(f"job {ctx.job_id} attempt {attempt}\n")
    if refuse:
        raise JobError(refuse)
    for number in range(count):
        ctx.session.add(Note(title=f"{title} {number + 1}", body=""))
        ctx.session.flush()
        if attempt <= fail_times and number == count // 2:
            raise RuntimeError(f"flaky failure on attempt {attempt}")
        ctx.progress(number + 1, count, "Adding notes")
        if pause:
            time.sleep(pause)
    ctx.result_summary(f"Added {count} notes.", link=url_for("crm_fixture.note_list"))


def export_notes(ctx):
    """The titles of the notes the user may see, as a text file."""
    titles = ctx.session.scalars(select(Note.title).order_by(Note.id)).all()
    ctx.result_file("notes.txt", "\n".join(titles).encode(), "text/plain")
    ctx.result_summary(f"{len(titles)} notes exported.")


def morning_note(ctx):
    ctx.session.add(Note(title="Good morning", body="A periodic job"))


@hookimpl
def crm_jobs():
    from core.jobs import JobDef

    return [
        JobDef("crm_fixture.add_notes", add_notes, "Add notes", permission="crm_fixture.read"),
        JobDef("crm_fixture.export_notes", export_notes, "Export notes", "crm_fixture.read"),
        JobDef("crm_fixture.morning_note", morning_note, "Morning note", max_attempts=1),
    ]


@hookimpl
def crm_periodic_jobs():
    from core.jobs import PeriodicJob, crontab

    return [
        PeriodicJob(
            "crm_fixture.morning", "crm_fixture.morning_note", crontab(minute="0", hour="7")
        )
    ]


#: (login, groups) of every user crm_user_saved was called for, in this process (tests read it).
SAVED_USERS: list[tuple[str, str]] = []


@hookimpl
def crm_user_saved(session, user):
    SAVED_USERS.append((user.login, ", ".join(g.code for g in user.groups)))
