"""Background jobs (core.jobs) through the real stack: enqueue from the app, run by the worker's
own code (``run_queued``, what ``crm worker --burst`` does), seen through the pages and the API.
The job functions are crm_fixture's (tests/fixture_plugins/healthy)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import db_session
from core.jobs import DONE, FAILED, QUEUED, Job, enqueue, run_queued, tick
from core.models import Attachment, Notification, User
from core.testing import logged_in, make_user
from crm_fixture.models import Note

MODULES = ["crm_fixture"]


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(MODULES, config={"JOBS_RETRY_SECONDS": 0})
    app.maria = make_user(app, "maria", groups=("sales_rep",))
    app.peter = make_user(app, "peter", groups=("sales_rep",))
    app.root = make_user(app, "root", groups=("admin",))
    return app


def start(app, login: str, name: str, **arguments) -> int:
    with app.test_request_context():
        user = db_session.scalar(select(User).where(User.login == login))
        return enqueue(name, user, **arguments)


def job(app, job_id: int) -> Job:
    with Session(app.extensions["crm"].engine) as session:
        return session.get(Job, job_id)


def notes(app, like: str = "%") -> int:
    with Session(app.extensions["crm"].engine) as session:
        return session.scalar(select(func.count()).where(Note.title.like(like)))


def notifications(app, user_id: int) -> list[Notification]:
    with Session(app.extensions["crm"].engine) as session:
        return list(session.scalars(select(Notification).where(Notification.user_id == user_id)))


def test_a_job_runs_in_a_worker_reports_progress_and_notifies_its_user(app):
    job_id = start(app, "maria", "crm_fixture.add_notes", count=40)
    maria = logged_in(app, "maria")
    waiting = maria.get(f"/api/v1/jobs/{job_id}").get_json()
    assert waiting["status"] == QUEUED and not waiting["finished"]
    assert notes(app, "Job note%") == 0

    assert run_queued(app) == 1

    done = job(app, job_id)
    assert done.status == DONE and done.attempts == 1
    assert (done.progress_done, done.progress_total) == (40, 40)
    assert notes(app, "Job note%") == 40
    state = maria.get(f"/api/v1/jobs/{job_id}").get_json()
    assert state["percent"] == 100 and state["summary"] == "Added 40 notes."
    assert state["link"] == "/fixture/notes"
    [notice] = notifications(app, app.maria)
    assert notice.text == "Add notes: Added 40 notes." and notice.url == "/fixture/notes"


def test_the_job_page_polls_with_a_local_script_and_my_jobs_lists_it(app):
    job_id = start(app, "maria", "crm_fixture.add_notes", count=3)
    maria = logged_in(app, "maria")
    page = maria.get(f"/jobs/{job_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-status-url="/api/v1/jobs/{job_id}"' in html
    assert re.search(r'<script src="/static/jobs\.js\?v=[0-9a-f]{12}">', html)
    assert "<script>" not in html
    assert "style=" not in html
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    script = maria.get("/static/jobs.js")
    assert script.status_code == 200
    script.close()
    listing = maria.get("/jobs/").get_data(as_text=True)
    assert f'data-job="{job_id}"' in listing and "Add notes" in listing
    run_queued(app)
    assert "Added 3 notes." in maria.get(f"/jobs/{job_id}").get_data(as_text=True)


def test_a_job_sees_only_what_its_user_may_see_and_its_result_is_private(app):
    with Session(app.extensions["crm"].engine) as session:
        session.add_all([Note(title="Public plan"), Note(title="Confidential margins")])
        session.commit()
    job_id = start(app, "maria", "crm_fixture.export_notes")
    run_queued(app)
    maria, peter, root = (logged_in(app, login) for login in ("maria", "peter", "root"))

    download = maria.get(f"/jobs/{job_id}/result")
    assert download.status_code == 200
    text = download.get_data(as_text=True)
    assert "Public plan" in text and "Confidential" not in text  # maria's record rule held
    assert download.headers["Content-Disposition"].startswith("attachment; filename=notes.txt")

    # Another representative learns nothing: not the page, the state, the file or the list.
    for url in (f"/jobs/{job_id}", f"/api/v1/jobs/{job_id}", f"/jobs/{job_id}/result"):
        assert peter.get(url).status_code == 404, url
    assert f'data-job="{job_id}"' not in peter.get("/jobs/").get_data(as_text=True)
    assert peter.get("/api/v1/jobs").get_json()["items"] == []
    attachment_id = job(app, job_id).result_attachment_id
    assert peter.get(f"/attachments/{attachment_id}").status_code == 404
    # Administrators see everybody's jobs.
    assert root.get(f"/jobs/{job_id}/result").status_code == 200
    assert f'data-job="{job_id}"' in root.get("/jobs/").get_data(as_text=True)


def test_a_double_click_starts_the_job_once(app):
    first = start(app, "maria", "crm_fixture.add_notes", count=5, idempotency_key="click-1")
    second = start(app, "maria", "crm_fixture.add_notes", count=5, idempotency_key="click-1")
    assert first == second
    run_queued(app)
    assert notes(app, "Job note%") == 5


def test_a_refusal_fails_with_the_message_and_writes_nothing(app):
    job_id = start(app, "maria", "crm_fixture.add_notes", count=5, refuse="The file is empty.")
    run_queued(app)
    failed = job(app, job_id)
    assert failed.status == FAILED and failed.error == "The file is empty." and failed.attempts == 1
    assert notes(app, "Job note%") == 0
    [notice] = notifications(app, app.maria)
    assert notice.text == "Add notes failed: The file is empty."
    assert notice.url == f"/jobs/{job_id}"
    page = logged_in(app, "maria").get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Failed:</strong> The file is empty." in page


def test_an_unexpected_error_is_retried_and_its_half_work_rolled_back(app):
    job_id = start(app, "maria", "crm_fixture.add_notes", count=10, fail_times=1)
    run_queued(app)
    done = job(app, job_id)
    assert done.status == DONE and done.attempts == 2
    assert notes(app, "Job note%") == 10  # not 15: the first attempt's five were rolled back


def test_a_job_that_keeps_failing_stops_after_its_attempts_and_says_so(app):
    job_id = start(app, "maria", "crm_fixture.add_notes", count=10, fail_times=99)
    run_queued(app)
    failed = job(app, job_id)
    assert failed.status == FAILED and failed.attempts == 3
    assert failed.error.startswith("Stopped after 3 attempts; the last failed with RuntimeError")
    assert notes(app, "Job note%") == 0


def test_the_retry_waits_longer_each_time(crm_app_factory):
    app = crm_app_factory(MODULES, config={"JOBS_RETRY_SECONDS": 30})
    make_user(app, "maria", groups=("sales_rep",))
    job_id = start(app, "maria", "crm_fixture.add_notes", count=4, fail_times=2)
    run_queued(app)
    first = job(app, job_id)
    assert first.status == QUEUED and "trying again in 30 s" in first.error
    assert run_queued(app) == 0  # not before its time
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=31), tick=False):
        run_queued(app)
    assert "trying again in 60 s" in job(app, job_id).error
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=92), tick=False):
        run_queued(app)
    assert job(app, job_id).status == DONE and notes(app, "Job note%") == 4


def test_administrators_cancel_a_waiting_job_and_others_cannot(app):
    job_id = start(app, "maria", "crm_fixture.add_notes", count=5)
    peter, root = logged_in(app, "peter"), logged_in(app, "root")
    assert peter.post(f"/jobs/{job_id}/cancel").status_code == 404
    assert "Cancel the job" in root.get(f"/jobs/{job_id}/cancel").get_data(as_text=True)
    assert root.post(f"/jobs/{job_id}/cancel").status_code == 302
    run_queued(app)
    assert job(app, job_id).status == "cancelled" and notes(app, "Job note%") == 0


def test_a_stale_running_job_is_started_again_then_given_up(app):
    job_id = start(app, "maria", "crm_fixture.add_notes", count=3)
    stale_seconds = app.config["JOBS_STALE_SECONDS"]
    with Session(app.extensions["crm"].engine) as session:
        # What a worker killed after claiming it leaves behind (the real kill: test_job_faults).
        row = session.get(Job, job_id)
        row.status, row.attempts = "running", 3
        row.heartbeat_at = datetime.now(UTC) - timedelta(seconds=stale_seconds + 1)
        session.commit()
    report = tick(app)
    assert report.failed == (job_id,)
    failed = job(app, job_id)
    assert failed.status == FAILED and "stopped answering, 3 times: given up" in failed.error


def test_periodic_jobs_start_once_per_matching_minute_in_the_local_time_zone(crm_app_factory):
    """Two workers (two applications on one database and one queue) tick: one job per minute."""
    app = crm_app_factory(MODULES, config={"TIMEZONE": "Europe/Sofia"})
    evening = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)  # 20:00 in Sofia

    def mornings(started):
        return [i for i in started if job(app, i).name == "crm_fixture.morning_note"]

    with time_machine.travel(evening, tick=False):
        assert mornings(tick(app).started) == []
    # 07:00 in Sofia is 05:00 UTC: two workers tick after it, and again a minute later. The
    # minutes between the ticks are caught up (the core's hourly clean-up, 11 times overnight).
    with time_machine.travel(datetime(2026, 12, 8, 5, 0, 20, tzinfo=UTC), tick=False):
        report = tick(app)
        assert len(mornings(report.started)) == 1
        assert len(report.started) == 12
        assert tick(app).started == ()  # the same worker again: nothing left to start
        # A worker that kept no note of the last tick (its own queue) finds the same job.
        other = crm_app_factory(
            MODULES,
            config={"TIMEZONE": "Europe/Sofia", "JOBS_QUEUE": "other"},
            database_url=app.config["DATABASE_URL"],
        )
        assert mornings(tick(other).started) == mornings(report.started)
    with time_machine.travel(datetime(2026, 12, 8, 5, 1, 5, tzinfo=UTC), tick=False):
        assert tick(app).started == ()
        run_queued(app)
    assert notes(app, "Good morning") == 1
    [morning] = mornings(report.started)
    assert job(app, morning).user_id is None and job(app, morning).status == DONE


def test_the_hourly_clean_up_forgets_jobs_ended_a_month_ago_with_their_files(app):
    export = start(app, "maria", "crm_fixture.export_notes")
    run_queued(app)
    recent = start(app, "maria", "crm_fixture.add_notes", count=1)
    with time_machine.travel(datetime.now(UTC) + timedelta(days=30), tick=False):
        run_queued(app)
    with time_machine.travel(datetime.now(UTC) + timedelta(days=31), tick=False):
        with app.test_request_context():
            gc = enqueue("core.attachments_gc", None)
        run_queued(app)
    assert "1 old jobs forgotten" in job(app, gc).result_summary
    assert job(app, export) is None and job(app, recent).status == DONE
    with Session(app.extensions["crm"].engine) as session:
        assert session.scalar(select(func.count()).where(Attachment.model == "core_job")) == 0


def test_an_administrator_cancels_a_running_job_and_nothing_it_did_is_kept(crm_app_factory):
    import threading

    app = crm_app_factory(MODULES, config={"JOBS_HEARTBEAT_SECONDS": 0.05})
    make_user(app, "maria", groups=("sales_rep",))
    make_user(app, "root", groups=("admin",))
    # Logged in first: on SQLite a login's write would wait for the job's transaction.
    root = logged_in(app, "root")
    # Long enough (up to 30 s) that a loaded machine still cancels it while it runs.
    job_id = start(app, "maria", "crm_fixture.add_notes", count=1500, pause=0.02)
    worker = threading.Thread(target=run_queued, args=(app,))
    worker.start()
    for _ in range(500):
        state = root.get(f"/api/v1/jobs/{job_id}").get_json()
        if state["status"] == "running" and state["done"] > 0:
            break
        time.sleep(0.02)
    assert state["may_cancel"] and 0 < state["done"] < 1500
    answer = root.post(f"/jobs/{job_id}/cancel")
    assert answer.status_code == 302
    worker.join(timeout=60)
    cancelled = job(app, job_id)
    assert cancelled.status == "cancelled" and "nothing was changed" in cancelled.error
    assert notes(app, "Job note%") == 0
    [notice] = notifications(app, cancelled.user_id)
    assert notice.text.startswith("Add notes was cancelled")
