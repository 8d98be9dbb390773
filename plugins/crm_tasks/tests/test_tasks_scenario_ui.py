"""The issue's first "done when", through the pages: a manager assigns "develop a sample" for a
client to a representative with a PDF attached; she is notified, moves it to in progress and in
development, and completes it as rejected with the client's reason; the manager's monitoring page
counts it; an illegal transition is refused."""

from __future__ import annotations

import re

from sqlalchemy import select
from tasks_helpers import PDF, pdf_upload, session_of, task_row

from core.models import Attachment, Notification
from core.testing import form_fields, logged_in
from crm_tasks.models import Transition


def new_task(app, georgi, **extra) -> int:
    form = form_fields(
        georgi.get(f"/tasks/new?client_id={app.ids.bioprom}").get_data(as_text=True),
        action="/tasks/new",
    )
    data = {
        **form,
        "title": "Sample of the premium blend",
        "commitment_type_id": str(app.types["sample"]),
        "assigned_to_id": str(app.ids.maria),
        "due_date": "2026-12-10",
        "priority": "high",
        "file": pdf_upload("Brief for the lab.pdf"),
        **extra,
    }
    data.pop("back")  # not back to the client file: to the new task's page
    answer = georgi.post("/tasks/new", data=data, content_type="multipart/form-data")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return int(re.search(r"/tasks/(\d+)$", answer.headers["Location"])[1])


def move(client, task_id: int, to: str, comment: str = ""):
    return client.post(f"/tasks/{task_id}/transition", data={"to": to, "comment": comment})


def test_a_sample_from_assignment_to_refusal(app):
    georgi = logged_in(app, "georgi")
    task_id = new_task(app, georgi)

    task = task_row(app, task_id)
    assert (task.status, task.assigned_to_id, task.assigned_by_id) == (
        "assigned",
        app.ids.maria,
        app.ids.georgi,
    )
    assert task.client_id == app.ids.bioprom
    with session_of(app) as session:
        (attachment,) = session.scalars(select(Attachment))
        assert (attachment.model, attachment.record_id) == ("crm_tasks_task", str(task_id))
        assert attachment.name == "Brief for the lab.pdf"

    # Maria is notified: the bell counts it and the list links to the task.
    maria = logged_in(app, "maria")
    home = maria.get("/").get_data(as_text=True)
    assert 'data-testid="notification-count">1</span>' in home
    notes = maria.get("/notifications/").get_data(as_text=True)
    assert "Georgi assigned you “Sample of the premium blend”, due 2026-12-10" in notes

    # Her task page offers only the allowed moves, and the PDF.
    page = maria.get(f"/tasks/{task_id}").get_data(as_text=True)
    offered = set(re.findall(r'data-transition="(\w+)"', page))
    assert offered == {"in_progress", "cancelled"}
    assert maria.get(f"/attachments/{attachment.id}").data == PDF

    # An illegal transition is refused by the server, whatever the page offered.
    refused = move(maria, task_id, "confirmed")
    assert refused.status_code == 400
    assert "cannot become “Completed — confirmed”" in refused.get_data(as_text=True)
    assert task_row(app, task_id).status == "assigned"

    assert move(maria, task_id, "in_progress").status_code == 302
    page = maria.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "in_development" in set(re.findall(r'data-transition="(\w+)"', page))
    assert move(maria, task_id, "in_development", "The lab started").status_code == 302

    # Rejected needs the client's reason.
    no_reason = move(maria, task_id, "rejected")
    assert no_reason.status_code == 400
    assert "Give the client&#39;s reason for refusing." in no_reason.get_data(as_text=True)
    assert move(maria, task_id, "rejected", "Too sweet for their market").status_code == 302

    task = task_row(app, task_id)
    assert task.status == "rejected"
    assert task.rejection_reason == "Too sweet for their market"
    assert task.completed_at is not None
    with session_of(app) as session:
        steps = session.execute(
            select(Transition.from_status, Transition.to_status, Transition.user_id,
                   Transition.comment).where(Transition.task_id == task_id).order_by(Transition.id)
        ).all()  # fmt: skip
    assert [tuple(s) for s in steps] == [
        (None, "assigned", app.ids.georgi, ""),
        ("assigned", "in_progress", app.ids.maria, ""),
        ("in_progress", "in_development", app.ids.maria, "The lab started"),
        ("in_development", "rejected", app.ids.maria, "Too sweet for their market"),
    ]
    page = maria.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'data-testid="task-history"' in page and "Too sweet for their market" in page

    # Georgi, who assigned it, was told of each move.
    with session_of(app) as session:
        texts = session.scalars(
            select(Notification.text)
            .where(Notification.user_id == app.ids.georgi)
            .order_by(Notification.id)
        ).all()
    assert texts[-1] == (
        "Maria moved “Sample of the premium blend” to Completed — rejected: "
        "Too sweet for their market"
    )
    assert len(texts) == 3

    # The monitoring page counts the refusal for the sample type and for Maria.
    monitoring = georgi.get("/tasks/monitoring").get_data(as_text=True)
    monitoring = re.sub(r"<a [^>]*>|</a>", "", monitoring)  # numbers link to their tasks
    by_type = monitoring[monitoring.index('data-testid="by-type"') :]
    sample_row = by_type[by_type.index('data-row="Develop a sample"') :]
    assert re.search(r'data-col="rejected">1<', sample_row[:600])
    assert re.search(r'data-col="rate">0.0 %<', sample_row[:800])
    by_rep = monitoring[monitoring.index('data-testid="by-representative"') :]
    maria_row = by_rep[by_rep.index('data-row="Maria"') :]
    assert re.search(r'data-col="rejected">1<', maria_row[:600])
    assert "<svg" in monitoring  # the chart
    # Monitoring is for managers.
    assert maria.get("/tasks/monitoring").status_code == 403


def test_a_reopened_task_goes_back_to_work(app):
    georgi = logged_in(app, "georgi")
    task_id = new_task(app, georgi, commitment_type_id=str(app.types["offer"]))
    maria = logged_in(app, "maria")
    move(maria, task_id, "in_progress")
    page = maria.get(f"/tasks/{task_id}").get_data(as_text=True)
    # An offer has no development stage.
    assert "in_development" not in set(re.findall(r'data-transition="(\w+)"', page))
    assert move(maria, task_id, "in_development").status_code == 400
    move(maria, task_id, "confirmed", "Offer sent and accepted")
    page = maria.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert set(re.findall(r'data-transition="(\w+)"', page)) == {"in_progress"}
    assert ">Reopen<" in page
    assert move(maria, task_id, "in_progress", "They want a new price").status_code == 302
    task = task_row(app, task_id)
    assert task.status == "in_progress" and task.completed_at is None
