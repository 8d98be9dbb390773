"""The home page of Maria's journey, step 1: she logs in at 08:30 and sees her agenda for today,
her open tasks with the overdue ones first, and her unread notifications — through the real stack
(crm_tasks and crm_contacts installed, the machine's clock moved, Sofia's time zone)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from tasks_helpers import session_of

from core.models import Group, PermissionRecord
from core.modules import uninstall
from core.notifications import notify
from core.testing import logged_in, make_user, statements_run
from crm_contacts.models import Client, Contact, ContactType, Person
from crm_tasks.models import Task

# Tuesday 1 December 2026, 08:30 in Sofia (UTC+2).
NOW = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)
TODAY = date(2026, 12, 1)


@pytest.fixture
def home_app(crm_app_factory) -> Iterator[Flask]:
    with time_machine.travel(NOW, tick=False):
        app = crm_app_factory(["crm_tasks"], config={"TIMEZONE": "Europe/Sofia"})
        app.ids = SimpleNamespace(
            maria=make_user(app, "maria", groups=("sales_rep",)),
            peter=make_user(app, "peter", groups=("sales_rep",)),
        )
        with Session(app.extensions["crm"].engine) as session:
            bioprom = Client(
                name="Bioprom",
                responsible_id=app.ids.maria,
                persons=[Person(name="Ivan Petrov")],
            )
            rila = Client(name="Rila Water", responsible_id=app.ids.peter)
            session.add_all([bioprom, rila])
            session.commit()
            app.ids.bioprom, app.ids.rila = bioprom.id, rila.id
        yield app


def add_contact(app: Flask, user_id: int, client_id: int, starts_at: datetime, **values) -> int:
    with session_of(app) as session:
        visit = session.scalar(select(ContactType).where(ContactType.code == "visit"))
        persons = list(session.scalars(select(Person).where(Person.client_id == client_id)))
        contact = Contact(
            client_id=client_id,
            user_id=user_id,
            contact_type=visit,
            starts_at=starts_at,
            state=values.pop("state", "scheduled"),
            persons=persons,
            **values,
        )
        session.add(contact)
        session.commit()
        return contact.id


def add_task(app: Flask, user_id: int, title: str, due: date | None, **values) -> int:
    with session_of(app) as session:
        task = Task(
            title=title,
            assigned_to_id=user_id,
            assigned_by_id=user_id,
            due_date=due,
            client_id=values.pop("client_id", app.ids.bioprom),
            **values,
        )
        session.add(task)
        session.commit()
        return task.id


def send(app: Flask, user_id: int, text: str, url: str | None = None) -> None:
    with session_of(app) as session:
        notify(session, user_id, text, url)
        session.commit()


def widget(html: str, widget_id: str) -> str:
    """The HTML of one card of the home page ('' when it is not there)."""
    pattern = rf'<section[^>]*data-widget="{re.escape(widget_id)}".*?</section>'
    found = re.search(pattern, html, re.S)
    return found.group(0) if found else ""


def task_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-task="(\d+)"', widget(html, "crm_tasks.mine"))]


def fill_marias_morning(app: Flask) -> SimpleNamespace:
    ids = app.ids
    return SimpleNamespace(
        # 10:00 and 15:00 in Sofia today; tomorrow's and Peter's are not hers for today.
        visit=add_contact(app, ids.maria, ids.bioprom, datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
                          subject="New range presentation"),
        call=add_contact(app, ids.maria, ids.bioprom, datetime(2026, 12, 1, 13, 0, tzinfo=UTC)),
        tomorrow=add_contact(app, ids.maria, ids.bioprom, datetime(2026, 12, 2, 8, 0, tzinfo=UTC)),
        peters=add_contact(app, ids.peter, ids.rila, datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
        offer=add_task(app, ids.maria, "Send an offer for the new range", TODAY + timedelta(3)),
        late=add_task(app, ids.maria, "Sample for Bioprom", TODAY - timedelta(2)),
        undated=add_task(app, ids.maria, "Update the price list", None),
        due_today=add_task(app, ids.maria, "Call about the contract", TODAY,
                           status="in_progress"),
        done=add_task(app, ids.maria, "Old request", TODAY - timedelta(9), status="confirmed"),
        cancelled=add_task(app, ids.maria, "Dropped idea", TODAY - timedelta(5),
                           status="cancelled"),
        peters_task=add_task(app, ids.peter, "Peter's task", TODAY - timedelta(1),
                             client_id=ids.rila),
    )  # fmt: skip


def test_maria_sees_her_agenda_open_tasks_overdue_first_and_notifications(home_app):
    app = home_app
    made = fill_marias_morning(app)
    send(app, app.ids.maria, "The sample for Bioprom is ready", f"/tasks/{made.late}")
    send(app, app.ids.peter, "Not for Maria")
    maria = logged_in(app, "maria")

    html = maria.get("/").get_data(as_text=True)

    # The three cards, agenda first, above the application tiles.
    positions = [
        html.index('data-widget="crm_contacts.agenda"'),
        html.index('data-widget="crm_tasks.mine"'),
        html.index('data-widget="core.notifications"'),
        html.index('data-testid="apps"'),
    ]
    assert positions == sorted(positions)

    agenda = widget(html, "crm_contacts.agenda")
    assert re.findall(r'data-contact-id="(\d+)"', agenda) == [str(made.visit), str(made.call)]
    assert ">10:00</time>" in agenda and ">15:00</time>" in agenda  # Sofia time
    assert "New range presentation" in agenda and "With Ivan Petrov" in agenda
    assert f'href="/contacts/clients/{app.ids.bioprom}"' in agenda
    assert 'href="/contacts/agenda"' in agenda

    tasks = widget(html, "crm_tasks.mine")
    assert task_ids(html) == [made.late, made.due_today, made.offer, made.undated]
    assert 'data-testid="overdue"' in tasks  # the overdue one is marked
    assert "4 open" in tasks
    assert "1 overdue</a>" in tasks and 'href="/tasks/?due=overdue"' in tasks
    assert 'href="/tasks/"' in tasks

    notes = widget(html, "core.notifications")
    assert "The sample for Bioprom is ready" in notes and "Not for Maria" not in notes
    assert 'href="/notifications/"' in notes
    assert 'data-testid="notification-count">1</span>' in html  # the bell agrees

    # Opening the notification from the home page follows it to the task and marks it read.
    opened = maria.post(re.search(r'action="(/notifications/\d+/open)"', notes).group(1))
    assert opened.headers["Location"] == f"/tasks/{made.late}"
    html = maria.get("/").get_data(as_text=True)
    assert 'data-testid="home-notifications-empty"' in widget(html, "core.notifications")


def test_empty_cards_say_so(home_app):
    html = logged_in(home_app, "maria").get("/").get_data(as_text=True)
    assert "Nothing scheduled for today." in widget(html, "crm_contacts.agenda")
    assert "No open tasks." in widget(html, "crm_tasks.mine")
    assert "No unread notifications." in widget(html, "core.notifications")


def test_a_user_without_the_tasks_permission_sees_no_tasks_card(home_app):
    app = home_app
    with app.app_context():
        from core.db import db_session

        group = Group(code="readers", name="Client readers")
        group.permissions = [db_session.get(PermissionRecord, "crm_contacts.read")]
        db_session.add(group)
        db_session.commit()
    reader_id = make_user(app, "reader", groups=("readers",))
    add_task(app, reader_id, "Should not show", TODAY)
    html = logged_in(app, "reader").get("/").get_data(as_text=True)
    assert 'data-widget="crm_contacts.agenda"' in html
    assert 'data-widget="core.notifications"' in html
    assert "crm_tasks.mine" not in html and "Should not show" not in html


def test_the_tasks_card_goes_with_its_module(home_app):
    app = home_app
    made = fill_marias_morning(app)
    maria = logged_in(app, "maria")
    assert 'data-widget="crm_tasks.mine"' in maria.get("/").text
    crm = app.extensions["crm"]
    uninstall(crm.engine, crm.plugins, "crm_tasks")
    answer = maria.get("/")
    assert answer.status_code == 200
    assert "crm_tasks.mine" not in answer.text and "Sample for Bioprom" not in answer.text
    assert f'data-contact-id="{made.visit}"' in widget(answer.text, "crm_contacts.agenda")
    assert 'data-widget="core.notifications"' in answer.text


def test_the_home_page_costs_the_same_queries_whatever_the_data(home_app):
    app = home_app
    fill_marias_morning(app)
    send(app, app.ids.maria, "First")
    maria = logged_in(app, "maria")
    maria.get("/")
    with statements_run(app) as few:
        assert maria.get("/").status_code == 200

    for i in range(40):
        add_task(app, app.ids.maria, f"Task {i}", TODAY + timedelta(days=i - 20))
        add_contact(
            app,
            app.ids.maria,
            app.ids.bioprom,
            datetime(2026, 12, 1, 7, 0, tzinfo=UTC) + timedelta(minutes=10 * i),
        )
        add_contact(
            app,
            app.ids.maria,
            app.ids.bioprom,
            datetime(2026, 11, 1, 7, 0, tzinfo=UTC) + timedelta(hours=i),
        )
        send(app, app.ids.maria, f"Message {i}")  # fmt: skip
    with statements_run(app) as many:
        html = maria.get("/").get_data(as_text=True)
    assert len(many) == len(few), many
    assert len(task_ids(html)) == 8  # at most eight tasks shown, with the counts
    assert "44 open" in widget(html, "crm_tasks.mine")
    assert len(re.findall(r"data-notification=", widget(html, "core.notifications"))) == 5
    assert "41 unread in all." in html
    # The bell's number is read with the user, the card's notifications in one query of their own.
    assert len([s for s in many if "core_notification" in s]) == 2
