"""Background jobs: long work leaves the request, shows its progress, and runs on many workers.

For modules (documented in ``docs/plugins.md``):

- declare job functions with the hook ``crm_jobs() -> list[JobDef]`` and periodic ones with
  ``crm_periodic_jobs() -> list[PeriodicJob]``;
- a job function ``function(ctx, **arguments)`` receives a ``JobContext``: ``ctx.session`` (its
  transaction, committed when it returns), ``ctx.user`` (who started it: the job runs with that
  user's permissions and record rules), ``ctx.progress(done, total, message)``,
  ``ctx.result_file(filename, data_or_path, mimetype)``, ``ctx.result_summary(text, link=None)``,
  ``ctx.result_data(data)``, ``ctx.input_file(key)`` (or ``ctx.open_input(key)``, the file as a
  stream); it raises ``JobError("message")`` to fail
  with a message for the user;
- ``enqueue(name, user, **arguments) -> job id`` starts one (``idempotency_key=`` makes a double
  click start it once); ``/jobs/<id>`` shows its live progress, ``/jobs/`` lists "My jobs".

The queue is huey (``core.jobs.queue``); the job table (``core.jobs.models.Job``) is ours.
"""

from huey import crontab

from core.jobs.api import (
    JobCancelled,
    JobContext,
    JobDef,
    JobError,
    PeriodicJob,
    cancel,
    enqueue,
)
from core.jobs.models import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Job
from core.jobs.queue import job_queue
from core.jobs.scheduler import tick
from core.jobs.worker import run_queued

__all__ = [
    "CANCELLED",
    "DONE",
    "FAILED",
    "QUEUED",
    "RUNNING",
    "Job",
    "JobCancelled",
    "JobContext",
    "JobDef",
    "JobError",
    "PeriodicJob",
    "cancel",
    "crontab",
    "enqueue",
    "job_queue",
    "run_queued",
    "tick",
]
