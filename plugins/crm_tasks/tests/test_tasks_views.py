"""The task pages beyond the scenario: lists and filters, overdue highlighted, the board, the
client file's section, reminders, search, bounded queries, and completion links offered by another
module through crm_tasks_completion_links."""

from __future__ import annotations

import re
import sys
from datetime import date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select
from tasks_helpers import NOW, run_crm, session_of, task_row

from core.models import Notification
from core.plugins import ENTRY_POINT_GROUP, discover
from core.testing import logged_in, make_user, statements_run
from crm_contacts.models import Client, Contact, ContactType, Person
from crm_tasks.models import CommitmentType, Task

TODAY = NOW.date()


def add_task(app, title, *, to, by, kind="offer", due=None, status="assigned", client=None):
    with session_of(app) as session:
        task = Task(
            title=title,
            commitment_type_id=app.types[kind],
            assigned_to_id=to,
            assigned_by_id=by,
            due_date=due,
            status=status,
            client_id=client,
        )
        session.add(task)
        session.commit()
        return task.id


def rows(page: str) -> list[str]:
    return re.findall(r'<tr data-task="\d+"[^>]*>\s*<td><a href="[^"]+">([^<]+)</a>', page)


def test_my_tasks_and_tasks_i_assigned(app):
    ids = app.ids
    add_task(app, "Mine, late", to=ids.maria, by=ids.georgi, due=TODAY - timedelta(days=2))
    add_task(app, "Mine, later", to=ids.maria, by=ids.maria, due=TODAY + timedelta(days=9))
    add_task(app, "For Peter by me", to=ids.peter, by=ids.maria)
    add_task(app, "Peter's own", to=ids.peter, by=ids.peter)
    add_task(app, "Mine, done", to=ids.maria, by=ids.georgi, status="confirmed")
    maria = logged_in(app, "maria")
    mine = maria.get("/tasks/").get_data(as_text=True)
    assert rows(mine) == ["Mine, late", "Mine, later"]  # open ones, the overdue first
    assert 'class="table-danger"' in mine and 'data-testid="overdue"' in mine
    by_me = maria.get("/tasks/assigned-by-me").get_data(as_text=True)
    assert rows(by_me) == ["Mine, later", "For Peter by me"]
    everything = maria.get("/tasks/all?status=any").get_data(as_text=True)
    assert "Peter&#39;s own" not in everything  # the record rule: assigned to or by her
    assert set(rows(everything)) == {"Mine, late", "Mine, later", "For Peter by me", "Mine, done"}
    manager = logged_in(app, "georgi").get("/tasks/all").get_data(as_text=True)
    assert "Peter&#39;s own" in manager


def test_filters_by_type_client_assignee_and_due_date(app):
    ids = app.ids
    add_task(app, "Sample", to=ids.maria, by=ids.georgi, kind="sample", client=ids.bioprom,
             due=TODAY + timedelta(days=1))  # fmt: skip
    add_task(app, "Offer", to=ids.peter, by=ids.georgi, client=ids.rila, due=TODAY)
    add_task(app, "Late invoice", to=ids.peter, by=ids.georgi, kind="invoice",
             due=TODAY - timedelta(days=5))  # fmt: skip
    georgi = logged_in(app, "georgi")

    def shown(query: str) -> list[str]:
        return sorted(rows(georgi.get(f"/tasks/all?{query}").get_data(as_text=True)))

    assert shown(f"commitment_type_id={app.types['sample']}") == ["Sample"]
    assert shown(f"client_id={ids.rila}") == ["Offer"]
    assert shown(f"assigned_to_id={ids.peter}") == ["Late invoice", "Offer"]
    assert shown("due=overdue") == ["Late invoice"]
    assert shown("due=today") == ["Offer"]
    assert shown(f"due_from={TODAY.isoformat()}&due_to={TODAY.isoformat()}") == ["Offer"]
    assert shown("status=rejected") == []
    empty = georgi.get("/tasks/all?status=rejected").get_data(as_text=True)
    assert "No tasks match these filters." in empty


def test_lists_paginate_with_a_bounded_number_of_queries(app, count_queries):
    ids = app.ids
    georgi = logged_in(app, "georgi")
    counts = []
    for n in (1, 60):
        with session_of(app) as session:
            session.add_all(
                Task(title=f"T{n}-{i}", commitment_type_id=app.types["offer"],
                     assigned_to_id=ids.maria, assigned_by_id=ids.georgi, client_id=ids.bioprom)
                for i in range(n)
            )  # fmt: skip
            session.commit()
        for url in ("/tasks/all", "/tasks/board", f"/contacts/clients/{ids.bioprom}"):
            with count_queries(app) as statements:
                assert georgi.get(url).status_code == 200
            counts.append((url, len(statements)))
    assert counts[:2] == counts[3:5]
    # The client file counts the open tasks only once its list is full (8 shown of 61).
    assert counts[5][1] == counts[2][1] + 1, counts
    second = georgi.get("/tasks/all?page=2").get_data(as_text=True)
    assert "Page 2 of 3" in second


def test_the_board_has_a_column_per_status_buttons_and_the_drag_script(app):
    ids = app.ids
    task_id = add_task(app, "Sample", to=ids.maria, by=ids.georgi, kind="sample",
                       status="in_progress", due=TODAY - timedelta(days=1))  # fmt: skip
    maria = logged_in(app, "maria")
    page = maria.get("/tasks/board").get_data(as_text=True)
    columns = re.findall(r'<section class="crm-tasks-column card" data-status="(\w+)"', page)
    assert columns == ["assigned", "in_progress", "in_development", "confirmed", "rejected",
                       "cancelled"]  # fmt: skip
    card = page[page.index(f'data-task="{task_id}"') :]
    assert 'data-allowed="in_development confirmed rejected cancelled"' in card[:300]
    assert "border-danger" in page  # overdue
    assert re.search(r'<script src="/tasks/static/board\.js\?v=[0-9a-f]{12}"></script>', page)
    assert "<script>" not in page  # no inline script (CSP)
    script = maria.get("/tasks/static/board.js")
    assert script.status_code == 200
    script.close()
    moved = maria.post(f"/tasks/{task_id}/transition", data={"to": "in_development",
                                                            "next": "board"})  # fmt: skip
    assert moved.headers["Location"] == "/tasks/board"
    assert task_row(app, task_id).status == "in_development"


def test_the_client_file_shows_open_tasks_and_commitments(app):
    ids = app.ids
    add_task(app, "Send the offer", to=ids.maria, by=ids.maria, client=ids.bioprom,
             due=TODAY - timedelta(days=1))  # fmt: skip
    add_task(app, "Old sample", to=ids.maria, by=ids.georgi, kind="sample", client=ids.bioprom,
             status="rejected")  # fmt: skip
    page = logged_in(app, "maria").get(f"/contacts/clients/{ids.bioprom}").get_data(as_text=True)
    section = page[page.index('id="section-crm_tasks.commitments"') :]
    assert "Open tasks and commitments" in page
    assert "Send the offer" in section and "Old sample" not in section[:1500]
    assert 'data-testid="client-commitments"' in section
    assert f'href="/tasks/new?client_id={ids.bioprom}"' in section


def test_a_task_created_from_the_client_file_knows_its_person_and_contact(app):
    ids = app.ids
    with session_of(app) as session:
        person = Person(client_id=ids.bioprom, name="Ivan Kolev")
        kind = session.scalar(select(ContactType))
        contact = Contact(client_id=ids.bioprom, user_id=ids.maria, contact_type_id=kind.id,
                          starts_at=NOW, subject="Visit")  # fmt: skip
        stranger = Person(client_id=ids.rila, name="Not theirs")
        elsewhere = Person(client=Client(name="Maria's other", responsible_id=ids.maria),
                           name="At another of hers")  # fmt: skip
        session.add_all([person, contact, stranger, elsewhere])
        session.commit()
        person_id, contact_id, stranger_id = person.id, contact.id, stranger.id
        elsewhere_id = elsewhere.id
    maria = logged_in(app, "maria")
    form = maria.get(f"/tasks/new?client_id={ids.bioprom}").get_data(as_text=True)
    assert 'data-testid="fixed-client"' in form
    # the contact person picker asks for the people of the form's client
    assert 'data-picker="crm_contacts_person"' in form and 'data-picker-follow="client_id"' in form
    people = maria.get(f"/api/v1/lookup/crm_contacts_person?client_id={ids.bioprom}").get_json()
    assert [p["label"] for p in people["items"]] == ["Ivan Kolev"]
    base = {
        "title": "Offer",
        "commitment_type_id": str(app.types["offer"]),
        "client_id": str(ids.bioprom),
        "assigned_to_id": str(ids.maria),
        "priority": "normal",
    }
    bad = maria.post("/tasks/new", data={**base, "person_id": str(elsewhere_id)})
    assert bad.status_code == 400
    assert "The contact person must be of the task&#39;s client." in bad.get_data(as_text=True)
    # A person of a client she may not see is as unknown to her as a missing one.
    hidden = maria.post("/tasks/new", data={**base, "person_id": str(stranger_id)})
    missing = maria.post("/tasks/new", data={**base, "person_id": "999999"})
    assert hidden.status_code == missing.status_code == 400
    assert "No such contact person." in hidden.get_data(as_text=True)
    assert "No such contact person." in missing.get_data(as_text=True)
    assert "Not theirs" not in hidden.get_data(as_text=True)
    assert 'name="back" value="client"' in form
    made = maria.post(
        "/tasks/new",
        data={**base, "person_id": str(person_id), "contact_id": str(contact_id), "back": "client"},
    )
    # Back to the client file, at the tasks section.
    assert made.headers["Location"] == (
        f"/contacts/clients/{ids.bioprom}#section-crm_tasks.commitments"
    )
    with session_of(app) as session:
        task_id = session.scalar(select(Task.id).where(Task.title == "Offer"))
    task = task_row(app, task_id)
    assert (task.person_id, task.contact_id) == (person_id, contact_id)
    # Assigned to herself: nobody to notify.
    with session_of(app) as session:
        assert session.scalars(select(Notification)).all() == []


def test_the_edit_form_is_locked_and_validated(app):
    ids = app.ids
    task_id = add_task(app, "Offer", to=ids.maria, by=ids.georgi)
    georgi = logged_in(app, "georgi")
    page = georgi.get(f"/tasks/{task_id}/edit").get_data(as_text=True)
    assert 'name="version" value="1"' in page
    base = {"title": "Offer v2", "commitment_type_id": str(app.types["offer"]),
            "assigned_to_id": str(ids.peter), "priority": "urgent", "version": "1"}  # fmt: skip
    empty = georgi.post(f"/tasks/{task_id}/edit", data={**base, "title": ""})
    assert empty.status_code == 400 and "Give a title" in empty.get_data(as_text=True)
    assert georgi.post(f"/tasks/{task_id}/edit", data=base).status_code == 302
    assert task_row(app, task_id).assigned_to_id == ids.peter
    assert georgi.post(f"/tasks/{task_id}/edit", data=base).status_code == 409  # stale version
    changes = georgi.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'data-field="title"' in changes and "Offer v2" in changes


def test_remind_notifies_assignees_of_tasks_due_tomorrow_and_overdue_once_a_day(app):
    ids = app.ids
    add_task(app, "Tomorrow", to=ids.maria, by=ids.georgi, due=TODAY + timedelta(days=1))
    add_task(app, "Late", to=ids.peter, by=ids.georgi, due=TODAY - timedelta(days=3))
    add_task(app, "Today", to=ids.peter, by=ids.georgi, due=TODAY)
    add_task(app, "Late but done", to=ids.peter, by=ids.georgi, due=date(2026, 1, 1),
             status="confirmed")  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        result = run_crm(app, "tasks", "remind")
        assert result.exit_code == 0, result.output
        assert "Reminded: 1 due tomorrow, 1 overdue." in result.output
        assert "0 due tomorrow, 0 overdue" in run_crm(app, "tasks", "remind").output
    with session_of(app) as session:
        notes = session.execute(
            select(Notification.user_id, Notification.text, Notification.url).order_by(
                Notification.user_id
            )
        ).all()
    assert [(n.user_id, n.text) for n in notes] == [
        (ids.maria, "Due tomorrow: “Tomorrow”"),
        (ids.peter, "Overdue since 2026-11-28: “Late”"),
    ]
    assert all(re.fullmatch(r"/tasks/\d+", n.url) for n in notes)
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        assert "Reminded: 0 due tomorrow, 2 overdue." in run_crm(app, "tasks", "remind").output


def test_search_finds_tasks_the_user_may_see(app):
    ids = app.ids
    add_task(app, "Premium blend sample", to=ids.maria, by=ids.georgi)
    add_task(app, "Premium offer for Rila", to=ids.peter, by=ids.peter)
    page = logged_in(app, "maria").get("/search?q=premium").get_data(as_text=True)
    assert "Premium blend sample" in page and "Premium offer for Rila" not in page


def test_task_hits_in_the_search_name_their_client_in_one_query(app):
    ids = app.ids
    for _ in range(3):
        add_task(app, "Call back", to=ids.maria, by=ids.georgi, client=ids.bioprom)
    add_task(app, "Call back about nothing", to=ids.maria, by=ids.maria)
    maria = logged_in(app, "maria")
    maria.get("/search?q=call")  # warm
    with statements_run(app) as statements:
        page = maria.get("/search?q=call+back").get_data(as_text=True)
    hits = re.findall(r'<a href="/tasks/\d+">([^<]+)</a>', page)
    assert sorted(hits) == ["Call back about nothing"] + ["Call back — Bioprom"] * 3
    # The tasks' own query (other statements may name the table in a record rule's subquery).
    assert len([s for s in statements if s.startswith("SELECT crm_tasks_task.id")]) == 1
    assert not [s for s in statements if "WHERE crm_contacts_client.id = ?" in s]  # no client each


def test_back_office_sees_only_its_own_tasks_and_no_monitoring(app):
    ids = app.ids
    add_task(app, "Invoice March", to=ids.vera, by=ids.maria, kind="invoice")
    add_task(app, "Not hers", to=ids.peter, by=ids.georgi)
    vera = logged_in(app, "vera")
    assert rows(vera.get("/tasks/all").get_data(as_text=True)) == ["Invoice March"]
    assert vera.get("/tasks/monitoring").status_code == 403


def test_monitoring_counts_per_period_and_rate(app):
    ids = app.ids
    with session_of(app) as session:
        for status, completed in (
            ("confirmed", NOW),
            ("confirmed", NOW),
            ("rejected", NOW),
            ("confirmed", NOW - timedelta(days=100)),
        ):
            session.add(
                Task(
                    title=status,
                    commitment_type_id=app.types["offer"],
                    status=status,
                    assigned_to_id=ids.peter,
                    assigned_by_id=ids.georgi,
                    completed_at=completed,
                )
            )
        session.add(
            Task(
                title="late",
                commitment_type_id=app.types["offer"],
                assigned_to_id=ids.peter,
                due_date=TODAY - timedelta(days=1),
            )
        )
        session.commit()  # fmt: skip
    page = logged_in(app, "georgi").get("/tasks/monitoring").get_data(as_text=True)
    page = re.sub(r"<a [^>]*>|</a>", "", page)  # the numbers are links to the tasks behind them
    row = page[page.index('data-row="Provide an offer"') :][:1500]
    for col, value in (
        ("open", "1"),
        ("overdue", "1"),
        ("confirmed", "2"),
        ("rejected", "1"),
        ("rate", "66.7 %"),
        ("previous_rate", "100.0 %"),
    ):
        assert f'data-col="{col}">{value}<' in row, (col, row)  # fmt: skip
    last = logged_in(app, "georgi").get("/tasks/monitoring?period=last_quarter")
    row = re.sub(r"<a [^>]*>|</a>", "", last.get_data(as_text=True))
    row = row[row.index('data-row="Provide an offer"') :][:1500]
    assert 'data-col="confirmed">1<' in row


def test_another_module_offers_completion_links(crm_app_factory, monkeypatch):
    folder = Path(__file__).parent / "linker"
    monkeypatch.syspath_prepend(str(folder))
    entry = metadata.EntryPoint("crm_tasks_linker", "crm_tasks_linker", ENTRY_POINT_GROUP)
    plugins = discover([*metadata.entry_points(group=ENTRY_POINT_GROUP), entry], strict=True)
    try:
        app = crm_app_factory(["crm_tasks", "crm_tasks_linker"], plugins=plugins)
        georgi_id = make_user(app, "georgi", groups=("sales_manager",))
        with session_of(app) as session:
            from crm_contacts.models import Client
            from crm_tasks.models import CommitmentType

            client = Client(name="Bioprom")
            session.add(client)
            session.flush()
            kind = session.scalar(select(ContactType))
            session.add(Contact(client_id=client.id, contact_type_id=kind.id, starts_at=NOW,
                                subject="Signed"))  # fmt: skip
            contract = session.scalar(
                select(CommitmentType.id).where(CommitmentType.code == "new_contract")
            )
            task = Task(
                title="New contract",
                client_id=client.id,
                commitment_type_id=contract,
                assigned_to_id=georgi_id,
                assigned_by_id=georgi_id,
                status="in_progress",
            )
            session.add(task)
            session.commit()  # fmt: skip
            task_id = task.id
        georgi = logged_in(app, "georgi")
        options = georgi.get(f"/api/v1/tasks/{task_id}/completion-links").get_json()["items"]
        assert [(o["key"], o["label"], o["module"]) for o in options] == [
            ("crm_contacts_contact:1", "Contact Signed", "crm_tasks_linker")
        ]
        page = georgi.get(f"/tasks/{task_id}").get_data(as_text=True)
        assert '<option value="crm_contacts_contact:1">Contact Signed</option>' in page
        forged = georgi.post(
            f"/api/v1/tasks/{task_id}/transitions",
            json={"to": "confirmed", "link": "crm_contacts_contact:99"},
        )
        assert forged.status_code == 400
        assert forged.get_json()["errors"] == {
            "link": ["Choose one of the records offered for this task."]
        }
        done = georgi.post(
            f"/tasks/{task_id}/transition",
            data={"to": "confirmed", "link": "crm_contacts_contact:1"},
        )
        assert done.status_code == 302
        task = task_row(app, task_id)
        assert (task.link_model, task.link_record_id, task.link_label, task.link_url) == (
            "crm_contacts_contact",
            "1",
            "Contact Signed",
            "/contacts/history/1",
        )
        page = georgi.get(f"/tasks/{task_id}").get_data(as_text=True)
        assert '<a href="/contacts/history/1">Contact Signed</a>' in page
        body = georgi.get(f"/api/v1/tasks/{task_id}").get_json()
        assert body["link"]["label"] == "Contact Signed"
    finally:
        sys.modules.pop("crm_tasks_linker", None)


def test_the_new_task_form_finds_a_client_among_many(app):
    georgi = logged_in(app, "georgi")
    page = georgi.get("/tasks/new").get_data(as_text=True)
    assert 'data-picker="crm_contacts_client"' in page and 'name="client_id"' in page
    assert 'data-picker="core_user"' in page and "permission=crm_tasks.write" in page
    found = georgi.get("/api/v1/lookup/crm_contacts_client?q=rila").get_json()["items"]
    assert [c["label"] for c in found] == ["Rila Water"]


def test_reminders_arrive_every_morning_from_the_worker_without_a_crontab(crm_app_factory):
    """The worker's scheduler starts crm_tasks.remind at 07:00 in the installation's time zone:
    the clock moves from the evening to the next morning, workers tick, the job runs once."""
    from core.jobs import run_queued, tick

    evening = datetime(2026, 12, 1, 19, 30, tzinfo=ZoneInfo("Europe/Sofia"))
    with time_machine.travel(evening, tick=False):
        app = crm_app_factory(["crm_tasks"], config={"TIMEZONE": "Europe/Sofia"})
        georgi = make_user(app, "georgi", groups=("sales_manager",))
        maria = make_user(app, "maria", groups=("sales_rep",))
        with session_of(app) as session:
            offer = session.scalar(select(CommitmentType.id).where(CommitmentType.code == "offer"))
        app.types = {"offer": offer}
        # Due on Thursday: "due tomorrow" on Wednesday morning.
        add_task(app, "Send the offer", to=maria, by=georgi, due=date(2026, 12, 3))
        tick(app)
        run_queued(app)
    assert notifications_of(app) == []
    morning = datetime(2026, 12, 2, 7, 0, 12, tzinfo=ZoneInfo("Europe/Sofia"))
    with time_machine.travel(morning, tick=False):
        tick(app)
        tick(app)  # a second tick, as a second worker would: still one job
        run_queued(app)
    with time_machine.travel(morning + timedelta(hours=3), tick=False):
        tick(app)
        run_queued(app)
    assert notifications_of(app) == [(maria, "Due tomorrow: “Send the offer”")]


def notifications_of(app) -> list[tuple[int, str]]:
    with session_of(app) as session:
        return [
            (n.user_id, n.text)
            for n in session.scalars(select(Notification).order_by(Notification.id))
        ]
