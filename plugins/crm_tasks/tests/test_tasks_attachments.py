"""The issue's second and third "done when" for tasks: an upload above the limit, an empty file and
a file named ../../etc/passwd are handled safely; a download by a user without access to the task
is refused (404, as for a missing one); deleting a task in a transaction that is rolled back leaves
its attachment readable."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import time_machine
from sqlalchemy import func, select
from tasks_helpers import NOW, PDF, pdf_upload, run_crm, session_of

from core.db import db_session
from core.models import Attachment
from core.testing import form_fields, logged_in
from crm_tasks.models import Task, Transition


def new_task_with(app, client, file) -> object:
    form = form_fields(client.get("/tasks/new").get_data(as_text=True), action="/tasks/new")
    data = {
        **form,
        "title": "Offer for Bioprom",
        "commitment_type_id": str(app.types["offer"]),
        "client_id": str(app.ids.bioprom),
        "assigned_to_id": str(app.ids.maria),
        "file": file,
    }
    return client.post("/tasks/new", data=data, content_type="multipart/form-data")


def count(app, model) -> int:
    with session_of(app) as session:
        return session.scalar(select(func.count()).select_from(model))


def stored_files(app) -> list[Path]:
    root = Path(app.config["ATTACHMENTS_URL"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_task_with_a_file_above_the_limit_is_not_created(app):
    answer = new_task_with(app, logged_in(app, "georgi"), pdf_upload("big.pdf", b"x" * 2001))
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert 'data-error="file"' in page
    assert "The file is larger than the limit of 2 KB" in page
    # Nothing half-written: no task, no history, no notification, no file.
    assert (count(app, Task), count(app, Transition), count(app, Attachment)) == (0, 0, 0)
    assert stored_files(app) == []
    # The form keeps what was typed.
    assert 'value="Offer for Bioprom"' in page


def test_an_empty_file_on_the_task_page_is_refused_with_a_message(app):
    georgi = logged_in(app, "georgi")
    assert new_task_with(app, georgi, pdf_upload("ok.pdf")).status_code == 302
    task_id = app_task_id(app)
    answer = georgi.post(
        f"/attachments/crm_tasks_task/{task_id}",
        data={"file": pdf_upload("empty.pdf", b""), "next": f"/tasks/{task_id}"},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "File: The file is empty" in answer.get_data(as_text=True)
    assert count(app, Attachment) == 1


def app_task_id(app) -> int:
    with session_of(app) as session:
        return session.scalar(select(Task.id))


def test_a_path_as_file_name_is_shown_by_its_last_part(app):
    georgi = logged_in(app, "georgi")
    assert new_task_with(app, georgi, pdf_upload("../../etc/passwd", b"root:x")).status_code == 302
    task_id = app_task_id(app)
    page = georgi.get(f"/tasks/{task_id}").get_data(as_text=True)
    (attachment_id,) = re.findall(r'href="/attachments/(\d+)">passwd</a>', page)
    download = georgi.get(f"/attachments/{attachment_id}")
    assert download.data == b"root:x"
    assert download.headers["Content-Disposition"] == "attachment; filename=passwd"
    (stored,) = stored_files(app)
    assert stored.name != "passwd" and len(stored.name) == 64


def test_a_download_by_a_user_without_access_to_the_task_is_refused(app):
    georgi = logged_in(app, "georgi")
    new_task_with(app, georgi, pdf_upload("offer.pdf"))
    with session_of(app) as session:
        attachment_id = session.scalar(select(Attachment.id))
    # Peter: a representative the task is neither assigned to nor by.
    assert logged_in(app, "peter").get(f"/attachments/{attachment_id}").status_code == 404
    # Guest: no crm_tasks.read at all.
    assert logged_in(app, "guest").get(f"/attachments/{attachment_id}").status_code == 403
    assert logged_in(app, "maria").get(f"/attachments/{attachment_id}").data == PDF
    assert georgi.get(f"/attachments/{attachment_id}").data == PDF


def test_deleting_a_task_in_a_transaction_rolled_back_leaves_its_attachment_readable(app):
    georgi = logged_in(app, "georgi")
    new_task_with(app, georgi, pdf_upload("offer.pdf"))
    task_id = app_task_id(app)
    with session_of(app) as session:
        attachment_id = session.scalar(select(Attachment.id))
    with app.test_request_context():
        db_session.delete(db_session.get(Task, task_id))
        db_session.flush()
        assert db_session.get(Attachment, attachment_id) is None  # gone inside the transaction
        db_session.rollback()
    # The clean-up, even with no grace period, keeps a file that a row references.
    result = run_crm(app, "attachments", "gc", "--grace-seconds", "0")
    assert "0 deleted" in result.output, result.output
    assert georgi.get(f"/tasks/{task_id}").status_code == 200
    assert georgi.get(f"/attachments/{attachment_id}").data == PDF

    # Deleted for good (asked first), the file goes only at a clean-up after the grace period.
    confirm = georgi.get(f"/tasks/{task_id}/delete").get_data(as_text=True)
    assert "its 1 attachment go with it" in confirm
    assert georgi.post(f"/tasks/{task_id}/delete").status_code == 302
    assert count(app, Attachment) == 0
    run_crm(app, "attachments", "gc")
    assert len(stored_files(app)) == 1
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        assert "1 deleted" in run_crm(app, "attachments", "gc").output
    assert stored_files(app) == []


def test_only_managers_delete_tasks(app):
    new_task_with(app, logged_in(app, "georgi"), pdf_upload("offer.pdf"))
    task_id = app_task_id(app)
    assert logged_in(app, "maria").post(f"/tasks/{task_id}/delete").status_code == 403
    assert count(app, Task) == 1
