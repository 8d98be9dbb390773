"""What modules use: job definitions, the context a job function receives, enqueue and cancel."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.attachments import attach, open_file, read_bytes
from core.jobs.models import CANCELLED, QUEUED, RUNNING, Job
from core.jobs.queue import job_queue
from core.models import Attachment, User, utcnow
from core.state import current_state

PROGRESS_INTERVAL = 0.25  # seconds between two writes of a job's progress to the queue's storage
RESULT_MAX_BYTES = 2 * 1024**3  # a result file (a ZIP of price lists) may exceed upload limits


class JobError(Exception):
    """Raised by a job function to fail with a message the user reads; never retried."""


class JobCancelled(Exception):
    """Raised by ``ctx.progress`` once somebody cancelled the job; its work is rolled back."""


@dataclass(frozen=True)
class JobDef:
    """A job function a module offers (``crm_jobs`` hook).

    ``function(ctx, **arguments)`` does the work through ``ctx.session`` (one transaction,
    committed when it returns, rolled back when it raises). ``permission``, when set, is checked
    for the user at enqueue time and again when the job starts. An unexpected exception (a lost
    database connection, a deadlock) retries the job with backoff, up to ``max_attempts`` runs.
    ``follow``: the job's page opens the result link by itself at the end (a check whose result
    is a page to read).
    """

    name: str
    function: Callable[..., Any]
    label: str
    permission: str | None = None
    max_attempts: int = 3
    follow: bool = False
    module: str = ""


@dataclass(frozen=True)
class PeriodicJob:
    """A job the workers start by themselves (``crm_periodic_jobs`` hook), as the system (no user,
    no record rule), whenever ``schedule(local time)`` is true for a minute of the installation's
    time zone (``CRM_TIMEZONE``). Each minute it matches starts the job once, however many
    workers run: ``core.jobs.crontab(minute="0", hour="7")`` is every morning at seven."""

    name: str
    job: str
    schedule: Callable[[datetime], bool]
    arguments: Mapping[str, Any] = field(default_factory=dict)
    module: str = ""


class JobContext:
    """What a job function receives: the session, the user, progress and the result.

    Progress and the result are kept here and written on the job's row only when the job ends:
    an update of the row in the job's transaction would lock it (PostgreSQL) for as long as the
    job runs, and the heartbeat and the pages must not wait for it.
    """

    def __init__(self, job: Job, session: Session, user: User | None, queue: Any) -> None:
        self.job_id = job.id
        self.session = session
        self.user = user
        self._job = job
        self._arguments = dict(job.arguments)
        self._queue = queue
        self._last_write = 0.0
        self.cancelled = threading.Event()
        self.done, self.total, self.message = job.progress_done, job.progress_total, ""
        self.summary, self.link, self.data = "", None, None
        self.attachment_id: int | None = None

    @property
    def arguments(self) -> dict[str, Any]:
        return {k: v for k, v in self._arguments.items() if not k.startswith("_")}

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """``done`` of ``total`` steps, with a short message (``"Checking rows"``). Cheap to call
        often: written at most four times a second. Raises ``JobCancelled`` once cancelled."""
        if self.cancelled.is_set():
            raise JobCancelled
        self.done = int(done)
        if total is not None:
            self.total = int(total)
        if message is not None:
            self.message = message[:500]
        now = time.monotonic()
        if now - self._last_write >= PROGRESS_INTERVAL or (self.total and self.done >= self.total):
            self._last_write = now
            self._queue.set_progress(self.job_id, self.done, self.total, self.message)

    def result_file(
        self, filename: str, data_or_path: bytes | str | Path, mimetype: str | None = None
    ) -> Attachment:
        """Keep a file as the job's result, in the attachment storage; only the user who started
        the job (and administrators) may download it."""
        data = (
            data_or_path
            if isinstance(data_or_path, bytes | bytearray)
            else Path(data_or_path).read_bytes()
        )
        attachment = attach(
            self.session,
            self._job,
            bytes(data),
            self.user,
            name=filename,
            content_type=mimetype,
            max_size=RESULT_MAX_BYTES,
        )
        self.attachment_id = attachment.id
        return attachment

    def result_summary(self, text: str, link: str | None = None) -> None:
        """One or two sentences saying what the job did, and where to look (a path of this site)."""
        from core.auth import local_path

        self.summary = text
        self.link = local_path(link)

    def result_data(self, data: Any) -> None:
        """Data (JSON-serialisable) that the module's own result page reads back."""
        self.data = data

    def input_file(self, key: str) -> bytes:
        """The content of a file given to ``enqueue(..., files={key: ...})``."""
        return read_bytes(self._input(key))

    def open_input(self, key: str) -> IO[bytes]:
        """The same file opened for reading (seekable): for a job that reads a big file as a
        stream instead of holding it whole. The caller closes it (``with``)."""
        return open_file(self._input(key))

    def _input(self, key: str) -> Attachment:
        attachment = self.session.get(Attachment, self._arguments["_files"][key])
        if attachment is None:
            raise JobError(f"The file {key!r} of this job is no longer stored.")
        return attachment

    def write_to(self, job: Job) -> None:
        """What the job reported, onto its row (when it ends)."""
        job.progress_done = self.total if self.total else self.done
        job.progress_total = self.total
        job.progress_message = self.message
        job.result_summary = self.summary or "Done."
        job.result_link = self.link
        job.result_data = self.data
        job.result_attachment_id = self.attachment_id


# --- starting and cancelling -----------------------------------------------------------------


def _definition(name: str) -> JobDef:

    jobs = current_state().jobs
    if name not in jobs:
        raise ValueError(f"no job named {name!r} in the installed modules")
    return jobs[name]


def enqueue(
    name: str,
    user: User | None,
    *,
    idempotency_key: str | None = None,
    files: Mapping[str, Any] | None = None,
    label: str | None = None,
    session: Session | None = None,
    **arguments: Any,
) -> int:
    """Start the job ``name`` for ``user`` (None: the system) with ``arguments`` (JSON values);
    return its id. Commits ``session`` (the request's by default), then hands the job to the
    workers. With ``idempotency_key``, a second call with the same key returns the first job's id
    and starts nothing (a double click). ``files``: ``{key: bytes | FileStorage | Attachment}``
    stored with the job, read back by ``ctx.input_file(key)``."""
    from core.auth import has_permission
    from core.db import db_session

    session = session if session is not None else db_session
    definition = _definition(name)
    if user is not None and not has_permission(definition.permission, user):
        raise PermissionError(f"{user.login} may not start {definition.label}")
    try:
        json.dumps(arguments)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the arguments of a job must be JSON values: {exc}") from exc
    if idempotency_key:
        existing = session.scalar(select(Job.id).where(Job.idempotency_key == idempotency_key))
        if existing is not None:
            return existing
    job = Job(
        name=name,
        label=(label or definition.label)[:200],
        user_id=getattr(user, "id", None),
        arguments=dict(arguments),
        idempotency_key=idempotency_key,
        max_attempts=definition.max_attempts,
        status=QUEUED,
    )
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError:
        # Another request with the same key won the race: its job is the one.
        return session.scalar(select(Job.id).where(Job.idempotency_key == idempotency_key))
    if files:
        stored = {}
        for key, file in files.items():
            if isinstance(file, Attachment):
                file = _copy(session, file, job, user)
            else:
                file = attach(session, job, file, user, max_size=RESULT_MAX_BYTES)
            stored[key] = file.id
        job.arguments = {**job.arguments, "_files": stored}
    session.commit()
    job_queue().push(job.id)
    return job.id


def _copy(session: Session, source: Attachment, job: Job, user: User | None) -> Attachment:
    """The same stored file attached to ``job`` too (files are stored once by content)."""
    copy = Attachment(
        model="core_job",
        record_id=str(job.id),
        name=source.name,
        content_type=source.content_type,
        size=source.size,
        sha256=source.sha256,
        created_by_id=getattr(user, "id", None),
    )
    session.add(copy)
    session.flush()
    return copy


def cancel(session: Session, job: Job) -> bool:
    """Cancel ``job``: at once if it waits (commits), at its next progress report if it runs.
    False when it had finished already."""
    if job.status == QUEUED:
        job.status = CANCELLED
        job.finished_at = utcnow()
        job.error = "Cancelled before it started."
        session.commit()
        return True
    if job.status == RUNNING:
        # Only in the queue's storage: the job's row is the job's own transaction's to write (on
        # SQLite, a write here could wait for it, or spoil its snapshot).
        job_queue().request_cancel(job.id)
        return True
    return False


def forget_old_jobs(session: Session, age: timedelta) -> int:
    """Delete the jobs that ended more than ``age`` ago, with their files' attachment rows (the
    files go with the next attachment clean-up). The caller commits."""
    from sqlalchemy import delete

    from core.jobs.models import FINISHED

    old = select(Job.id).where(Job.status.in_(FINISHED), Job.finished_at < utcnow() - age)
    ids = [str(job_id) for job_id in session.scalars(old)]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        session.execute(
            delete(Attachment).where(
                Attachment.model == "core_job", Attachment.record_id.in_(chunk)
            )
        )
        session.execute(delete(Job).where(Job.id.in_([int(i) for i in chunk])))
    return len(ids)


def retry_delay(attempt: int, base: float) -> timedelta:
    """Exponential backoff: base, 2 × base, 4 × base... after the 1st, 2nd, 3rd failed attempt."""
    return timedelta(seconds=base * 2 ** max(attempt - 1, 0))
