"""The queue under the jobs: huey, on a SQLite file by default, on Redis in production.

``CRM_JOBS_URL`` chooses the storage: ``sqlite:///path/jobs.sqlite3`` (the default, in the instance
folder: no server to run) or ``redis://host:6379/0`` (any number of workers on any number of hosts).
Besides the messages that carry a job's id to a worker, the same storage holds what changes every
second and must not wait for the database: a running job's progress, its heartbeat and a request to
cancel it (on SQLite, the job's own transaction may hold the database's only write lock for as long
as an import writes).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import Huey, RedisHuey, SqliteHuey

TASK_NAME = "crm.run_job"


def make_huey(url: str, name: str) -> Huey:
    """A huey instance for ``url``; results are not kept (the job table keeps what matters)."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=url, results=False)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(path), results=False, timeout=30)
    raise ValueError(f"CRM_JOBS_URL must start with sqlite:/// or redis://, not {url!r}")


class JobQueue:
    """One application's queue: sends job ids to the workers and keeps the live state of jobs."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._huey: Huey | None = None
        self._task: Any = None
        self._lock = threading.Lock()

    @property
    def huey(self) -> Huey:
        if self._huey is None:
            with self._lock:
                if self._huey is None:
                    huey = make_huey(self.app.config["JOBS_URL"], self.app.config["JOBS_QUEUE"])
                    app = self.app

                    def run(job_id: int) -> None:
                        from core.jobs.runner import run_job

                        run_job(app, job_id)

                    self._task = huey.task(name=TASK_NAME)(run)
                    self._huey = huey
        return self._huey

    def push(self, job_id: int, delay: float | None = None) -> None:
        """Send ``job_id`` to the workers, now or after ``delay`` seconds."""
        self.huey  # noqa: B018 - builds the task
        if delay:
            self._task.schedule(args=(job_id,), delay=delay)
        else:
            self._task(job_id)

    # --- live state of a running job ---------------------------------------------------------

    def set_progress(self, job_id: int, done: int, total: int | None, message: str) -> None:
        self.huey.put(f"progress:{job_id}", (done, total, message))

    def progress(self, job_id: int) -> tuple[int, int | None, str] | None:
        return self.huey.get(f"progress:{job_id}", peek=True)

    def beat(self, job_id: int) -> None:
        self.huey.put(f"beat:{job_id}", time.time())

    def last_beat(self, job_id: int) -> float | None:
        return self.huey.get(f"beat:{job_id}", peek=True)

    def request_cancel(self, job_id: int) -> None:
        self.huey.put(f"cancel:{job_id}", True)

    def cancel_requested(self, job_id: int) -> bool:
        return bool(self.huey.get(f"cancel:{job_id}", peek=True))

    def forget(self, job_id: int) -> None:
        for kind in ("progress", "beat", "cancel"):
            self.huey.delete(f"{kind}:{job_id}")

    def get(self, key: str) -> Any:
        return self.huey.get(key, peek=True)

    def put(self, key: str, value: Any) -> None:
        self.huey.put(key, value)


def job_queue(app: Flask | None = None) -> JobQueue:
    """The queue of ``app`` (the current application by default)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    queue = app.extensions.get("crm_jobs")
    if queue is None:
        queue = app.extensions["crm_jobs"] = JobQueue(app)
    return queue
