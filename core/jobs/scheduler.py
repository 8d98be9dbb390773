"""The workers' clock: periodic jobs, and jobs whose worker died.

``tick(app)`` runs every few seconds in every ``crm worker`` (and in tests, by hand):

- every periodic job (``crm_periodic_jobs``) whose schedule matches a minute since the last tick,
  in the installation's time zone, is enqueued with the key ``periodic:<name>:<minute>``: however
  many workers tick, the database's unique key lets one job through per minute it matches;
- a running job whose heartbeat is older than ``JOBS_STALE_SECONDS`` lost its worker (killed, the
  host gone): its transaction died with it, so nothing of it was written; it is queued again, or
  failed once it has used its attempts;
- a waiting job whose message was lost (the queue's storage was emptied) is sent again; a
  duplicate message is harmless, as only one worker can claim a job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask, url_for
from sqlalchemy import or_, select, update

from core.jobs.api import enqueue
from core.jobs.models import FAILED, QUEUED, RUNNING, Job
from core.jobs.queue import job_queue
from core.models import utcnow
from core.notifications import notify
from core.state import current_state

log = logging.getLogger(__name__)
CATCH_UP = timedelta(hours=24)  # minutes missed while no worker ran, at most this far back
MINUTE = timedelta(minutes=1)
LOST_AFTER = timedelta(minutes=5)  # a job waiting this long unclaimed: its message is sent again


@dataclass(frozen=True)
class TickReport:
    started: tuple[int, ...] = ()
    restarted: tuple[int, ...] = ()
    failed: tuple[int, ...] = ()
    resent: tuple[int, ...] = ()


def tick(app: Flask, now: datetime | None = None) -> TickReport:
    now = now or datetime.now(UTC)
    with app.test_request_context("/jobs/scheduler"):
        started = _start_periodic(app, now)
        restarted, failed, resent = _recover(app, now)
    return TickReport(tuple(started), tuple(restarted), tuple(failed), tuple(resent))


def _minutes(app: Flask, now: datetime) -> list[datetime]:
    """The minutes not looked at yet, up to this one (only this one the first time)."""
    queue = job_queue(app)
    minute = now.replace(second=0, microsecond=0)
    last = queue.get("periodic:last")
    if last is None or last >= minute:
        first = minute if last is None else last + MINUTE
    else:
        first = max(last + MINUTE, minute - CATCH_UP)
    queue.put("periodic:last", max(minute, last) if last else minute)
    minutes = []
    while first <= minute:
        minutes.append(first)
        first += MINUTE
    return minutes


def _start_periodic(app: Flask, now: datetime) -> list[int]:
    from core.db import db_session
    from core.timezone import local_zone

    periodic = current_state().periodic_jobs
    minutes = _minutes(app, now)
    zone = local_zone()
    started: list[int] = []
    for entry in periodic:
        for minute in minutes:
            local = minute.astimezone(zone).replace(tzinfo=None)
            if not entry.schedule(local):
                continue
            key = f"periodic:{entry.name}:{minute:%Y-%m-%dT%H:%MZ}"
            try:
                started.append(
                    enqueue(
                        entry.job, None, idempotency_key=key, session=db_session, **entry.arguments
                    )
                )
            except Exception:
                log.exception("periodic job %s could not be started", entry.name)
                db_session.rollback()
    return started


def _recover(app: Flask, now: datetime) -> tuple[list[int], list[int], list[int]]:
    from core.db import db_session

    queue = job_queue(app)
    stale = now - timedelta(seconds=float(app.config["JOBS_STALE_SECONDS"]))
    restarted: list[int] = []
    failed: list[int] = []
    candidates = db_session.scalars(
        select(Job).where(
            Job.status == RUNNING, or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < stale)
        )
    ).all()
    for job in candidates:
        beat = queue.last_beat(job.id)
        if beat is not None and beat > stale.timestamp():
            continue  # alive: its heartbeat is in the queue's storage only (SQLite)
        gave_up = job.attempts >= job.max_attempts
        values = (
            {
                "status": FAILED,
                "finished_at": utcnow(),
                "error": f"The worker running it stopped answering, {job.attempts} times: "
                "given up. Nothing it did was kept.",
            }
            if gave_up
            else {
                "status": QUEUED,
                "queued_at": utcnow(),
                "error": f"The worker running attempt {job.attempts} stopped answering; "
                "nothing it did was kept, started again.",
            }
        )
        # Only if nobody else dealt with it since it was read (another worker's tick).
        result = db_session.execute(
            update(Job)
            .where(Job.id == job.id, Job.status == RUNNING, Job.attempts == job.attempts)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            continue
        if gave_up:
            if job.user_id is not None:
                notify(
                    db_session,
                    job.user_id,
                    f"{job.label} failed: {values['error']}",
                    url_for("core_jobs.job_detail", job_id=job.id),
                )
            failed.append(job.id)
        else:
            restarted.append(job.id)
        db_session.commit()
        queue.forget(job.id)
        if not gave_up:
            queue.push(job.id)
    lost_before = now - max(
        5 * timedelta(seconds=float(app.config["JOBS_STALE_SECONDS"])), LOST_AFTER
    )
    lost = db_session.scalars(
        select(Job.id).where(Job.status == QUEUED, Job.queued_at < lost_before)
    ).all()
    if lost:
        db_session.execute(
            update(Job)
            .where(Job.id.in_(lost), Job.status == QUEUED)
            .values(queued_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        db_session.commit()
        for job_id in lost:
            queue.push(job_id)
    return restarted, failed, list(lost)
