"""Running one job in a worker: claim it, run it as its user, and record how it ended.

The job's work and its "done" are one transaction: a worker killed before the commit leaves
neither (the data as before the job, the job still "running" until its heartbeat goes stale and
the scheduler starts it again, see ``core.jobs.scheduler``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import UTC, datetime, timedelta

from flask import Flask, g, url_for
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core.jobs.api import JobCancelled, JobContext, JobError, retry_delay
from core.jobs.models import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Job
from core.jobs.queue import JobQueue, job_queue
from core.models import User, utcnow
from core.notifications import notify
from core.state import current_state

log = logging.getLogger(__name__)
# A retry's message may arrive a moment before the time written on its row (clocks, rounding).
EARLY = timedelta(seconds=2)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"[:200]


def claim(session: Session, job_id: int) -> bool:
    """Mark a waiting job running, for this worker only (a second message for the same job, or
    a second worker, finds it taken)."""
    now = utcnow()
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == QUEUED, Job.queued_at <= now + EARLY)
        .values(
            status=RUNNING,
            attempts=Job.attempts + 1,
            started_at=now,
            heartbeat_at=now,
            worker=worker_name(),
            cancel_requested=False,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


class Heartbeat(threading.Thread):
    """Says every few seconds that the job is alive, and notices a request to cancel it."""

    def __init__(self, app: Flask, queue: JobQueue, job_id: int) -> None:
        super().__init__(name=f"crm-job-{job_id}-heartbeat", daemon=True)
        self.app = app
        self.queue = queue
        self.job_id = job_id
        self.context: JobContext | None = None
        self.halt = threading.Event()
        # On SQLite a write from another connection between the job's first read and its first
        # write would make that write fail (the snapshot is stale): the heartbeat stays in the
        # queue's storage there. Elsewhere the table gets it too.
        self.to_table = app.extensions["crm"].engine.dialect.name != "sqlite"

    def run(self) -> None:
        interval = float(self.app.config["JOBS_HEARTBEAT_SECONDS"])
        self._beat()
        while not self.halt.wait(interval):
            self._beat()

    def _beat(self) -> None:
        try:
            self.queue.beat(self.job_id)
            if self.context is not None and self.queue.cancel_requested(self.job_id):
                self.context.cancelled.set()
            if self.to_table:
                factory = self.app.extensions["crm"].session_factory
                with factory() as session:
                    # Never wait behind the job's own transaction: the next beat will do.
                    session.execute(text("SET LOCAL lock_timeout = '1s'"))
                    session.execute(
                        update(Job)
                        .where(Job.id == self.job_id, Job.status == RUNNING)
                        .values(heartbeat_at=utcnow())
                        .execution_options(synchronize_session=False)
                    )
                    session.commit()
        except Exception:
            log.warning("job %s: heartbeat not written", self.job_id, exc_info=True)


def run_job(app: Flask, job_id: int) -> None:
    """Run job ``job_id`` if it is still waiting; what it does is recorded on its row."""
    queue = job_queue(app)
    with app.test_request_context("/jobs/worker"):
        from core.db import db_session

        if not claim(db_session, job_id):
            return
        heartbeat = Heartbeat(app, queue, job_id)
        heartbeat.start()
        try:
            _run(app, queue, db_session._get_current_object(), job_id, heartbeat)  # type: ignore[attr-defined]
        finally:
            heartbeat.halt.set()
            heartbeat.join(timeout=5)


def _run(app: Flask, queue: JobQueue, session: Session, job_id: int, heartbeat: Heartbeat) -> None:
    from core.auth import has_permission, user_groups
    from core.record_rules import RuleUser, activate

    job = session.get(Job, job_id)
    assert job is not None
    try:
        state = current_state()
        definition = state.jobs.get(job.name)
        if definition is None:
            raise JobError("The module of this job is not installed any more.")
        user = session.get(User, job.user_id) if job.user_id is not None else None
        if job.user_id is not None and (user is None or not user.active):
            raise JobError("The user who started it is no longer active.")
        if user is not None:
            # The job is the user's hands: flask-login's current_user, their permissions and the
            # record rules of their groups, exactly as in their requests.
            g._login_user = user
            if not has_permission(definition.permission, user):
                raise JobError("You no longer hold the permission this job needs.")
            activate(state.enabled_record_rules, RuleUser(user.id, user_groups(user)))
        context = JobContext(job, session, user, queue)
        heartbeat.context = context
        definition.function(context, **context.arguments)
        _done(session, job, context)
        session.commit()
        queue.forget(job_id)
    except JobCancelled:
        session.rollback()
        _end(session, job_id, queue, CANCELLED, "Cancelled while it ran: nothing was changed.")
    except JobError as error:
        session.rollback()
        _end(session, job_id, queue, FAILED, str(error))
    except Exception as error:
        log.exception("job %s (%s) raised", job_id, job.name)
        session.rollback()
        _retry_or_fail(app, session, job_id, queue, error)


def _job_url(job: Job) -> str:
    return url_for("core_jobs.job_detail", job_id=job.id)


def _done(session: Session, job: Job, context: JobContext) -> None:
    context.write_to(job)
    job.status = DONE
    job.finished_at = job.heartbeat_at = utcnow()
    job.error = ""  # what earlier attempts said, now beside the point
    if job.user_id is not None:
        link = _job_url(job) if job.result_attachment_id else job.result_link or _job_url(job)
        notify(session, job.user_id, f"{job.label}: {job.result_summary}", link)


def _end(session: Session, job_id: int, queue: JobQueue, status: str, message: str) -> None:
    """Record a failed or cancelled end, in a transaction of its own (the work rolled back)."""
    try:
        job = session.get(Job, job_id)
        assert job is not None
        job.status = status
        job.error = message
        job.finished_at = utcnow()
        if job.user_id is not None:
            verb = "failed" if status == FAILED else "was cancelled"
            notify(session, job.user_id, f"{job.label} {verb}: {message}", _job_url(job))
        session.commit()
        queue.forget(job_id)
    except Exception:
        # The database is gone too: the job stays "running" until the scheduler finds its heartbeat
        # stale and deals with it.
        log.exception("job %s: its end could not be recorded", job_id)
        session.rollback()


def describe(error: BaseException) -> str:
    if isinstance(error, DBAPIError):
        detail = str(error.orig).strip().splitlines()[0] if error.orig else ""
        return f"a database error ({type(error.orig).__name__}: {detail[:200]})"
    return f"{type(error).__name__}: {str(error)[:300]}"


def _retry_or_fail(
    app: Flask, session: Session, job_id: int, queue: JobQueue, error: BaseException
) -> None:
    job = session.get(Job, job_id)
    assert job is not None
    if job.attempts >= job.max_attempts:
        _end(
            session,
            job_id,
            queue,
            FAILED,
            f"Stopped after {job.attempts} attempts; the last failed with {describe(error)}.",
        )
        return
    delay = retry_delay(job.attempts, float(app.config["JOBS_RETRY_SECONDS"]))
    job.status = QUEUED
    job.queued_at = datetime.now(UTC) + delay
    job.error = (
        f"Attempt {job.attempts} of {job.max_attempts} failed with {describe(error)}; "
        f"trying again in {int(delay.total_seconds())} s."
    )
    session.commit()
    queue.forget(job_id)
    queue.push(job_id, delay=delay.total_seconds())
