"""The JSON API: the issue's scenario through /api/v1/tasks, transitions (an illegal one refused),
attachments upload and download, validation messages naming the field, record rules."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select
from tasks_helpers import PDF, session_of, task_row

from core.models import Attachment, Notification
from core.testing import logged_in


def create(client, app, **extra):
    body = {
        "title": "Sample of the premium blend",
        "commitment_type_id": app.types["sample"],
        "client_id": app.ids.bioprom,
        "assigned_to_id": app.ids.maria,
        "due_date": "2026-12-10",
        **extra,
    }
    return client.post("/api/v1/tasks", json=body)


def upload(client, task_id: int, data: bytes, name: str):
    return client.post(
        f"/api/v1/tasks/{task_id}/attachments",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_the_scenario_through_the_api(app):
    georgi = logged_in(app, "georgi")
    made = create(georgi, app)
    assert made.status_code == 201, made.get_json()
    task = made.get_json()
    assert task["status"] == "assigned"
    assert task["commitment_type"] == "sample"
    assert task["allowed_transitions"] == ["in_progress", "cancelled"]
    assert task["assigned_by_id"] == app.ids.georgi
    task_id = task["id"]
    assert made.headers["Location"].endswith(f"/api/v1/tasks/{task_id}")

    attached = upload(georgi, task_id, PDF, "brief.pdf")
    assert attached.status_code == 201, attached.get_json()
    attachment = attached.get_json()
    assert attachment["content_type"] == "application/pdf"

    maria = logged_in(app, "maria")
    with session_of(app) as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.user_id == app.ids.maria)
            )
            == 1
        )
    mine = maria.get("/api/v1/tasks?view=mine").get_json()
    assert [t["id"] for t in mine["items"]] == [task_id]
    download = maria.get(f"/api/v1/tasks/{task_id}/attachments/{attachment['id']}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"] == "attachment; filename=brief.pdf"

    # assigned → completed/confirmed is not a transition of the workflow.
    illegal = maria.post(f"/api/v1/tasks/{task_id}/transitions", json={"to": "confirmed"})
    assert illegal.status_code == 409
    assert "cannot become" in illegal.get_json()["errors"]["to"][0]
    assert task_row(app, task_id).status == "assigned"

    for to in ("in_progress", "in_development"):
        moved = maria.post(f"/api/v1/tasks/{task_id}/transitions", json={"to": to})
        assert moved.status_code == 201, moved.get_json()
        assert moved.get_json()["status"] == to
    no_reason = maria.post(f"/api/v1/tasks/{task_id}/transitions", json={"to": "rejected"})
    assert no_reason.status_code == 400
    assert no_reason.get_json() == {
        "errors": {"comment": ["Give the client's reason for refusing."]}
    }
    done = maria.post(
        f"/api/v1/tasks/{task_id}/transitions",
        json={"to": "rejected", "comment": "Too sweet for their market"},
    )
    assert done.status_code == 201
    body = done.get_json()
    assert body["status"] == "rejected"
    assert body["rejection_reason"] == "Too sweet for their market"
    assert body["transition"]["from_status"] == "in_development"
    assert body["allowed_transitions"] == ["in_progress"]

    history = maria.get(f"/api/v1/tasks/{task_id}/transitions").get_json()["items"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "assigned"),
        ("assigned", "in_progress"),
        ("in_progress", "in_development"),
        ("in_development", "rejected"),
    ]
    assert history[-1]["user_id"] == app.ids.maria

    monitoring = georgi.get("/tasks/monitoring").get_data(as_text=True)
    assert re.search(r'data-col="rejected"><a [^>]*>1</a>', monitoring)


def test_bad_input_gets_a_message_per_field_and_nothing_is_written(app):
    georgi = logged_in(app, "georgi")
    answer = georgi.post(
        "/api/v1/tasks",
        json={"title": "", "due_date": "tomorrow", "priority": "asap", "client_id": 9999,
              "assigned_to_id": app.ids.guest},
    )  # fmt: skip
    assert answer.status_code == 400
    errors = answer.get_json()["errors"]
    assert set(errors) >= {"title", "due_date", "priority", "commitment_type_id"}
    assert errors["commitment_type_id"] == ["Choose the commitment type."]
    with session_of(app) as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 0
    refs = georgi.post(
        "/api/v1/tasks",
        json={"title": "x", "commitment_type_id": app.types["offer"], "client_id": 9999,
              "assigned_to_id": app.ids.guest},
    ).get_json()["errors"]  # fmt: skip
    assert refs == {
        "client_id": ["No such client."],
        "assigned_to_id": ["Choose an active user who works on tasks."],
    }
    bad_status = georgi.post("/api/v1/tasks/1/transitions", json={"to": "done"})
    assert bad_status.status_code in (400, 404)
    assert georgi.post("/api/v1/tasks", data="[]", content_type="application/json").status_code == (
        400
    )


def test_a_representative_reads_only_tasks_assigned_to_or_by_her(app):
    georgi = logged_in(app, "georgi")
    for_maria = create(georgi, app).get_json()["id"]
    for_peter = create(
        georgi, app, client_id=app.ids.rila, assigned_to_id=app.ids.peter
    ).get_json()["id"]
    maria, peter = logged_in(app, "maria"), logged_in(app, "peter")
    own = maria.post(
        "/api/v1/tasks", json={"title": "Call back", "commitment_type_id": app.types["other"]}
    ).get_json()
    assert own["assigned_to_id"] == app.ids.maria  # a task for oneself
    ids = {t["id"] for t in maria.get("/api/v1/tasks?per_page=100").get_json()["items"]}
    assert ids == {for_maria, own["id"]}
    assert peter.get(f"/api/v1/tasks/{for_maria}").status_code == 404
    assert (
        peter.post(f"/api/v1/tasks/{for_maria}/transitions", json={"to": "in_progress"}).status_code
        == 404
    )
    all_ids = {t["id"] for t in georgi.get("/api/v1/tasks?per_page=100").get_json()["items"]}
    assert all_ids == {for_maria, for_peter, own["id"]}


def test_patch_needs_the_version_and_notifies_a_new_assignee(app):
    georgi = logged_in(app, "georgi")
    task = create(georgi, app).get_json()
    stale = georgi.patch(f"/api/v1/tasks/{task['id']}", json={"title": "New", "version": 99})
    assert stale.status_code == 409
    changed = georgi.patch(
        f"/api/v1/tasks/{task['id']}",
        json={"assigned_to_id": app.ids.peter, "client_id": None, "version": task["version"]},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["assigned_to_id"] == app.ids.peter
    with session_of(app) as session:
        texts = session.scalars(
            select(Notification.text).where(Notification.user_id == app.ids.peter)
        ).all()
    assert texts == ["Georgi assigned you “Sample of the premium blend”, due 2026-12-10"]


def test_api_attachments_refuse_bad_files_and_strangers(app):
    georgi = logged_in(app, "georgi")
    task_id = create(georgi, app).get_json()["id"]
    big = upload(georgi, task_id, b"x" * 2001, "big.bin")
    assert big.status_code == 400
    assert big.get_json()["errors"]["file"][0].startswith("The file is larger than the limit")
    empty = upload(georgi, task_id, b"", "empty.txt")
    assert empty.get_json() == {
        "errors": {"file": ["The file is empty: choose a file with content."]}
    }
    missing = georgi.post(f"/api/v1/tasks/{task_id}/attachments", data={})
    assert missing.status_code == 400 and "file" in missing.get_json()["errors"]
    sneaky = upload(georgi, task_id, b"root:x:0:0", "../../etc/passwd")
    assert sneaky.status_code == 201
    assert sneaky.get_json()["name"] == "passwd"
    listed = georgi.get(f"/api/v1/tasks/{task_id}/attachments").get_json()["items"]
    assert [a["name"] for a in listed] == ["passwd"]
    attachment_id = listed[0]["id"]
    peter = logged_in(app, "peter")
    assert peter.get(f"/api/v1/tasks/{task_id}/attachments/{attachment_id}").status_code == 404
    assert peter.get(f"/attachments/{attachment_id}").status_code == 404  # as for a missing one
    # Deleting through the API removes the row.
    assert georgi.delete(f"/api/v1/tasks/{task_id}/attachments/{attachment_id}").status_code == 204
    with session_of(app) as session:
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_commitment_types_and_filters(app):
    georgi = logged_in(app, "georgi")
    create(georgi, app)
    create(georgi, app, commitment_type_id=app.types["offer"], due_date="2026-11-20")
    types = georgi.get("/api/v1/commitment-types").get_json()["items"]
    assert [t["code"] for t in types][:3] == ["new_contract", "offer", "sample"]
    overdue = georgi.get("/api/v1/tasks?overdue=1").get_json()["items"]
    assert [t["commitment_type"] for t in overdue] == ["offer"]
    samples = georgi.get("/api/v1/tasks?commitment_type=sample").get_json()["items"]
    assert [t["commitment_type"] for t in samples] == ["sample"]
    assert georgi.get("/api/v1/tasks?status=nope").status_code == 400
    assert georgi.get("/api/v1/tasks?client_id=x").get_json()["errors"] == {
        "client_id": ["Must be a whole number."]
    }
